import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DmaInflow, type NetInflow } from './dma-inflow.ts';
import { raises, runScenario, ScheduledFaults, SUITE, syntheticTopology, type ScenarioRun } from '../test/support/sim-drive.ts';
import { NightFlowDetector, NIGHT_FLOW_MEASUREMENT } from './detectors/night-flow/index.ts';
import { LeakChangeDetector } from './detectors/leak-change/index.ts';
import type { Point } from '../core/model/reading.ts';
import { Topology } from '../core/topology/topology.ts';
import { dmaTankSchema } from '../core/config/schema.ts';
import { storageSlopeStandardError, storageStepNoiseGain, tankVolume } from './tank-volume.ts';
import { Rng } from '../simulators/hydraulics/random.ts';

const T0 = Date.UTC(2024, 4, 6);
const MIN = 60_000;
const r = (sensor: string, ts: number, value: number, quality: Point['quality'] = 'good'): Point =>
  ({ measurement: 'flow', sensor, ts, value, quality, site: 'site1', dma: 'town' });

function minute(inflow: DmaInflow, ts: number, values: Record<string, number>): NetInflow[] {
  const out: NetInflow[] = [];
  for (const [s, v] of Object.entries(values)) inflow.add(r(s, ts, v), out);
  return out;
}

describe('DmaInflow', () => {
  it('sums inlets minus outlets per bucket once every sensor has reported', () => {
    const inflow = new DmaInflow(syntheticTopology());
    expect(minute(inflow, T0, { 'IN-1': 30 })).toEqual([]);
    expect(minute(inflow, T0 + 5_000, { 'IN-2': 20 })).toEqual([]);
    const out = minute(inflow, T0 + 10_000, { 'OUT-1': 8 });
    expect(out).toEqual([{ dma: 'town', ts: T0, value: 42, quality: 'good', held: [], flows: 42 }]);
    expect(inflow.toPoint(out[0])).toMatchObject({ measurement: 'dma_inflow', sensor: 'town', dma: 'town', site: 'site1', value: 42 });
  });

  it('holds a missing sensor for up to holdMs, then leaves a gap rather than a made-up value', () => {
    const inflow = new DmaInflow(syntheticTopology(), undefined, { holdMs: 3 * MIN });
    minute(inflow, T0, { 'IN-1': 30, 'IN-2': 20, 'OUT-1': 10 });
    const got: NetInflow[] = [];
    for (let m = 1; m <= 6; m++) got.push(...minute(inflow, T0 + m * MIN, { 'IN-1': 30, 'OUT-1': 10 })); // IN-2 silent
    got.push(...inflow.advance(T0 + 7 * MIN));
    expect(got.map((v) => v.ts)).toEqual([T0 + MIN, T0 + 2 * MIN, T0 + 3 * MIN]);
    expect(got[0]).toMatchObject({ value: 40, quality: 'uncertain', held: ['IN-2'] });
    expect(inflow.gaps).toBe(3);
  });

  it('drops late readings for a bucket already closed, and skips bad and faulty readings', () => {
    const health = new ScheduledFaults([{ sensor: 'IN-2', from: T0 + 2 * MIN, to: T0 + 10 * MIN }]);
    const inflow = new DmaInflow(syntheticTopology(), health);
    minute(inflow, T0, { 'IN-1': 30, 'IN-2': 20, 'OUT-1': 10 });
    minute(inflow, T0 + MIN, { 'IN-1': 31, 'IN-2': 20, 'OUT-1': 10 });
    const late: NetInflow[] = [];
    inflow.add(r('IN-1', T0 + 10_000, 999), late);
    expect(late).toEqual([]);
    expect(inflow.lateDropped).toBe(1);
    // a bad-quality reading is no reading: IN-2 is held
    const out: NetInflow[] = [];
    inflow.add(r('IN-1', T0 + 2 * MIN, 30), out);
    inflow.add(r('IN-2', T0 + 2 * MIN, 500, 'bad'), out);
    inflow.add(r('OUT-1', T0 + 2 * MIN, 10), out);
    inflow.advance(T0 + 3 * MIN, out);
    expect(out).toEqual([{ dma: 'town', ts: T0 + 2 * MIN, value: 40, quality: 'uncertain', held: ['IN-2'], flows: 40 }]);
    // a faulty sensor's readings are ignored too (ctx.health)
    health.now = T0 + 3 * MIN;
    const out2 = minute(inflow, T0 + 3 * MIN, { 'IN-1': 30, 'IN-2': 777, 'OUT-1': 10 });
    inflow.advance(T0 + 4 * MIN, out2);
    expect(out2[0]).toMatchObject({ value: 40, held: ['IN-2'] });
  });
});

