/**
 * The replay's read-ahead thread against the store's own range query, on a small SQLite store file:
 * the same readings (times, values to the bit, qualities), in the same order, chunk by chunk; and
 * its writes of derived series against the store's own write. (The replay test,
 * analytics/replay.test.ts, replays through the thread and compares with the live feed.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Point, Quality } from '../core/model/reading.ts';
import { Topology } from '../core/topology/topology.ts';
import { SqliteStore } from '../core/tsdb/sqlite.ts';
import { InvalidPointError } from '../core/tsdb/line-protocol.ts';
import { Simulation } from '../simulators/engine.ts';
import { mergeByTime } from './replay.ts';
import { chunkPoints, openChunkSource, type QueryGroup } from './replay-read-ahead.ts';

const MIN = 60_000;
const T0 = Date.parse('2024-05-07T00:00:00Z');

let dir: string;
let store: SqliteStore;
let topology: Topology;
let groups: QueryGroup[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'aw-read-ahead-'));
  const sim = new Simulation({ scenario: 'simulators/scenarios/suite/quiet-week.yaml' });
  topology = new Topology(sim.topology());
  sim.close();
  const flows = [...topology.sensors.values()].filter((s) => s.kind === 'flow').slice(0, 3);
  const pressures = [...topology.sensors.values()].filter((s) => s.kind === 'pressure').slice(0, 2);
  // the last flow sensor has no readings at all
  groups = [{ measurement: 'flow', sensors: flows.map((s) => s.id) }, { measurement: 'pressure', sensors: pressures.map((s) => s.id) }];
  const qualities: Quality[] = ['good', 'good', 'uncertain', 'good', 'bad'];
  const awkward = [0.1 + 0.2, -0, 1e-300, 123456789.123456789, -7.5e12, Number.MIN_VALUE];
  const points: Point[] = [];
  [...flows.slice(0, 2), ...pressures].forEach((s, k) => {
    for (let i = 0; i < 200; i++) {
      // aligned minutes for some, odd offsets (ties across sensors included) and gaps for others
      const ts = k % 2 ? T0 + i * MIN : T0 + i * (45_000 + k * 15_000);
      if (k === 3 && i % 7 === 0) continue;
      points.push({ measurement: s.kind, sensor: s.id, ts, value: i < awkward.length ? awkward[i] : Math.sin(i + k) * 100, quality: qualities[(i + k) % 5], site: s.site, dma: s.dma });
    }
  });
  // written out of order, as a backfill would
  points.sort((a, b) => ((a.ts * 7919) % 1009) - ((b.ts * 7919) % 1009));
  store = new SqliteStore(join(dir, 'tsdb.sqlite'));
  await store.init();
  await store.write(points);
});

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('replay read-ahead thread', () => {
  it('reads the same chunks as the store range query: times, values to the bit, qualities, in the replay order', async () => {
    const threaded = openChunkSource(store, groups);
    const direct = openChunkSource(store, groups, { thread: false });
    expect(threaded.constructor.name).not.toBe(direct.constructor.name);
    try {
      // chunks that cut the series, one before any data, requested before the earlier ones are read
      const ranges = [[T0 - 60 * MIN, T0], [T0, T0 + 37 * MIN], [T0 + 37 * MIN, T0 + 120 * MIN], [T0 + 120 * MIN, T0 + 400 * MIN]];
      const reads = ranges.map(([from, to]) => threaded.read(from, to));
      let total = 0;
      for (const [k, [from, to]] of ranges.entries()) {
        const got = chunkPoints(await reads[k], topology);
        const series: Parameters<typeof mergeByTime>[0] = [];
        for (const g of groups) {
          for (const [sensor, values] of await store.query({ measurement: g.measurement, sensors: g.sensors, from, to })) if (values.length) series.push({ measurement: g.measurement, sensor, values });
        }
        const expected = mergeByTime(series, topology);
        expect(got).toEqual(expected);
        expect(got.map((p) => Object.is(p.value, -0))).toEqual(expected.map((p) => Object.is(p.value, -0)));
        expect(chunkPoints(await direct.read(from, to), topology)).toEqual(expected);
        total += got.length;
      }
      expect(total).toBeGreaterThan(500);
    } finally {
      await threaded.close();
      await direct.close();
    }
  });

  it('writes derived points through the thread as the store writes them, and refuses a bad batch before writing any of it', async () => {
    const source = openChunkSource(store, groups);
    const derived: Point[] = Array.from({ length: 150 }, (_, i) => ({
      measurement: 'dma_inflow', sensor: i % 2 ? 'central' : 'west', ts: T0 + i * MIN, value: i === 3 ? 0.1 + 0.2 : i / 7,
      quality: i % 10 ? 'good' : 'uncertain', site: '', dma: i % 2 ? 'central' : 'west',
    }));
    try {
      await source.write(derived);
      const bad = [{ ...derived[0], ts: T0 - MIN }, { ...derived[1], value: Number.NaN }];
      await expect(source.write(bad)).rejects.toThrow(InvalidPointError);
    } finally {
      await source.close();
    }
    const stored = await store.query({ measurement: 'dma_inflow', sensors: ['central', 'west'], from: T0 - MIN, to: T0 + 1000 * MIN });
    for (const sensor of ['central', 'west']) {
      expect(stored.get(sensor)).toEqual(derived.filter((p) => p.sensor === sensor).map((p) => ({ ts: p.ts, value: p.value, quality: p.quality })));
    }
  });

  it('a thread that cannot open the store fails the read with the reason instead of waiting for ever', async () => {
    const gone = new SqliteStore(join(dir, 'gone', 'tsdb.sqlite'));
    await gone.init();
    await gone.close();
    rmSync(join(dir, 'gone'), { recursive: true, force: true });
    const source = openChunkSource(gone, groups);
    try {
      await expect(source.read(T0, T0 + MIN)).rejects.toThrow(/directory does not exist|unable to open/);
      await expect(source.read(T0, T0 + MIN)).rejects.toThrow();
    } finally {
      await source.close();
    }
  });
});
