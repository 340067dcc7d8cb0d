/**
 * Test support: runs a simulator scenario through detectors the way the worker does — per step,
 * sensor health first, then the others, then the watermark moves to the step's time.
 * Sample values are converted to canonical units, as the ingest pipeline does.
 */
import { Simulation } from '../../../simulators/engine.ts';
import type { SimStep, GroundTruth } from '../../../simulators/types.ts';
import { Topology } from '../../../core/topology/topology.ts';
import type { Point } from '../../../core/model/reading.ts';
import type { Condition, Detector } from '../../types.ts';
import type { SensorHealthDetector } from './index.ts';

export interface SimRun {
  topology: Topology;
  groundTruth: GroundTruth[];
  conditions: Condition[];
  firstTs: number;
  lastTs: number;
  readings: number;
}

export interface FeedOptions {
  scenario: string;
  from?: string | number;
  to?: string | number;
  /** Build the detectors once the topology is known. */
  detectors: (topology: Topology) => { health?: SensorHealthDetector; others: Detector[] };
  /** Called before the detectors see a step (e.g. to mark sensors offline as ingest would). */
  beforeStep?: (step: SimStep, emit: (cs: Condition[]) => void) => void;
  /** Customer meter registers are readings of kind `meter` too; off unless asked (they are many). */
  meters?: boolean;
  /** Keep only every Nth meter sample (PDA readers read far less often than the simulator emits). */
  meterEvery?: number;
}

export function toReading(topology: Topology, sensor: string, ts: number, value: number, quality: Point['quality']): Point {
  const info = topology.sensors.get(sensor);
  if (!info) throw new Error(`sim-feed: sensor ${sensor} is not in the topology`);
  return { measurement: info.kind, sensor, ts, value: info.convert(value), quality, site: info.site, dma: info.dma };
}

export async function runScenario(o: FeedOptions): Promise<SimRun> {
  const sim = new Simulation({ scenario: o.scenario, from: o.from, to: o.to });
  const topology = new Topology(sim.topology());
  const { health, others } = o.detectors(topology);
  const conditions: Condition[] = [];
  const emit = (cs: Condition[]) => { conditions.push(...cs); };
  let firstTs = NaN; let lastTs = NaN; let readings = 0; let meterStep = 0;
  try {
    for await (const step of sim.steps()) {
      if (Number.isNaN(firstTs)) firstTs = step.ts;
      lastTs = step.ts;
      o.beforeStep?.(step, emit);
      const batch = step.samples.map((s) => toReading(topology, s.sensor, s.ts, s.value, s.quality));
      if (o.meters && step.meters.length && (meterStep++ % (o.meterEvery ?? 1)) === 0) {
        for (const m of step.meters) batch.push(toReading(topology, m.meter, m.ts, m.reading, 'good'));
      }
      readings += batch.length;
      if (health) emit(health.onReadings(batch));
      for (const d of others) emit(d.onReadings(batch));
      if (health) emit(health.onTime(step.ts));
      for (const d of others) emit(d.onTime(step.ts));
    }
  } finally {
    sim.close();
  }
  return { topology, groundTruth: sim.groundTruth, conditions, firstTs, lastTs, readings };
}

/** Raises of one condition type, in time order. */
export function raises(conditions: readonly Condition[], type: string): Condition[] {
  return conditions.filter((c) => c.type === type && c.state === 'raise');
}
