/**
 * Customer meter anomalies: a quiet simulated week read once a day must raise nothing; hand-made
 * PDA histories cover each anomaly, misreads, resets, duplicates, late batches and a restart.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MeterAnomalyDetector } from './index.ts';
import { runScenario } from '../../../test/support/sim-drive.ts';
import { Topology, CUSTOMER_SITE } from '../../../core/topology/topology.ts';
import { topologySchema } from '../../../core/config/schema.ts';
import { SqliteStore } from '../../../core/tsdb/sqlite.ts';
import type { Point } from '../../../core/model/reading.ts';
import type { Condition } from '../../types.ts';

const H = 3_600_000;
const DAY = 24 * H;

describe('meters on a simulated quiet week', () => {
  it('quiet-week.yaml read once a day (as a PDA round would): no anomaly on any of the 366 meters', async () => {
    const run = await runScenario({
      scenario: 'simulators/scenarios/suite/quiet-week.yaml',
      meters: true, meterEvery: 96, // meter registers come every 15 min: keep one a day
      detectors: ({ topology }) => [new MeterAnomalyDetector({ topology })],
    });
    expect(run.topology.meters.size).toBe(366);
    // 8 readings a meter: 7 daily periods, so days 5–7 were judged against the customer's own history
    expect(run.conditions).toEqual([]);
  }, 60_000);
});

const topology = new Topology(topologySchema.parse({
  sites: [{ id: 'net' }],
  dmas: [{ id: 'a' }],
  meters: [
    { id: 'M1', customer: 'C1', dma: 'a', address: '1 Main St' },
    { id: 'M2', customer: 'C2', dma: 'a', active: false },
    { id: 'BIG', customer: 'works', dma: 'a', large: true },
  ],
}));
const T0 = Date.parse('2024-01-01T01:00:00Z');
const m = (meter: string, ts: number, value: number): Point => ({ measurement: 'meter', sensor: meter, ts, value, quality: 'good', site: CUSTOMER_SITE, dma: 'a' });
/** Daily readings of a meter using `perDay(i)` m³ on day i. */
function daily(meter: string, days: number, perDay: (i: number) => number, start = 1000): Point[] {
  const out: Point[] = [];
  let v = start;
  for (let i = 0; i <= days; i++) { out.push(m(meter, T0 + i * DAY, Math.round(v * 1000) / 1000)); v += perDay(i); }
  return out;
}
const feed = (det: MeterAnomalyDetector, readings: Point[]): Condition[] => readings.flatMap((r) => det.onReadings([r]));

