/**
 * A real InfluxDB 1.x for tests: Debian's `influxd` (1.6) started on free loopback ports with its
 * own config and data folder, and `influxUrlForTests()`, which picks the server a test file uses.
 *
 * `InfluxdServer` keeps its ports and data folder across stop()/kill()/restart(), so a fault test
 * can take InfluxDB away while readings flow and bring the same server back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './ports.ts';

export const INFLUXD_BIN = ['/usr/bin/influxd', '/usr/sbin/influxd'].find((p) => existsSync(p));

export class InfluxdServer {
  /** `auth`: HTTP authentication on, as a production server runs (create the first admin without credentials). */
  constructor(private readonly options: { auth?: boolean } = {}) {}

  readonly dir = mkdtempSync(join(tmpdir(), 'aw-influxd-'));
  port = 0;
  /** influxd's RPC service (backup/restore) cannot be turned off; it gets a free loopback port too. */
  rpcPort = 0;
  private proc?: ChildProcess;
  private output = '';
  private readonly killOnExit = () => { this.proc?.kill('SIGKILL'); };

  get url(): string { return `http://127.0.0.1:${this.port}`; }

  /** Start influxd and resolve when /ping answers. Ports are chosen on the first start and kept. */
  async start(): Promise<void> {
    if (!INFLUXD_BIN) throw new Error('influxd is not installed (apt-get install influxdb)');
    if (this.proc) return;
    const firstStart = this.port === 0;
    // A free port can be taken by someone else between freePort() and influxd's bind; on the first
    // start, try fresh ports a few times. On a restart the ports are kept: the caller needs them.
    for (let attempt = 1; ; attempt++) {
      if (firstStart) {
        this.port = await freePort();
        this.rpcPort = await freePort();
      }
      try {
        await this.spawnAndWait();
        return;
      } catch (e) {
        await this.kill();
        if (!firstStart || attempt >= 3 || !/address already in use/.test(this.output)) throw e;
      }
    }
  }

  private async spawnAndWait(): Promise<void> {
    const conf = join(this.dir, 'influxdb.conf');
    writeFileSync(conf, this.config());
    // influxd reads INFLUXDB_* variables as config overrides (INFLUXDB_HTTP_BIND_ADDRESS, …): leave them out.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INFLUXDB_')));
    this.output = '';
    const proc = spawn(INFLUXD_BIN!, ['-config', conf], { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.proc = proc;
    const keep = (d: Buffer) => { this.output = (this.output + d.toString()).slice(-4000); };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    proc.once('exit', () => { if (this.proc === proc) this.proc = undefined; });
    // Never leave an influxd behind if the test process ends without dispose().
    if (!process.listeners('exit').includes(this.killOnExit)) process.on('exit', this.killOnExit);
    await waitFor(async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`influxd exited (${proc.exitCode ?? proc.signalCode}): ${this.output}`);
      const res = await fetch(`${this.url}/ping`, { signal: AbortSignal.timeout(1000) });
      return res.status === 204;
    }, 20_000, 50, `influxd /ping on port ${this.port}`);
  }

  private config(): string {
    const d = this.dir;
    // Debian's build reads reporting-enabled (off by default), upstream reads reporting-disabled.
    return `reporting-enabled = false
reporting-disabled = true
bind-address = "127.0.0.1:${this.rpcPort}"
[meta]
  dir = "${d}/meta"
  logging-enabled = false
[data]
  dir = "${d}/data"
  wal-dir = "${d}/wal"
  query-log-enabled = false
  trace-logging-enabled = false
[monitor]
  store-enabled = false
[subscriber]
  enabled = false
[continuous_queries]
  enabled = false
  log-enabled = false
[http]
  enabled = true
  auth-enabled = ${this.options.auth ? 'true' : 'false'}
  bind-address = "127.0.0.1:${this.port}"
  log-enabled = false
  write-tracing = false
  pprof-enabled = false
  max-row-limit = 0
[ifql]
  enabled = false
[logging]
  level = "error"
  suppress-logo = true
`;
  }

  /** SIGTERM: influxd closes its shards and WAL cleanly. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM', 15_000);
  }

  /** SIGKILL: a crash. What was acknowledged is in the WAL and comes back on restart. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL', 5_000);
  }

  /** Stop and start again on the same port, with the same data. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Stop and remove the data folder. */
  async dispose(): Promise<void> {
    await this.kill();
    process.removeListener('exit', this.killOnExit);
    rmSync(this.dir, { recursive: true, force: true });
  }

  get running(): boolean { return this.proc !== undefined; }

  private async signal(sig: NodeJS.Signals, graceMs: number): Promise<void> {
    const p = this.proc;
    if (!p) return;
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill(sig);
    const timer = setTimeout(() => p.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    this.proc = undefined;
  }
}

export type InfluxForTests =
  | { available: true; url: string; server?: InfluxdServer; close(): Promise<void> }
  | { available: false; reason: string; close(): Promise<void> };

/**
 * The InfluxDB 1.x a test file uses: the one at $INFLUXDB_URL if set (CI starts one), else a fresh
 * influxd of our own if the binary is installed, else none. With REQUIRE_INFLUXDB=1, none is an
 * error that fails the test file; without it the caller skips (describe.skipIf) and the reason is
 * printed. Call at the top level of the test file and close() in afterAll.
 */
export async function influxUrlForTests(): Promise<InfluxForTests> {
  const result = await findInflux();
  if (!result.available) {
    if (process.env.REQUIRE_INFLUXDB === '1') throw new Error(`REQUIRE_INFLUXDB=1 but no InfluxDB is available: ${result.reason}`);
    console.warn(`skipping InfluxDB tests: ${result.reason}`);
  }
  return result;
}

async function findInflux(): Promise<InfluxForTests> {
  const none = async () => {};
  const external = process.env.INFLUXDB_URL;
  if (external) {
    const url = external.replace(/\/+$/, '');
    try {
      const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(5000) });
      if (res.ok) return { available: true, url, close: none };
      return { available: false, reason: `INFLUXDB_URL=${url} answered /ping with HTTP ${res.status}`, close: none };
    } catch (e) {
      return { available: false, reason: `INFLUXDB_URL=${url} does not answer /ping: ${String((e as Error).cause ?? e)}`, close: none };
    }
  }
  if (!INFLUXD_BIN) return { available: false, reason: 'INFLUXDB_URL is not set and influxd is not installed (apt-get install influxdb)', close: none };
  const server = new InfluxdServer();
  try {
    await server.start();
  } catch (e) {
    await server.dispose();
    return { available: false, reason: `influxd did not start: ${(e as Error).message}`, close: none };
  }
  return { available: true, url: server.url, server, close: () => server.dispose() };
}

/** A database name no other test uses, so a suite starts empty. */
export function freshDatabaseName(prefix = 'aw_test'): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

/** Run InfluxQL statements that change things (CREATE/DROP) against a 1.x server. */
export async function influxAdmin(url: string, statement: string): Promise<void> {
  const res = await fetch(`${url}/query`, {
    method: 'POST', body: new URLSearchParams({ q: statement }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = await res.text();
  if (!res.ok || body.includes('"error"')) throw new Error(`${statement}: HTTP ${res.status} ${body}`);
}
