/**
 * Test and measurement harness: drives detectors with a simulated city, step by step in event time,
 * the way the worker does (a batch of readings per step, then the watermark). Shared by the burst,
 * night-flow and pressure tests and by measure.ts.
 */
import { topologySchema } from '../../../core/config/schema.ts';
import type { Point } from '../../../core/model/reading.ts';
import { Topology } from '../../../core/topology/topology.ts';
import type { TimeSeriesStore } from '../../../core/tsdb/types.ts';
import { Simulation } from '../../../simulators/engine.ts';
import type { GroundTruth, SimStep } from '../../../simulators/types.ts';
import type { Condition, Detector, DetectorContext, SensorHealthView } from '../../types.ts';

/** Test double of the sensor-health view: faults given as (sensor, from, to) intervals. */
export class ScheduledFaults implements SensorHealthView {
  now = 0;
  constructor(private readonly faults: { sensor: string; from: number; to: number }[] = []) {}
  isFaulty(sensor: string): boolean {
    return this.faults.some((f) => f.sensor === sensor && this.now >= f.from && this.now < f.to);
  }
}

export interface ScenarioRun {
  topology: Topology;
  truth: GroundTruth[];
  conditions: Condition[];
  derived: Point[];
  start: number;
  end: number;
}

export interface RunOptions {
  scenario: string;
  from?: number;
  to?: number;
  timezone?: string;
  detectors: (ctx: DetectorContext) => Detector[];
  health?: ScheduledFaults;
  /** Alter or drop a step's readings (gaps, late data); return the batch to deliver. */
  transform?: (batch: Point[], step: SimStep) => Point[];
  /** Called after each step with the detectors (e.g. to restart one). */
  afterStep?: (step: SimStep, detectors: Detector[], ctx: DetectorContext) => Promise<Detector[] | void>;
  /** Store every reading here too (for warm-up tests). */
  store?: TimeSeriesStore;
}

export const SUITE = new URL('../../../simulators/scenarios/suite/', import.meta.url).pathname;

export async function runScenario(o: RunOptions): Promise<ScenarioRun> {
  const sim = new Simulation({ scenario: o.scenario.includes('/') ? o.scenario : `${SUITE}${o.scenario}`, from: o.from, to: o.to });
  const topology = new Topology(sim.topology());
  const health = o.health ?? new ScheduledFaults();
  const ctx: DetectorContext = { topology, health, timezone: o.timezone ?? sim.scenario.timezone };
  let detectors = o.detectors(ctx);
  const conditions: Condition[] = [];
  const derived: Point[] = [];
  let start = NaN;
  let end = NaN;
  try {
    for await (const step of sim.steps()) {
      if (Number.isNaN(start)) start = step.ts;
      end = step.ts;
      health.now = step.ts;
      let batch: Point[] = [];
      for (const s of step.samples) {
        const info = topology.sensors.get(s.sensor);
        if (!info || info.kind === 'meter') continue;
        batch.push({ measurement: info.kind, sensor: s.sensor, ts: s.ts, value: info.convert(s.value), quality: s.quality, site: info.site, dma: info.dma });
      }
      if (o.transform) batch = o.transform(batch, step);
      if (o.store && batch.length) await o.store.write(batch);
      for (const d of detectors) {
        conditions.push(...d.onReadings(batch));
        conditions.push(...d.onTime(step.ts));
        if (d.drainDerived) derived.push(...d.drainDerived());
      }
      if (o.afterStep) {
        const replaced = await o.afterStep(step, detectors, ctx);
        if (replaced) detectors = replaced;
      }
    }
  } finally {
    sim.close();
  }
  return { topology, truth: sim.groundTruth, conditions, derived, start, end };
}

/** Raise conditions of a type, with the DMA. */
export function raises(conditions: readonly Condition[], type: string): Condition[] {
  return conditions.filter((c) => c.type === type && c.state === 'raise');
}

export interface Scored {
  found: { truth: GroundTruth; condition: Condition; delayMin: number }[];
  missed: GroundTruth[];
  falseAlarms: Condition[];
}

/**
 * Match raises of `type` to ground-truth events of `truthType` in the same DMA: a raise between an
 * event's start and its end (plus `graceMs`) finds it; any other raise is a false alarm.
 */
export function score(run: ScenarioRun, type: string, truthType: string, graceMs = 30 * 60_000, from = -Infinity): Scored {
  const events = run.truth.filter((t) => t.type === truthType && t.start >= from);
  const found: Scored['found'] = [];
  const missed: GroundTruth[] = [];
  const used = new Set<Condition>();
  const rs = raises(run.conditions, type).filter((c) => c.ts >= from);
  for (const e of events) {
    const c = rs.find((r) => r.dma === e.dma && r.ts >= e.start && r.ts <= (e.end ?? Infinity) + graceMs && !used.has(r));
    if (c) {
      used.add(c);
      found.push({ truth: e, condition: c, delayMin: (c.ts - e.start) / 60_000 });
    } else missed.push(e);
  }
  // raises during an event of another DMA's burst still count as false (wrong area)
  const falseAlarms = rs.filter((r) => !used.has(r));
  return { found, missed, falseAlarms };
}

