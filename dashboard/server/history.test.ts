/**
 * readHistory against the real stores: SQLite (embedded) and InfluxDB 1.x (Debian's influxd, or
 * $INFLUXDB_URL; skipped without one unless REQUIRE_INFLUXDB=1, like test/integration/tsdb-*).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../core/tsdb/sqlite.ts';
import { InfluxV1Store } from '../../core/tsdb/influx1.ts';
import type { TimeSeriesStore, RangeQuery } from '../../core/tsdb/types.ts';
import type { Point } from '../../core/model/reading.ts';
import { freshDatabaseName, influxAdmin, influxUrlForTests } from '../../test/support/influxd.ts';
import { waitFor } from '../../test/support/ports.ts';
import { historyStep, readHistory, HistoryQueryError, HISTORY_STEPS_MS } from './history.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 2, 2); // a Monday, midnight UTC: aligned to every step
const KIND: Record<string, string> = { P1: 'pressure', P2: 'pressure', F1: 'flow' };
const measurementOf = (s: string) => KIND[s];
const topology = { sensors: new Map(Object.entries(KIND).map(([id, kind]) => [id, { kind }])) };

/** 2 days of 1-min data: each sensor a different function of time, so means are checkable. */
function fixture(): Point[] {
  const pts: Point[] = [];
  for (let i = 0; i < 2 * 24 * 60; i++) {
    const ts = T0 + i * MIN;
    pts.push({ measurement: 'pressure', sensor: 'P1', ts, value: 30 + (i % 60), quality: 'good', site: 'S', dma: 'D1' });
    pts.push({ measurement: 'pressure', sensor: 'P2', ts, value: 40 + (i % 7) / 2, quality: 'good', site: 'S', dma: 'D1' });
    pts.push({ measurement: 'flow', sensor: 'F1', ts, value: i, quality: 'good', site: 'S', dma: 'D1' });
  }
  return pts;
}

/** Means computed here from the raw points, to compare with the store's. */
function expectedMeans(pts: Point[], sensor: string, from: number, to: number, step: number): [number, number][] {
  const windows = new Map<number, number[]>();
  for (const p of pts) {
    if (p.sensor !== sensor || p.ts < from || p.ts >= to) continue;
    const w = Math.floor(p.ts / step) * step;
    const list = windows.get(w) ?? [];
    list.push(p.value);
    windows.set(w, list);
  }
  return [...windows].sort((a, b) => a[0] - b[0]).map(([w, xs]) => [w, xs.reduce((a, b) => a + b, 0) / xs.length]);
}

function closeTo(actual: [number, number][], expected: [number, number][]): void {
  expect(actual.map((p) => p[0])).toEqual(expected.map((p) => p[0]));
  actual.forEach((p, i) => expect(p[1]).toBeCloseTo(expected[i][1], 6));
}

describe('historyStep', () => {
  it('picks the smallest step giving at most `points` windows', () => {
    expect(historyStep(T0, T0 + HOUR)).toBe(MIN); // 60 windows
    expect(historyStep(T0, T0 + DAY)).toBe(5 * MIN); // 1440 at 1 min > 600; 288 at 5 min
    expect(historyStep(T0, T0 + 7 * DAY)).toBe(HOUR); // 2016 at 5 min, 672 at 15 min, 168 at 1 h
    expect(historyStep(T0, T0 + 7 * DAY, 2016)).toBe(5 * MIN); // exactly 2016 windows fit
    expect(historyStep(T0 + 1, T0 + 7 * DAY + 1, 2016)).toBe(15 * MIN); // misaligned: 2017 windows touched
    expect(historyStep(T0, T0 + 3 * 365 * DAY)).toBe(DAY); // more than asked, at the largest step
    expect(HISTORY_STEPS_MS).toEqual([MIN, 5 * MIN, 15 * MIN, HOUR, 6 * HOUR, DAY]);
  });
});

