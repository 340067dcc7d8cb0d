/**
 * A real VictoriaMetrics (Debian's `victoria-metrics`) on a free loopback port with a temporary
 * storage folder. It accepts InfluxDB line protocol on /api/v2/write and /write, so the InfluxDB
 * 2.x client's real write path can be tested here, where no InfluxDB 2.x is installed. It stores
 * each field as its own series named `<measurement>_<field>` with the tags as labels, and shows
 * what it stored through /api/v1/export.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './ports.ts';

export const VICTORIA_METRICS_BIN = ['/usr/bin/victoria-metrics', '/usr/sbin/victoria-metrics'].find((p) => existsSync(p));

export interface ExportedSeries {
  metric: Record<string, string> & { __name__: string };
  values: number[];
  timestamps: number[];
}

export class VictoriaMetricsServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'aw-vm-'));
  port = 0;
  private proc?: ChildProcess;
  private output = '';
  private readonly killOnExit = () => { this.proc?.kill('SIGKILL'); };

  get url(): string { return `http://127.0.0.1:${this.port}`; }

  async start(): Promise<void> {
    if (!VICTORIA_METRICS_BIN) throw new Error('victoria-metrics is not installed (apt-get install victoria-metrics)');
    for (let attempt = 1; ; attempt++) {
      this.port = await freePort();
      try {
        await this.spawnAndWait();
        return;
      } catch (e) {
        await this.stop();
        if (attempt >= 3 || !/address already in use/.test(this.output)) throw e;
      }
    }
  }

  private async spawnAndWait(): Promise<void> {
    this.output = '';
    const proc = spawn(VICTORIA_METRICS_BIN!, [
      `-storageDataPath=${join(this.dir, 'data')}`,
      `-httpListenAddr=127.0.0.1:${this.port}`,
      // The default retention (1 month) drops samples older than that on arrival; tests use fixed dates.
      '-retentionPeriod=100y',
      '-loggerLevel=ERROR',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    const keep = (d: Buffer) => { this.output = (this.output + d.toString()).slice(-4000); };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    proc.once('exit', () => { if (this.proc === proc) this.proc = undefined; });
    if (!process.listeners('exit').includes(this.killOnExit)) process.on('exit', this.killOnExit);
    await waitFor(async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`victoria-metrics exited (${proc.exitCode ?? proc.signalCode}): ${this.output}`);
      const res = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(1000) });
      return res.ok;
    }, 20_000, 50, `victoria-metrics /health on port ${this.port}`);
  }

  /** Make what was written visible to queries now (it is otherwise buffered for about a second). */
  async forceFlush(): Promise<void> {
    const res = await fetch(`${this.url}/internal/force_flush`, { signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`force_flush: HTTP ${res.status}`);
  }

  /** Every sample of the series matching a selector, e.g. `{__name__=~"pressure_.*"}`. */
  async export(match: string): Promise<ExportedSeries[]> {
    await this.forceFlush();
    const res = await fetch(`${this.url}/api/v1/export`, {
      method: 'POST', body: new URLSearchParams({ 'match[]': match }), signal: AbortSignal.timeout(10_000),
    });
    const body = await res.text();
    if (!res.ok) throw new Error(`export ${match}: HTTP ${res.status} ${body}`);
    return body.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as ExportedSeries);
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    this.proc = undefined;
  }

  async dispose(): Promise<void> {
    await this.stop();
    process.removeListener('exit', this.killOnExit);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export type VictoriaMetricsForTests =
  | { available: true; server: VictoriaMetricsServer; close(): Promise<void> }
  | { available: false; reason: string; close(): Promise<void> };

/**
 * A VictoriaMetrics of our own if the binary is installed. Missing fails the test file when
 * REQUIRE_VICTORIAMETRICS=1 or REQUIRE_INFLUXDB=1 (CI installs it with InfluxDB: it is how the
 * 2.x write path is tested); otherwise the caller skips and the reason is printed.
 */
export async function victoriaMetricsForTests(): Promise<VictoriaMetricsForTests> {
  const none = async () => {};
  let result: VictoriaMetricsForTests;
  if (!VICTORIA_METRICS_BIN) {
    result = { available: false, reason: 'victoria-metrics is not installed (apt-get install victoria-metrics)', close: none };
  } else {
    const server = new VictoriaMetricsServer();
    try {
      await server.start();
      result = { available: true, server, close: () => server.dispose() };
    } catch (e) {
      await server.dispose();
      result = { available: false, reason: `victoria-metrics did not start: ${(e as Error).message}`, close: none };
    }
  }
  if (!result.available) {
    if (process.env.REQUIRE_VICTORIAMETRICS === '1' || process.env.REQUIRE_INFLUXDB === '1') {
      throw new Error(`REQUIRE_VICTORIAMETRICS/REQUIRE_INFLUXDB is set but ${result.reason}`);
    }
    console.warn(`skipping VictoriaMetrics tests: ${result.reason}`);
  }
  return result;
}
