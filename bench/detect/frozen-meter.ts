/**
 * What the balance's frozen-meter rule (analytics/dma-inflow.ts: at 10-min spacing or coarser, a flow
 * meter's third identical reading in a row and those after it are left out) costs on healthy meters:
 * BattLeDIM's L-Town flows for January–June 2019 (p227, p235 and the pump station's PUMP_1; the
 * reference data folder, core/reference-data.ts) at 5-min and 15-min samples, each meter read to a
 * resolution of 0.01 (as published) up to 2 m³/h, as a utility's meters may be. None of these meters
 * froze, so every reading left out is a healthy one: the readings and the net-demand values lost.
 * One JSON line per sample interval and resolution. Not part of `npm run bench -- detect`: its
 * figures are quoted in analytics/detectors/burst/README.md (item 14).
 *
 *   node --import tsx bench/detect/frozen-meter.ts
 */
import { pathToFileURL } from 'node:url';
import { Topology } from '../../core/topology/topology.ts';
import { topologySchema } from '../../core/config/schema.ts';
import { referenceFile } from '../../core/reference-data.ts';
import { DmaInflow } from '../../analytics/dma-inflow.ts';
import { readBattledimCsv } from './battledim-bursts.ts';

const SENSORS = ['p227', 'p235', 'PUMP_1'];

export function measureFrozenMeterRule(everyMin: number, resolutionM3h: number): Record<string, number> {
  const topology = new Topology(topologySchema.parse({
    sites: [{ id: 'ltown' }],
    dmas: [{ id: 'ltown', inlets: ['p227', 'p235'], outlets: ['PUMP_1'] }],
    sensors: SENSORS.map((id) => ({ id, kind: 'flow', unit: 'm3/h', site: 'ltown', dma: 'ltown', place: id === 'PUMP_1' ? 'pump-station' : 'inlet', intervalS: 300 })),
  }));
  const inflow = new DmaInflow(topology);
  let samples = 0;
  let netValues = 0;
  for (const { ts, values } of readBattledimCsv(referenceFile('battledim-flows'))) {
    if (ts % (everyMin * 60_000) !== 0) continue;
    samples++;
    SENSORS.forEach((sensor, i) => {
      const value = Math.round(values[i] / resolutionM3h) * resolutionM3h;
      netValues += inflow.add({ measurement: 'flow', sensor, ts, value, quality: 'good', site: 'ltown', dma: 'ltown' }).length;
    });
  }
  return { everyMin, resolutionM3h, samples, readingsLeftOut: inflow.frozenDropped, netValuesLost: samples - netValues - inflow.advance(Infinity).length };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const everyMin of [5, 15]) {
    for (const resolution of [0.01, 0.1, 0.5, 1, 2]) console.log(JSON.stringify(measureFrozenMeterRule(everyMin, resolution)));
  }
}