function describeHistory(name: string, makeStore: () => Promise<TimeSeriesStore>): void {
  describe(`readHistory on ${name}`, () => {
    let store: TimeSeriesStore;
    const pts = fixture();
    let ready: Promise<void>;
    beforeAll(() => {
      ready = (async () => {
        store = await makeStore();
        for (let i = 0; i < pts.length; i += 5000) await store.write(pts.slice(i, i + 5000));
        // The assertions are about readHistory: first the store must show every point written. A
        // shared InfluxDB 1.6 under a full test run once answered without the first batch (CI,
        // 2026-12-05); if it ever does again, this names the store, not the windows, as the cause.
        const perSensor = pts.length / Object.keys(KIND).length;
        const counts = async () => Promise.all(Object.entries(KIND).map(async ([sensor, measurement]) => {
          const r = await store.query({ measurement, sensors: [sensor], from: T0, to: T0 + 2 * DAY, aggregate: 'count' });
          return r.get(sensor)?.[0]?.value ?? 0;
        }));
        let shown: number[] = [];
        await waitFor(async () => (shown = await counts()).every((n) => n === perSensor), 30_000, 100, 'the points written')
          .catch((e: Error) => { throw new Error(`${e.message}: the store shows ${shown.join(', ')} of ${perSensor} per sensor`); });
      })();
      return ready;
    });

    it('returns the mean per window computed by the store, for sensors of several measurements', async () => {
      await ready;
      const from = T0 + 6 * HOUR + 7 * MIN; // not aligned: the first window starts before `from`
      const to = T0 + 30 * HOUR;
      const r = await readHistory(store, { sensors: ['P1', 'F1', 'P2'], from, to, measurementOf });
      expect(r.stepMs).toBe(5 * MIN); // 23 h 53 min → 1,433 windows at 1 min, 287 at 5 min
      expect(Object.keys(r.series).sort()).toEqual(['F1', 'P1', 'P2']);
      for (const s of ['P1', 'P2', 'F1']) closeTo(r.series[s], expectedMeans(pts, s, from, to, 5 * MIN));
      expect(r.series.P1.length).toBe(287); // 06:05 … 29:55
    });

    it('honours `points` and answers a week at 1 h by default', async () => {
      await ready;
      const r = await readHistory(store, { sensors: ['F1'], from: T0, to: T0 + 2 * DAY, points: 100, measurementOf });
      expect(r.stepMs).toBe(HOUR); // 48 windows; 15 min would be 192
      closeTo(r.series.F1, expectedMeans(pts, 'F1', T0, T0 + 2 * DAY, HOUR));
      // The route's call: the measurement from the topology's sensor kinds.
      const week = await readHistory(store, { sensors: ['F1'], from: T0 - 5 * DAY, to: T0 + 2 * DAY }, topology);
      expect(week.stepMs).toBe(HOUR);
      expect(week.series.F1.length).toBe(48); // empty windows are omitted
    });

    it('gives an empty series for a known sensor without data in the range', async () => {
      await ready;
      const r = await readHistory(store, { sensors: ['P1', 'F1'], from: T0 - DAY, to: T0, measurementOf });
      expect(r.series).toEqual({ P1: [], F1: [] });
    });

    it('queries per measurement (a measurement\'s sensors in up to 4 parts), all in parallel', async () => {
      await ready;
      let inFlight = 0;
      let maxInFlight = 0;
      const seen: RangeQuery[] = [];
      const spy: TimeSeriesStore = Object.create(store);
      spy.query = async (q) => {
        seen.push(q);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try { return await store.query(q); } finally { inFlight--; }
      };
      await readHistory(spy, { sensors: ['P1', 'P2', 'F1'], from: T0, to: T0 + DAY, measurementOf });
      expect(seen.map((q) => [q.measurement, [...q.sensors], q.aggregate, q.windowMs]).sort())
        .toEqual([['flow', ['F1'], 'mean', 5 * MIN], ['pressure', ['P1'], 'mean', 5 * MIN], ['pressure', ['P2'], 'mean', 5 * MIN]]);
      expect(maxInFlight).toBe(3);
      // Ten sensors of one kind: four queries, each sensor in exactly one.
      seen.length = 0;
      const many = Array.from({ length: 10 }, (_, i) => `M${i}`);
      await readHistory(spy, { sensors: many, from: T0, to: T0 + DAY, measurementOf: () => 'pressure' });
      expect(seen.map((q) => q.sensors.length)).toEqual([2, 3, 2, 3]);
      expect(seen.flatMap((q) => q.sensors).sort()).toEqual([...many].sort());
    });
  });
}

describe('readHistory input checks', () => {
  const store = new SqliteStore(join(mkdtempSync(join(tmpdir(), 'aw-hist-')), 'tsdb.sqlite'));
  const q = { sensors: ['P1'], from: T0, to: T0 + HOUR, measurementOf };
  it('names the field and the reason', async () => {
    await store.init();
    await expect(readHistory(store, { ...q, sensors: [] })).rejects.toThrow(/^sensors: at least one sensor/);
    await expect(readHistory(store, { ...q, sensors: Array.from({ length: 21 }, () => 'P1') })).rejects.toThrow(/^sensors: at most 20, got 21/);
    await expect(readHistory(store, { ...q, sensors: ['P1', 'nope'] })).rejects.toThrow(/^sensors: unknown sensor "nope"/);
    await expect(readHistory(store, { ...q, to: T0 })).rejects.toThrow(/^to: must be after from/);
    await expect(readHistory(store, { ...q, from: Number.NaN })).rejects.toThrow(/^from: must be a time/);
    await expect(readHistory(store, { ...q, points: 1 })).rejects.toThrow(/^points: must be a whole number from 2 to 10000, got 1/);
    await expect(readHistory(store, { ...q, points: 0.5 })).rejects.toBeInstanceOf(HistoryQueryError);
    await expect(readHistory(store, { sensors: ['nope'], from: T0, to: T0 + HOUR }, topology)).rejects.toThrow(/^sensors: unknown sensor "nope"/);
  });
});

describeHistory('SQLite (embedded)', async () => {
  const s = new SqliteStore(join(mkdtempSync(join(tmpdir(), 'aw-hist-')), 'tsdb.sqlite'));
  await s.init();
  return s;
});

const influx = await influxUrlForTests();
const databases: string[] = [];
afterAll(async () => {
  if (influx.available) for (const db of databases) await influxAdmin(influx.url, `DROP DATABASE "${db}"`).catch(() => {});
  await influx.close();
});

describe.skipIf(!influx.available)('InfluxDB 1.x', () => {
  describeHistory('InfluxDB 1.x (real influxd)', async () => {
    const database = freshDatabaseName('aw_hist');
    databases.push(database);
    const s = new InfluxV1Store({ type: 'influxdb1', url: influx.available ? influx.url : '', database, createDatabase: true, timeoutMs: 20_000 });
    await s.init();
    return s;
  });
});
