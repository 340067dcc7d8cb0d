/**
 * InfluxV1Store against a real InfluxDB 1.6 (Debian's influxd, or the server at $INFLUXDB_URL):
 * the conformance suite every store passes, then what is particular to InfluxDB: the query text
 * (escaping, many sensors in few requests, chunked answers), `last` taking q from the same point,
 * the server's errors reaching the caller, and a server that goes away and comes back.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createServer as createNetServer, type Socket } from 'node:net';
import { describeStoreConformance } from '../support/tsdb-conformance.ts';
import { freshDatabaseName, influxAdmin, influxUrlForTests, INFLUXD_BIN, InfluxdServer } from '../support/influxd.ts';
import { freePort } from '../support/ports.ts';
import { InfluxV1Store, type InfluxV1Config } from '../../core/tsdb/influx1.ts';
import { InfluxError, SENSORS_PER_STATEMENT } from '../../core/tsdb/influxql.ts';
import { InvalidPointError } from '../../core/tsdb/line-protocol.ts';
import { createStore } from '../../core/tsdb/factory.ts';
import type { Point } from '../../core/model/reading.ts';
import type { LatestValue, SeriesValue } from '../../core/tsdb/types.ts';

const influx = await influxUrlForTests();
const url = influx.available ? influx.url : '';
const databases: string[] = [];

afterAll(async () => {
  if (influx.available) for (const db of databases) await influxAdmin(url, `DROP DATABASE "${db}"`).catch(() => {});
  await influx.close();
});

function config(extra: Partial<InfluxV1Config> = {}): InfluxV1Config {
  const database = freshDatabaseName();
  databases.push(database);
  return { type: 'influxdb1', url, database, createDatabase: true, timeoutMs: 10_000, ...extra };
}

async function freshStore(extra: Partial<InfluxV1Config> = {}): Promise<InfluxV1Store> {
  const s = new InfluxV1Store(config(extra));
  await s.init();
  return s;
}

const T0 = Date.UTC(2026, 0, 5);
const MIN = 60_000;
const pt = (sensor: string, ts: number, value: number, extra: Partial<Point> = {}): Point =>
  ({ measurement: 'pressure', sensor, ts, value, quality: 'good', site: 'S1', dma: 'D1', ...extra });

describe.skipIf(!influx.available)('InfluxDB 1.x store', () => {
  describeStoreConformance('influxdb1 (InfluxV1Store on real InfluxDB 1.6)', () => freshStore());

  describe('InfluxV1Store specifics (real InfluxDB 1.6)', () => {
    it('is built by createStore from the influxdb1 config and creates its database', async () => {
      const cfg = config();
      const store = await createStore(cfg, '/nonexistent');
      expect(store).toBeInstanceOf(InfluxV1Store);
      expect(store.describe).toBe(`influxdb1 ${url}/${cfg.database}`);
      await store.write([pt('f1', T0, 1)]);
      expect((await store.latest('pressure')).map((l) => l.sensor)).toEqual(['f1']);
      await store.close();
    });

    it('latest() takes q from the same point as the last value (not the worst q of the sensor)', async () => {
      const store = await freshStore();
      // Written out of time order; the last point in time is good, earlier ones bad/uncertain.
      await store.write([pt('lq', T0 + 2 * MIN, 7, { quality: 'good' }), pt('lq', T0, 1, { quality: 'bad' }),
        pt('lq', T0 + MIN, 3, { quality: 'uncertain' })]);
      await store.write([pt('lq', T0 + MIN, 4, { quality: 'bad' })]); // overwrite an earlier point
      expect(await store.latest('pressure', ['lq'])).toEqual([{ measurement: 'pressure', sensor: 'lq', ts: T0 + 2 * MIN, value: 7, quality: 'good' }]);
    });

    it('escapes identifiers and string literals: quotes, commas, spaces, = and would-be InfluxQL', async () => {
      const store = await freshStore();
      const odd = ["o'brien", 'say "hi"', 'a,b=c d', "x' OR \"sensor\" = 'victim", 'ünï 水压'];
      await store.write([...odd.map((s, i) => pt(s, T0, i, { site: `site ${s}`, dma: `dma,${i}` })), pt('victim', T0, 99)]);
      const r = await store.query({ measurement: 'pressure', sensors: odd, from: T0, to: T0 + MIN });
      expect(odd.map((s) => r.get(s))).toEqual(odd.map((_, i) => [{ ts: T0, value: i, quality: 'good' }]));
      const l = await store.latest('pressure', [odd[3]]);
      expect(l.map((v) => [v.sensor, v.value])).toEqual([[odd[3], 3]]);
    });

    it('escapes measurement names with spaces, commas and quotes', async () => {
      const store = await freshStore();
      const m = 'night flow, "dma"';
      await store.write([pt('nf1', T0, 12.5, { measurement: m })]);
      const r = await store.query({ measurement: m, sensors: ['nf1'], from: T0, to: T0 + MIN });
      expect(r.get('nf1')).toEqual([{ ts: T0, value: 12.5, quality: 'good' }]);
    });

    it('leaves empty site/dma tags out (derived series) and reads them back', async () => {
      const store = await freshStore();
      await store.write([pt('derived1', T0, 3, { measurement: 'dma_inflow', site: '', dma: 'D1' })]);
      expect((await store.latest('dma_inflow')).map((v) => v.value)).toEqual([3]);
    });

    it(`queries many sensors in a few requests (${SENSORS_PER_STATEMENT} per statement), not one per sensor`, async () => {
      const store = await freshStore();
      const sensors = Array.from({ length: 450 }, (_, i) => `many${i}`);
      await store.write(sensors.map((s, i) => pt(s, T0 + (i % 7) * 1000, i)));
      const requests: string[] = [];
      const realFetch = globalThis.fetch;
      globalThis.fetch = ((input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
        requests.push(String(input));
        return realFetch(input, init);
      }) as typeof fetch;
      let raw: Map<string, SeriesValue[]>, mean: Map<string, SeriesValue[]>, latest: LatestValue[];
      try {
        raw = await store.query({ measurement: 'pressure', sensors, from: T0, to: T0 + MIN });
        mean = await store.query({ measurement: 'pressure', sensors, from: T0, to: T0 + MIN, aggregate: 'mean', windowMs: MIN });
        latest = await store.latest('pressure', sensors);
      } finally {
        globalThis.fetch = realFetch;
      }
      expect(requests.length).toBe(3 * Math.ceil(450 / SENSORS_PER_STATEMENT));
      expect(requests.every((u) => u.includes('/query?'))).toBe(true);
      sensors.forEach((s, i) => {
        expect(raw.get(s)).toEqual([{ ts: T0 + (i % 7) * 1000, value: i, quality: 'good' }]);
        expect(mean.get(s)).toEqual([{ ts: T0, value: i }]);
      });
      expect(latest.length).toBe(450);
    });

    it('reads an answer larger than one chunk (chunked=true) whole and in order', async () => {
      const store = await freshStore();
      const n = 25_000; // the server sends 10,000 points per chunk
      await store.write(Array.from({ length: n }, (_, i) => pt('long1', T0 + i * 1000, i)));
      const r = (await store.query({ measurement: 'pressure', sensors: ['long1'], from: T0, to: T0 + n * 1000 })).get('long1')!;
      expect(r.length).toBe(n);
      expect(r.every((v, i) => v.ts === T0 + i * 1000 && v.value === i)).toBe(true);
    });

    it('aggregates without a window report `from` as the window time, for selectors too', async () => {
      const store = await freshStore();
      await store.write([pt('sel1', T0 + 5 * MIN, 2), pt('sel1', T0 + 9 * MIN, 8), pt('sel1', T0 + 7 * MIN, 1)]);
      const from = T0 + MIN;
      for (const [aggregate, value] of [['last', 8], ['min', 1], ['max', 8], ['count', 3], ['sum', 11]] as const) {
        const r = await store.query({ measurement: 'pressure', sensors: ['sel1'], from, to: T0 + 60 * MIN, aggregate });
        expect(r.get('sel1'), aggregate).toEqual([{ ts: from, value }]);
      }
    });

    it('windows are aligned to the epoch even when `from` is not', async () => {
      const store = await freshStore();
      await store.write([pt('al1', T0 + 7 * MIN, 1), pt('al1', T0 + 16 * MIN, 2)]);
      const r = await store.query({ measurement: 'pressure', sensors: ['al1'], from: T0 + 5 * MIN, to: T0 + 60 * MIN, aggregate: 'sum', windowMs: 15 * MIN });
      expect(r.get('al1')).toEqual([{ ts: T0, value: 1 }, { ts: T0 + 15 * MIN, value: 2 }]);
    });

    it('refuses a point line protocol cannot carry, naming the field, and writes nothing of the batch', async () => {
      const store = await freshStore();
      const bad = [pt('ok1', T0, 1), pt('nl', T0, 2, { dma: 'D\n1' })];
      const err = await store.write(bad).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidPointError);
      expect((err as InvalidPointError).message).toMatch(/point 1 .*dma must not contain a newline/);
      expect((err as InvalidPointError).retryable).toBe(false);
      await expect(store.write([pt('nan', T0, Number.NaN)])).rejects.toThrow(/value must be a finite number/);
      expect(await store.latest('pressure')).toEqual([]);
    });

    it('surfaces a 4xx from the server with its message (field type conflict), not retryable', async () => {
      const store = await freshStore();
      const db = databases[databases.length - 1];
      // Another writer made `q` a float in this measurement; ours is an integer.
      const res = await fetch(`${url}/write?db=${db}&precision=ms`, { method: 'POST', body: `pressure,sensor=other q=1.5,value=1 ${T0}` });
      expect(res.status).toBe(204);
      const err = await store.write([pt('conf1', T0, 1)]).catch((e: unknown) => e) as InfluxError;
      expect(err).toBeInstanceOf(InfluxError);
      expect(err.message).toMatch(/HTTP 400: .*field type conflict/);
      expect(err.status).toBe(400);
      expect(err.retryable).toBe(false);
    });

    it('surfaces query errors with the server message', async () => {
      const store = await freshStore();
      await influxAdmin(url, `DROP DATABASE "${databases[databases.length - 1]}"`);
      await expect(store.query({ measurement: 'pressure', sensors: ['x'], from: T0, to: T0 + MIN })).rejects.toThrow(/database not found/);
      await expect(store.query({ measurement: 'pressure', sensors: ['x'], from: T0, to: T0 + MIN, aggregate: 'mean', windowMs: 0 }))
        .rejects.toThrow(/query.windowMs must be a positive whole number/);
    });

    it('with createDatabase false, init fails clearly when the database is missing', async () => {
      const store = new InfluxV1Store(config({ createDatabase: false }));
      await expect(store.init()).rejects.toThrow(/database aw_test_\S+ does not exist and store.createDatabase is false/);
    });

    it('rejects (retryable) at once when nothing listens, and ping says false', async () => {
      const port = await freePort();
      const store = new InfluxV1Store({ ...config(), url: `http://127.0.0.1:${port}` });
      const started = Date.now();
      const err = await store.write([pt('down1', T0, 1)]).catch((e: unknown) => e) as InfluxError;
      expect(err).toBeInstanceOf(InfluxError);
      expect(err.message).toMatch(/ECONNREFUSED/);
      expect(err.retryable).toBe(true);
      await expect(store.query({ measurement: 'pressure', sensors: ['down1'], from: T0, to: T0 + MIN })).rejects.toThrow(/ECONNREFUSED/);
      await expect(store.init()).rejects.toThrow(/does not answer \/ping/);
      expect(await store.ping()).toBe(false);
      expect(Date.now() - started).toBeLessThan(5000);
    });
  });
});

// A server of our own, stopped and restarted: needs the influxd binary even when $INFLUXDB_URL is set.
const canRestart = INFLUXD_BIN !== undefined;
if (!canRestart && process.env.REQUIRE_INFLUXDB === '1') throw new Error('REQUIRE_INFLUXDB=1 but influxd is not installed (needed for the restart test)');
if (!canRestart) console.warn('skipping the InfluxDB restart test: influxd is not installed');

describe.skipIf(!canRestart)('InfluxV1Store across an InfluxDB restart (own influxd)', () => {
  const server = new InfluxdServer();
  afterAll(() => server.dispose());

  it('fails writes while InfluxDB is down, succeeds at once after restart, keeps port and data', async () => {
    await server.start();
    const port = server.port;
    const store = new InfluxV1Store({ type: 'influxdb1', url: server.url, database: 'aquawatch', createDatabase: true, timeoutMs: 5000 });
    await store.init();
    await store.write([pt('rs1', T0, 1)]);

    await server.stop();
    expect(await store.ping()).toBe(false);
    // Several failures in a row: the `influx` package would otherwise take the host out of its pool.
    for (let i = 0; i < 3; i++) await expect(store.write([pt('rs1', T0 + MIN, 2)])).rejects.toThrow(/ECONNREFUSED/);

    await server.restart(); // stop() again is a no-op
    expect(server.port).toBe(port);
    expect(await store.ping()).toBe(true);
    await store.write([pt('rs1', T0 + MIN, 2)]);
    const r = await store.query({ measurement: 'pressure', sensors: ['rs1'], from: T0, to: T0 + 2 * MIN });
    expect(r.get('rs1')!.map((v) => v.value)).toEqual([1, 2]);

    await server.kill(); // a crash: acknowledged writes are in the WAL
    await server.start();
    const r2 = await store.query({ measurement: 'pressure', sensors: ['rs1'], from: T0, to: T0 + 2 * MIN });
    expect(r2.get('rs1')!.map((v) => v.value)).toEqual([1, 2]);
    await store.close();
  });
});

describe('InfluxV1Store against a silent server (test double: accepts connections, never answers)', () => {
  it('rejects writes and queries after timeoutMs, retryable, and ping says false', async () => {
    const sockets = new Set<Socket>();
    const silent = createNetServer((s) => { sockets.add(s); s.on('error', () => {}); });
    const port = await freePort();
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
    try {
      const store = new InfluxV1Store({ type: 'influxdb1', url: `http://127.0.0.1:${port}`, database: 'aquawatch', createDatabase: true, timeoutMs: 300 });
      const started = Date.now();
      const err = await store.write([pt('t1', T0, 1)]).catch((e: unknown) => e) as InfluxError;
      expect(err).toBeInstanceOf(InfluxError);
      expect(err.message).toMatch(/write failed: Request timed out/);
      expect(err.retryable).toBe(true);
      await expect(store.query({ measurement: 'pressure', sensors: ['t1'], from: T0, to: T0 + MIN })).rejects.toThrow(/query failed: timed out/);
      expect(await store.ping()).toBe(false);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
