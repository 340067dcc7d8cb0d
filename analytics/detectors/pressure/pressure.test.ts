import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../../core/tsdb/sqlite.ts';
import { LocalTime } from '../../baseline/local-time.ts';
import type { Condition, DetectorContext } from '../../types.ts';
import { BurstDetector } from '../burst/index.ts';
import { feedTown, raises, runScenario, ScheduledFaults, syntheticTopology, type TownEvent } from '../../../test/support/sim-drive.ts';
import { PressureDetector, type PressureOptions } from './index.ts';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const TZ = 'Asia/Shanghai';
const local = new LocalTime(TZ);
const wall = (ts: number) => local.wallMs(ts);
const MON = Date.parse('2024-05-06T00:00:00+08:00');

function town(options: PressureOptions = {}, health = new ScheduledFaults()) {
  const ctx: DetectorContext = { topology: syntheticTopology(), health, timezone: TZ };
  return { health, detector: new PressureDetector(ctx, options) };
}
const of = (cs: Condition[], id: string) => cs.filter((c) => c.id === id).map((c) => `${c.state}@${(c.ts - MON) / MIN}`);
/** P-far sits at 0.18–0.26 MPa (0.25 at night); a drop of 0.15 takes it under the 0.14 MPa minimum service pressure. */
const lowFar = (fromMin: number, toMin: number): TownEvent => ({ from: MON + fromMin * MIN, to: MON + toMin * MIN, burstM3h: 0, pressureDropMPa: { near: 0, far: 0.15 } });

