import { describe, expect, it } from 'vitest';
import { DmaInflow, type NetInflow } from './dma-inflow.ts';
import { ScheduledFaults, syntheticTopology } from '../test/support/sim-drive.ts';
import type { Point } from '../core/model/reading.ts';

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
    expect(out).toEqual([{ dma: 'town', ts: T0, value: 42, quality: 'good', held: [] }]);
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
    expect(out).toEqual([{ dma: 'town', ts: T0 + 2 * MIN, value: 40, quality: 'uncertain', held: ['IN-2'] }]);
    // a faulty sensor's readings are ignored too (ctx.health)
    health.now = T0 + 3 * MIN;
    const out2 = minute(inflow, T0 + 3 * MIN, { 'IN-1': 30, 'IN-2': 777, 'OUT-1': 10 });
    inflow.advance(T0 + 4 * MIN, out2);
    expect(out2[0]).toMatchObject({ value: 40, held: ['IN-2'] });
  });
});