describe('DmaInflow: a frozen meter at 10-min spacing or coarser', () => {
  const QUARTER = 15 * MIN;
  const DAY = 1440 * MIN;
  /** One DMA fed by `in` (read every `intervalMin`) less what `pump` (a pump station's meter) lifts out of it. */
  const topology = (intervalMin: number) => new Topology({
    sites: [{ id: 's', kind: 'network' }], meters: [],
    dmas: [{ id: 'town', inlets: ['in'], outlets: ['pump'], tanks: [], customers: 0, nightUseLPerPropertyH: 1.7 }],
    sensors: [
      { id: 'in', kind: 'flow', site: 's', dma: 'town', place: 'inlet', intervalS: intervalMin * 60 },
      { id: 'pump', kind: 'flow', site: 's', dma: 'town', place: 'pump-station', intervalS: intervalMin * 60 },
    ],
  });
  /**
   * A day and a half of readings every `intervalMin` (a flow that never repeats, the pump holding 20),
   * with `in` then reading `held` for `heldFor` readings from 36 h, and moving again after.
   */
  function feed(intervalMin: number, held: number, heldFor: number, opts: { pump?: number; pairsBefore?: number } = {}) {
    const inflow = new DmaInflow(topology(intervalMin));
    const out: NetInflow[] = [];
    const step = intervalMin * MIN;
    const frozenFrom = T0 + 1.5 * DAY;
    for (let ts = T0, i = 0; ts < frozenFrom + (heldFor + 4) * step; ts += step, i++) {
      let value = 100 + 10 * Math.sin(i / 7) + (i % 3) * 0.01;
      // a meter that read one value twice in a row `pairsBefore` times, 6 h before (a reading apart)
      const sincePairs = (ts - (frozenFrom - 6 * 60 * MIN)) / step;
      if (sincePairs >= 0 && sincePairs < 3 * (opts.pairsBefore ?? 0) && sincePairs % 3 < 2) value = 77 + Math.floor(sincePairs / 3);
      if (ts >= frozenFrom && ts < frozenFrom + heldFor * step) value = held;
      inflow.add({ ...r('in', ts, value) }, out);
      inflow.add({ ...r('pump', ts, opts.pump ?? 20) }, out);
    }
    return { inflow, out, frozenFrom, step };
  }

  it('leaves a gap from the third reading of one value on (sensor health would take 30), and notes the reading that catches up', () => {
    const { inflow, out, frozenFrom, step } = feed(15, 123.45, 20);
    const during = out.filter((v) => v.ts >= frozenFrom && v.ts < frozenFrom + 20 * step).map((v) => v.ts);
    // the first two readings of the run are used (a flow may read the same twice), then none until it moves
    expect(during).toEqual([frozenFrom, frozenFrom + step]);
    expect(inflow.frozenDropped).toBe(18);
    expect(inflow.meterResumedAt('town')).toBe(frozenFrom + 20 * step);
    expect(out.some((v) => v.ts === frozenFrom + 20 * step)).toBe(true);
  });

  it('judges neither an exact 0 (a closed main), nor a pump station\'s meter, nor 5-min data, nor a meter that repeated as often the day before', () => {
    expect(feed(15, 0, 20).inflow.frozenDropped).toBe(0);
    // the pump's 20 m³/h repeats all along
    expect(feed(15, 123.45, 0).inflow.frozenDropped).toBe(0);
    expect(feed(5, 123.45, 20).inflow.frozenDropped).toBe(0);
    // a value read twice in a row, twice, 6 h before: this meter's flow holds at its resolution
    expect(feed(15, 123.45, 20, { pairsBefore: 2 }).inflow.frozenDropped).toBe(0);
    expect(feed(15, 123.45, 20, { pairsBefore: 2 }).inflow.meterResumedAt('town')).toBeNaN();
    expect(feed(15, 123.45, 20, { pairsBefore: 1 }).inflow.frozenDropped).toBe(18);
  });

  it('waits for a day of a meter\'s readings before it judges its runs', () => {
    const inflow = new DmaInflow(topology(15));
    for (let i = 0; i < 40; i++) inflow.add(r('in', T0 + i * QUARTER, 50));
    expect(inflow.frozenDropped).toBe(0);
  });
});

