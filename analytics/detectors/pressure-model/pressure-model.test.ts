/**
 * The pressure-model detector on a hand-made town of two DMAs whose loggers follow one demand curve:
 * learned on two quiet days, then a lasting loss of 10 kPa at one logger raises leak_candidate in
 * its DMA with that logger ranked first, and clears when it is gone; nothing while quiet.
 */
import { describe, expect, it } from 'vitest';
import { topologySchema } from '../../../core/config/schema.ts';
import type { Point } from '../../../core/model/reading.ts';
import { Topology } from '../../../core/topology/topology.ts';
import { runStep } from '../../step.ts';
import type { Condition } from '../../types.ts';
import { ScheduledFaults } from '../../../test/support/sim-drive.ts';
import { PressureModelDetector, type RankedSensor } from './index.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.parse('2024-05-06T00:00:00+08:00');
const SENSORS = ['P-a1', 'P-a2', 'P-a3', 'P-b1', 'P-b2', 'P-b3'];

const topology = () => new Topology(topologySchema.parse({
  sites: [{ id: 'network' }],
  dmas: [{ id: 'a', inlets: [], outlets: [] }, { id: 'b', inlets: [], outlets: [] }],
  sensors: SENSORS.map((id, k) => ({ id, kind: 'pressure', unit: 'MPa', site: 'network', dma: id[2], place: 'network', x: k * 100, y: 0 })),
}));

describe('pressure-model detector', () => {
  it('learns on quiet days, then a lasting loss at one logger is a leak candidate in its DMA, that logger first', () => {
    const detector = new PressureModelDetector({ topology: topology(), health: new ScheduledFaults(), timezone: 'Asia/Shanghai' });
    const leak = { from: T0 + 60 * HOUR, to: T0 + 70 * HOUR };
    const conditions: Condition[] = [];
    // 5-min samples over 4 days: head loss grows with a daily demand curve, each logger its own share, a little noise
    for (let ts = T0; ts < T0 + 96 * HOUR; ts += 5 * MIN) {
      const demand = 1 + 0.5 * Math.sin((2 * Math.PI * (ts - T0)) / (24 * HOUR));
      const batch: Point[] = SENSORS.map((sensor, k) => {
        const loss = sensor === 'P-a2' && ts >= leak.from && ts < leak.to ? 0.01 : 0;
        const value = 0.35 - (0.02 + 0.005 * k) * demand * demand + 0.0003 * Math.sin(ts / MIN * 1.7 + k) - loss;
        return { measurement: 'pressure', sensor, ts, value, quality: 'good', site: 'network', dma: sensor[2] };
      });
      conditions.push(...runStep([detector], batch, ts + 5 * MIN).conditions);
      if (ts === T0 + 47 * HOUR) expect(detector.learned).toBe(false);
    }
    expect(detector.learned).toBe(true);
    expect(conditions.map((c) => `${c.id} ${c.state}`)).toEqual(['leak_candidate:a raise', 'leak_candidate:a clear']);
    const [raise, clear] = conditions;
    expect(raise.ts).toBeGreaterThan(leak.from);
    expect(raise.ts - leak.from).toBeLessThanOrEqual(6 * HOUR);
    expect(clear.ts).toBeGreaterThan(leak.to);
    const ranked = raise.evidence!.ranked as RankedSensor[];
    expect(ranked[0]).toMatchObject({ sensor: 'P-a2', x: 100, y: 0 });
    expect(ranked[0].residualMPa).toBeLessThan(-0.002);
  });
});
