/**
 * InfluxDB 2.x/3.x store. Writes with `@influxdata/influxdb-client` (POST /api/v2/write, precision
 * ms, token auth); reads with InfluxQL over the v1-compatible /query API through the shared reader
 * (influxql.ts), so its query semantics are those of the 1.x store. InfluxDB 2.2+ maps every bucket
 * to a v1 database of the same name automatically; 3.x answers /query for its databases.
 *
 * The client's own batching and retrying are kept out of the way: our outbox is the one durable
 * buffer and the one place that retries. With the client's defaults a failed batch would wait in
 * its in-memory retry buffer (lost on exit) while write() had already resolved, and batches it
 * flushes by itself when full swallow their errors. So each write() call gets its own WriteApi
 * with maxRetries 0, no flush timer and a batch larger than one chunk, writes one chunk at a time
 * and awaits flush() for each: write() resolves only when InfluxDB has answered 204 for every
 * point, and rejects with the server's message otherwise.
 */
import { InfluxDB, Point as LinePoint, HttpError, setLogger, type WriteApi } from '@influxdata/influxdb-client';
import type { Point } from '../model/reading.ts';
import { QUALITY_CODE } from '../model/reading.ts';
import type { StoreConfig } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { LatestValue, RangeQuery, SeriesValue, TimeSeriesStore } from './types.ts';
import { checkPoints, chunks, pointTags } from './line-protocol.ts';
import { InfluxError, InfluxQLReader, isRetryableStatus, networkMessage, serverMessage } from './influxql.ts';
import type { StoreWrites } from './influx1.ts';

export type InfluxV2Config = Extract<StoreConfig, { type: 'influxdb2' }>;

/** Lines per HTTP write; InfluxData recommends batches of about 5,000 points. */
export const WRITE_CHUNK = 5_000;

export interface InfluxV2Options {
  /** Where the client library's own log lines go (debug level: failures also reject write()). */
  log?: Logger;
  /** Default `readings`. `derived` writes into `derivedBucket` (the readings bucket when unset). */
  writes?: StoreWrites;
}

export class InfluxV2Store implements TimeSeriesStore {
  readonly describe: string;
  private readonly client: InfluxDB;
  private readonly reader: InfluxQLReader;
  /** Reads the derived bucket, when analytics' series are kept apart (store.derivedBucket). */
  private readonly derivedReader?: InfluxQLReader;
  private readonly log?: Logger;
  private readonly writeToken?: string;
  private readonly readToken?: string;
  /** The bucket write() goes to: the readings', or analytics' own for derived series. */
  private readonly writeBucket: string;

  constructor(private readonly cfg: InfluxV2Config, opts: InfluxV2Options = {}) {
    this.log = opts.log;
    const base = cfg.url.replace(/\/+$/, '');
    const shown = new URL(base); // no credentials in logs, should the URL carry any
    shown.username = ''; shown.password = '';
    this.writeBucket = opts.writes === 'derived' ? (cfg.derivedBucket ?? cfg.bucket) : cfg.bucket;
    this.describe = `influxdb2 ${shown.toString().replace(/\/+$/, '')}/${this.writeBucket}`;
    // Least privilege: a write-only token for writes, a read-only one for reads (else one for both).
    this.writeToken = cfg.writeToken ?? cfg.token;
    this.readToken = cfg.readToken ?? cfg.token;
    this.client = new InfluxDB({ url: base, token: this.writeToken, timeout: cfg.timeoutMs });
    const authorization = this.readToken ? `Token ${this.readToken}` : undefined;
    const readerOf = (bucket: string) => new InfluxQLReader({ url: base, database: bucket, authorization, timeoutMs: cfg.timeoutMs, describe: this.describe });
    this.reader = readerOf(cfg.bucket);
    // One request per bucket: a query naming two databases is 1.x InfluxQL that 2.x and 3.x need
    // not accept (each bucket is its own DBRP mapping), so the derived bucket is read on its own.
    this.derivedReader = cfg.derivedBucket && cfg.derivedBucket !== cfg.bucket ? readerOf(cfg.derivedBucket) : undefined;
    // The library logs every failed write to the console; ours reject, and the outbox logs them.
    // setLogger is global to the library; every store routes it to its own logger, the last one wins.
    const log = this.log;
    setLogger({
      error: (message, err) => log?.debug({ err: String(err) }, `influxdb-client: ${message}`),
      warn: (message, err) => log?.debug({ err: String(err) }, `influxdb-client: ${message}`),
    });
  }

