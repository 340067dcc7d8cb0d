/**
 * InfluxDB 1.x store. Writes go through the `influx` package (line protocol, precision ms); reads
 * go through the shared InfluxQL reader (influxql.ts), the same code the 2.x/3.x store reads with,
 * because it streams big answers (chunked=true) where the package's query() would take whatever a
 * server with a max-row-limit hands back.
 *
 * Failures reject and the outbox retries; the package's own retry and host back-off are turned off
 * (see `noBackoff`) so that a write fails at once, with the server's message, and the first write
 * after InfluxDB comes back goes straight through.
 */
import { InfluxDB, FieldType, type IPoint } from 'influx';
import type { Point } from '../model/reading.ts';
import { QUALITY_CODE } from '../model/reading.ts';
import type { StoreConfig } from '../config/schema.ts';
import type { LatestValue, RangeQuery, SeriesValue, TimeSeriesStore } from './types.ts';
import { checkPoints, chunks, escapeMeasurement, pointTags, TAG_KEYS } from './line-protocol.ts';
import { InfluxError, InfluxQLReader, isRetryableStatus, networkMessage, serverMessage } from './influxql.ts';

export type InfluxV1Config = Extract<StoreConfig, { type: 'influxdb1' }>;

/** Lines per HTTP write; InfluxData recommends batches of about 5,000 points. */
export const WRITE_CHUNK = 5_000;

/**
 * The `influx` package takes a host out of its pool for an exponentially growing time after a
 * network error, and answers "No host available" meanwhile, hiding the real error and delaying
 * recovery. A zero delay keeps the host in the pool; the outbox paces the retries instead.
 */
const noBackoff = { getDelay: () => 0, next() { return this; }, reset() { return this; } };

/** Which database this service's writes go to: ingest writes readings, analytics derived series. */
export type StoreWrites = 'readings' | 'derived';

export interface InfluxV1Options {
  /** Default `readings`. `derived` writes into `derivedDatabase` (the readings database when unset). */
  writes?: StoreWrites;
}

interface InfluxUser { username: string; password: string }

/** The user for reads and the user for writes: `reader`/`writer`, else the one `username` for both. */
export function influxUsers(cfg: InfluxV1Config): { reader?: InfluxUser; writer?: InfluxUser } {
  const single = cfg.username !== undefined ? { username: cfg.username, password: cfg.password ?? '' } : undefined;
  return { reader: cfg.reader ?? single, writer: cfg.writer ?? single };
}

function basicAuthorization(user: InfluxUser | undefined): string | undefined {
  return user ? `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}` : undefined;
}

export class InfluxV1Store implements TimeSeriesStore {
  readonly describe: string;
  private readonly influx: InfluxDB;
  private readonly reader: InfluxQLReader;
  /** The database write() goes to. */
  private readonly writeDatabase: string;
  /** Every database reads look in: the readings, and the derived series when they are apart. */
  private readonly readDatabases: string[];
  private readonly users: { reader?: InfluxUser; writer?: InfluxUser };
  /** Measurements given a schema in the `influx` package, so `q` is written as an integer. */
  private readonly known = new Set<string>();

  constructor(private readonly cfg: InfluxV1Config, opts: InfluxV1Options = {}) {
    const url = new URL(cfg.url);
    const path = url.pathname.replace(/\/+$/, '');
    const base = `${url.protocol}//${url.host}${path}`;
    this.writeDatabase = opts.writes === 'derived' ? (cfg.derivedDatabase ?? cfg.database) : cfg.database;
    this.readDatabases = [...new Set([cfg.database, ...(cfg.derivedDatabase ? [cfg.derivedDatabase] : [])])];
    this.describe = `influxdb1 ${base}/${this.writeDatabase}`;
    this.users = influxUsers(cfg);
    const protocol = url.protocol === 'https:' ? 'https' : 'http';
    this.influx = new InfluxDB({
      hosts: [{ host: url.hostname, port: Number(url.port) || (protocol === 'https' ? 443 : 80), protocol, path }],
      database: this.writeDatabase,
      // Without a user the package would send root:root; an empty one is no user at all.
      username: this.users.writer?.username ?? '',
      password: this.users.writer?.password ?? '',
      pool: { maxRetries: 0, requestTimeout: cfg.timeoutMs, backoff: noBackoff },
    });
    this.reader = new InfluxQLReader({
      url: base, database: cfg.database, alsoDatabases: this.readDatabases.slice(1),
      authorization: basicAuthorization(this.users.reader), timeoutMs: cfg.timeoutMs, describe: this.describe,
    });
  }

