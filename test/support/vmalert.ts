/**
 * A real vmalert (Debian's `victoria-metrics` package ships it) on a free loopback port, evaluating
 * rule files against a datasource (a VictoriaMetricsServer), with a recording Alertmanager double
 * as its notifier: this vmalert (1.79) refuses to start alerting rules without a notifier and has
 * no flag to drop notifications. What it fires is read from its own /api/v1/alerts.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { ServerProcess, startOnFreePort } from './server-process.ts';

export const VMALERT_BIN = ['/usr/bin/vmalert', '/usr/sbin/vmalert'].find((p) => existsSync(p));

/** An alert as vmalert's /api/v1/alerts lists it. */
export interface VmAlertAlert {
  name: string;
  state: 'pending' | 'firing' | 'inactive';
  value: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  expression: string;
}

/** An alert as the notifier received it (Alertmanager's POST /api/v2/alerts body, one element). */
export interface NotifiedAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
}

export interface VmAlertOptions {
  /** Rule files (-rule). */
  rules: readonly string[];
  /** Prometheus-compatible query API, e.g. a VictoriaMetricsServer's url. */
  datasourceUrl: string;
  /** Default 1s. */
  evaluationInterval?: string;
  extraArgs?: readonly string[];
}

/** `vmalert -dryRun` on the rule files: exit status 0 when they parse and their expressions and templates are valid. */
export function vmalertDryRun(rules: readonly string[]): SpawnSyncReturns<string> {
  if (!VMALERT_BIN) throw new Error('vmalert is not installed (apt-get install victoria-metrics)');
  return spawnSync(VMALERT_BIN, ['-dryRun', ...rules.map((r) => `-rule=${r}`), '-loggerLevel=ERROR'], { encoding: 'utf8', timeout: 30_000 });
}

export class VmAlertServer {
  port = 0;
  /** Every alert the notifier double received, in order. */
  readonly notified: NotifiedAlert[] = [];
  private readonly process = new ServerProcess('vmalert');
  private notifier?: Server;
  private notifierPort = 0;

  constructor(private readonly options: VmAlertOptions) {}

  get url(): string { return `http://127.0.0.1:${this.port}`; }

  async start(): Promise<void> {
    if (!VMALERT_BIN) throw new Error('vmalert is not installed (apt-get install victoria-metrics)');
    await this.startNotifier();
    await startOnFreePort(this.process, (port) => {
      this.port = port;
      return this.process.spawn(VMALERT_BIN!, [
        ...this.options.rules.map((r) => `-rule=${r}`),
        `-datasource.url=${this.options.datasourceUrl}`,
        `-notifier.url=http://127.0.0.1:${this.notifierPort}`,
        `-evaluationInterval=${this.options.evaluationInterval ?? '1s'}`,
        `-httpListenAddr=127.0.0.1:${port}`,
        '-loggerLevel=WARN',
        ...(this.options.extraArgs ?? []),
      ], async () => {
        const res = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        return res.ok;
      }, `vmalert /health on port ${port}`);
    });
  }

  private async startNotifier(): Promise<void> {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => {
        try {
          const alerts = JSON.parse(body) as NotifiedAlert[];
          if (Array.isArray(alerts)) this.notified.push(...alerts);
        } catch { /* not an alert list: answered all the same */ }
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    this.notifierPort = typeof addr === 'object' && addr ? addr.port : 0;
    this.notifier = server;
  }

  /** What vmalert logged last (warnings and errors), for failure messages. */
  get log(): string { return this.process.log; }

  private async getJson<T>(path: string): Promise<T> {
    const res = await fetch(`${this.url}${path}`, { signal: AbortSignal.timeout(5000) });
    const body = await res.text();
    if (!res.ok) throw new Error(`vmalert ${path}: HTTP ${res.status} ${body}`);
    return JSON.parse(body) as T;
  }

  /** Active alerts (pending and firing). */
  async alerts(): Promise<VmAlertAlert[]> {
    const body = await this.getJson<{ data: { alerts: VmAlertAlert[] | null } }>('/api/v1/alerts');
    return body.data.alerts ?? [];
  }

  /** The rule groups with their rules' last evaluation and error, as /api/v1/rules gives them. */
  async groups(): Promise<unknown[]> {
    const body = await this.getJson<{ data: { groups: unknown[] | null } }>('/api/v1/rules');
    return body.data.groups ?? [];
  }

  async dispose(): Promise<void> {
    await this.process.dispose();
    const n = this.notifier;
    this.notifier = undefined;
    if (n) await new Promise<void>((resolve) => { n.closeAllConnections(); n.close(() => resolve()); });
  }
}
