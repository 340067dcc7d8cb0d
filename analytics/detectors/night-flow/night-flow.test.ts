import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../../core/tsdb/sqlite.ts';
import { LocalTime } from '../../baseline/local-time.ts';
import type { DetectorContext, OpenAlarm } from '../../types.ts';
import { feedTown, raises, runScenario, ScheduledFaults, syntheticTopology, type TownEvent } from '../../../test/support/sim-drive.ts';
import { LEAKAGE_MEASUREMENT, NIGHT_FLOW_MEASUREMENT, NightFlowDetector } from './index.ts';
import { LeakDecisionStore } from '../leak-change/decisions.ts';
import { DayCalendar } from '../../baseline/calendar.ts';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

function town(timezone = 'Asia/Shanghai', calendar?: DayCalendar) {
  const ctx: DetectorContext = { topology: syntheticTopology(), health: new ScheduledFaults(), timezone, calendar };
  const local = new LocalTime(timezone);
  return { detector: new NightFlowDetector(ctx), wall: (ts: number) => local.wallMs(ts), local };
}

describe('night flow, hand-made town', () => {
  const MON = Date.parse('2024-05-06T00:00:00+08:00');

  it('stores the minimum night flow and the leakage estimate per night, at 02:00 local', () => {
    const { detector, wall } = town();
    const { derived } = feedTown([detector], MON, MON + 3 * DAY, wall);
    const nights = derived.filter((p) => p.measurement === NIGHT_FLOW_MEASUREMENT);
    expect(nights.map((p) => p.ts)).toEqual([0, 1, 2].map((d) => MON + d * DAY + 2 * HOUR));
    // the town's demand is lowest at 03:00 (20 m³/h): the lowest 15-min mean is about 20
    for (const p of nights) expect(p.value).toBeCloseTo(20.05, 0);
    const leak = derived.filter((p) => p.measurement === LEAKAGE_MEASUREMENT);
    // 1,000 customers × 1.7 L/h = 1.7 m³/h of legitimate night use
    expect(leak[0].value).toBeCloseTo(nights[0].value - 1.7, 9);
    expect(leak[0]).toMatchObject({ sensor: 'town', dma: 'town', site: 'site1' });
    const first = detector.nights('town')[0];
    expect(new Date(first.at).toISOString()).toMatch(/T1[89]:/); // the lowest window lies near 03:00 local (19:00 UTC)
  });

  it('raises new_leak on the second night of a leak of 10 % of night flow, and clears two nights after the repair', () => {
    const { detector, wall } = town();
    feedTown([detector], MON, MON + 2 * DAY, wall);
    // from Wednesday noon to Saturday noon
    const leak: TownEvent = { from: MON + 2 * DAY + 12 * HOUR, to: MON + 5 * DAY + 12 * HOUR, burstM3h: 2.5 };
    const { conditions } = feedTown([detector], MON + 2 * DAY, MON + 8 * DAY, wall, [leak]);
    const raised = raises(conditions, 'new_leak');
    expect(raised).toHaveLength(1);
    expect(raised[0].id).toBe('new_leak:town');
    expect(raised[0].ts).toBe(MON + 4 * DAY + 4 * HOUR); // the second night with the leak (a leak stays), at 04:00
    expect(raised[0].evidence!.riseM3h as number).toBeCloseTo(2.5, 0);
    expect(raised[0].evidence!.risingNights).toBe(2);
    const clear = conditions.filter((c) => c.state === 'clear');
    expect(clear).toHaveLength(1);
    expect(clear[0].ts).toBe(MON + 7 * DAY + 4 * HOUR);
    // the repair (#12.4): the night flow fell by the leak's 2.5 m³/h, first seen the night after the repair
    expect(clear[0].evidence!.nightDropM3h as number).toBeCloseTo(2.5, 0);
    const fell = clear[0].evidence!.repairedTs as number;
    expect(fell).toBeGreaterThan(MON + 5 * DAY + 12 * HOUR);
    expect(fell).toBeLessThan(MON + 6 * DAY + 5 * HOUR);
  });

  it('waits a second night for any rise: a one-night bump is not a leak, however large', () => {
    // night flow ≈ 20 m³/h: +6 m³/h is 30 %, beyond both tests
    const bump = (from: number, to: number): TownEvent => ({ from, to, burstM3h: 6 });
    const once = town();
    feedTown([once.detector], MON, MON + 2 * DAY, once.wall);
    const oneNight = feedTown([once.detector], MON + 2 * DAY, MON + 5 * DAY, once.wall, [bump(MON + 2 * DAY + 12 * HOUR, MON + 3 * DAY + 12 * HOUR)]);
    expect(raises(oneNight.conditions, 'new_leak')).toEqual([]);
    const stays = town();
    feedTown([stays.detector], MON, MON + 2 * DAY, stays.wall);
    const lasting = feedTown([stays.detector], MON + 2 * DAY, MON + 5 * DAY, stays.wall, [bump(MON + 2 * DAY + 12 * HOUR, MON + 20 * DAY)]);
    const raised = raises(lasting.conditions, 'new_leak');
    expect(raised.map((c) => c.ts)).toEqual([MON + 4 * DAY + 4 * HOUR]); // the second night of the rise
    expect(raised[0].evidence!.risingNights).toBe(2);
  });

  it('#12.3 leaves the night after a festive eve (calendar `eves`) unjudged and unlearnt: its figure is stored, and it makes no half of a two-night rise', () => {
    // Wednesday 8 May 2024 an eve: from its noon the town uses 6 m³/h more for two nights
    const festive: TownEvent = { from: MON + 2 * DAY + 12 * HOUR, to: MON + 4 * DAY + 12 * HOUR, burstM3h: 6 };
    const unnamed = town();
    feedTown([unnamed.detector], MON, MON + 2 * DAY, unnamed.wall);
    expect(raises(feedTown([unnamed.detector], MON + 2 * DAY, MON + 6 * DAY, unnamed.wall, [festive]).conditions, 'new_leak').map((c) => c.ts))
      .toEqual([MON + 4 * DAY + 4 * HOUR]);
    const named = town('Asia/Shanghai', new DayCalendar({ eves: ['2024-05-08'] }));
    feedTown([named.detector], MON, MON + 2 * DAY, named.wall);
    const run = feedTown([named.detector], MON + 2 * DAY, MON + 6 * DAY, named.wall, [festive]);
    expect(raises(run.conditions, 'new_leak')).toEqual([]);
    // the festive night (Thursday's) is stored as a figure, not kept among the nights judged against
    expect(run.derived.filter((p) => p.measurement === NIGHT_FLOW_MEASUREMENT).map((p) => p.ts)).toContain(MON + 3 * DAY + 2 * HOUR);
    expect(named.detector.nights('town').map((n) => n.day)).not.toContain(named.local.position(MON + 3 * DAY + 3 * HOUR).day);
    expect(named.detector.nights('town').map((n) => n.day)).toContain(named.local.position(MON + 4 * DAY + 3 * HOUR).day);
  });

  it('#12.4 a new_leak a dispatcher accepts as a change of use clears accepted at the decision\'s time, and the new level raises nothing later', () => {
    // 2.5 m³/h more from Wednesday noon on, never repaired: a new user at night
    const newUse: TownEvent = { from: MON + 2 * DAY + 12 * HOUR, to: MON + 30 * DAY, burstM3h: 2.5 };
    const plain = town();
    const without = feedTown([plain.detector], MON, MON + 12 * DAY, plain.wall, [newUse]).conditions.filter((c) => c.type === 'new_leak');
    expect(without.filter((c) => c.state === 'raise').map((c) => c.ts)).toEqual([MON + 4 * DAY + 4 * HOUR]);
    expect(without.filter((c) => c.state === 'clear')).toEqual([]); // without a decision it stays raised
    const decisions = new LeakDecisionStore(':memory:');
    const effectiveTs = MON + 4 * DAY + 9 * HOUR;
    const decision = decisions.accept({
      alarmId: `new_leak:town@${new Date(MON + 4 * DAY + 4 * HOUR).toISOString()}`, conditionId: 'new_leak:town', type: 'new_leak', dma: 'town',
      effectiveTs, reason: 'bakery working nights', decidedBy: 'dispatcher', decidedAt: 0,
    });
    const { wall } = town();
    const detector = new NightFlowDetector({ topology: syntheticTopology(), health: new ScheduledFaults(), timezone: 'Asia/Shanghai' }, {}, { decisions });
    const conditions = feedTown([detector], MON, MON + 12 * DAY, wall, [newUse]).conditions.filter((c) => c.type === 'new_leak');
    const cleared = conditions.filter((c) => c.state === 'clear');
    expect(cleared.map((c) => [c.ts, c.evidence!.accepted, c.evidence!.decisionId])).toEqual([[effectiveTs, true, decision.id]]);
    expect(cleared[0].evidence!.acceptedRiseM3h as number).toBeCloseTo(2.5, 0);
    // a week more at the accepted level: nothing raised or updated
    expect(conditions.filter((c) => c.ts > effectiveTs && c.state !== 'clear')).toEqual([]);
    decisions.close();
  });

  /** Nights before Saturday and Sunday (Friday and Saturday night, 00:00–06:00 local) using 5 m³/h (25 %) more, for `weeks` weeks. */
  const restNightUse = (weeks: number): TownEvent[] => {
    const events: TownEvent[] = [];
    for (let week = 0; week < weeks; week++) {
      for (const day of [5, 6]) events.push({ from: MON + (7 * week + day) * DAY, to: MON + (7 * week + day) * DAY + 6 * HOUR, burstM3h: 5 });
    }
    return events;
  };

  it('raises nothing on the first weekend after a cold start when the working nights before it were normal: nights before rest days running 25 % higher', () => {
    const { detector, wall } = town();
    const { conditions } = feedTown([detector], MON, MON + 22 * DAY, wall, restNightUse(3));
    // the first weekend: no rest night known yet, so compared with the working nights (likeWithLike
    // false); its rise may be its kind's own and the Thursday night was normal: not a rising night
    // (before, both weekend nights rose and new_leak was raised on the Sunday at 04:00)
    expect(raises(conditions, 'new_leak')).toEqual([]);
    // the next two: compared with the rest nights before them and the working nights moved by the learnt offset
    expect(detector.nights('town').filter((n) => n.rest)).toHaveLength(6);
    expect(conditions.filter((c) => c.type === 'new_leak' && c.state !== 'clear')).toEqual([]);
  });

  it('on the first weekend after a cold start, a rise the working night before showed goes on: a leak from Thursday noon is raised on the Saturday', () => {
    const { detector, wall } = town();
    const leak: TownEvent = { from: MON + 3 * DAY + 12 * HOUR, to: MON + 20 * DAY, burstM3h: 2.5 };
    const { conditions } = feedTown([detector], MON, MON + 9 * DAY, wall, [...restNightUse(2), leak]);
    const raised = raises(conditions, 'new_leak');
    // Friday 02:00 (a working night, like with like) rose; Saturday 02:00 (before a day off, no such night known) continues it
    expect(raised.map((c) => c.ts)).toEqual([MON + 5 * DAY + 4 * HOUR]);
    expect(raised[0].evidence).toMatchObject({ likeWithLike: false, nightKind: 'into-rest', risingNights: 2 });
  });

  it('on the first weekend after a cold start, a leak from Friday noon waits for the nights it can be judged on: raised on the Tuesday', () => {
    const { detector, wall } = town();
    const leak: TownEvent = { from: MON + 4 * DAY + 12 * HOUR, to: MON + 20 * DAY, burstM3h: 2.5 };
    const { conditions } = feedTown([detector], MON, MON + 10 * DAY, wall, [...restNightUse(2), leak]);
    const raised = raises(conditions, 'new_leak');
    // the weekend's two nights are not judged (what a cold start cannot see); Sunday night (its kind
    // known: a working night's) and Monday night rise: raised at 04:00 on the Tuesday (before: on the Sunday)
    expect(raised.map((c) => c.ts)).toEqual([MON + 8 * DAY + 4 * HOUR]);
    expect(raised[0].evidence).toMatchObject({ likeWithLike: true, risingNights: 2 });
  });

  it('tells Friday nights from Saturday nights: a Sunday running as Sundays do is no half of a two-night rise', () => {
    const { detector, wall } = town();
    // Friday night (Saturday 00:00–06:00) uses 2 m³/h more than a working night, Saturday night 8 (BattLeDIM: about 14 and 22)
    const events: TownEvent[] = [];
    for (let week = 0; week < 5; week++) {
      events.push({ from: MON + (7 * week + 5) * DAY, to: MON + (7 * week + 5) * DAY + 6 * HOUR, burstM3h: 2 });
      events.push({ from: MON + (7 * week + 6) * DAY, to: MON + (7 * week + 6) * DAY + 6 * HOUR, burstM3h: 8 });
    }
    // one night of high use on the fourth Monday, right after a Saturday night like every other
    events.push({ from: MON + 21 * DAY, to: MON + 21 * DAY + 6 * HOUR, burstM3h: 4 });
    const { conditions } = feedTown([detector], MON, MON + 30 * DAY, wall, events);
    // with weekend nights as one kind (reference halfway between Friday and Saturday nights) that
    // Sunday rose by 3 m³/h (15 %), and with the Monday's bump raised new_leak
    expect(raises(conditions, 'new_leak').filter((c) => c.ts > MON + 8 * DAY)).toEqual([]);
    const kinds = detector.nights('town').slice(-9, -2).map((n) => n.kind); // the fourth week, Monday to Sunday
    expect(kinds).toEqual(['into-work', 'working', 'working', 'working', 'working', 'into-rest', 'rest']);
  });

  it('leaves a night without data out instead of guessing (gap), and ignores what is late', () => {
    const { detector, wall } = town();
    const { derived } = feedTown([detector], MON, MON + 3 * DAY, wall, [], (batch, ts) => {
      const h = ((wall(ts) / HOUR) % 24 + 24) % 24;
      return ts >= MON + DAY && ts < MON + 2 * DAY && h >= 1 && h < 5 ? [] : batch; // comms lost the second night
    });
    const nights = derived.filter((p) => p.measurement === NIGHT_FLOW_MEASUREMENT).map((p) => p.ts);
    expect(nights).toEqual([MON + 2 * HOUR, MON + 2 * DAY + 2 * HOUR]);
    // a reading for last night arriving now changes nothing
    const late = detector.onReadings([{ measurement: 'flow', sensor: 'IN-1', ts: MON + DAY + 3 * HOUR, value: 0, quality: 'good', site: 'site1', dma: 'town' }]);
    expect(late).toEqual([]);
    expect(detector.drainDerived()).toEqual([]);
  });

  it('follows local time across DST (Europe/Rome): one figure per night, the short and the long night too', () => {
    const { detector, wall, local } = town('Europe/Rome');
    const from = Date.UTC(2024, 2, 28, 23); // 2024-03-29 00:00 CET
    const { derived } = feedTown([detector], from, from + 4 * DAY, wall);
    const nights = derived.filter((p) => p.measurement === NIGHT_FLOW_MEASUREMENT);
    expect(nights.map((p) => new Date(p.ts).toISOString())).toEqual([
      '2024-03-29T01:00:00.000Z', '2024-03-30T01:00:00.000Z',
      '2024-03-31T01:00:00.000Z', // 02:00 did not exist: the window starts when the clocks jump, 03:00 CEST
      '2024-04-01T00:00:00.000Z', // 02:00 CEST
    ]);
    // the short night's minimum comes from 03:00–04:00 local, which holds the town's 03:00 low
    const short = detector.nights('town')[2];
    expect(local.position(short.at).msOfDay).toBeGreaterThanOrEqual(3 * HOUR);
    const fall = town('Europe/Rome');
    const f = feedTown([fall.detector], Date.UTC(2024, 9, 25, 22), Date.UTC(2024, 9, 25, 22) + 3 * DAY, fall.wall).derived;
    expect(f.filter((p) => p.measurement === NIGHT_FLOW_MEASUREMENT)).toHaveLength(3); // the 25-hour night gives one figure
  });

  it('restarts at 03:00 through warmUp and still closes the night with the same figure', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aw-night-'));
    const store = new SqliteStore(join(dir, 'ts.db'));
    await store.init();
    try {
      const whole = town();
      const ref = feedTown([whole.detector], MON, MON + 3 * DAY, whole.wall).derived.filter((p) => p.measurement === NIGHT_FLOW_MEASUREMENT);
      const first = town();
      const restartAt = MON + 2 * DAY + 3 * HOUR;
      const before = feedTown([first.detector], MON, restartAt, first.wall);
      await store.write(before.readings);
      const second = town();
      await second.detector.warmUp(store, restartAt);
      expect(second.detector.nights('town')).toHaveLength(2);
      const after = feedTown([second.detector], restartAt, MON + 3 * DAY, second.wall).derived.filter((p) => p.measurement === NIGHT_FLOW_MEASUREMENT);
      expect(after).toHaveLength(1);
      expect(after[0].ts).toBe(ref[2].ts);
      expect(after[0].value).toBeCloseTo(ref[2].value, 9);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('night flow, a restart after a long-running leak', () => {
  const MON = Date.parse('2024-05-06T00:00:00+08:00');
  // 2.5 m³/h from Wednesday noon of the first week to day 75: raised on day 4, long before the 57 nights a restart on day 65 replays
  const leak: TownEvent = { from: MON + 2 * DAY + 12 * HOUR, to: MON + 75 * DAY + 12 * HOUR, burstM3h: 2.5 };

  it('takes up a new_leak raised before the nights its warm-up replays from its open alarm: the repair clears it as without the restart', async () => {
    const whole = town();
    const { conditions } = feedTown([whole.detector], MON, MON + 80 * DAY, whole.wall, [leak]);
    const leakAlarms = conditions.filter((c) => c.type === 'new_leak');
    expect(raises(conditions, 'new_leak').map((c) => c.ts)).toEqual([MON + 4 * DAY + 4 * HOUR]);
    const clear = leakAlarms.filter((c) => c.state === 'clear');
    expect(clear.map((c) => c.ts)).toEqual([MON + 77 * DAY + 4 * HOUR]);
    const restartAt = MON + 65 * DAY + 12 * HOUR;
    // the alarm as the alarm manager keeps it: raised on day 4, with the latest update's evidence
    const last = leakAlarms.filter((c) => c.ts <= restartAt).at(-1)!;
    const open: OpenAlarm = { conditionId: 'new_leak:town', type: 'new_leak', dma: 'town', raisedAt: MON + 4 * DAY + 4 * HOUR, evidence: last.evidence };
    const dir = mkdtempSync(join(tmpdir(), 'aw-night-'));
    const store = new SqliteStore(join(dir, 'ts.db'));
    await store.init();
    try {
      await store.write(feedTown([town().detector], MON, restartAt, whole.wall, [leak]).readings);
      const after = async (openAlarms?: () => OpenAlarm[]) => {
        const ctx: DetectorContext = { topology: syntheticTopology(), health: new ScheduledFaults(), timezone: 'Asia/Shanghai' };
        const restarted = new NightFlowDetector(ctx, {}, { openAlarms });
        await restarted.warmUp(store, restartAt);
        return feedTown([restarted], restartAt, MON + 80 * DAY, whole.wall, [leak]).conditions.filter((c) => c.type === 'new_leak');
      };
      const resumed = await after(() => [open]);
      expect(resumed.filter((c) => c.state !== 'update').map((c) => [c.id, c.state, c.ts])).toEqual([['new_leak:town', 'clear', MON + 77 * DAY + 4 * HOUR]]);
      expect(resumed.at(-1)!.evidence!.nightDropM3h as number).toBeCloseTo(2.5, 0);
      // without the open alarm the warm-up learnt the leak's nights as normal: no update, no clear
      expect(await after()).toEqual([]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('night flow across a restart (reconcile)', () => {
  const MON = Date.parse('2024-05-06T00:00:00+08:00');
  // 2.5 m³/h from Wednesday noon to Saturday noon: live raises it on day 4 at 04:00 and clears it on day 7 at 04:00
  const leak: TownEvent = { from: MON + 2 * DAY + 12 * HOUR, to: MON + 5 * DAY + 12 * HOUR, burstM3h: 2.5 };

  async function restartAt(restart: number, open: OpenAlarm[], analysedUntil: number) {
    const dir = mkdtempSync(join(tmpdir(), 'aw-night-reconcile-'));
    const store = new SqliteStore(join(dir, 'ts.db'));
    await store.init();
    try {
      const { wall } = town();
      await store.write(feedTown([town().detector], MON, restart, wall, [leak]).readings);
      const ctx: DetectorContext = { topology: syntheticTopology(), health: new ScheduledFaults(), timezone: 'Asia/Shanghai' };
      const restarted = new NightFlowDetector(ctx, {}, { openAlarms: () => open });
      await restarted.warmUp(store, restart);
      const found = restarted.reconcile(open, restart, analysedUntil);
      const later = feedTown([restarted], restart, MON + 9 * DAY, wall, [leak]).conditions.filter((c) => c.type === 'new_leak');
      return { found, later };
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('a leak raised by the replayed nights after analytics stopped is raised at the restart; one it had seen live is not', async () => {
    // analytics stopped on day 2, before the leak; back on day 4 at noon
    const begun = await restartAt(MON + 4 * DAY + 12 * HOUR, [], MON + 2 * DAY);
    expect(begun.found.map((c) => [c.id, c.state, c.ts])).toEqual([['new_leak:town', 'raise', MON + 4 * DAY + 12 * HOUR]]);
    expect(begun.found[0].evidence).toMatchObject({ since: MON + 4 * DAY + 4 * HOUR, afterRestart: true });
    expect(begun.later.filter((c) => c.state !== 'update').map((c) => [c.state, c.ts])).toEqual([['clear', MON + 7 * DAY + 4 * HOUR]]);
    // had analytics run past the raise (no alarm then: not this platform's to raise again)
    const seen = await restartAt(MON + 4 * DAY + 12 * HOUR, [], MON + 4 * DAY + 6 * HOUR);
    expect(seen.found).toEqual([]);
  });

  it('an open new_leak whose repair the replayed nights saw is cleared at the restart, not taken up', async () => {
    const open: OpenAlarm = { conditionId: 'new_leak:town', type: 'new_leak', dma: 'town', raisedAt: MON + 4 * DAY + 4 * HOUR, evidence: {} };
    const repaired = await restartAt(MON + 8 * DAY, [open], MON + 4 * DAY + 6 * HOUR);
    expect(repaired.found.map((c) => [c.id, c.state, c.ts])).toEqual([['new_leak:town', 'clear', MON + 8 * DAY]]);
    expect(repaired.found[0].evidence).toMatchObject({ endedAt: MON + 7 * DAY + 4 * HOUR, afterRestart: true });
    expect(repaired.later).toEqual([]);
  });
});

describe('night flow, simulated demo town (incipient-leak.yaml)', () => {
  it('finds the growing leak in West within three nights, and nothing elsewhere', async () => {
    const run = await runScenario({ scenario: 'incipient-leak.yaml', detectors: (ctx) => [new NightFlowDetector(ctx)] });
    const leak = run.groundTruth.find((t) => t.type === 'leak')!;
    const raised = raises(run.conditions, 'new_leak');
    expect(raised.map((c) => c.dma)).toEqual(['west']);
    // the leak grows linearly to its full size; find the first night (03:00 local) it was ≥ 10 % of the night flow
    const fullFrom = leak.expect.fullSizeFrom as number;
    const sizeAt = (ts: number) => leak.magnitude! * Math.min(1, Math.max(0, (ts - leak.start) / (fullFrom - leak.start)));
    const reference = raised[0].evidence!.referenceM3h as number;
    const nightAt = (n: number) => Date.parse('2024-05-06T03:00:00+08:00') + n * DAY;
    const firstNight = (pred: (ts: number) => boolean) => [0, 1, 2, 3, 4, 5, 6].find((n) => pred(nightAt(n)))!;
    const raisedNight = firstNight((ts) => ts + HOUR >= raised[0].ts);
    const leakNight = firstNight((ts) => ts >= leak.start);
    const tenPercentNight = firstNight((ts) => sizeAt(ts) >= 0.1 * reference);
    const sinceTen = raisedNight - tenPercentNight + 1;
    console.log(`incipient-leak: new_leak:west on night ${raisedNight - leakNight + 1} after the leak began, night ${sinceTen} after it reached 10 % of night flow (rise ${String(raised[0].evidence!.riseM3h)} m³/h)`);
    expect(sinceTen).toBeLessThanOrEqual(3);
    // the 10 % night is the leak's third; a leak must stay two nights, the weekend's first night is judged against working nights
    expect(raisedNight - leakNight + 1).toBeLessThanOrEqual(5);
    const nightFlows = run.derived.filter((p) => p.measurement === NIGHT_FLOW_MEASUREMENT);
    expect(nightFlows).toHaveLength(5 * 7);
    expect(run.derived.filter((p) => p.measurement === LEAKAGE_MEASUREMENT)).toHaveLength(5 * 7);
  }, 180_000); // a week of the simulated town: ~45 s on an idle machine, the bound is for a busy one
});