describe('DmaInflow with a tank (net demand = inflow − dV/dt over the tank window)', () => {
  const AREA_M2 = 200;
  const topology = (window?: number, intervalS = 300) => new Topology({
    sites: [{ id: 's', kind: 'network' }],
    dmas: [{ id: 'hill', inlets: ['in'], outlets: [], tanks: [{ level: 'tank-level', areaM2: AREA_M2 }], tankWindowMin: window, customers: 0, nightUseLPerPropertyH: 1.7 }],
    sensors: [
      { id: 'in', kind: 'flow', site: 's', dma: 'hill', place: 'inlet', intervalS },
      { id: 'tank-level', kind: 'level', site: 's', dma: 'hill', place: 'tank', intervalS },
    ],
    meters: [],
  });
  const FIVE = 5 * MIN;
  const DEMAND = 50;
  /**
   * 12 h of 5-min data as EPANET makes it (the level at t plus the flows from t for one step gives
   * the level at t + 5 min): demand 50 m³/h; the tank always gives 10 m³/h to the DMA, and a pump
   * lifts 40 m³/h of the inflow into it every other hour.
   */
  function pumped(quantiseLevel: boolean): Point[] {
    const points: Point[] = [];
    let level = 2;
    for (let i = 0; i < 144; i++) {
      const ts = T0 + i * FIVE;
      const pump = Math.floor(i / 12) % 2 === 1 ? 40 : 0;
      points.push(r('in', ts, DEMAND + pump - 10), { ...r('tank-level', ts, quantiseLevel ? Math.round(level * 100) / 100 : level), measurement: 'level' });
      level += ((pump - 10) * (FIVE / 3_600_000)) / AREA_M2;
    }
    return points;
  }

  it('sees neither the pump starts and stops nor the tank draining: the demand stays flat', () => {
    const inflow = new DmaInflow(topology(30));
    const out: NetInflow[] = [];
    for (const p of pumped(false)) inflow.add(p, out);
    inflow.advance(T0 + 145 * FIVE, out);
    // the first value once 30 min (6 buckets after the first) are in
    expect(out[0].ts).toBe(T0 + 6 * FIVE);
    expect(out.length).toBe(144 - 6);
    for (const v of out) expect(v.value).toBeCloseTo(DEMAND, 6);
    expect(inflow.balanceSensorsOf('hill')).toEqual(['in', 'tank-level']);
  });

  it('#12.2 takes 15-min samples of sensors declared at 5 min: a value from every sample once three fill the window, the demand flat', () => {
    const inflow = new DmaInflow(topology(30));
    const out: NetInflow[] = [];
    for (const p of pumped(false).filter((q) => (q.ts - T0) % (3 * FIVE) === 0)) inflow.add(p, out);
    inflow.advance(T0 + 145 * FIVE, out);
    // until 2026-12-06 none at all: the window waited for consecutive 5-min buckets
    expect(out[0].ts).toBe(T0 + 6 * FIVE);
    expect(out.map((v) => v.ts)).toEqual(Array.from({ length: 46 }, (_, i) => T0 + (i + 2) * 3 * FIVE));
    for (const v of out) expect(v.value).toBeCloseTo(DEMAND, 6);
  });

  it('keeps the error of a level read to the centimetre (2 m³ here) within 2 m³ per window', () => {
    const worst = (window: number) => {
      const inflow = new DmaInflow(topology(window));
      const out: NetInflow[] = [];
      for (const p of pumped(true)) inflow.add(p, out);
      return Math.max(...out.map((v) => Math.abs(v.value - DEMAND)));
    };
    // each reading is off by at most half a centimetre: 1 m³ here, twice per difference
    expect(worst(5)).toBeGreaterThan(10); // over one 5-min step: up to 24 m³/h
    expect(worst(5)).toBeLessThanOrEqual(24 + 1e-9);
    expect(worst(60)).toBeLessThanOrEqual(2 + 1e-9);
  });

  /**
   * 1-min data for `minutes`: a constant inflow, and a tank level rising at `fillAt(ts)` m³/h (so
   * the net demand is inflow − fill) read with Gaussian noise of `noiseM` (a seeded draw).
   */
  function ramp(minutes: number, inflowM3h: number, fillAt: (ts: number) => number, noiseM: number): NetInflow[] {
    const inflow = new DmaInflow(topology(30, 60));
    const rng = new Rng(7, 'level-noise');
    const out: NetInflow[] = [];
    let level = 2;
    for (let i = 0; i < minutes; i++) {
      const ts = T0 + i * MIN;
      inflow.add(r('in', ts, inflowM3h), out);
      inflow.add({ ...r('tank-level', ts, level + noiseM * rng.normal()), measurement: 'level' }, out);
      level += (fillAt(ts) * (MIN / 3_600_000)) / AREA_M2;
    }
    inflow.advance(T0 + (minutes + 1) * MIN, out);
    return out;
  }

  it('takes the storage term from the slope of every level in the window: a noisy ramp gives its flow within the slope\'s standard error', () => {
    const noiseM = 0.003; // 3 mm per reading: 0.6 m³ on 200 m²
    const out = ramp(24 * 60, 80, () => 30, noiseM);
    const errors = out.map((v) => v.value - 50);
    const rms = Math.sqrt(errors.reduce((a, e) => a + e * e, 0) / errors.length);
    const slopeSe = storageSlopeStandardError(noiseM * AREA_M2, 31, 1 / 60); // 31 readings in 30 min
    const endPointSe = (noiseM * AREA_M2 * Math.SQRT2) / 0.5; // the difference of the window's two end levels
    expect(out.length).toBe(24 * 60 - 30);
    expect(Math.abs(errors.reduce((a, e) => a + e, 0) / errors.length)).toBeLessThan(slopeSe / 3);
    expect(rms).toBeLessThan(slopeSe * 1.2);
    expect(rms).toBeGreaterThan(slopeSe * 0.8);
    expect(slopeSe).toBeLessThan(endPointSe / 2);
  });

  it('carries level noise into the burst step statistic (2 values after against 3 before) as storageStepNoiseGain says', () => {
    const noiseM = 0.003;
    const out = ramp(3 * 24 * 60, 80, () => 30, noiseM);
    const v = out.map((x) => x.value);
    const jumps: number[] = [];
    for (let i = 4; i < v.length; i++) jumps.push((v[i] + v[i - 1]) / 2 - (v[i - 2] + v[i - 3] + v[i - 4]) / 3);
    const sd = Math.sqrt(jumps.reduce((a, j) => a + j * j, 0) / jumps.length);
    const predicted = noiseM * AREA_M2 * storageStepNoiseGain(30, 2, 3, 1 / 60);
    expect(sd).toBeGreaterThan(predicted * 0.85);
    expect(sd).toBeLessThan(predicted * 1.15);
    // far less than the window's own noise: neighbouring windows share most of their readings
    expect(predicted).toBeLessThan(storageSlopeStandardError(noiseM * AREA_M2, 31, 1 / 60) * 0.7);
  });

  it('shows a step in the fill rate within one window: the old demand before it, the new one a window after it', () => {
    const step = T0 + 120 * MIN;
    const out = ramp(240, 80, (ts) => (ts < step ? 30 : 10), 0);
    const at = (ts: number) => out.find((v) => v.ts === ts)!.value;
    // a window's readings span [ts − 30 min, ts]: before the step all of them see the old fill
    for (let ts = T0 + 30 * MIN; ts <= step; ts += MIN) expect(at(ts)).toBeCloseTo(50, 6);
    for (let ts = step + 30 * MIN; ts < T0 + 240 * MIN; ts += MIN) expect(at(ts)).toBeCloseTo(70, 6);
    // in between it moves monotonically from the old demand to the new
    for (let ts = step + MIN; ts < step + 30 * MIN; ts += MIN) expect(at(ts)).toBeGreaterThanOrEqual(at(ts - MIN) - 1e-9);
  });
});

