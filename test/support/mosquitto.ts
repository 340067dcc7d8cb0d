/**
 * Starts a real Mosquitto broker (Debian's package) on a free loopback port with its own config and
 * persistence folder, for tests that need a broker other than the embedded aedes: restart tests,
 * persistent sessions, and the QoS 1 queue limit (raised here, as production must).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { freePort, waitFor } from './ports.ts';

export const MOSQUITTO_BIN = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p));

export interface MosquittoOptions {
  /** Password and ACL files (as `aquawatch broker-auth` writes them): anonymous clients are then refused. */
  auth?: { passwordFile: string; aclFile: string };
  /** More configuration lines (e.g. a setting of deploy/mosquitto/mosquitto.conf under test). */
  extraConfig?: string[];
  /** A TLS listener (PEM files, readable by the `mosquitto` user) instead of plain MQTT; url is then mqtts://localhost. */
  tls?: { caFile: string; certFile: string; keyFile: string };
}

export class MosquittoBroker {
  private proc?: ChildProcess;
  /** Kept after stop() for a restart; the run's temporary folder goes when the run ends (run-temp-dir.ts). */
  readonly dir = mkdtempSync(join(tmpdir(), 'aw-mosquitto-'));
  port = 0;

  constructor(private readonly options: MosquittoOptions = {}) {}

  /** With TLS, `localhost`: a name the broker's certificate carries. */
  get url(): string { return this.options.tls ? `mqtts://localhost:${this.port}` : `mqtt://127.0.0.1:${this.port}`; }

  async start(port?: number): Promise<void> {
    if (!MOSQUITTO_BIN) throw new Error('mosquitto is not installed (apt-get install mosquitto)');
    this.port = port ?? (this.port || await freePort());
    // Started as root, Mosquitto drops to the `mosquitto` user, which could not write a mkdtemp
    // folder (mode 700): persistence would fail silently and a restart lose every session.
    chmodSync(this.dir, 0o777);
    const conf = join(this.dir, 'mosquitto.conf');
    writeFileSync(conf, [
      `listener ${this.port} 127.0.0.1`,
      ...(this.options.tls
        ? [`cafile ${this.options.tls.caFile}`, `certfile ${this.options.tls.certFile}`, `keyfile ${this.options.tls.keyFile}`]
        : []),
      ...(this.options.auth
        ? ['allow_anonymous false', `password_file ${this.options.auth.passwordFile}`, `acl_file ${this.options.auth.aclFile}`]
        : ['allow_anonymous true']),
      'persistence true',
      `persistence_location ${this.dir}/`,
      'autosave_interval 1',
      // Mosquitto silently drops QoS 1 messages past max_queued_messages (default 1000).
      'max_queued_messages 0',
      'max_inflight_messages 0',
      'log_type error',
      ...(this.options.extraConfig ?? []),
      '',
    ].join('\n'));
    this.proc = spawn(MOSQUITTO_BIN, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    this.proc.stderr!.on('data', (d) => { stderr += d; });
    await waitFor(() => new Promise<boolean>((resolve) => {
      if (this.proc?.exitCode !== null) return resolve(false);
      const s = connect(this.port, '127.0.0.1', () => { s.end(); resolve(true); });
      s.on('error', () => resolve(false));
    }), 10_000, 50, `mosquitto on port ${this.port} (${stderr})`);
  }

  /** Stop the broker (SIGTERM lets it save persistent sessions). */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => { p.once('exit', () => resolve()); p.kill('SIGTERM'); });
    this.proc = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start(this.port);
  }
}