  /**
   * Check the server answers and the databases exist (or create them). With a reader and a writer,
   * each must see the databases it works on, so a missing grant fails here and names the user.
   */
  async init(): Promise<void> {
    if (!(await this.reader.ping())) {
      throw new InfluxError(`${this.describe}: InfluxDB does not answer /ping at ${this.cfg.url}`, { retryable: true });
    }
    try {
      if (this.cfg.createDatabase) {
        // CREATE DATABASE does nothing if it exists
        for (const db of new Set([...this.readDatabases, this.writeDatabase])) await this.influx.createDatabase(db);
        return;
      }
      const split = this.cfg.reader !== undefined || this.cfg.writer !== undefined;
      const checks = split
        ? [{ user: this.users.reader, role: 'store.reader', databases: this.readDatabases }, { user: this.users.writer, role: 'store.writer', databases: [this.writeDatabase] }]
            .filter((c) => c.user !== undefined)
        : [{ user: this.users.writer, role: 'store.username', databases: [...new Set([...this.readDatabases, this.writeDatabase])] }];
      for (const { user, role, databases } of checks) {
        const visible = await this.databasesVisibleTo(user);
        const missing = databases.filter((d) => !visible.includes(d));
        if (missing.length) {
          const who = user ? `${role} ${user.username}` : 'the anonymous user';
          throw new InfluxError(`${this.describe}: database ${missing.join(', ')} does not exist and store.createDatabase is false, or ${who} has no rights on it`, { retryable: false });
        }
      }
    } catch (e) {
      throw this.wrap(e, 'init');
    }
  }

  /** SHOW DATABASES lists, for a user who is not an administrator, the databases it has rights on. */
  private async databasesVisibleTo(user: InfluxUser | undefined): Promise<string[]> {
    const series = await new InfluxQLReader({ ...this.reader.endpoint, authorization: basicAuthorization(user) }).run('SHOW DATABASES');
    return series.flatMap((s) => s.values.map((row) => String(row[0])));
  }

  async write(points: readonly Point[]): Promise<void> {
    if (!points.length) return;
    if (!this.users.writer && (this.cfg.reader || this.cfg.writer)) {
      // Retryable: an operator adds the writer while the outbox holds the readings.
      throw new InfluxError(`${this.describe}: write refused here: store.writer is not set for this service`, { retryable: true });
    }
    checkPoints(points);
    for (const part of chunks(points, WRITE_CHUNK)) {
      const lines = part.map((p) => this.toInfluxPoint(p));
      try {
        await this.influx.writePoints(lines, { precision: 'ms', database: this.writeDatabase });
      } catch (e) {
        throw this.wrap(e, 'write');
      }
    }
  }

  query(q: RangeQuery): Promise<Map<string, SeriesValue[]>> {
    return this.reader.query(q);
  }

  latest(measurement: string, sensors?: readonly string[]): Promise<LatestValue[]> {
    return this.reader.latest(measurement, sensors);
  }

  ping(): Promise<boolean> {
    return this.reader.ping();
  }

  async close(): Promise<void> {
    // Nothing held open: the package and fetch use Node's shared HTTP agents.
  }

  private toInfluxPoint(p: Point): IPoint {
    // The package writes the measurement name verbatim, so it is escaped here.
    const measurement = escapeMeasurement(p.measurement);
    if (!this.known.has(measurement)) {
      this.influx.addSchema({
        database: this.writeDatabase, measurement,
        fields: { value: FieldType.FLOAT, q: FieldType.INTEGER },
        tags: [...TAG_KEYS],
      });
      this.known.add(measurement);
    }
    // A string timestamp is passed through as is; a number 0 would be dropped (falsy) and get server time.
    return { measurement, tags: pointTags(p), fields: { value: p.value, q: QUALITY_CODE[p.quality] }, timestamp: String(p.ts) };
  }

  /** The package's errors, made to say what failed and whether a retry can help. */
  private wrap(e: unknown, op: string): InfluxError {
    if (e instanceof InfluxError) return e;
    const what = `${this.describe}: ${op} failed`;
    const err = e as Error & { res?: { statusCode?: number; statusMessage?: string }; code?: string };
    const status = err.res?.statusCode;
    if (status !== undefined) {
      // RequestError (3xx/4xx) carries the body in its message: "A 400 Bad Request error occurred: {…}".
      const body = err.message.replace(/^A \d+ .*? error occurred: /, '');
      return new InfluxError(`${what}: HTTP ${status}: ${serverMessage(body)}`, { status, retryable: isRetryableStatus(status), cause: e });
    }
    if (err.name === 'ServiceNotAvailableError') {
      // 5xx or a timeout; the package keeps only the status text.
      return new InfluxError(`${what}: ${err.message}`, { retryable: true, cause: e });
    }
    return new InfluxError(`${what}: ${networkMessage(e)}`, { retryable: true, cause: e });
  }
}
