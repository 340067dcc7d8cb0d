import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkTransfers, transferStep, transitionsOf, type Sample } from './balance-check.ts';
import { Topology } from '../core/topology/topology.ts';
import { SqliteStore } from '../core/tsdb/sqlite.ts';
import type { Point } from '../core/model/reading.ts';

const MIN = 60_000;
const T0 = Date.UTC(2019, 0, 1);
const FIVE = 5 * MIN;
const AREA_M2 = 200;

/**
 * Two days of 5-min data as EPANET makes them: demand 150 m³/h with a daily swing and ±3 m³/h of
 * noise; a pump lifts 40 m³/h of the system input into a tank (in the DMA) for 1 h every 3 h, the
 * tank gives 10 m³/h back. Flows: the inlet and the pump station; the tank's level.
 */
function pumpedTown(): Point[] {
  const points: Point[] = [];
  let level = 2;
  let seed = 7;
  const noise = () => { seed = (seed * 16807) % 2147483647; return (seed / 2147483647 - 0.5) * 6; };
  for (let i = 0; i < 576; i++) {
    const ts = T0 + i * FIVE;
    const pump = i % 36 < 12 ? 40 : 0;
    const demand = 150 + 30 * Math.sin((2 * Math.PI * i) / 288) + noise();
    const p = (sensor: string, measurement: string, value: number): Point => ({ measurement, sensor, ts, value, quality: 'good', site: 's', dma: 'town' });
    points.push(p('in', 'flow', demand + pump - 10), p('pump-flow', 'flow', pump), p('level', 'level', level));
    level += ((pump - 10) * (FIVE / 3_600_000)) / AREA_M2;
  }
  return points;
}

const topology = (withTank: boolean) => new Topology({
  sites: [{ id: 's', kind: 'network' }],
  dmas: [{ id: 'town', inlets: ['in'], outlets: [], tanks: withTank ? [{ level: 'level', areaM2: AREA_M2 }] : [], customers: 0, nightUseLPerPropertyH: 1.7 }],
  sensors: [
    { id: 'in', kind: 'flow', site: 's', dma: 'town', place: 'inlet', intervalS: 300 },
    { id: 'pump-flow', kind: 'flow', site: 's', dma: 'town', place: 'pump-station', intervalS: 300 },
    { id: 'level', kind: 'level', site: 's', dma: 'town', place: 'tank', intervalS: 300 },
  ],
  meters: [],
});

describe('transfer missing from a balance', () => {
  let dir: string;
  let store: SqliteStore;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aw-balance-check-'));
    store = new SqliteStore(join(dir, 'tsdb.sqlite'));
    await store.init();
    await store.write(pumpedTown());
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('warns when the net demand steps with the pump (the tank it fills left out), not once the tank is in the balance', async () => {
    const to = T0 + 576 * FIVE;
    const [w, ...more] = await checkTransfers(store, topology(false), T0, to);
    expect(more).toEqual([]);
    expect(w).toMatchObject({ dma: 'town', device: 'pump-flow', transitions: 31, agreeing: 31 });
    expect(w.stepM3h).toBeGreaterThan(30);
    expect(w.stepM3h).toBeLessThan(45);
    expect(w.message).toMatch(/^DMA town: its net demand rises by \d+\.\d m³\/h when pump-flow is on \(31 of 31 starts and stops/);
    expect(await checkTransfers(store, topology(true), T0, to)).toEqual([]);
  });

  it('signs the steps by the transition: a stop counts reversed', () => {
    const net: Sample[] = [];
    for (let i = 0; i < 100; i++) net.push({ ts: i * MIN, value: 100 + (i >= 30 && i < 60 ? 20 : 0) + (i % 2) });
    const transitions = transitionsOf(net.map((v) => ({ ts: v.ts, value: v.value > 110 ? 1 : 0 })), (v) => v >= 0.5, 2 * MIN);
    expect(transitions).toEqual([{ ts: 30 * MIN, on: true }, { ts: 60 * MIN, on: false }]);
    expect(transferStep(net, transitions, 10 * MIN)).toMatchObject({ transitions: 2, agreeing: 2, stepM3h: 20 });
  });
});
