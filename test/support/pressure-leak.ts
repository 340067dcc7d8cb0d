/**
 * A pressure-model alarm raised by the real detector (analytics/detectors/pressure-model) for tests
 * that need one: every pressure logger of a topology follows its DMA's daily demand curve with the
 * simulator's gauge noise (as in the detector's own test), two quiet days are learned, then one
 * logger loses `lossKpa` for good. Returns the detector's conditions up to and including the raise.
 */
import type { Point } from '../../core/model/reading.ts';
import type { Topology } from '../../core/topology/topology.ts';
import { runStep } from '../../analytics/step.ts';
import type { Condition } from '../../analytics/types.ts';
import { PressureModelDetector } from '../../analytics/detectors/pressure-model/index.ts';
import { noise, ScheduledFaults } from './sim-drive.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

export function raisePressureModelLeak(topology: Topology, o: { from: number; leakAt: string; lossKpa: number; timezone?: string }): Condition[] {
  const loggers = [...topology.sensors.values()].filter((s) => s.kind === 'pressure' && s.dma && (s.place === 'network' || s.place === 'network-end'));
  const dmas = [...new Set(loggers.map((s) => s.dma))];
  if (!loggers.some((s) => s.id === o.leakAt)) throw new Error(`${o.leakAt} is not a pressure logger in a DMA`);
  const detector = new PressureModelDetector({ topology, health: new ScheduledFaults(), timezone: o.timezone ?? 'Asia/Shanghai' }, { learnDays: 2, persistHours: 6 });
  const leakFrom = o.from + 60 * HOUR;
  const conditions: Condition[] = [];
  let step = 0;
  for (let ts = o.from; ts < o.from + 96 * HOUR; ts += 5 * MIN, step++) {
    const phase = (2 * Math.PI * (ts - o.from)) / (24 * HOUR);
    const batch: Point[] = loggers.map((s, k): Point => {
      const demand = 1 + (0.5 - 0.1 * dmas.indexOf(s.dma)) * Math.sin(phase + 0.5 * dmas.indexOf(s.dma));
      // head loss grows with the square of the DMA's demand, each logger its own share; gauge noise 0.5 kPa
      const kpa = 350 - (20 + 5 * k) * demand ** 2 + 0.85 * noise(step * 7 + k, k) - (s.id === o.leakAt && ts >= leakFrom ? o.lossKpa : 0);
      return { measurement: 'pressure', sensor: s.id, ts, value: kpa / 1000, quality: 'good', site: s.site, dma: s.dma };
    });
    conditions.push(...runStep([detector], batch, ts + 5 * MIN).conditions);
    if (conditions.some((c) => c.state === 'raise')) return conditions;
  }
  throw new Error(`no leak_candidate raised for ${o.leakAt} within 36 h of its loss (conditions: ${conditions.map((c) => c.id).join(', ') || 'none'})`);
}