describe('tank geometry', () => {
  it('gives a volume from a diameter, an area or a volume curve (linear, extended by its end slopes)', () => {
    expect(tankVolume({ level: 't', diameterM: 16 })(2)).toBeCloseTo(Math.PI * 64 * 2, 9);
    expect(tankVolume({ level: 't', areaM2: 100 })(1.5)).toBe(150);
    const curve = tankVolume({ level: 't', volumeCurve: [[0, 0], [1, 100], [3, 500]] });
    expect([0.5, 2, 4, -1].map(curve)).toEqual([50, 300, 700, -100]);
  });

  it('is checked with the configuration: one geometry, a known level sensor', () => {
    expect(dmaTankSchema.safeParse({ level: 't', diameterM: 16, areaM2: 3 }).success).toBe(false);
    expect(dmaTankSchema.safeParse({ level: 't', volumeCurve: [[1, 0], [1, 5]] }).success).toBe(false);
    expect(() => new Topology({
      sites: [], meters: [],
      dmas: [{ id: 'd', inlets: [], outlets: [], tanks: [{ level: 'p' }, { level: 'x' }], customers: 0, nightUseLPerPropertyH: 1.7 }],
      sensors: [{ id: 'p', kind: 'pressure', site: 's', place: 'network', intervalS: 60 }],
    })).toThrow(/tanks\[0\]\.level: sensor p is pressure, not level.*tanks\[1\]\.level: unknown sensor x/s);
  });
});

