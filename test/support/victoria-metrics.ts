/**
 * A real VictoriaMetrics (Debian's `victoria-metrics`) on a free loopback port with a temporary
 * storage folder. It accepts InfluxDB line protocol on /api/v2/write and /write, so the InfluxDB
 * 2.x client's real write path can be tested here, where no InfluxDB 2.x is installed. It stores
 * each field as its own series named `<measurement>_<field>` with the tags as labels, and shows
 * what it stored through /api/v1/export. Options add command-line flags, e.g. a scrape config
 * (`-promscrape.config=FILE`) to make it scrape a /metrics target as Prometheus would.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerProcess, startOnFreePort } from './server-process.ts';

export const VICTORIA_METRICS_BIN = ['/usr/bin/victoria-metrics', '/usr/sbin/victoria-metrics'].find((p) => existsSync(p));

export interface ExportedSeries {
  metric: Record<string, string> & { __name__: string };
  values: number[];
  timestamps: number[];
}

export interface VictoriaMetricsOptions {
  /** More command-line flags, after the defaults (a later flag of the same name wins). */
  extraArgs?: readonly string[];
}

export class VictoriaMetricsServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'aw-vm-'));
  port = 0;
  private readonly process = new ServerProcess('victoria-metrics');

  constructor(private readonly options: VictoriaMetricsOptions = {}) {}

  get url(): string { return `http://127.0.0.1:${this.port}`; }

  async start(): Promise<void> {
    if (!VICTORIA_METRICS_BIN) throw new Error('victoria-metrics is not installed (apt-get install victoria-metrics)');
    await startOnFreePort(this.process, (port) => {
      this.port = port;
      return this.process.spawn(VICTORIA_METRICS_BIN!, [
        `-storageDataPath=${join(this.dir, 'data')}`,
        `-httpListenAddr=127.0.0.1:${port}`,
        // The default retention (1 month) drops samples older than that on arrival; tests use fixed dates.
        '-retentionPeriod=100y',
        '-loggerLevel=ERROR',
        ...(this.options.extraArgs ?? []),
      ], async () => (await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(1000) })).ok, `victoria-metrics /health on port ${port}`);
    });
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
    await this.process.signal('SIGTERM');
  }

  async dispose(): Promise<void> {
    await this.process.dispose();
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