// ---- a hand-made town for edge cases: exact, fast, and with every value under the test's control ----


/**
 * One DMA `town` fed by inlets IN-1 and IN-2 with outlet OUT-1 (net = IN-1 + IN-2 − OUT-1), pressure
 * sensors P-near and P-far (network-end), 1,000 customers at 1.7 L/h each.
 */
export function syntheticTopology(): Topology {
  return new Topology(topologySchema.parse({
    sites: [{ id: 'site1' }],
    dmas: [{ id: 'town', inlets: ['IN-1', 'IN-2'], outlets: ['OUT-1'], customers: 1000 }],
    sensors: [
      { id: 'IN-1', kind: 'flow', unit: 'm3/h', site: 'site1', dma: 'town', place: 'inlet' },
      { id: 'IN-2', kind: 'flow', unit: 'm3/h', site: 'site1', dma: 'town', place: 'inlet' },
      { id: 'OUT-1', kind: 'flow', unit: 'm3/h', site: 'site1', dma: 'town', place: 'inlet' },
      { id: 'P-near', kind: 'pressure', unit: 'MPa', site: 'site1', dma: 'town', place: 'network' },
      { id: 'P-far', kind: 'pressure', unit: 'MPa', site: 'site1', dma: 'town', place: 'network-end' },
    ],
  }));
}

/** Deterministic noise in [−1, 1]. */
export function noise(i: number, salt = 0): number {
  const x = Math.sin(i * 12.9898 + salt * 78.233) * 43758.5453;
  return 2 * (x - Math.floor(x)) - 1;
}

export interface TownEvent { from: number; to: number; burstM3h: number; pressureDropMPa?: { near: number; far: number } }

/**
 * One minute of the synthetic town at `ts`: a smooth daily demand shape in local time (night 20,
 * day peak 60 m³/h), a little noise, and the events' extra flow and pressure drops.
 */
export function townMinute(ts: number, local: (ts: number) => number, events: readonly TownEvent[] = []): Point[] {
  const hour = (((local(ts) / 3_600_000) % 24) + 24) % 24;
  const i = Math.floor(ts / 60_000);
  const demand = 40 - 20 * Math.cos(((hour - 3) / 24) * 2 * Math.PI) + 0.3 * noise(i, 1);
  let burst = 0;
  let dropNear = 0;
  let dropFar = 0;
  for (const e of events) {
    if (ts >= e.from && ts < e.to) {
      burst += e.burstM3h;
      dropNear += e.pressureDropMPa?.near ?? 0;
      dropFar += e.pressureDropMPa?.far ?? 0;
    }
  }
  const net = demand + burst;
  const out = 10 + 0.1 * noise(i, 2);
  const pNear = 0.45 - 0.0015 * demand - dropNear + 0.0003 * noise(i, 3);
  const pFar = 0.30 - 0.002 * demand - dropFar + 0.0003 * noise(i, 4);
  const r = (sensor: string, measurement: string, value: number): Point => ({ measurement, sensor, ts, value, quality: 'good', site: 'site1', dma: 'town' });
  return [
    r('IN-1', 'flow', 0.6 * (net + out)), r('IN-2', 'flow', 0.4 * (net + out)), r('OUT-1', 'flow', out),
    r('P-near', 'pressure', pNear), r('P-far', 'pressure', pFar),
  ];
}

/** Feed minutes [from, to) of the town to the detectors; returns what they emitted. */
export function feedTown(
  detectors: readonly Detector[], from: number, to: number, local: (ts: number) => number, events: readonly TownEvent[] = [],
  transform?: (batch: Point[], ts: number) => Point[], health?: ScheduledFaults,
): { conditions: Condition[]; derived: Point[]; readings: Point[] } {
  const conditions: Condition[] = [];
  const derived: Point[] = [];
  const readings: Point[] = [];
  for (let ts = from; ts < to; ts += 60_000) {
    if (health) health.now = ts;
    let batch = townMinute(ts, local, events);
    if (transform) batch = transform(batch, ts);
    readings.push(...batch);
    for (const d of detectors) {
      conditions.push(...d.onReadings(batch), ...d.onTime(ts));
      if (d.drainDerived) derived.push(...d.drainDerived());
    }
  }
  return { conditions, derived, readings };
}