describe('meter anomalies', () => {
  it('a digit slip (reading lower than the last) is flagged, then cleared as a misread; it does not pose as high use', () => {
    const det = new MeterAnomalyDetector({ topology });
    const readings = daily('M1', 12, () => 0.4);
    readings[8] = m('M1', readings[8].ts, 1002.8 - 900); // 1003.2 typed as 103.2
    const out = feed(det, readings);
    expect(out.map((c) => [c.id, c.state, c.ts])).toEqual([
      ['meter_backwards:M1', 'raise', T0 + 8 * DAY], ['meter_backwards:M1', 'clear', T0 + 9 * DAY],
    ]);
    expect(out[0].evidence).toMatchObject({ customer: 'C1', address: '1 Main St', previous: 1002.8, dropM3: 900 });
    expect(out[1].evidence).toMatchObject({ resolution: 'misread' });
  });

  it('a register that restarts lower (replaced meter) becomes the new reference after two readings', () => {
    const det = new MeterAnomalyDetector({ topology });
    const before = daily('M1', 6, () => 0.4);
    const after = daily('M1', 6, () => 0.4, 0).map((r) => m('M1', r.ts + 7 * DAY, r.value));
    const out = feed(det, [...before, ...after]);
    expect(out.map((c) => [c.id, c.state])).toEqual([['meter_backwards:M1', 'raise'], ['meter_backwards:M1', 'clear']]);
    expect(out[1].evidence).toMatchObject({ resolution: 'register_reset', newReference: 0 });
  });

  it('duplicates and a late batch (older than what was read since) are ignored', () => {
    const det = new MeterAnomalyDetector({ topology });
    const readings = daily('M1', 10, () => 0.4);
    expect(feed(det, readings)).toEqual([]);
    // the same batch uploaded twice, and a late one with an older (lower) reading
    expect(det.onReadings(readings)).toEqual([]);
    expect(det.onReadings([m('M1', T0 + 5 * DAY + H, 1002.05)])).toEqual([]);
  });

  it('zero use on an active account for 14 days; a closed account may read zero', () => {
    const det = new MeterAnomalyDetector({ topology });
    const use = (i: number) => (i >= 5 && i < 25 ? 0 : 0.3);
    const out = feed(det, [...daily('M1', 30, use), ...daily('M2', 30, use)]);
    expect(out.map((c) => [c.id, c.state, c.ts])).toEqual([
      ['meter_zero_use:M1', 'raise', T0 + 19 * DAY], ['meter_zero_use:M1', 'clear', T0 + 26 * DAY],
    ]);
  });

  it('use far above the customer\'s own history is flagged, and cleared when it is back to usual', () => {
    const det = new MeterAnomalyDetector({ topology });
    // 0.3–0.5 m³ a day (weekends higher), then a leak of 2 m³ a day for three days
    const use = (i: number) => (i >= 20 && i < 23 ? 2.4 : i % 7 >= 5 ? 0.5 : 0.3);
    const out = feed(det, daily('M1', 30, use));
    expect(out.map((c) => [c.id, c.state, c.ts])).toEqual([
      ['meter_high_use:M1', 'raise', T0 + 21 * DAY], ['meter_high_use:M1', 'clear', T0 + 24 * DAY],
    ]);
    expect(out[0].evidence).toMatchObject({ m3PerDay: 2.4, usualM3PerDay: 0.3 });
  });

  it('continuous use over three days with hourly readings; a quiet hour resets it; large accounts and monthly readings are not judged', () => {
    const det = new MeterAnomalyDetector({ topology });
    const hourly = (meter: string, hours: number, perHour: (h: number) => number) => {
      const out: Point[] = []; let v = 500;
      for (let h = 0; h <= hours; h++) { out.push(m(meter, T0 + h * H, Math.round(v * 1000) / 1000)); v += perHour(h); }
      return out;
    };
    // a normal household: nothing at night (hours 1–5 local), so never continuous
    expect(feed(det, hourly('M2', 5 * 24, (h) => (h % 24 < 5 ? 0 : 0.05)))).toEqual([]);
    // a running toilet: never below 20 L/h
    const leak = feed(det, hourly('M1', 5 * 24, (h) => 0.02 + (h % 24 > 6 ? 0.05 : 0)));
    expect(leak.map((c) => [c.id, c.state, c.ts])).toEqual([['meter_continuous_use:M1', 'raise', T0 + 72 * H]]);
    // the enterprise account runs around the clock by nature
    expect(feed(det, hourly('BIG', 5 * 24, () => 3))).toEqual([]);
    // monthly PDA reads cannot tell
    const monthly = new MeterAnomalyDetector({ topology });
    expect(feed(monthly, [m('M1', T0, 100), m('M1', T0 + 30 * DAY, 112), m('M1', T0 + 60 * DAY, 125)])).toEqual([]);
  });

  it('periods are event-time milliseconds: readings across a daylight-saving change are compared fairly', () => {
    // Europe/Rome springs forward on 2024-03-31: a "day" of readings at 08:00 local is 23 h long,
    // and its use is compared per 24 h of elapsed time, not per calendar day
    const det = new MeterAnomalyDetector({ topology });
    const times = ['03-25', '03-26', '03-27', '03-28', '03-29', '03-30'].map((d) => `2024-${d}T08:00:00+01:00`)
      .concat(['03-31', '04-01', '04-02', '04-03'].map((d) => `2024-${d}T08:00:00+02:00`));
    const readings = times.map((t, i) => m('M1', Date.parse(t), 100 + 0.4 * i));
    expect(readings[6].ts - readings[5].ts).toBe(23 * H);
    expect(feed(det, readings)).toEqual([]);
  });

  it('a restart warms up the customers\' history from the store, so high use is judged at the next reading', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meters-warmup-'));
    const store = new SqliteStore(join(dir, 'tsdb.sqlite'));
    await store.init();
    try {
      const readings = daily('M1', 10, () => 0.3);
      await store.write(readings);
      const det = new MeterAnomalyDetector({ topology });
      await det.warmUp(store, T0 + 10 * DAY + 1);
      const out = det.onReadings([m('M1', T0 + 11 * DAY, readings[10].value + 1.5)]);
      expect(out.map((c) => [c.id, c.state])).toEqual([['meter_high_use:M1', 'raise']]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('after a restart (reconcile), zero use read while analytics was down is raised, and one that ended then is cleared', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meters-reconcile-'));
    const restart = async (name: string, perDay: (i: number) => number, open: { conditionId: string; type: string; raisedAt: number }[]) => {
      const store = new SqliteStore(join(dir, `${name}.sqlite`));
      await store.init();
      try {
        await store.write(daily('M1', 30, perDay));
        const det = new MeterAnomalyDetector({ topology });
        await det.warmUp(store, T0 + 30 * DAY + 1);
        return det.reconcile(open, T0 + 30 * DAY + 1);
      } finally {
        await store.close();
      }
    };
    try {
      // M1 reads zero from day 10 on: the run before stopped on day 12, before the 14 days were up
      const begun = await restart('begun', (i) => (i >= 10 ? 0 : 0.3), []);
      expect(begun.map((c) => [c.id, c.state, c.ts])).toEqual([['meter_zero_use:M1', 'raise', T0 + 30 * DAY + 1]]);
      expect(begun[0].evidence).toMatchObject({ customer: 'C1', since: T0 + 10 * DAY, afterRestart: true });
      // zero from day 5 to 25, alarmed on day 19 by the run before, which stopped on day 20
      const open = [{ conditionId: 'meter_zero_use:M1', type: 'meter_zero_use', raisedAt: T0 + 19 * DAY }];
      const ended = await restart('ended', (i) => (i >= 5 && i < 25 ? 0 : 0.3), open);
      expect(ended.map((c) => [c.id, c.state, c.ts])).toEqual([['meter_zero_use:M1', 'clear', T0 + 30 * DAY + 1]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad options naming the key', () => {
    expect(() => new MeterAnomalyDetector({ topology }, { highFactor: 1 })).toThrow(/meters\.highFactor/);
    expect(() => new MeterAnomalyDetector({ topology }, { zeroDays: -1 })).toThrow(/meters\.zeroDays/);
  });
});
