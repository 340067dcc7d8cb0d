/**
 * The demo town's Hill drawn with its tank inside (#12.1): inflow = PUMP_1's delivery into T1,
 * storage = T1's level × its area. On three days of the hydraulic model (5-min steps, no sensor
 * noise) its net demand must equal what leaves the tank through F-p1093 (then a sub-meter),
 * and the pump's starts and stops must not show in it (the transfer check `analyze` runs).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DmaInflow, type NetInflow } from '../../analytics/dma-inflow.ts';
import { checkTransfers } from '../../analytics/balance-check.ts';
import { slopeWeights } from '../../analytics/tank-volume.ts';
import type { Point } from '../../core/model/reading.ts';
import { SqliteStore } from '../../core/tsdb/sqlite.ts';
import { Topology } from '../../core/topology/topology.ts';
import { loadProfiles } from '../hydraulics/demand.ts';
import { HydraulicModel } from '../hydraulics/model.ts';
import { buildCity, cityTopology } from './city.ts';
import { demoTownWithHillOnTank } from './generator/index.ts';

const STEP_S = 300;
const T0 = Date.UTC(2026, 0, 5);
const HOURS = 72;
/**
 * Net demand over the 30-min tank window against the mean of F-p1093 over the same window, each
 * step weighted as the storage term's least-squares slope weighs it (tank-volume.ts slopeWeights):
 * the tank's mass balance makes them equal when flows are step means (registers), so what is left is
 * rounding. (Instantaneous 5-min samples would miss part of a step in which the pump switches:
 * up to 80 m³/h for one step, 14 m³/h over a window.)
 */
const TOLERANCE_M3H = 0.01;

describe('Hill with tank T1 inside (the storage-aware balance on the demo town)', () => {
  // the demo town as a utility with this layout would draw it: T1 inside Hill (the demo itself keeps
  // F-p1093 as Hill's inlet: README, Hill's storage-aware balance)
  const drawn = demoTownWithHillOnTank();
  const city = buildCity(drawn.spec, drawn.inpText);
  const hill = city.dmas.find((d) => d.id === 'hill')!;
  const points: Point[] = [];
  let dir: string;
  let store: SqliteStore;

  beforeAll(async () => {
    const model = await HydraulicModel.open(city.inpText, { hydraulicStepS: STEP_S, demandGroups: city.junctionDma });
    try {
      const profiles = loadProfiles().profiles;
      const [pump, outlet, tank] = [model.linkIndex('PUMP_1'), model.linkIndex('p1093'), model.nodeIndex('T1')];
      // flows as a meter's register gives them: the mean over each step, EPANET's intermediate
      // solutions (a pump switching inside the step) included; the level as read at the step's start
      let solvedAt = 0;
      let pumpM3 = 0;
      let outletM3 = 0;
      const integrate = (at: number) => {
        pumpM3 += (model.flowM3h(pump) * (at - solvedAt)) / 3600;
        outletM3 += (model.flowM3h(outlet) * (at - solvedAt)) / 3600;
        solvedAt = at;
      };
      for (let t = 0; t < HOURS * 3600; t += STEP_S) {
        const level = model.tankLevelM(tank);
        const on = model.linkOpen(pump);
        pumpM3 = 0;
        outletM3 = 0;
        model.advanceTo(t + STEP_S, (at) => {
          integrate(at);
          const hour = Math.floor(at / 3600) % 24;
          for (const d of city.dmas) model.setGroupMultiplier(d.id, profiles[d.profile].weekday[hour]);
        });
        const ts = T0 + t * 1000;
        const p = (sensor: string, measurement: string, value: number): Point => ({ measurement, sensor, ts, value, quality: 'good', site: 'PS1', dma: 'hill' });
        const perHour = 3600 / STEP_S;
        points.push(
          p('PS1.PUMP_1.flow', 'flow', pumpM3 * perHour),
          p('PS1.PUMP_1.state', 'pump', on ? 1 : 0),
          p('PS1.T1.level', 'level', level),
          p('F-p1093', 'flow', outletM3 * perHour),
        );
      }
    } finally {
      model.close();
    }
    dir = mkdtempSync(join(tmpdir(), 'aw-hill-balance-'));
    store = new SqliteStore(join(dir, 'tsdb.sqlite'));
    await store.init();
    await store.write(points);
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is configured as a utility would: the pump delivery in, T1 with its level and the .inp diameter, F-p1093 a sub-meter', () => {
    expect(hill.inletSensors).toEqual(['PS1.PUMP_1.flow']);
    expect(hill.outletSensors).toEqual([]);
    expect(hill.subMeters).toEqual(['F-p1093']);
    expect(hill.tanks).toEqual([{ tank: 'T1', level: 'PS1.T1.level', diameterM: city.network.tanks.get('T1')!.diameter }]);
    for (const d of city.dmas.filter((x) => x.id !== 'hill')) expect(d.tanks, d.id).toEqual([]);
    const dma = cityTopology(city).dmas.find((d) => d.id === 'hill')!;
    expect(dma).toMatchObject({ inlets: ['PS1.PUMP_1.flow'], outlets: [], tanks: [{ level: 'PS1.T1.level', diameterM: hill.tanks[0].diameterM }] });
  });

  it('gives a net demand equal to the tank outlet meter F-p1093 over each 30-min window, through the pump cycles', () => {
    const inflow = new DmaInflow(new Topology(cityTopology(city, { intervalS: STEP_S })));
    const out: NetInflow[] = [];
    for (const p of points) inflow.add(p, out);
    inflow.advance(T0 + (HOURS * 3600 + 2 * STEP_S) * 1000, out);
    const net = out.filter((v) => v.dma === 'hill');
    const pumpStates = points.filter((p) => p.sensor === 'PS1.PUMP_1.state').map((p) => p.value);
    expect(pumpStates.slice(1).filter((v, i) => v !== pumpStates[i]).length).toBeGreaterThanOrEqual(4);
    expect(net.length).toBeGreaterThan(HOURS * 12 - 10);
    const outlet = points.filter((p) => p.sensor === 'F-p1093');
    const windowSteps = 30 * 60 / STEP_S;
    const { intervalWeights } = slopeWeights(windowSteps + 1, STEP_S / 3600);
    let worst = 0;
    for (const v of net) {
      // the window ending at v.ts: the flows of the steps that start in it
      const end = outlet.findIndex((p) => p.ts === v.ts);
      const span = outlet.slice(end - windowSteps, end);
      expect(span.length, new Date(v.ts).toISOString()).toBe(windowSteps);
      const mean = span.reduce((s, p, j) => s + intervalWeights[j] * p.value, 0);
      worst = Math.max(worst, Math.abs(v.value - mean));
    }
    expect(worst).toBeLessThan(TOLERANCE_M3H);
  });

  it('shows no pump step in the net demand (no transfer warning); the pump flow without the tank would', async () => {
    const from = T0;
    const to = T0 + (HOURS * 3600 + STEP_S) * 1000;
    const topology = cityTopology(city, { intervalS: STEP_S });
    expect(await checkTransfers(store, new Topology(topology), from, to)).toEqual([]);
    const withoutTank = { ...topology, dmas: topology.dmas.map((d) => (d.id === 'hill' ? { ...d, tanks: undefined } : d)) };
    const warnings = await checkTransfers(store, new Topology(withoutTank), from, to);
    expect(warnings.map((w) => [w.dma, w.device])).toEqual([['hill', 'PS1.PUMP_1.state']]);
  });
});
