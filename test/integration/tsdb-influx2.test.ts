/**
 * InfluxV2Store (InfluxDB 2.x/3.x). No InfluxDB 2.x or 3.x runs here, so each half of the store is
 * proven against the real server that speaks its protocol, and each describe says which:
 *
 * 1. Write path → real VictoriaMetrics: the real @influxdata/influxdb-client WriteApi sends line
 *    protocol to /api/v2/write; VictoriaMetrics' own export shows what landed (tags with escaping,
 *    ms timestamps, q integer, value float, all chunks of a big batch).
 * 2. Read path → real InfluxDB 1.6 /query: the store's InfluxQL over the v1-compatible API, sent
 *    with `Authorization: Token …` as to 2.x/3.x (1.6 without auth ignores it), runs the whole
 *    conformance suite; its points are written by the 1.x store (1.6 has no /api/v2/write).
 * 3. Request-level contract, against a test double HTTP server (not InfluxDB): the exact requests
 *    2.x/3.x would receive, and that 4xx/5xx/timeouts reject once, with the server's message,
 *    without the client retrying by itself (maxRetries 0: the outbox retries).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { describeStoreConformance } from '../support/tsdb-conformance.ts';
import { freshDatabaseName, influxAdmin, influxUrlForTests } from '../support/influxd.ts';
import { victoriaMetricsForTests, type ExportedSeries } from '../support/victoria-metrics.ts';
import { freePort } from '../support/ports.ts';
import { InfluxV2Store, WRITE_CHUNK, type InfluxV2Config } from '../../core/tsdb/influx2.ts';
import { InfluxV1Store } from '../../core/tsdb/influx1.ts';
import { InfluxError } from '../../core/tsdb/influxql.ts';
import { InvalidPointError } from '../../core/tsdb/line-protocol.ts';
import { createStore, keepsDerivedApart } from '../../core/tsdb/factory.ts';
import type { Point } from '../../core/model/reading.ts';
import type { TimeSeriesStore } from '../../core/tsdb/types.ts';

const T0 = Date.UTC(2026, 0, 5);
const MIN = 60_000;
const HOUR = 60 * MIN;
const pt = (sensor: string, ts: number, value: number, extra: Partial<Point> = {}): Point =>
  ({ measurement: 'pressure', sensor, ts, value, quality: 'good', site: 'S1', dma: 'D1', ...extra });

const v2config = (url: string, extra: Partial<InfluxV2Config> = {}): InfluxV2Config =>
  ({ type: 'influxdb2', url, org: 'aquawatch', bucket: 'aquawatch', token: 'test-token', timeoutMs: 5000, ...extra });

const influx = await influxUrlForTests();
// If this one fails the file (REQUIRE_*), stop the influxd started above first: a failed file is
// ended without running afterAll.
const vm = await victoriaMetricsForTests().catch(async (e: unknown) => { await influx.close(); throw e; });
afterAll(async () => { await vm.close(); await influx.close(); });

describe.skipIf(!vm.available)('InfluxV2Store write path → real VictoriaMetrics (/api/v2/write, @influxdata/influxdb-client)', () => {
  const server = vm.available ? vm.server : undefined!;
  /** Samples of one exported series as [ts, value] pairs, sorted by time. */
  const samples = (s: ExportedSeries | undefined) => (s ? s.timestamps.map((t, i) => [t, s.values[i]]).sort((a, b) => a[0] - b[0]) : []);
  const find = (all: ExportedSeries[], name: string, sensor: string) => all.find((s) => s.metric.__name__ === name && s.metric.sensor === sensor);

  it('lands points with escaped tags, ms timestamps, float value and integer q', async () => {
    const store = new InfluxV2Store(v2config(server.url));
    const odd = 'plant 1,pump=A"x \'y\'';
    await store.write([
      pt(odd, T0 + 1, 5, { site: 'site one', dma: 'D,1=2' }),
      pt(odd, T0 + 999, 0.305, { site: 'site one', dma: 'D,1=2', quality: 'uncertain' }),
      pt('vm-plain', T0 + 2, 7, { quality: 'bad' }),
    ]);
    const all = await server.export('{__name__=~"pressure_.*"}');
    const value = find(all, 'pressure_value', odd)!;
    expect(value.metric).toEqual({ __name__: 'pressure_value', sensor: odd, site: 'site one', dma: 'D,1=2' });
    expect(samples(value)).toEqual([[T0 + 1, 5], [T0 + 999, 0.305]]);
    expect(samples(find(all, 'pressure_q', odd))).toEqual([[T0 + 1, 0], [T0 + 999, 1]]);
    expect(samples(find(all, 'pressure_q', 'vm-plain'))).toEqual([[T0 + 2, 2]]);
  });

  it('escapes the measurement and leaves empty site/dma tags out', async () => {
    const store = new InfluxV2Store(v2config(server.url));
    await store.write([pt('nf-1', T0, 12.5, { measurement: 'night flow', site: '', dma: 'D9' })]);
    const [s] = await server.export('{__name__="night flow_value"}');
    expect(s.metric).toEqual({ __name__: 'night flow_value', sensor: 'nf-1', dma: 'D9' });
    expect(samples(s)).toEqual([[T0, 12.5]]);
  });

  it(`writes a batch bigger than one request (${WRITE_CHUNK} lines) completely`, async () => {
    const store = new InfluxV2Store(v2config(server.url));
    const n = 2 * WRITE_CHUNK + 345;
    await store.write(Array.from({ length: n }, (_, i) => pt(`vm-big${i % 5}`, T0 + Math.floor(i / 5) * 1000, i, { measurement: 'flow' })));
    const all = await server.export('{__name__="flow_value"}');
    expect(all.reduce((sum, s) => sum + s.values.length, 0)).toBe(n);
    expect(samples(find(all, 'flow_value', 'vm-big3')).slice(0, 3)).toEqual([[T0, 3], [T0 + 1000, 8], [T0 + 2000, 13]]);
  });

  it('keeps concurrent write() calls apart: each resolves only when its own points landed', async () => {
    const store = new InfluxV2Store(v2config(server.url));
    const batch = (sensor: string) => Array.from({ length: 300 }, (_, i) => pt(sensor, T0 + i * 1000, i, { measurement: 'level' }));
    await Promise.all([store.write(batch('vm-c1')), store.write(batch('vm-c2')), store.write(batch('vm-c3'))]);
    const all = await server.export('{__name__="level_value"}');
    expect(['vm-c1', 'vm-c2', 'vm-c3'].map((s) => find(all, 'level_value', s)?.values.length)).toEqual([300, 300, 300]);
  });

  it('refuses a point line protocol cannot carry before sending anything', async () => {
    const store = new InfluxV2Store(v2config(server.url));
    const err = await store.write([pt('vm-ok', T0, 1, { measurement: 'chlorine' }), pt('vm-bad', T0, 1, { measurement: 'chlorine', site: 'a\\b' })])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidPointError);
    expect((err as Error).message).toMatch(/point 1 .*site must not contain a newline or backslash/);
    expect(await server.export('{__name__=~"chlorine_.*"}')).toEqual([]);
  });
});

