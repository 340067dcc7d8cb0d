/**
 * The conformance suite every TimeSeriesStore passes. Each implementation's test file calls
 * `describeStoreConformance` with a factory that gives a fresh, empty store.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Point } from '../../core/model/reading.ts';
import type { TimeSeriesStore } from '../../core/tsdb/types.ts';

const T0 = Date.UTC(2026, 0, 5, 0, 0, 0); // a Monday, 00:00 UTC
const MIN = 60_000;

function pt(sensor: string, ts: number, value: number, extra: Partial<Point> = {}): Point {
  return { measurement: 'pressure', sensor, ts, value, quality: 'good', site: 'S1', dma: 'D1', ...extra };
}

export function describeStoreConformance(name: string, makeStore: () => Promise<TimeSeriesStore>): void {
  describe(`TimeSeriesStore conformance: ${name}`, () => {
    let store: TimeSeriesStore;
    beforeAll(async () => { store = await makeStore(); });
    afterAll(async () => { await store?.close(); });

    it('answers ping', async () => {
      expect(await store.ping()).toBe(true);
    });

    it('writes a batch and reads raw points back in time order with quality', async () => {
      await store.write([pt('raw1', T0 + 2 * MIN, 0.31, { quality: 'uncertain' }), pt('raw1', T0, 0.3), pt('raw1', T0 + MIN, 0.305)]);
      const r = await store.query({ measurement: 'pressure', sensors: ['raw1'], from: T0, to: T0 + 10 * MIN });
      expect(r.get('raw1')).toEqual([
        { ts: T0, value: 0.3, quality: 'good' },
        { ts: T0 + MIN, value: 0.305, quality: 'good' },
        { ts: T0 + 2 * MIN, value: 0.31, quality: 'uncertain' },
      ]);
    });

    it('keeps millisecond timestamps', async () => {
      await store.write([pt('ms1', T0 + 1, 1), pt('ms1', T0 + 2, 2), pt('ms1', T0 + 999, 3)]);
      const r = await store.query({ measurement: 'pressure', sensors: ['ms1'], from: T0, to: T0 + 1000 });
      expect(r.get('ms1')!.map((v) => v.ts)).toEqual([T0 + 1, T0 + 2, T0 + 999]);
    });

    it('overwrites the same series and timestamp, so a retried batch stores nothing twice', async () => {
      const batch = [pt('dup1', T0, 1), pt('dup1', T0 + MIN, 2)];
      await store.write(batch);
      await store.write(batch);
      await store.write([pt('dup1', T0 + MIN, 2.5)]);
      const r = await store.query({ measurement: 'pressure', sensors: ['dup1'], from: T0, to: T0 + 10 * MIN });
      expect(r.get('dup1')!.map((v) => v.value)).toEqual([1, 2.5]);
      const c = await store.query({ measurement: 'pressure', sensors: ['dup1'], from: T0, to: T0 + 10 * MIN, aggregate: 'count' });
      expect(c.get('dup1')).toEqual([{ ts: T0, value: 2 }]);
    });

    it('range is inclusive at the start and exclusive at the end', async () => {
      await store.write([pt('edge1', T0, 1), pt('edge1', T0 + MIN, 2), pt('edge1', T0 + 2 * MIN, 3)]);
      const r = await store.query({ measurement: 'pressure', sensors: ['edge1'], from: T0, to: T0 + 2 * MIN });
      expect(r.get('edge1')!.map((v) => v.value)).toEqual([1, 2]);
    });

    it('aggregates over epoch-aligned windows, omitting empty windows', async () => {
      // 15-min windows; values in the first and third window only
      const pts = [pt('agg1', T0, 1), pt('agg1', T0 + 5 * MIN, 2), pt('agg1', T0 + 10 * MIN, 6),
        pt('agg1', T0 + 31 * MIN, 10), pt('agg1', T0 + 44 * MIN, 20)];
      await store.write(pts);
      const base = { measurement: 'pressure', sensors: ['agg1'], from: T0, to: T0 + 60 * MIN, windowMs: 15 * MIN } as const;
      const get = async (aggregate: 'mean' | 'min' | 'max' | 'last' | 'count' | 'sum') =>
        (await store.query({ ...base, aggregate })).get('agg1');
      expect(await get('mean')).toEqual([{ ts: T0, value: 3 }, { ts: T0 + 30 * MIN, value: 15 }]);
      expect(await get('min')).toEqual([{ ts: T0, value: 1 }, { ts: T0 + 30 * MIN, value: 10 }]);
      expect(await get('max')).toEqual([{ ts: T0, value: 6 }, { ts: T0 + 30 * MIN, value: 20 }]);
      expect(await get('last')).toEqual([{ ts: T0, value: 6 }, { ts: T0 + 30 * MIN, value: 20 }]);
      expect(await get('count')).toEqual([{ ts: T0, value: 3 }, { ts: T0 + 30 * MIN, value: 2 }]);
      expect(await get('sum')).toEqual([{ ts: T0, value: 9 }, { ts: T0 + 30 * MIN, value: 30 }]);
    });

    it('aggregates over the whole range when no window is given', async () => {
      await store.write([pt('whole1', T0 + MIN, 4), pt('whole1', T0 + 70 * MIN, 8)]);
      const r = await store.query({ measurement: 'pressure', sensors: ['whole1'], from: T0, to: T0 + 120 * MIN, aggregate: 'mean' });
      expect(r.get('whole1')).toEqual([{ ts: T0, value: 6 }]);
    });

    it('queries several sensors at once and keeps them apart; unknown sensors map to empty', async () => {
      await store.write([pt('multiA', T0, 1), pt('multiB', T0, 2), pt('multiA', T0 + MIN, 3)]);
      const r = await store.query({ measurement: 'pressure', sensors: ['multiA', 'multiB', 'nobody'], from: T0, to: T0 + 5 * MIN });
      expect(r.get('multiA')!.map((v) => v.value)).toEqual([1, 3]);
      expect(r.get('multiB')!.map((v) => v.value)).toEqual([2]);
      expect(r.get('nobody')).toEqual([]);
    });

    it('keeps measurements apart', async () => {
      await store.write([pt('meas1', T0, 0.3), pt('meas1', T0, 120, { measurement: 'flow' })]);
      const p = await store.query({ measurement: 'pressure', sensors: ['meas1'], from: T0, to: T0 + MIN });
      const f = await store.query({ measurement: 'flow', sensors: ['meas1'], from: T0, to: T0 + MIN });
      expect(p.get('meas1')![0].value).toBe(0.3);
      expect(f.get('meas1')![0].value).toBe(120);
    });

    it('gives the latest value per sensor, filtered when sensors are named', async () => {
      await store.write([pt('lastA', T0, 1), pt('lastA', T0 + 3 * MIN, 3, { quality: 'bad' }), pt('lastA', T0 + MIN, 2),
        pt('lastB', T0 + 2 * MIN, 7, { measurement: 'level' }), pt('lastC', T0 + 9 * MIN, 9, { measurement: 'level' })]);
      const a = await store.latest('pressure', ['lastA']);
      expect(a).toEqual([{ measurement: 'pressure', sensor: 'lastA', ts: T0 + 3 * MIN, value: 3, quality: 'bad' }]);
      const levels = (await store.latest('level')).filter((l) => l.sensor.startsWith('last')).sort((x, y) => x.sensor.localeCompare(y.sensor));
      expect(levels.map((l) => [l.sensor, l.value])).toEqual([['lastB', 7], ['lastC', 9]]);
    });

    it('accepts sensor ids and tags with characters that need escaping', async () => {
      const odd = 'plant 1,pump=A"x';
      await store.write([pt(odd, T0, 5, { site: 'site one', dma: 'D,1' })]);
      const r = await store.query({ measurement: 'pressure', sensors: [odd], from: T0, to: T0 + MIN });
      expect(r.get(odd)).toEqual([{ ts: T0, value: 5, quality: 'good' }]);
    });

    it('writes and reads a large batch intact', async () => {
      const n = 20_000;
      const pts: Point[] = [];
      for (let i = 0; i < n; i++) pts.push(pt(`big${i % 10}`, T0 + Math.floor(i / 10) * 1000, i / 7));
      await store.write(pts);
      const sensors = Array.from({ length: 10 }, (_, i) => `big${i}`);
      const c = await store.query({ measurement: 'pressure', sensors, from: T0, to: T0 + n * 1000, aggregate: 'count' });
      for (const s of sensors) expect(c.get(s)).toEqual([{ ts: T0, value: n / 10 }]);
      const raw = await store.query({ measurement: 'pressure', sensors: ['big3'], from: T0, to: T0 + 10_000 });
      expect(raw.get('big3')!.map((v) => v.value)).toEqual([3, 13, 23, 33, 43, 53, 63, 73, 83, 93].map((i) => i / 7));
    });

    it('accepts an empty write', async () => {
      await expect(store.write([])).resolves.toBeUndefined();
    });
  });
}