  /**
   * Check that the server answers and the read token (if this service has one) may read the bucket. A bucket is not created here:
   * that needs an operator token, and deployment creates it (3.x creates a database on first write,
   * so "database not found" before any write is not an error).
   */
  async init(): Promise<void> {
    if (!(await this.reader.ping())) {
      throw new InfluxError(`${this.describe}: InfluxDB does not answer /ping at ${this.cfg.url}`, { retryable: true });
    }
    if (!this.readToken) return; // a write-only service: nothing it may read to check
    for (const reader of [this.reader, ...(this.derivedReader ? [this.derivedReader] : [])]) {
      try {
        await reader.run('SHOW MEASUREMENTS LIMIT 1');
      } catch (e) {
        const notFound = e instanceof InfluxError && e.status !== 401 && e.status !== 403 && /not found/i.test(e.message);
        if (!notFound) throw e;
        this.log?.warn({ store: this.describe }, `bucket/database ${reader.endpoint.database} not found yet: ${(e as Error).message}`);
      }
    }
  }

  async write(points: readonly Point[]): Promise<void> {
    if (!points.length) return;
    if (!this.writeToken) {
      // Retryable: an operator adds the token while the outbox holds the readings.
      throw new InfluxError(`${this.describe}: write refused here: store.writeToken is not set for this service`, { retryable: true });
    }
    checkPoints(points);
    const api = this.newWriteApi();
    try {
      for (const part of chunks(points, WRITE_CHUNK)) {
        api.writePoints(part.map(toLinePoint));
        await api.flush();
      }
    } catch (e) {
      throw this.wrap(e);
    } finally {
      await api.close().catch(() => { /* nothing is buffered: every chunk was flushed or failed */ });
    }
  }

  async query(q: RangeQuery): Promise<Map<string, SeriesValue[]>> {
    const readings = await this.reader.query(q);
    if (!this.derivedReader) return readings;
    const derived = await this.derivedReader.query(q);
    // A series lives in one bucket (readings or derived), so at most one side has points for it.
    for (const [sensor, values] of derived) {
      if (values.length) readings.set(sensor, [...(readings.get(sensor) ?? []), ...values].sort((a, b) => a.ts - b.ts));
      else if (!readings.has(sensor)) readings.set(sensor, values);
    }
    return readings;
  }

  async latest(measurement: string, sensors?: readonly string[]): Promise<LatestValue[]> {
    const readings = await this.reader.latest(measurement, sensors);
    if (!this.derivedReader) return readings;
    const newest = new Map(readings.map((v) => [v.sensor, v]));
    for (const v of await this.derivedReader.latest(measurement, sensors)) {
      const seen = newest.get(v.sensor);
      if (!seen || v.ts > seen.ts) newest.set(v.sensor, v);
    }
    return [...newest.values()];
  }

  ping(): Promise<boolean> {
    return this.reader.ping();
  }

  async close(): Promise<void> {
    // Each write() closes its own WriteApi; nothing else is held open.
  }

  /** One WriteApi per write() call, so concurrent calls never flush (or fail) each other's points. */
  private newWriteApi(): WriteApi {
    return this.client.getWriteApi(this.cfg.org, this.writeBucket, 'ms', {
      maxRetries: 0, // the outbox retries; see the comment at the top of this file
      flushInterval: 0, // no timer: we flush
      batchSize: WRITE_CHUNK + 1, // never flush by itself (its own flushes swallow errors)
      maxBatchBytes: Number.MAX_SAFE_INTEGER,
      maxBufferLines: WRITE_CHUNK,
      gzipThreshold: 64 * 1024,
    });
  }

  private wrap(e: unknown): InfluxError {
    if (e instanceof InfluxError) return e;
    const what = `${this.describe}: write failed`;
    if (e instanceof HttpError) {
      const message = e.body ? serverMessage(e.body) : (e.statusMessage ?? e.message);
      return new InfluxError(`${what}: HTTP ${e.statusCode}: ${message}`, { status: e.statusCode, retryable: isRetryableStatus(e.statusCode), cause: e });
    }
    return new InfluxError(`${what}: ${networkMessage(e)}`, { retryable: true, cause: e });
  }
}

function toLinePoint(p: Point): LinePoint {
  const lp = new LinePoint(p.measurement).floatField('value', p.value).intField('q', QUALITY_CODE[p.quality]).timestamp(p.ts);
  for (const [k, v] of Object.entries(pointTags(p))) lp.tag(k, v);
  return lp;
}