describe.skipIf(!influx.available)('InfluxV2Store read path → real InfluxDB 1.6 /query (InfluxQL, Authorization: Token)', () => {
  const url = influx.available ? influx.url : '';
  const databases: string[] = [];
  afterAll(async () => { for (const db of databases) await influxAdmin(url, `DROP DATABASE "${db}"`).catch(() => {}); });

  /** Reads through InfluxV2Store; writes through InfluxV1Store into the same database. */
  async function v2ReaderOver16(): Promise<TimeSeriesStore & { reader: InfluxV2Store }> {
    const database = freshDatabaseName();
    databases.push(database);
    const writer = new InfluxV1Store({ type: 'influxdb1', url, database, createDatabase: true, timeoutMs: 10_000 });
    await writer.init();
    const reader = new InfluxV2Store(v2config(url, { bucket: database }));
    await reader.init();
    return {
      describe: `${reader.describe} (written by ${writer.describe})`, reader,
      init: async () => {},
      write: (points) => writer.write(points),
      query: (q) => reader.query(q),
      latest: (m, s) => reader.latest(m, s),
      ping: () => reader.ping(),
      close: async () => { await reader.close(); await writer.close(); },
    };
  }

  describeStoreConformance('influxdb2 read path (InfluxV2Store.query/latest/ping on InfluxDB 1.6; writes by the 1.x store)', v2ReaderOver16);

  it('is built by createStore from the influxdb2 config (init pings and probes /query with the token)', async () => {
    const database = freshDatabaseName();
    databases.push(database);
    await influxAdmin(url, `CREATE DATABASE "${database}"`);
    const store = await createStore(v2config(url, { bucket: database }), '/nonexistent');
    expect(store).toBeInstanceOf(InfluxV2Store);
    expect(store.describe).toBe(`influxdb2 ${url}/${database}`);
    expect(await store.ping()).toBe(true);
  });

  it('F21: reads the readings bucket and the derived bucket (store.derivedBucket), each with a request of its own', async () => {
    const readingsDb = freshDatabaseName();
    const derivedDb = freshDatabaseName();
    databases.push(readingsDb, derivedDb);
    const readingsWriter = new InfluxV1Store({ type: 'influxdb1', url, database: readingsDb, createDatabase: true, timeoutMs: 10_000 });
    const derivedWriter = new InfluxV1Store({ type: 'influxdb1', url, database: derivedDb, createDatabase: true, timeoutMs: 10_000 });
    await readingsWriter.init();
    await derivedWriter.init();
    await readingsWriter.write([pt('F1', T0, 10, { measurement: 'flow' }), pt('F1', T0 + MIN, 11, { measurement: 'flow' })]);
    await derivedWriter.write([pt('DMA1', T0, 5, { measurement: 'flow' }), pt('DMA1', T0 + 2 * MIN, 6, { measurement: 'flow' })]);
    const store = await createStore(v2config(url, { bucket: readingsDb, derivedBucket: derivedDb }), '/nonexistent');
    const range = await store.query({ measurement: 'flow', sensors: ['F1', 'DMA1', 'none'], from: T0, to: T0 + HOUR });
    expect(range.get('F1')?.map((v) => v.value)).toEqual([10, 11]);
    expect(range.get('DMA1')?.map((v) => v.value)).toEqual([5, 6]);
    expect(range.get('none')).toEqual([]);
    const latest = await store.latest('flow');
    expect(latest.map((v) => [v.sensor, v.value]).sort()).toEqual([['DMA1', 6], ['F1', 11]]);
    await readingsWriter.close(); await derivedWriter.close();
  });

  it('surfaces a server error on write with its message: InfluxDB 1.6 has no /api/v2/write (404)', async () => {
    const store = new InfluxV2Store(v2config(url, { bucket: 'aquawatch' }));
    const err = await store.write([pt('x', T0, 1)]).catch((e: unknown) => e) as InfluxError;
    expect(err).toBeInstanceOf(InfluxError);
    expect(err.message).toMatch(/write failed: HTTP 404: 404 page not found/);
    expect(err.status).toBe(404);
    // a wrong URL or bucket is configuration: the outbox keeps the readings until it is fixed
    expect(err.retryable).toBe(true);
  });
});