describe('hourly data (#12.2): night flow and leak-change from a simulator scenario at 60-min cadence', () => {
  /** incipient-leak.yaml sampled every hour; `declaredS` the interval the topology states (60: hourly data imported into a 60-s topology). */
  async function hourly(declaredS: number) {
    const dir = mkdtempSync(join(tmpdir(), 'aw-hourly-'));
    try {
      const file = join(dir, 'incipient-leak-hourly.yaml');
      writeFileSync(file, readFileSync(join(SUITE, 'incipient-leak.yaml'), 'utf8').replace(/^interval: 1m$/m, 'interval: 1h'));
      return await runScenario({
        scenario: file,
        detectors: (ctx) => {
          const config = { ...ctx.topology.config, sensors: ctx.topology.config.sensors.map((s) => ({ ...s, intervalS: declaredS })) };
          const declared = { ...ctx, topology: new Topology(config) };
          return [new NightFlowDetector(declared), new LeakChangeDetector(declared)];
        },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('gives every night its minimum night flow and finds West\'s growing leak, whether the topology declares the hour or 60 s', async () => {
    const declaredHourly = await hourly(3600);
    const inferred = await hourly(60);
    const figures = (run: ScenarioRun) => run.derived.filter((p) => p.measurement === NIGHT_FLOW_MEASUREMENT).map((p) => `${p.dma} ${p.ts} ${p.value.toFixed(3)}`);
    // 7 nights × 5 DMAs; at hourly data a night's figure is the lower of its 02:00 and 03:00 values
    expect(figures(declaredHourly)).toHaveLength(35);
    // undeclared, the hour is known from the fifth reading on (4 gaps): the first night, at the start of the data, is lost
    expect(figures(inferred)).toEqual(figures(declaredHourly).slice(5));
    const leak = declaredHourly.groundTruth.find((t) => t.type === 'leak')!;
    for (const run of [declaredHourly, inferred]) {
      const raised = raises(run.conditions, 'new_leak');
      expect(raised.map((c) => c.dma)).toEqual(['west']);
      // as at 1-min data (night-flow.test.ts): within five nights of the leak's start
      expect(raised[0].ts - leak.start).toBeLessThan(5 * 24 * 60 * MIN);
      expect(run.conditions.filter((c) => c.state === 'raise' && c.dma !== 'west')).toEqual([]);
    }
  }, 60_000);
});
