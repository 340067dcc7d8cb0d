/**
 * A real InfluxDB 1.x for tests: Debian's `influxd` (1.6) started on free loopback ports with its
 * own config and data folder, and `influxUrlForTests()`, which picks the server a test file uses.
 *
 * `InfluxdServer` keeps its ports and data folder across stop()/kill()/restart(), so a fault test
 * can take InfluxDB away while readings flow and bring the same server back.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { ServerProcess } from './server-process.ts';

export const INFLUXD_BIN = ['/usr/bin/influxd', '/usr/sbin/influxd'].find((p) => existsSync(p));

export class InfluxdServer {
  /** `auth`: HTTP authentication on, as a production server runs (create the first admin without credentials). */
  constructor(private readonly options: { auth?: boolean } = {}) {}

  readonly dir = mkdtempSync(join(tmpdir(), 'aw-influxd-'));
  port = 0;
  /** influxd's RPC service (backup/restore) cannot be turned off; it gets a free loopback port too. */
  rpcPort = 0;
  private readonly process = new ServerProcess('influxd');

  get url(): string { return `http://127.0.0.1:${this.port}`; }

  /** Start influxd and resolve when /ping answers. Ports are chosen on the first start and kept. */
  async start(): Promise<void> {
    if (!INFLUXD_BIN) throw new Error('influxd is not installed (apt-get install influxdb)');
    if (this.process.running) return;
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
        if (!firstStart || attempt >= 3 || !this.process.portWasTaken) throw e;
      }
    }
  }

  private async spawnAndWait(): Promise<void> {
    const conf = join(this.dir, 'influxdb.conf');
    writeFileSync(conf, this.config());
    // influxd reads INFLUXDB_* variables as config overrides (INFLUXDB_HTTP_BIND_ADDRESS, …): leave them out.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INFLUXDB_')));
    await this.process.spawn(INFLUXD_BIN!, ['-config', conf], async () => {
      const res = await fetch(`${this.url}/ping`, { signal: AbortSignal.timeout(1000) });
      return res.status === 204;
    }, `influxd /ping on port ${this.port}`, { env });
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
    await this.process.signal('SIGTERM', 15_000);
  }

  /** SIGKILL: a crash. What was acknowledged is in the WAL and comes back on restart. */
  async kill(): Promise<void> {
    await this.process.signal('SIGKILL', 5_000);
  }

  /** Stop and start again on the same port, with the same data. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Stop and remove the data folder. */
  async dispose(): Promise<void> {
    await this.process.dispose();
    rmSync(this.dir, { recursive: true, force: true });
  }

  get running(): boolean { return this.process.running; }
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

/** The passwords deploy/influxdb/service-users.sh gives the services' InfluxDB users. */
export interface ServiceUserPasswords { ingest: string; analytics: string; reader: string }

/**
 * What the influxdb:1.x image does at its first start, on an `InfluxdServer({ auth: true })`: the
 * administrator and the database (INFLUXDB_DB), then deploy/influxdb/service-users.sh, run with a
 * stand-in for the image's `influx` CLI (Debian's package lacks it) that sends each statement to
 * /query as that CLI does.
 */
export function runServiceUsersScript(server: InfluxdServer, o: { admin: { user: string; password: string }; database: string; passwords: ServiceUserPasswords; cwd: string }): void {
  const standIn = `
influx() {
  while [ $# -gt 0 ]; do
    case "$1" in
      -host) host=$2; shift 2 ;; -port) port=$2; shift 2 ;; -username) user=$2; shift 2 ;;
      -password) password=$2; shift 2 ;; -execute) statement=$2; shift 2 ;; *) echo "influx stand-in: unknown flag $1" >&2; return 2 ;;
    esac
  done
  answer=$(curl -sS -u "$user:$password" --data-urlencode "q=$statement" "http://$host:$port/query")
  case "$answer" in *'"error"'*) echo "$statement: $answer" >&2; return 1 ;; esac
}
curl -sS --data-urlencode "q=CREATE USER \\"$INFLUXDB_ADMIN_USER\\" WITH PASSWORD '$INFLUXDB_ADMIN_PASSWORD' WITH ALL PRIVILEGES" "http://127.0.0.1:$INFLUXDB_INIT_PORT/query" >/dev/null
influx -host 127.0.0.1 -port "$INFLUXDB_INIT_PORT" -username "$INFLUXDB_ADMIN_USER" -password "$INFLUXDB_ADMIN_PASSWORD" -execute "CREATE DATABASE \\"$INFLUXDB_DB\\""
`;
  execFileSync('bash', ['-ec', `${standIn}\n. deploy/influxdb/service-users.sh`], {
    cwd: o.cwd, stdio: 'pipe',
    env: {
      PATH: process.env.PATH, INFLUXDB_INIT_PORT: String(server.port), INFLUXDB_DB: o.database,
      INFLUXDB_ADMIN_USER: o.admin.user, INFLUXDB_ADMIN_PASSWORD: o.admin.password,
      AQUAWATCH_INFLUX_INGEST_PASSWORD: o.passwords.ingest,
      AQUAWATCH_INFLUX_ANALYTICS_PASSWORD: o.passwords.analytics,
      AQUAWATCH_INFLUX_READER_PASSWORD: o.passwords.reader,
    },
  });
}
