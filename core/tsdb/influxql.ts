/**
 * The read side shared by both InfluxDB stores: InfluxQL statements built from a RangeQuery, sent
 * to the v1 `/query` API (which InfluxDB 1.x, 2.x through its v1 compatibility and 3.x all answer),
 * and the answer turned back into our values. Both stores read through `InfluxQLReader`, so 1.x and
 * 2.x/3.x have exactly the same query semantics; they differ only in how they authenticate.
 *
 * Semantics kept (core/tsdb/types.ts): windows aligned to the epoch (GROUP BY time does that in
 * UTC), empty windows omitted (fill(none)), a window's ts is its start, and an aggregate without a
 * window is one window whose ts is `from` (InfluxDB gives the range start for mean/count/sum but
 * the point's own time for the selectors last/min/max, so the ts is set here, not taken from it).
 */
import type { Quality } from '../model/reading.ts';
import { qualityFromCode } from '../model/reading.ts';
import type { Aggregate, LatestValue, RangeQuery, SeriesValue } from './types.ts';
import { MAX_TIME_MS, MIN_TIME_MS, chunks } from './line-protocol.ts';

/** A failure talking to InfluxDB. `retryable` tells the outbox whether trying again can help. */
export class InfluxError extends Error {
  readonly status?: number;
  readonly retryable: boolean;
  constructor(message: string, opts: { status?: number; retryable: boolean; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'InfluxError';
    this.status = opts.status;
    this.retryable = opts.retryable;
  }
}

/** 5xx, 408 (timeout) and 429 (too many requests) may pass; other 4xx will fail the same way again. */
export function isRetryableStatus(status: number): boolean {
  // Only a refusal of the data itself (400: a field type conflict, unparseable line; 422) is final.
  // 401/403/404 are configuration (a token, a bucket) that an operator fixes while the outbox waits:
  // treating them as final would throw away every reading held during the misconfiguration.
  return status !== 400 && status !== 422;
}

/** The most useful text of an error body: InfluxDB 1.x says {"error":…}, 2.x/3.x {"message":…}. */
export function serverMessage(body: string): string {
  const text = body.trim();
  try {
    const j = JSON.parse(text) as { error?: unknown; message?: unknown };
    if (typeof j.error === 'string') return j.error;
    if (typeof j.message === 'string') return j.message;
  } catch { /* not JSON: use the text */ }
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

/** Message of a network-level failure, with the cause fetch hides (e.g. connect ECONNREFUSED). */
export function networkMessage(e: unknown): string {
  if (e instanceof Error && e.name === 'TimeoutError') return 'timed out';
  const err = e as { message?: string; cause?: { message?: string; code?: string } };
  const cause = err.cause?.message ?? err.cause?.code;
  return cause ? `${err.message ?? String(e)} (${cause})` : (err.message ?? String(e));
}

// ---- InfluxQL text ----

/** A double-quoted identifier (measurement, tag or field name). */
export function quoteIdent(name: string): string {
  return `"${escapeInfluxQL(name)}"`;
}

/** A single-quoted string literal (a tag value to compare with). */
export function quoteString(value: string): string {
  return `'${escapeInfluxQL(value)}'`;
}

/** InfluxQL's scanner knows the escapes \\ \' \" and \n, in identifiers and strings alike. */
function escapeInfluxQL(s: string): string {
  return s.replace(/[\\'"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** A time bound as an integer of nanoseconds, clamped to what InfluxDB can store. */
export function timeLiteral(ms: number): string {
  const clamped = Math.min(MAX_TIME_MS, Math.max(MIN_TIME_MS, Math.trunc(ms)));
  return (BigInt(clamped) * 1_000_000n).toString();
}

const AGGREGATES: ReadonlySet<Aggregate> = new Set(['mean', 'min', 'max', 'last', 'count', 'sum']);

/** How many sensors one statement names; longer lists are split into several requests. */
export const SENSORS_PER_STATEMENT = 200;

function sensorFilter(sensors: readonly string[]): string {
  return `(${sensors.map((s) => `"sensor" = ${quoteString(s)}`).join(' OR ')})`;
}

/** Check a RangeQuery, with errors that name the field. */
export function checkRangeQuery(q: RangeQuery): void {
  if (typeof q.measurement !== 'string' || q.measurement === '') throw new Error('query.measurement must be a non-empty string');
  if (!Array.isArray(q.sensors)) throw new Error('query.sensors must be an array of sensor ids');
  if (!Number.isFinite(q.from)) throw new Error(`query.from must be a number of milliseconds, got ${String(q.from)}`);
  if (!Number.isFinite(q.to)) throw new Error(`query.to must be a number of milliseconds, got ${String(q.to)}`);
  if (q.aggregate !== undefined && !AGGREGATES.has(q.aggregate)) {
    throw new Error(`query.aggregate must be one of ${[...AGGREGATES].join(', ')}, got ${String(q.aggregate)}`);
  }
  if (q.windowMs !== undefined && !(Number.isSafeInteger(q.windowMs) && q.windowMs > 0)) {
    throw new Error(`query.windowMs must be a positive whole number of milliseconds, got ${String(q.windowMs)}`);
  }
}

/**
 * The FROM clause: the measurement in the request's database, or with `databases` the measurement
 * in each of them (`"db".."m"`, the default retention policy), which InfluxDB merges per series.
 */
function fromClause(measurement: string, databases?: readonly string[]): string {
  if (!databases?.length) return `FROM ${quoteIdent(measurement)}`;
  return `FROM ${databases.map((db) => `${quoteIdent(db)}..${quoteIdent(measurement)}`).join(', ')}`;
}

/** One SELECT for a RangeQuery over the given sensors (at least one), grouped by sensor. */
export function buildRangeQuery(q: RangeQuery, sensors: readonly string[], databases?: readonly string[]): string {
  const where = `WHERE ${sensorFilter(sensors)} AND time >= ${timeLiteral(q.from)} AND time < ${timeLiteral(q.to)}`;
  const from = fromClause(q.measurement, databases);
  if (!q.aggregate) return `SELECT "value", "q" ${from} ${where} GROUP BY "sensor"`;
  const groupBy = q.windowMs ? `GROUP BY time(${q.windowMs}ms), "sensor" fill(none)` : 'GROUP BY "sensor"';
  return `SELECT ${q.aggregate}("value") AS "value" ${from} ${where} ${groupBy}`;
}

/**
 * The latest point per sensor. `last` is a selector: with one selector in the SELECT, InfluxQL takes
 * the other fields (`q`) from the same point, so value and quality always belong together.
 */
export function buildLatestQuery(measurement: string, sensors?: readonly string[], databases?: readonly string[]): string {
  const where = sensors ? ` WHERE ${sensorFilter(sensors)}` : '';
  return `SELECT last("value") AS "value", "q" ${fromClause(measurement, databases)}${where} GROUP BY "sensor"`;
}

// ---- /query answers ----

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

interface StatementResult { statement_id?: number; series?: (InfluxSeries & { partial?: boolean })[]; error?: string; partial?: boolean }

/**
 * Parse a /query body: one JSON object, or with chunked=true one per line, where a series may go on
 * in the next chunk. Returns the series of each statement with the chunks joined. Throws on an
 * error in the answer, and on an answer the server cut short (max-row-limit) rather than return
 * part of the data as if it were all.
 */
export function parseQueryResponse(body: string, what: string): InfluxSeries[][] {
  const statements = new Map<number, { series: Map<string, InfluxSeries>; partial: boolean }>();
  for (const line of body.split('\n')) {
    if (!line.trim()) continue;
    let chunk: { results?: StatementResult[]; error?: string };
    try {
      chunk = JSON.parse(line) as typeof chunk;
    } catch {
      throw new InfluxError(`${what}: the answer is not JSON: ${line.slice(0, 200)}`, { retryable: false });
    }
    if (chunk.error) throw new InfluxError(`${what}: ${chunk.error}`, { retryable: false });
    for (const [i, result] of (chunk.results ?? []).entries()) {
      if (result.error) throw new InfluxError(`${what}: ${result.error}`, { retryable: false });
      const id = result.statement_id ?? i;
      let st = statements.get(id);
      if (!st) statements.set(id, st = { series: new Map(), partial: false });
      st.partial = result.partial === true;
      for (const s of result.series ?? []) {
        const key = `${s.name}\u0000${JSON.stringify(s.tags ?? {})}`;
        const seen = st.series.get(key);
        if (seen) seen.values.push(...(s.values ?? []));
        else st.series.set(key, { name: s.name, tags: s.tags, columns: s.columns, values: [...(s.values ?? [])] });
      }
    }
  }
  const ids = [...statements.keys()].sort((a, b) => a - b);
  return ids.map((id) => {
    const st = statements.get(id)!;
    if (st.partial) {
      throw new InfluxError(`${what}: the server cut the answer short (its max-row-limit); query a shorter range or fewer sensors`, { retryable: false });
    }
    return [...st.series.values()];
  });
}

/** A point with no `q` field was not written by aquawatch: its quality is not known. */
function qualityOf(q: unknown): Quality {
  return typeof q === 'number' ? qualityFromCode(q) : 'uncertain';
}

function column(s: InfluxSeries, name: string): number {
  const i = s.columns.indexOf(name);
  if (i < 0) throw new InfluxError(`unexpected answer from /query: no column ${name} in ${JSON.stringify(s.columns)}`, { retryable: false });
  return i;
}

// ---- the reader ----

export interface QueryEndpoint {
  /** Base URL of the server, e.g. http://127.0.0.1:8086 (a path prefix is kept). */
  url: string;
  /** v1 database; for 2.x the bucket name (mapped to a database since 2.2), for 3.x the database. */
  database: string;
  /** More databases every read also looks in (1.x: the derived series kept apart). */
  alsoDatabases?: readonly string[];
  /** Authorization header value, if any (`Basic …` for 1.x users, `Token …` for 2.x/3.x). */
  authorization?: string;
  timeoutMs: number;
  /** Names the store in error messages, e.g. `influxdb1 http://127.0.0.1:8086/aquawatch`. */
  describe: string;
}

/** Points per chunk asked of the server: keeps each JSON line of a big answer small. */
const CHUNK_SIZE = 10_000;

export class InfluxQLReader {
  private readonly base: string;

  /** Every database a read names, when it is more than the request's own. */
  private readonly databases?: readonly string[];

  constructor(readonly endpoint: QueryEndpoint) {
    this.base = endpoint.url.endsWith('/') ? endpoint.url : `${endpoint.url}/`;
    if (endpoint.alsoDatabases?.length) this.databases = [endpoint.database, ...endpoint.alsoDatabases];
  }

  /**
   * Run one statement and return its series. POST, so that long sensor lists do not meet URL length
   * limits; db and epoch go in the URL, the statement in the form body, as all three versions accept.
   */
  async run(statement: string, signal?: AbortSignal): Promise<InfluxSeries[]> {
    const url = new URL('query', this.base);
    url.searchParams.set('db', this.endpoint.database);
    url.searchParams.set('epoch', 'ms');
    url.searchParams.set('chunked', 'true');
    url.searchParams.set('chunk_size', String(CHUNK_SIZE));
    const what = `${this.endpoint.describe}: query`;
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (this.endpoint.authorization) headers.authorization = this.endpoint.authorization;
    let res: Response;
    let body: string;
    try {
      res = await fetch(url, {
        method: 'POST', headers, body: new URLSearchParams({ q: statement }).toString(),
        signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(this.endpoint.timeoutMs)]) : AbortSignal.timeout(this.endpoint.timeoutMs),
      });
      body = await res.text();
    } catch (e) {
      // the caller gave up (its client went away): not a store failure, nothing to retry
      if (signal?.aborted) throw signal.reason;
      throw new InfluxError(`${what} failed: ${networkMessage(e)}`, { retryable: true, cause: e });
    }
    if (!res.ok) {
      throw new InfluxError(`${what} failed: HTTP ${res.status}: ${serverMessage(body) || res.statusText}`,
        { status: res.status, retryable: isRetryableStatus(res.status) });
    }
    return parseQueryResponse(body, what)[0] ?? [];
  }

  async query(q: RangeQuery): Promise<Map<string, SeriesValue[]>> {
    checkRangeQuery(q);
    const out = new Map<string, SeriesValue[]>();
    for (const s of q.sensors) out.set(s, []);
    const sensors = [...out.keys()];
    if (!sensors.length || q.to <= q.from) return out;
    for (const part of chunks(sensors, SENSORS_PER_STATEMENT)) {
      for (const series of await this.run(buildRangeQuery(q, part, this.databases), q.signal)) {
        const values = out.get(series.tags?.sensor ?? '');
        if (!values) continue;
        const ti = column(series, 'time');
        const vi = column(series, 'value');
        const qi = q.aggregate ? -1 : column(series, 'q');
        for (const row of series.values) {
          const value = row[vi];
          if (typeof value !== 'number') continue; // a row of another field only
          if (q.aggregate) values.push({ ts: q.windowMs ? Number(row[ti]) : Math.trunc(q.from), value });
          else values.push({ ts: Number(row[ti]), value, quality: qualityOf(row[qi]) });
        }
      }
    }
    return out;
  }

  async latest(measurement: string, sensors?: readonly string[]): Promise<LatestValue[]> {
    if (typeof measurement !== 'string' || measurement === '') throw new Error('latest: measurement must be a non-empty string');
    const parts = sensors ? chunks([...new Set(sensors)], SENSORS_PER_STATEMENT) : [undefined];
    const out: LatestValue[] = [];
    for (const part of parts) {
      if (part && !part.length) continue;
      for (const series of await this.run(buildLatestQuery(measurement, part, this.databases))) {
        const sensor = series.tags?.sensor;
        const row = series.values[0];
        if (!sensor || !row) continue;
        const value = row[column(series, 'value')];
        if (typeof value !== 'number') continue;
        out.push({ measurement, sensor, ts: Number(row[column(series, 'time')]), value, quality: qualityOf(row[column(series, 'q')]) });
      }
    }
    return out;
  }

  /** GET /ping: 204 from 1.x and 2.x, 200 from 3.x. Never throws. */
  async ping(): Promise<boolean> {
    try {
      const res = await fetch(new URL('ping', this.base), { signal: AbortSignal.timeout(this.endpoint.timeoutMs) });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  }
}
