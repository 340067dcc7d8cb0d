/**
 * A server binary run by a test (influxd, VictoriaMetrics, vmalert): spawned with its output kept
 * for error messages, ready when its own probe says so, killed if the test process exits without
 * stopping it, and stopped with a signal and a grace period before SIGKILL.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { freePort, waitFor } from './ports.ts';

export class ServerProcess {
  private proc?: ChildProcess;
  private output = '';
  private readonly killOnExit = () => { this.proc?.kill('SIGKILL'); };

  /** `name` appears in error messages (`influxd exited (1): …`). */
  constructor(private readonly name: string) {}

  /** The last 4000 characters it wrote (stdout and stderr). */
  get log(): string { return this.output; }

  get running(): boolean { return this.proc !== undefined; }

  /** It failed because its port was taken (between freePort() and its bind). */
  get portWasTaken(): boolean { return /address already in use/.test(this.output); }

  /** Spawn it and resolve when `ready` answers true (it throws with the output if the process exits first). */
  async spawn(bin: string, args: readonly string[], ready: () => Promise<boolean>, what: string, opts: Pick<SpawnOptions, 'env'> = {}): Promise<void> {
    this.output = '';
    const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env });
    this.proc = proc;
    const keep = (d: Buffer) => { this.output = (this.output + d.toString()).slice(-4000); };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    proc.once('exit', () => { if (this.proc === proc) this.proc = undefined; });
    if (!process.listeners('exit').includes(this.killOnExit)) process.on('exit', this.killOnExit);
    await waitFor(async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${this.name} exited (${proc.exitCode ?? proc.signalCode}): ${this.output}`);
      return ready();
    }, 20_000, 50, what);
  }

  /** Send `sig`; SIGKILL after `graceMs` if it has not exited. */
  async signal(sig: NodeJS.Signals, graceMs = 10_000): Promise<void> {
    const p = this.proc;
    if (!p) return;
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill(sig);
    const timer = setTimeout(() => p.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    this.proc = undefined;
  }

  /** Stop it (SIGKILL) and forget the exit hook. */
  async dispose(): Promise<void> {
    await this.signal('SIGKILL', 5_000);
    process.removeListener('exit', this.killOnExit);
  }
}

/**
 * Start a server on a fresh free port: `start(port)` is tried up to three times while the failure
 * is a port someone else took meanwhile. Resolves to the port it listens on.
 */
export async function startOnFreePort(server: ServerProcess, start: (port: number) => Promise<void>): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      await start(port);
      return port;
    } catch (e) {
      const taken = server.portWasTaken;
      await server.signal('SIGKILL', 5_000);
      if (attempt >= 3 || !taken) throw e;
    }
  }
}
