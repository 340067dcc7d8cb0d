/**
 * The one detector harness for tests and benchmarks: drives detectors with a simulated city (or the
 * hand-made town below) step by step in event time through analytics/step.ts, the step function the
 * worker uses, so tests see the worker's real call order. Sample values are converted to canonical
 * units, as the ingest pipeline does. Also fills a store with a simulated run (for the KPI tests).
 */
import { topologySchema } from '../../core/config/schema.ts';
import type { Point } from '../../core/model/reading.ts';
import { CUSTOMER_SITE, Topology } from '../../core/topology/topology.ts';
import type { TimeSeriesStore } from '../../core/tsdb/types.ts';
import { Simulation } from '../../simulators/engine.ts';
import type { GroundTruth, SimStep } from '../../simulators/types.ts';
import type { City } from '../../simulators/city/city.ts';
import { runStep } from '../../analytics/step.ts';
import type { Condition, Detector, DetectorContext, SensorHealthView } from '../../analytics/types.ts';

/** A fake sensor-health view (the real one is SensorHealthDetector): faults given as (sensor, from, to) intervals. */
export class ScheduledFaults implements SensorHealthView {
  now = 0;
  constructor(private readonly faults: { sensor: string; from: number; to: number }[] = []) {}
  isFaulty(sensor: string): boolean {
    return this.faults.some((f) => f.sensor === sensor && this.now >= f.from && this.now < f.to);
  }
}

export const SUITE = new URL('../../simulators/scenarios/suite/', import.meta.url).pathname;

/** A scenario file: a bare name is one of the suite's, a path is used as it is. */
export function scenarioPath(scenario: string): string {
  return scenario.includes('/') ? scenario : `${SUITE}${scenario}`;
}

/** One simulated sensor sample as the pipeline would store it. */
export function toReading(topology: Topology, sensor: string, ts: number, value: number, quality: Point['quality']): Point {
  const info = topology.sensors.get(sensor);
  if (!info) throw new Error(`sim-drive: sensor ${sensor} is not in the topology`);
  return { measurement: info.kind, sensor, ts, value: info.convert(value), quality, site: info.site, dma: info.dma };
}

/** A customer meter register as the PDA import would store it. */
export function toMeterReading(topology: Topology, meter: string, ts: number, reading: number): Point {
  return { measurement: 'meter', sensor: meter, ts, value: reading, quality: 'good', site: CUSTOMER_SITE, dma: topology.meters.get(meter)?.dma ?? '' };
}

export interface ScenarioRun {
  topology: Topology;
  groundTruth: GroundTruth[];
  conditions: Condition[];
  derived: Point[];
  /** Time of the first and the last step. */
  start: number;
  end: number;
  /** Readings handed to the detectors. */
  readings: number;
}

export interface RunOptions {
  /** A suite scenario's file name, or a path. */
  scenario: string;
  /** Run on this city instead of the one the scenario names (e.g. the demo town drawn otherwise). */
  city?: City;
  from?: number | string;
  to?: number | string;
  timezone?: string;
  /** The detectors, in the order the worker would run them (a SensorHealthDetector first). */
  detectors: (ctx: DetectorContext) => Detector[];
  /** The health view in the context when no SensorHealthDetector is given (default: no faults). */
  health?: ScheduledFaults;
  /** Customer meter registers are readings of kind `meter` too; off unless asked (they are many). */
  meters?: boolean;
  /** Keep only every Nth step's meter registers (PDA readers read far less often than the simulator emits). */
  meterEvery?: number;
  /** Before the detectors see a step; `emit` adds conditions (e.g. a sensor marked offline, as ingest would). */
  beforeStep?: (step: SimStep, emit: (cs: readonly Condition[]) => void) => void;
  /** Alter or drop a step's readings (gaps, late data); return the batch to deliver. */
  transform?: (batch: Point[], step: SimStep) => Point[];
  /** After each step, with the detectors (e.g. to restart one); return replacements to go on with. */
  afterStep?: (step: SimStep, detectors: Detector[], ctx: DetectorContext) => Promise<Detector[] | void>;
  /** Store every reading here too (for warm-up tests). */
  store?: TimeSeriesStore;
}

/** Throws the first failure of a step: in a test a detector error must fail, not be logged. */
function stepOrThrow(detectors: readonly Detector[], batch: readonly Point[], t: number) {
  const r = runStep(detectors, batch, t);
  if (r.failures.length) throw r.failures[0].error;
  return r;
}

export async function runScenario(o: RunOptions): Promise<ScenarioRun> {
  const sim = new Simulation({ scenario: scenarioPath(o.scenario), city: o.city, from: o.from, to: o.to });
  const topology = new Topology(sim.topology());
  const health = o.health ?? new ScheduledFaults();
  const ctx: DetectorContext = { topology, health, timezone: o.timezone ?? sim.scenario.timezone };
  let detectors = o.detectors(ctx);
  const conditions: Condition[] = [];
  const derived: Point[] = [];
  const emit = (cs: readonly Condition[]) => { for (const c of cs) conditions.push(c); };
  let start = Number.NaN;
  let end = Number.NaN;
  let readings = 0;
  let meterStep = 0;
  try {
    for await (const step of sim.steps()) {
      if (Number.isNaN(start)) start = step.ts;
      end = step.ts;
      health.now = step.ts;
      o.beforeStep?.(step, emit);
      let batch = step.samples.map((s) => toReading(topology, s.sensor, s.ts, s.value, s.quality));
      if (o.meters && step.meters.length && (meterStep++ % (o.meterEvery ?? 1)) === 0) {
        for (const m of step.meters) batch.push(toMeterReading(topology, m.meter, m.ts, m.reading));
      }
      if (o.transform) batch = o.transform(batch, step);
      readings += batch.length;
      if (o.store && batch.length) await o.store.write(batch);
      const r = stepOrThrow(detectors, batch, step.ts);
      emit(r.conditions);
      for (const p of r.derived) derived.push(p);
      if (o.afterStep) {
        const replaced = await o.afterStep(step, detectors, ctx);
        if (replaced) detectors = replaced;
      }
    }
  } finally {
    sim.close();
  }
  return { topology, groundTruth: sim.groundTruth, conditions, derived, start, end, readings };
}

/** Raises of one condition type, in time order. */
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
  const events = run.groundTruth.filter((t) => t.type === truthType && t.start >= from);
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

/** Fill a store with a simulated run, as the ingest pipeline would (samples and customer meter registers). */
export async function fillFromSimulation(sim: Simulation, store: TimeSeriesStore): Promise<{ topology: Topology; points: number }> {
  const topology = new Topology(sim.topology());
  let batch: Point[] = [];
  let points = 0;
  const flush = async () => {
    await store.write(batch);
    points += batch.length;
    batch = [];
  };
  for await (const step of sim.steps()) {
    for (const s of step.samples) batch.push(toReading(topology, s.sensor, s.ts, s.value, s.quality));
    for (const m of step.meters) batch.push(toMeterReading(topology, m.meter, m.ts, m.reading));
    if (batch.length > 20_000) await flush();
  }
  await flush();
  return { topology, points };
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
    const r = stepOrThrow(detectors, batch, ts);
    conditions.push(...r.conditions);
    derived.push(...r.derived);
  }
  return { conditions, derived, readings };
}