describe('pressure detector, hand-made town', () => {
  it('raises pressure_low after the on-delay, not for a short dip, and clears with hysteresis and off-delay', () => {
    const { detector } = town();
    const { conditions } = feedTown([detector], MON, MON + 4 * HOUR, wall, [lowFar(60, 63), lowFar(120, 180)]);
    // the 3-minute dip at 60 is shorter than the 5-minute on-delay
    expect(of(conditions, 'pressure_low:P-far')).toEqual(['raise@125', 'clear@185']);
    const raise = conditions.find((c) => c.id === 'pressure_low:P-far')!;
    expect(raise).toMatchObject({ type: 'pressure_low', sensor: 'P-far', dma: 'town', priority: 'medium' });
    expect(raise.evidence).toMatchObject({ thresholdMPa: 0.14, belowSince: MON + 120 * MIN });
  });

  it('does not chatter when the pressure hovers around the threshold', () => {
    const { detector } = town();
    // a long low, then the pressure wobbles ±5 kPa around 0.14 for an hour: inside the hysteresis band
    const events: TownEvent[] = [lowFar(60, 120)];
    const { conditions } = feedTown([detector], MON, MON + 4 * HOUR, wall, events, (batch, ts) =>
      batch.map((r) => (r.sensor === 'P-far' && ts >= MON + 120 * MIN && ts < MON + 180 * MIN ? { ...r, value: 0.14 + (ts / MIN % 2 ? 0.005 : -0.005) } : r)));
    expect(of(conditions, 'pressure_low:P-far')).toEqual(['raise@65', 'clear@185']);
  });

  it('raises pressure_drop for a rapid drop and clears when half of it has recovered', () => {
    const { detector } = town();
    const drop: TownEvent = { from: MON + 60 * MIN, to: MON + 90 * MIN, burstM3h: 0, pressureDropMPa: { near: 0.05, far: 0 } };
    const { conditions } = feedTown([detector], MON, MON + 2 * HOUR, wall, [drop]);
    const states = of(conditions, 'pressure_drop:P-near');
    expect(states).toHaveLength(2);
    expect(states[0]).toMatch(/^raise@6[0-2]$/);
    expect(states[1]).toMatch(/^clear@9[0-2]$/);
    expect(conditions[0].evidence!.dropMPa as number).toBeGreaterThan(0.045);
    // a slow decline of the same size (the daily demand cycle) is not a rapid drop
    expect(conditions.filter((c) => c.id === 'pressure_drop:P-far')).toEqual([]);
  });

  it('raises pressure_deviation against the time-of-week baseline (a week of history, then 30 kPa low for an hour)', () => {
    const { detector } = town();
    feedTown([detector], MON, MON + 7 * DAY, wall);
    const dev: TownEvent = { from: MON + 7 * DAY + 10 * HOUR, to: MON + 7 * DAY + 11 * HOUR, burstM3h: 0, pressureDropMPa: { near: 0.03, far: 0 } };
    const { conditions } = feedTown([detector], MON + 7 * DAY, MON + 7 * DAY + 14 * HOUR, wall, [dev]);
    const c = conditions.filter((x) => x.id === 'pressure_deviation:P-near');
    expect(c.map((x) => x.state)).toEqual(['raise', 'clear']);
    expect(c[0].ts - dev.from).toBe(15 * MIN);
    expect(c[0].evidence).toMatchObject({ direction: 'below', baselineDays: 5 });
    expect(conditions.filter((x) => x.type === 'pressure_deviation' && x.sensor === 'P-far')).toEqual([]);
  });

  it('withdraws the conditions of a sensor that goes into fault, and ignores it until it recovers; late readings change nothing', () => {
    const health = new ScheduledFaults([{ sensor: 'P-far', from: MON + 100 * MIN, to: MON + 200 * MIN }]);
    const { detector } = town({}, health);
    const { conditions } = feedTown([detector], MON, MON + 150 * MIN, wall, [lowFar(60, 300)], undefined, health);
    expect(of(conditions, 'pressure_low:P-far')).toEqual(['raise@65', 'clear@100']);
    expect(conditions.find((c) => c.state === 'clear')!.evidence!.reason).toBe('sensor in fault');
    const late = detector.onReadings([{ measurement: 'pressure', sensor: 'P-near', ts: MON + 10 * MIN, value: 0.01, quality: 'good', site: 'site1', dma: 'town' }]);
    expect(late).toEqual([]);
  });

  it('links conditions in a DMA with an active burst to it (evidence.parent), also when the burst comes second', () => {
    let active: string | undefined;
    const bursts = { activeBurst: (dma: string) => (dma === 'town' ? active : undefined) }; // test double of the burst detector
    const { detector } = town({ bursts });
    const first = feedTown([detector], MON, MON + 70 * MIN, wall, [lowFar(60, 200)]);
    expect(first.conditions.find((c) => c.state === 'raise')!.evidence!.parent).toBeUndefined();
    active = 'burst:town';
    const second = feedTown([detector], MON + 70 * MIN, MON + 72 * MIN, wall, [lowFar(60, 200)]);
    const low = second.conditions.filter((c) => c.id === 'pressure_low:P-far');
    expect(low).toHaveLength(1);
    expect(low[0]).toMatchObject({ id: 'pressure_low:P-far', state: 'update', evidence: { parent: 'burst:town' } });
  });

  it('restarts in the middle of a low through warmUp: no second raise, and the clear comes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aw-pressure-'));
    const store = new SqliteStore(join(dir, 'ts.db'));
    await store.init();
    try {
      const a = town();
      const before = feedTown([a.detector], MON, MON + 90 * MIN, wall, [lowFar(60, 120)]);
      expect(of(before.conditions, 'pressure_low:P-far')).toEqual(['raise@65']);
      await store.write(before.readings);
      const b = town();
      await b.detector.warmUp(store, MON + 90 * MIN);
      const after = feedTown([b.detector], MON + 90 * MIN, MON + 3 * HOUR, wall, [lowFar(60, 120)]);
      expect(of(after.conditions, 'pressure_low:P-far')).toEqual(['clear@125']);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('pressure detector across a restart (reconcile)', () => {
  /** Analytics runs until `stopAt` (minutes), the store goes on until `restartAt`; then a new detector warms up and reconciles. */
  async function restartAcross(events: TownEvent[], stopAt: number, restartAt: number) {
    const dir = mkdtempSync(join(tmpdir(), 'aw-pressure-reconcile-'));
    const store = new SqliteStore(join(dir, 'ts.db'));
    await store.init();
    try {
      const before = feedTown([town().detector], MON, MON + stopAt * MIN, wall, events);
      const downtime = feedTown([town().detector], MON + stopAt * MIN, MON + restartAt * MIN, wall, events);
      await store.write([...before.readings, ...downtime.readings]);
      // the alarms open when analytics stopped: each condition's last raise not cleared after it
      const last = new Map<string, Condition>();
      for (const c of before.conditions) if (c.state !== 'update') last.set(c.id, c);
      const open = [...last.values()].filter((c) => c.state === 'raise')
        .map((c) => ({ conditionId: c.id, type: c.type, dma: c.dma, raisedAt: c.ts, evidence: c.evidence }));
      const b = town();
      await b.detector.warmUp(store, MON + restartAt * MIN);
      return { open, found: b.detector.reconcile(open, MON + restartAt * MIN), detector: b.detector };
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('a low begun while analytics was down is raised at the restart; it clears as live', async () => {
    const { open, found, detector } = await restartAcross([lowFar(60, 180)], 30, 90);
    expect(open).toEqual([]);
    expect(of(found, 'pressure_low:P-far')).toEqual(['raise@90']);
    expect(found.find((c) => c.id === 'pressure_low:P-far')!.evidence).toMatchObject({ belowSince: MON + 60 * MIN, afterRestart: true });
    const after = feedTown([detector], MON + 90 * MIN, MON + 4 * HOUR, wall, [lowFar(60, 180)]);
    expect(of(after.conditions, 'pressure_low:P-far')).toEqual(['clear@185']);
  });

  it('a low that ended while analytics was down is cleared at the restart; one older than the replayed hour is taken up and clears when its readings say so', async () => {
    // the fall of 60 is a pressure_drop too; the replayed hour (from 70) holds its recovery, not its raise
    const seen = await restartAcross([lowFar(60, 110)], 90, 130);
    expect(seen.open.map((a) => a.conditionId).sort()).toEqual(['pressure_drop:P-far', 'pressure_low:P-far']);
    expect(seen.found.map((c) => `${c.id} ${c.state}@${(c.ts - MON) / MIN}`)).toEqual(['pressure_low:P-far clear@130']);
    const next = feedTown([seen.detector], MON + 130 * MIN, MON + 3 * HOUR, wall, []);
    expect(next.conditions.map((c) => `${c.id} ${c.state}@${(c.ts - MON) / MIN}`)).toEqual(['pressure_drop:P-far clear@130']);
    // down from 90 to 240: the low's end (110) is before the replayed hour
    const older = await restartAcross([lowFar(60, 110)], 90, 240);
    expect(older.found).toEqual([]);
    const after = feedTown([older.detector], MON + 240 * MIN, MON + 5 * HOUR, wall, []);
    expect(after.conditions.map((c) => `${c.id} ${c.state}@${(c.ts - MON) / MIN}`)).toEqual(['pressure_drop:P-far clear@240', 'pressure_low:P-far clear@245']);
  });
});

describe('pressure detector, simulated demo town', () => {
  it('burst.yaml: the drop at P-n464 is linked to burst:central; nothing else fires', async () => {
    const start = Date.parse('2024-05-06T00:00:00+08:00');
    const run = await runScenario({
      scenario: 'burst.yaml', to: start + DAY + 21 * HOUR,
      detectors: (ctx) => {
        const burst = new BurstDetector(ctx);
        return [burst, new PressureDetector(ctx, { bursts: burst })];
      },
    });
    const pressure = run.conditions.filter((c) => c.type.startsWith('pressure_'));
    const drops = raises(pressure, 'pressure_drop');
    expect(drops.map((c) => c.sensor)).toEqual(['P-n464']);
    const linked = pressure.filter((c) => c.id === 'pressure_drop:P-n464' && c.evidence?.parent === 'burst:central');
    expect(linked.length).toBeGreaterThan(0);
    expect(raises(pressure, 'pressure_low')).toEqual([]);
  }, 60_000);
});