// ---- request-level contract, against a test double ----

interface Recorded { method: string; url: string; headers: IncomingMessage['headers']; body: string }

/** A test double standing in for InfluxDB 2.x/3.x: records requests, answers what `reply` says. */
class InfluxV2TestDouble {
  readonly requests: Recorded[] = [];
  reply: (req: Recorded, res: ServerResponse) => void = (_req, res) => { res.statusCode = 204; res.end(); };
  private server?: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        const raw = Buffer.concat(parts);
        const body = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString();
        const rec = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
        this.requests.push(rec);
        this.reply(rec, res);
      });
    });
    const port = await freePort();
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

describe('InfluxV2Store request-level contract (test double HTTP server, not InfluxDB)', () => {
  const double = new InfluxV2TestDouble();
  beforeAll(() => double.start());
  afterAll(() => double.stop());
  const fresh = (extra: Partial<InfluxV2Config> = {}) => { double.requests.length = 0; return new InfluxV2Store(v2config(double.url, { org: 'utility', bucket: 'aw', token: 's3cret', ...extra })); };

  it('writes with POST /api/v2/write?org&bucket&precision=ms, the token, and our line protocol', async () => {
    const store = fresh();
    double.reply = (_r, res) => { res.statusCode = 204; res.end(); };
    await store.write([pt('p 1,x=y', T0 + 7, 0.5, { quality: 'uncertain', site: 'S 1', dma: 'D=1' }), pt('p2', T0, 2, { site: '' })]);
    expect(double.requests).toHaveLength(1);
    const [r] = double.requests;
    expect(r.method).toBe('POST');
    const u = new URL(r.url, double.url);
    expect(u.pathname).toBe('/api/v2/write');
    expect(Object.fromEntries(u.searchParams)).toEqual({ org: 'utility', bucket: 'aw', precision: 'ms' });
    expect(r.headers.authorization).toBe('Token s3cret');
    expect(r.body.split('\n')).toEqual([
      `pressure,dma=D\\=1,sensor=p\\ 1\\,x\\=y,site=S\\ 1 q=1i,value=0.5 ${T0 + 7}`,
      `pressure,dma=D1,sensor=p2 q=0i,value=2 ${T0}`,
    ]);
  });

  it('rejects a 400 once with the server message, not retryable, and the client does not retry it', async () => {
    const store = fresh();
    double.reply = (_r, res) => json(res, 400, { code: 'invalid', message: 'partial write: field type conflict: input field "q" on measurement "pressure" is type float, already exists as type integer' });
    const err = await store.write([pt('a', T0, 1)]).catch((e: unknown) => e) as InfluxError;
    expect(err).toBeInstanceOf(InfluxError);
    expect(err.message).toMatch(/write failed: HTTP 400: partial write: field type conflict/);
    expect(err.retryable).toBe(false);
    expect(double.requests).toHaveLength(1);
  });

  it('rejects a 503 and a 429 once each as retryable: the outbox retries, not the client', async () => {
    const store = fresh();
    double.reply = (_r, res) => json(res, 503, { code: 'unavailable', message: 'service unavailable: storage engine busy' });
    const e503 = await store.write([pt('a', T0, 1)]).catch((e: unknown) => e) as InfluxError;
    expect(e503.message).toMatch(/HTTP 503: service unavailable: storage engine busy/);
    expect(e503.retryable).toBe(true);
    double.reply = (_r, res) => json(res, 429, { code: 'too many requests', message: 'org exceeded write limit' }, { 'retry-after': '1' });
    const e429 = await store.write([pt('a', T0, 1)]).catch((e: unknown) => e) as InfluxError;
    expect(e429.message).toMatch(/HTTP 429: org exceeded write limit/);
    expect(e429.retryable).toBe(true);
    // write() closes its WriteApi before it rejects, so no client-side retry can follow later
    expect(double.requests).toHaveLength(2);
  });

  it('rejects when any request of a big batch fails, even one in the middle', async () => {
    const store = fresh();
    double.reply = (_r, res) => (double.requests.length === 2
      ? json(res, 500, { code: 'internal error', message: 'engine: cache-max-memory-size exceeded' })
      : (res.statusCode = 204, res.end()));
    const points = Array.from({ length: 3 * WRITE_CHUNK }, (_, i) => pt('big', T0 + i, i));
    await expect(store.write(points)).rejects.toThrow(/HTTP 500: engine: cache-max-memory-size exceeded/);
    expect(double.requests).toHaveLength(2); // stops at the failed chunk; the outbox retries the batch
    expect(double.requests[0].body.split('\n')).toHaveLength(WRITE_CHUNK);
  });

  it('rejects when the server does not answer within timeoutMs', async () => {
    const store = fresh({ timeoutMs: 300 });
    double.reply = () => { /* never answers */ };
    const started = Date.now();
    const err = await store.write([pt('a', T0, 1)]).catch((e: unknown) => e) as InfluxError;
    expect(err).toBeInstanceOf(InfluxError);
    expect(err.retryable).toBe(true);
    expect(Date.now() - started).toBeLessThan(3000);
    await expect(store.query({ measurement: 'pressure', sensors: ['a'], from: T0, to: T0 + MIN })).rejects.toThrow(/query failed: timed out/);
  });

  it('queries with POST /query?db=<bucket>&epoch=ms, the token, and InfluxQL in the form body', async () => {
    const store = fresh();
    double.reply = (_r, res) => json(res, 200, { results: [{ statement_id: 0, series: [
      { name: 'pressure', tags: { sensor: "o'k" }, columns: ['time', 'value'], values: [[T0, 1.5], [T0 + 900_000, 2.5]] }] }] });
    const r = await store.query({ measurement: 'pressure', sensors: ["o'k", 'none'], from: T0, to: T0 + 3_600_000, aggregate: 'mean', windowMs: 900_000 });
    expect(r.get("o'k")).toEqual([{ ts: T0, value: 1.5 }, { ts: T0 + 900_000, value: 2.5 }]);
    expect(r.get('none')).toEqual([]);
    const [q] = double.requests;
    const u = new URL(q.url, double.url);
    expect(q.method).toBe('POST');
    expect(u.pathname).toBe('/query');
    expect(u.searchParams.get('db')).toBe('aw');
    expect(u.searchParams.get('epoch')).toBe('ms');
    expect(q.headers.authorization).toBe('Token s3cret');
    expect(new URLSearchParams(q.body).get('q')).toBe(
      `SELECT mean("value") AS "value" FROM "pressure" WHERE ("sensor" = 'o\\'k' OR "sensor" = 'none') AND time >= ${T0}000000 AND time < ${T0 + 3_600_000}000000 GROUP BY time(900000ms), "sensor" fill(none)`);
  });

  it('writes with the write token and reads with the read token when they are apart (least privilege)', async () => {
    const store = fresh({ token: undefined, readToken: 'read-only', writeToken: 'write-only' });
    double.reply = (r, res) => (r.url.startsWith('/api/v2/write') ? (res.statusCode = 204, res.end())
      : json(res, 200, { results: [{ statement_id: 0 }] }));
    await store.write([pt('p1', T0, 1)]);
    await store.latest('pressure', ['p1']);
    expect(double.requests.map((r) => [new URL(r.url, double.url).pathname, r.headers.authorization]))
      .toEqual([['/api/v2/write', 'Token write-only'], ['/query', 'Token read-only']]);
    // a service given only a read token sends no write at all, and says which key is missing
    const readOnly = fresh({ token: undefined, readToken: 'read-only' });
    await expect(readOnly.write([pt('p1', T0, 1)])).rejects.toThrow(/store\.writeToken is not set/);
    expect(double.requests).toEqual([]);
  });

  it('F21: analytics writes derived series into store.derivedBucket, ingest into the readings bucket; reads ask both', async () => {
    const cfg = v2config(double.url, { org: 'utility', bucket: 'aw', derivedBucket: 'aw_derived', token: undefined, readToken: 'read-both', writeToken: 'write-one' });
    double.requests.length = 0;
    double.reply = (r, res) => (r.url.startsWith('/api/v2/write') ? (res.statusCode = 204, res.end())
      : json(res, 200, { results: [{ statement_id: 0 }] }));
    await new InfluxV2Store(cfg, { writes: 'derived' }).write([pt('DMA1', T0, 1)]);
    await new InfluxV2Store(cfg).write([pt('F1', T0, 1)]);
    expect(double.requests.map((r) => new URL(r.url, double.url).searchParams.get('bucket'))).toEqual(['aw_derived', 'aw']);
    double.requests.length = 0;
    await new InfluxV2Store(cfg, { writes: 'derived' }).latest('flow', ['DMA1']);
    expect(double.requests.map((r) => [new URL(r.url, double.url).searchParams.get('db'), r.headers.authorization]))
      .toEqual([['aw', 'Token read-both'], ['aw_derived', 'Token read-both']]);
    expect(keepsDerivedApart(cfg)).toBe(true);
    expect(keepsDerivedApart(v2config(double.url))).toBe(false);
  });

  it('init: tolerates "database not found" (3.x before the first write) but not a refused token', async () => {
    const store = fresh();
    double.reply = (r, res) => (r.url.startsWith('/ping') ? (res.statusCode = 204, res.end())
      : json(res, 200, { results: [{ statement_id: 0, error: 'database not found: aw' }] }));
    await expect(store.init()).resolves.toBeUndefined();
    double.reply = (r, res) => (r.url.startsWith('/ping') ? (res.statusCode = 204, res.end())
      : json(res, 401, { code: 'unauthorized', message: 'unauthorized access' }));
    await expect(store.init()).rejects.toThrow(/query failed: HTTP 401: unauthorized access/);
  });
});
