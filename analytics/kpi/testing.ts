/**
 * For the KPI tests: fill a store with a simulated run, as the ingest pipeline would (sensor samples
 * converted to canonical units, customer meter registers as `meter` readings at their timestamps).
 */
import type { Point } from '../../core/model/reading.ts';
import { CUSTOMER_SITE, Topology } from '../../core/topology/topology.ts';
import type { TimeSeriesStore } from '../../core/tsdb/types.ts';
import { Simulation } from '../../simulators/engine.ts';

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
    for (const s of step.samples) {
      const info = topology.sensors.get(s.sensor);
      if (!info) throw new Error(`simulated sensor ${s.sensor} is not in the topology`);
      batch.push({ measurement: info.kind, sensor: s.sensor, ts: s.ts, value: info.convert(s.value), quality: s.quality, site: info.site, dma: info.dma });
    }
    for (const m of step.meters) {
      batch.push({ measurement: 'meter', sensor: m.meter, ts: m.ts, value: m.reading, quality: 'good', site: CUSTOMER_SITE, dma: topology.meters.get(m.meter)?.dma ?? '' });
    }
    if (batch.length > 20_000) await flush();
  }
  await flush();
  return { topology, points };
}
