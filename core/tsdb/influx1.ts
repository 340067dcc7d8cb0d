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

export class InfluxV1Store implements TimeSeriesStore {
  readonly describe: string;
  private readonly influx: InfluxDB;
  private readonly reader: InfluxQLReader;
  /** Measurements given a schema in the `influx` package, so `q` is written as an integer. */
  private readonly known = new Set<string>();

  constructor(private readonly cfg: InfluxV1Config) {
    const url = new URL(cfg.url);
    const path = url.pathname.replace(/\/+$/, '');
    const base = `${url.protocol}//${url.host}${path}`;
    this.describe = `influxdb1 ${base}/${cfg.database}`;
    const protocol = url.protocol === 'https:' ? 'https' : 'http';
    this.influx = new InfluxDB({
      hosts: [{ host: url.hostname, port: Number(url.port) || (protocol === 'https' ? 443 : 80), protocol, path }],
      database: cfg.database,
      username: cfg.username,
      password: cfg.password,
      pool: { maxRetries: 0, requestTimeout: cfg.timeoutMs, backoff: noBackoff },
    });
    const authorization = cfg.username !== undefined
      ? `Basic ${Buffer.from(`${cfg.username}:${cfg.password ?? ''}`).toString('base64')}`
      : undefined;
    this.reader = new InfluxQLReader({ url: base, database: cfg.database, authorization, timeoutMs: cfg.timeoutMs, describe: this.describe });
  }

  async init(): Promise<void> {
    if (!(await this.reader.ping())) {
      throw new InfluxError(`${this.describe}: InfluxDB does not answer /ping at ${this.cfg.url}`, { retryable: true });
    }
    try {
      if (this.cfg.createDatabase) {
        await this.influx.createDatabase(this.cfg.database); // CREATE DATABASE does nothing if it exists
      } else if (!(await this.influx.getDatabaseNames()).includes(this.cfg.database)) {
        throw new InfluxError(`${this.describe}: database ${this.cfg.database} does not exist and store.createDatabase is false`, { retryable: false });
      }
    } catch (e) {
      throw this.wrap(e, 'init');
    }
  }

  async write(points: readonly Point[]): Promise<void> {
    if (!points.length) return;
    checkPoints(points);
    for (const part of chunks(points, WRITE_CHUNK)) {
      const lines = part.map((p) => this.toInfluxPoint(p));
      try {
        await this.influx.writePoints(lines, { precision: 'ms', database: this.cfg.database });
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
        database: this.cfg.database, measurement,
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
