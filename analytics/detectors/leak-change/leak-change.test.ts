import { describe, expect, it } from 'vitest';
import { topologySchema } from '../../../core/config/schema.ts';
import type { Point } from '../../../core/model/reading.ts';
import { Topology } from '../../../core/topology/topology.ts';
import { runStep } from '../../step.ts';
import type { Condition } from '../../types.ts';
import { Rng } from '../../../simulators/hydraulics/random.ts';
import { LeakChangeDetector } from './index.ts';
import type { BurstView, OpenAlarm } from '../../types.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../../core/tsdb/sqlite.ts';
import { DayCalendar } from '../../baseline/calendar.ts';
import { LeakDecisionStore, readLeakDecisions, type LeakDecisionLookup, type NewLeakDecision } from './decisions.ts';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ZONE = 'Asia/Shanghai';
/** Monday 2024-01-01 00:00 local. */
const START = Date.parse('2024-01-01T00:00:00+08:00');

/** Day-to-day scatter of use for the nights-after test (±5 m³/h, σ 2.9): 3 σ of one night's residual is above a 6 m³/h step. */
const NIGHT_NOISE_M3H = 5;

/** Extra flow of a leak at `ts`, m³/h. */
type Leak = (ts: number) => number;

/**
 * A DMA with 25 m³/h of background leakage under a consumption of 15 m³/h at night and up to 75 by
 * day (later on weekends); the consumption scales with the season (±10 % over the year) and the
 * day's weather (±5 %), with hourly noise of ~2 % (all deterministic); read every `intervalMin` minutes.
 */
interface RunInputs {
  decisions?: LeakDecisionLookup;
  beforeStep?: (ts: number) => void;
  /** A detector to go on with (a restart's), fed from day `fromDay` on; the readings before it are generated, not fed. */
  detector?: LeakChangeDetector;
  fromDay?: number;
  /** Collects every reading fed. */
  readings?: Point[];
  /** Use that varies from day to day at every hour (the night's too), uniform within ± this, m³/h: what one night alone cannot tell from a leak. */
  nightNoiseM3h?: number;
  /** Days (from START) that are days off whatever their weekday: used like a Sunday. */
  daysOff?: number[];
  /** The site calendar the detector is given. */
  calendar?: DayCalendar;
  /** The burst detector's view (a burst raised in the DMA from its onset to its clear). */
  bursts?: BurstView;
  /** Changes a reading before it is fed (a faulty meter). */
  meter?: (p: Point) => Point;
}

function dmaTopology(intervalMin: number): Topology {
  return new Topology(topologySchema.parse({
    sites: [{ id: 's' }],
    dmas: [{ id: 'dma', inlets: ['in'] }],
    sensors: [{ id: 'in', kind: 'flow', unit: 'm3/h', site: 's', dma: 'dma', place: 'inlet', intervalS: intervalMin * 60 }],
  }));
}

function newDetector(intervalMin = 60, decisions?: LeakDecisionLookup, calendar?: DayCalendar, bursts?: BurstView): LeakChangeDetector {
  return new LeakChangeDetector({ topology: dmaTopology(intervalMin), health: { isFaulty: () => false }, timezone: ZONE, calendar }, {}, { decisions, bursts });
}

function run(days: number, leaks: Leak[] = [], intervalMin = 60, sundayShare = 1, inputs: RunInputs = {}): Condition[] {
  const detector = inputs.detector ?? newDetector(intervalMin, inputs.decisions, inputs.calendar, inputs.bursts);
  const feedFrom = START + (inputs.fromDay ?? 0) * DAY;
  const conditions: Condition[] = [];
  const step = intervalMin * 60_000;
  // seeded streams, independent from hour to hour and day to day
  const hourly = new Rng(1, 'hourly');
  const daily = new Rng(1, 'weather');
  const nightly = new Rng(1, 'night use');
  let hourNoise = 0;
  let weather = 1;
  let nightUse = 0;
  for (let ts = START; ts < START + days * DAY; ts += step) {
    if ((ts - START) % HOUR === 0) hourNoise = hourly.uniform(-1, 1);
    if ((ts - START) % DAY === 0) {
      weather = 1 + 0.05 * daily.uniform(-1, 1);
      nightUse = (inputs.nightNoiseM3h ?? 0) * nightly.uniform(-1, 1);
    }
    const localHour = (((ts - START) % DAY) / HOUR);
    const day = Math.floor((ts - START) / DAY);
    const weekday = inputs.daysOff?.includes(day) ? 6 : day % 7; // 0 = Monday
    const weekend = weekday >= 5;
    const consumption = (15 + 60 * Math.max(0, Math.sin((Math.PI * (localHour - (weekend ? 7 : 6))) / 16))) * (weekday === 6 ? sundayShare : 1);
    const season = 1 + 0.1 * Math.sin((2 * Math.PI * (ts - START)) / (365 * DAY));
    const value = (25 + consumption * season * weather) * (1 + 0.02 * hourNoise) + nightUse + leaks.reduce((a, l) => a + l(ts), 0);
    if (ts < feedFrom) continue;
    const read: Point = { measurement: 'flow', sensor: 'in', ts, value, quality: 'good', site: 's', dma: 'dma' };
    const p = inputs.meter ? inputs.meter(read) : read;
    inputs.readings?.push(p);
    inputs.beforeStep?.(ts);
    const r = runStep([detector], [p], ts);
    if (r.failures.length) throw r.failures[0].error;
    conditions.push(...r.conditions);
  }
  return conditions;
}

/** A slow leak growing over ten weeks to 6 m³/h from day 30, never repaired. */
const STACKED_A_FROM = START + 30 * DAY;
const stackedA: Leak = (ts) => (ts < STACKED_A_FROM ? 0 : Math.min(6, (6 * (ts - STACKED_A_FROM)) / (70 * DAY)));
/** A second one growing to 6 m³/h over three weeks from day 160, two months after A stopped growing. */
const STACKED_B_FROM = START + 160 * DAY;
const stackedB = (repairedTs = Infinity): Leak => (ts) => (ts < STACKED_B_FROM || ts >= repairedTs ? 0 : Math.min(6, (6 * (ts - STACKED_B_FROM)) / (21 * DAY)));

const transitions = (cs: Condition[], type: string, state: Condition['state']) => cs.filter((c) => c.type === type && c.state === state);

describe('leak-change: slow and small abrupt leaks', () => {
  it('stays quiet on thirteen weeks of a DMA whose demand varies by weekday, season and noise', () => {
    const cs = run(91);
    expect(cs.filter((c) => c.state === 'raise')).toEqual([]);
  });

  it('reports abrupt_leak for a 4 m³/h step by day (10 % of night flow) before the night, confirms it the next night with its start and size, and clears it on the repair', () => {
    const from = START + 35 * DAY + 13 * HOUR;
    const to = START + 49 * DAY + 10 * HOUR;
    const cs = run(60, [(ts) => (ts >= from && ts < to ? 4 : 0)]);
    const raised = transitions(cs, 'abrupt_leak', 'raise');
    expect(raised).toHaveLength(1);
    // reported when its excess over 3 hours reached 6 σ of such an excess at those hours, before the night's end
    expect(raised[0].evidence!.confirmed).toBe(false);
    expect(raised[0].evidence!.excessSigma as number).toBeGreaterThanOrEqual(6);
    expect(raised[0].ts).toBeGreaterThan(from + 3 * HOUR);
    expect(raised[0].ts).toBeLessThan(START + 36 * DAY + 5 * HOUR);
    const confirmed = transitions(cs, 'abrupt_leak', 'update');
    expect(confirmed.map((c) => [c.id, c.ts, c.evidence!.confirmed])).toEqual([[raised[0].id, START + 36 * DAY + 5 * HOUR, true]]); // the end of the next night's window
    // the change point of the hourly residuals, within two hours
    expect(Math.abs((confirmed[0].evidence!.estimatedStartTs as number) - from)).toBeLessThanOrEqual(2 * HOUR);
    // the day's weather moves the hours around the step by a few m³/h: the size is right within a quarter
    expect(Math.abs((confirmed[0].evidence!.sizeM3h as number) - 4)).toBeLessThanOrEqual(1);
    const cleared = transitions(cs, 'abrupt_leak', 'clear');
    expect(cleared).toHaveLength(1);
    expect(cleared[0].id).toBe(raised[0].id);
    expect(cleared[0].ts).toBe(START + 50 * DAY + 5 * HOUR);
    // its flow was taken off the stored hours while it ran: no slow leak either, before or after the repair
    expect(cs.filter((c) => c.state === 'raise' && c.type !== 'abrupt_leak')).toEqual([]);
  });

  describe('a step that began with a burst (one event, one alarm)', () => {
    // at hourly data a 4 m³/h step from 13:00 is reported by day at midnight, 11 hours on; the burst
    // (or the step) ends at 02:00, inside the night window, whose end (05:00) judges the step
    const from = START + 35 * DAY + 13 * HOUR;
    /** The burst detector's view: `burst:dma` raised from `onset` until `clearedTs` (the detectors run in event time, so the view follows the readings fed). */
    const burstView = (onset: number, clearedTs: number) => {
      let now = START;
      const view: BurstView = { activeBurstOnset: (dma) => (dma === 'dma' && now >= onset + 2 * MIN && now < clearedTs ? { id: 'burst:dma', onsetTs: onset } : undefined) };
      return { view, beforeStep: (ts: number) => { now = ts; } };
    };
    const abrupt = (cs: Condition[]) => cs.filter((c) => c.type === 'abrupt_leak').map((c) => ({
      state: c.state, ts: c.ts, parent: c.evidence!.parent, afterBurst: c.evidence!.afterBurst, confirmed: c.evidence!.confirmed, code: c.text?.code,
    }));

    it('goes under the burst while the burst is raised, and is withdrawn with it when the night shows nothing', () => {
      const burst = burstView(from + 5 * MIN, from + 13 * HOUR);
      const cs = run(40, [(ts) => (ts >= from && ts < from + 13 * HOUR ? 4 : 0)], 60, 1, { bursts: burst.view, beforeStep: burst.beforeStep });
      const seen = abrupt(cs);
      expect(seen.map((c) => [c.state, c.parent])).toEqual([['raise', 'burst:dma'], ['clear', undefined]]);
      expect(seen[0].confirmed).toBe(false);
      expect(seen[1].code).toBe('abrupt_leak.retracted');
    });

    it('still there the night after the burst cleared: out from under the burst, an alarm of its own', () => {
      const burst = burstView(from + 5 * MIN, from + 13 * HOUR);
      const cs = run(40, [(ts) => (ts >= from ? 4 : 0)], 60, 1, { bursts: burst.view, beforeStep: burst.beforeStep });
      const seen = abrupt(cs);
      expect(seen.map((c) => [c.state, c.parent, c.afterBurst, c.confirmed])).toEqual([
        ['raise', 'burst:dma', undefined, false],
        ['clear', 'burst:dma', undefined, true],
        ['raise', undefined, 'burst:dma', true],
      ]);
      expect(seen[1].ts).toBe(seen[2].ts);
      expect(seen[2].code).toBe('abrupt_leak.outlived_burst');
    });

    it('a burst whose onset is hours from the step is another event: the step is an alarm of its own', () => {
      const burst = burstView(from - 5 * HOUR, from + 13 * HOUR);
      const cs = run(40, [(ts) => (ts >= from && ts < from + 13 * HOUR ? 4 : 0)], 60, 1, { bursts: burst.view, beforeStep: burst.beforeStep });
      expect(abrupt(cs).map((c) => [c.state, c.parent])).toEqual([['raise', undefined], ['clear', undefined]]);
    });
  });

  it('tells Sundays from Saturdays: with Sundays using 20 % less, quiet weeks raise nothing and a Sunday afternoon step is confirmed with its size', () => {
    expect(run(91, [], 60, 0.8).filter((c) => c.state === 'raise')).toEqual([]);
    const from = START + 41 * DAY + 13 * HOUR; // Sunday 13:00
    const cs = run(44, [(ts) => (ts >= from ? 4 : 0)], 60, 0.8);
    const confirmed = cs.filter((c) => c.type === 'abrupt_leak' && c.evidence!.confirmed === true);
    expect(confirmed.map((c) => c.ts)).toEqual([START + 42 * DAY + 5 * HOUR]); // the end of the next night's window
    expect(Math.abs((confirmed[0].evidence!.sizeM3h as number) - 4)).toBeLessThanOrEqual(1);
    // the change point, within four hours (a Sunday's afternoon hours scatter more than a working day's)
    expect(Math.abs((confirmed[0].evidence!.estimatedStartTs as number) - from)).toBeLessThanOrEqual(4 * HOUR);
  });

  it('#12.3 compares a holiday with days off when the site calendar names it: a Wednesday used like a Sunday raises nothing, the same day unnamed is reported', () => {
    // day 37, Wednesday 7 February 2024: the morning rises an hour later and the evening runs up to 10 m³/h above a working day's
    const holiday = 37;
    const named = new DayCalendar({ holidays: ['2024-02-07'] });
    expect(run(60, [], 60, 1, { daysOff: [holiday], calendar: named }).filter((c) => c.state === 'raise')).toEqual([]);
    const unnamed = run(60, [], 60, 1, { daysOff: [holiday] }).filter((c) => c.state === 'raise');
    expect(unnamed.map((c) => c.type)).toContain('abrupt_leak');
    expect(unnamed.every((c) => c.ts >= START + holiday * DAY && c.ts < START + (holiday + 2) * DAY)).toBe(true);
  });

  it('#12.3 leaves a festive eve and the night after it unjudged when the calendar names it (calendar `eves`); the same day unnamed is reported', () => {
    // day 37, Wednesday 7 February 2024, a working day: from 14:00 to 04:00 the next morning the town
    // uses 8 m³/h more than any other day (a festive afternoon and night), then as before
    const eve = 37;
    const festive: Leak = (ts) => (ts >= START + eve * DAY + 14 * HOUR && ts < START + (eve + 1) * DAY + 4 * HOUR ? 8 : 0);
    const unnamed = run(60, [festive], 15).filter((c) => c.state === 'raise');
    expect(unnamed.map((c) => c.type)).toContain('abrupt_leak');
    expect(unnamed.every((c) => c.ts >= START + eve * DAY && c.ts < START + (eve + 2) * DAY)).toBe(true);
    const named = new DayCalendar({ eves: ['2024-02-07'] });
    expect(run(60, [festive], 15, 1, { calendar: named }).filter((c) => c.state === 'raise')).toEqual([]);
    // a leak that starts on the eve is left to the hours after it: found the next morning
    const leak: Leak = (ts) => (ts >= START + eve * DAY + 15 * HOUR ? 8 : 0);
    const found = transitions(run(42, [festive, leak], 15, 1, { calendar: named }), 'abrupt_leak', 'raise');
    expect(found).toHaveLength(1);
    expect(found[0].ts).toBeGreaterThanOrEqual(START + (eve + 1) * DAY + 4 * HOUR);
    // measured from the hours before the eve (the change point looks back over hours with data)
    expect(Math.abs((found[0].evidence!.sizeM3h as number) - 8)).toBeLessThanOrEqual(1.5);
  });

  it('finds the same step in 15-min and 30-min data (parameters in hours and m³/h, not samples)', () => {
    const from = START + 35 * DAY + 13 * HOUR;
    const leak: Leak = (ts) => (ts >= from ? 4 : 0);
    for (const interval of [15, 30]) {
      const cs = run(38, [leak], interval);
      expect(transitions(cs, 'abrupt_leak', 'raise'), `${interval} min`).toHaveLength(1);
      expect(transitions(cs, 'abrupt_leak', 'update').map((c) => c.ts), `${interval} min`).toEqual([START + 36 * DAY + 5 * HOUR]);
    }
  });

  it('at 15-min data a meter frozen for 5 h on the evening\'s fall is a gap, not a leak: no abrupt_leak, and a step the day after is found', () => {
    const frozen = { from: START + 35 * DAY + 16 * HOUR, to: START + 35 * DAY + 21 * HOUR };
    let held: number | undefined;
    // the logger repeats its 16:00 value until 21:00 (sensor health would flag it only after 30
    // readings, 7.5 h), then reads the flow as it is
    const meter = (p: Point) => {
      if (p.ts < frozen.from || p.ts >= frozen.to) return p;
      held ??= p.value;
      return { ...p, value: held };
    };
    // until 2026-12-06 the frozen evening raised an abrupt_leak by day, retracted by the night
    expect(run(37, [], 15, 1, { meter }).filter((c) => c.state === 'raise')).toEqual([]);
    held = undefined;
    const from = START + 36 * DAY + 13 * HOUR;
    const cs = run(38, [(ts) => (ts >= from ? 8 : 0)], 15, 1, { meter });
    expect(transitions(cs, 'abrupt_leak', 'raise')).toHaveLength(1);
    expect(Math.abs((transitions(cs, 'abrupt_leak', 'raise')[0].evidence!.estimatedStartTs as number) - from)).toBeLessThanOrEqual(HOUR);
  });

  it('judges the report by day at every quarter hour in 15-min data: the same step is reported sooner than by clock hours, and quiet weeks stay quiet', () => {
    expect(run(91, [], 15).filter((c) => c.state === 'raise')).toEqual([]);
    const from = START + 35 * DAY + 13 * HOUR + 20 * 60_000; // 13:20
    // 8 m³/h: reported at 21:15 from 15-min data, at 22:00 from hourly data (this DMA's evening hours
    // scatter least; a 6 m³/h step reaches 6 σ first at the clock hour 22:00 in both)
    const leak: Leak = (ts) => (ts >= from ? 8 : 0);
    const byQuarters = transitions(run(37, [leak], 15), 'abrupt_leak', 'raise');
    const byClockHours = transitions(run(37, [leak], 60), 'abrupt_leak', 'raise'); // hourly data: clock hours only
    expect(byQuarters).toHaveLength(1);
    expect(byClockHours).toHaveLength(1);
    // at the end of an hour that began at a quarter past, half past or a quarter to, before the clock hours' report
    expect(byQuarters[0].ts % HOUR).not.toBe(0);
    expect(byQuarters[0].ts).toBeLessThan(byClockHours[0].ts);
    expect(byQuarters[0].evidence!.excessSigma as number).toBeGreaterThanOrEqual(6);
    expect(Math.abs((byQuarters[0].evidence!.estimatedStartTs as number) - from)).toBeLessThanOrEqual(2 * HOUR);
  });

  it('confirms a step only by a night after the hours that made it: a rise of one night\'s hours raises nothing, a leak from 02:00 is confirmed the next night', () => {
    const night = START + 35 * DAY; // Monday 00:00 local; the night window is 01:00–05:00
    // 3 m³/h for one night only: judged by its own hours it was confirmed at 05:00 and "repaired" a day
    // later; now its report by day (this DMA's hours scatter by 2 %) is retracted by the next night.
    // From 01:00 it begins inside the window; from 00:00 it begins before it, but the three hours that
    // make a candidate (00:00, 01:00, 02:00 here) reach into the window, so the night made it as well
    for (const fromHour of [1, 0]) {
      const bump = run(38, [(ts) => (ts >= night + fromHour * HOUR && ts < night + 5 * HOUR ? 3 : 0)]);
      const bumpLeaks = bump.filter((c) => c.type === 'abrupt_leak');
      expect(bumpLeaks.filter((c) => c.evidence!.confirmed === true), `from ${fromHour}:00`).toEqual([]);
      expect(bumpLeaks.filter((c) => c.state === 'raise').map((c) => c.id)).toEqual(bumpLeaks.filter((c) => c.evidence!.retracted === true).map((c) => c.id));
      expect(bump.filter((c) => c.state === 'raise' && c.type !== 'abrupt_leak')).toEqual([]);
    }
    // a 4 m³/h leak from 02:00 on: still there the next night, confirmed then, with its start and size
    const from = night + 2 * HOUR;
    const cs = run(38, [(ts) => (ts >= from ? 4 : 0)]);
    const confirmed = cs.filter((c) => c.type === 'abrupt_leak' && c.evidence!.confirmed === true);
    expect(confirmed.map((c) => c.ts)).toEqual([night + DAY + 5 * HOUR]);
    // before that, at most a report by day (unconfirmed)
    expect(transitions(cs, 'abrupt_leak', 'raise').map((c) => c.evidence!.confirmed)).toEqual([false]);
    expect(Math.abs((confirmed[0].evidence!.sizeM3h as number) - 4)).toBeLessThanOrEqual(1);
    expect(Math.abs((confirmed[0].evidence!.estimatedStartTs as number) - from)).toBeLessThanOrEqual(3 * HOUR);
  });

  it('confirms a step its first night cannot tell from the nights\' own scatter by the mean of the nights after it, against the week before it; quiet weeks with the same nights raise nothing', () => {
    const nights = { nightNoiseM3h: NIGHT_NOISE_M3H };
    expect(run(91, [], 60, 1, nights).filter((c) => c.state === 'raise')).toEqual([]);
    const from = START + 42 * DAY + 14 * HOUR; // Monday 14:00
    const cs = run(52, [(ts) => (ts >= from ? 6 : 0)], 60, 1, nights);
    const leaks = cs.filter((c) => c.type === 'abrupt_leak');
    // the first night alone does not confirm it (its report by day, if any, is retracted)
    expect(leaks.filter((c) => c.evidence!.confirmed === true && c.evidence!.confirmedOverNights === undefined)).toEqual([]);
    const confirmed = leaks.filter((c) => c.evidence!.confirmed === true);
    expect(confirmed).toHaveLength(1);
    expect(confirmed[0].state).toBe('raise');
    const overNights = confirmed[0].evidence!.confirmedOverNights as number;
    expect(overNights).toBeGreaterThanOrEqual(2);
    expect(overNights).toBeLessThanOrEqual(7);
    // judged when a day closes, after the nights it counts
    expect(confirmed[0].ts).toBe(START + (43 + overNights) * DAY);
    // its size is the nights' mean excess, as noisy as that mean (here 9.9 after 3 nights, ±3.0)
    expect(Math.abs((confirmed[0].evidence!.sizeM3h as number) - 6)).toBeLessThanOrEqual(1.5 * (confirmed[0].evidence!.nightSigmaM3h as number));
    // the day's own level moves all its hours: the change point is known to within half a day here
    expect(Math.abs((confirmed[0].evidence!.estimatedStartTs as number) - from)).toBeLessThanOrEqual(12 * HOUR);
    expect(confirmed[0].text).toMatchObject({ code: 'abrupt_leak.raise_nights', params: { nights: String(overNights) } });
    // nothing else: its flow is taken off from its start, so no slow leak either
    expect(cs.filter((c) => c.state === 'raise' && c.type !== 'abrupt_leak')).toEqual([]);
  });

  it('retracts a step reported by day that is gone before the night: 8 m³/h drawn from 13:00 to 23:00', () => {
    const from = START + 35 * DAY + 13 * HOUR;
    const cs = run(38, [(ts) => (ts >= from && ts < from + 10 * HOUR ? 8 : 0)]);
    const raised = transitions(cs, 'abrupt_leak', 'raise');
    expect(raised).toHaveLength(1);
    expect(raised[0].ts).toBeLessThan(from + 10 * HOUR);
    const retracted = transitions(cs, 'abrupt_leak', 'clear');
    expect(retracted.map((c) => [c.id, c.evidence!.retracted])).toEqual([[raised[0].id, true]]);
    expect(retracted[0].ts).toBeLessThanOrEqual(START + 36 * DAY + 5 * HOUR);
    expect(transitions(cs, 'abrupt_leak', 'update')).toEqual([]);
  });

  it('raises leak_trend for a leak growing to 6 m³/h over four weeks, with its start, and re-bases the reference after the repair', () => {
    const from = START + 40 * DAY;
    const repaired = START + 90 * DAY + 11 * HOUR;
    const growing: Leak = (ts) => (ts < from || ts >= repaired ? 0 : Math.min(6, (6 * (ts - from)) / (28 * DAY)));
    const cs = run(110, [growing]);
    expect(transitions(cs, 'abrupt_leak', 'raise')).toEqual([]);
    const raised = transitions(cs, 'leak_trend', 'raise');
    expect(raised).toHaveLength(1);
    const start = raised[0].evidence!.estimatedStartTs as number;
    expect(Math.abs(start - from)).toBeLessThanOrEqual(10 * DAY);
    expect(raised[0].ts - from).toBeLessThanOrEqual(21 * DAY);
    expect(raised[0].ts).toBeGreaterThan(from);
    const cleared = transitions(cs, 'leak_trend', 'clear');
    expect(cleared).toHaveLength(1);
    expect(cleared[0].evidence!.repairedTs).toBe(START + 91 * DAY); // the first day whole after the repair
    expect(cleared[0].evidence!.leakM3h as number).toBeGreaterThan(4);
  });

  it('a restart warms up from the stored readings: the raised leak_trend goes on, and its repair clears it, as without the restart', async () => {
    const from = START + 40 * DAY;
    const repaired = START + 90 * DAY + 11 * HOUR;
    const growing: Leak = (ts) => (ts < from || ts >= repaired ? 0 : Math.min(6, (6 * (ts - from)) / (28 * DAY)));
    const whole = run(110, [growing]);
    const restartTs = START + 75 * DAY;
    expect(transitions(whole, 'leak_trend', 'raise').map((c) => c.ts < restartTs)).toEqual([true]);
    const dir = mkdtempSync(join(tmpdir(), 'aw-leak-change-'));
    const store = new SqliteStore(join(dir, 'ts.db'));
    await store.init();
    try {
      const readings: Point[] = [];
      run(75, [growing], 60, 1, { readings });
      await store.write(readings);
      const restarted = newDetector();
      await restarted.warmUp(store, restartTs);
      const after = run(110, [growing], 60, 1, { detector: restarted, fromDay: 75 });
      // after the restart, the same conditions as the run without one: updates, no second raise, the same clear
      // (those at the restart instant itself came from the warm-up, which is silent)
      expect(after).toEqual(whole.filter((c) => c.ts > restartTs));
      expect(transitions(after, 'leak_trend', 'clear')).toHaveLength(1);
      // started cold instead, it knows nothing of the leak: the raised alarm is never updated or cleared
      const cold = run(110, [growing], 60, 1, { detector: newDetector(), fromDay: 75 });
      expect(cold.filter((c) => c.type === 'leak_trend')).toEqual([]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /**
   * Restarted at day `restartDay` after `whole` ran without a restart, with the alarm store's open
   * alarms as the alarm manager keeps them (the latest evidence of each condition not cleared) or
   * none: the conditions from the restart on.
   */
  async function restartedAt(restartDay: number, days: number, leaks: Leak[], whole: Condition[], withOpenAlarms: boolean): Promise<Condition[]> {
    const restartTs = START + restartDay * DAY;
    const open = new Map<string, OpenAlarm>();
    for (const c of whole.filter((x) => x.ts <= restartTs)) {
      if (c.state === 'clear') open.delete(c.id);
      else open.set(c.id, { conditionId: c.id, type: c.type, dma: c.dma, raisedAt: open.get(c.id)?.raisedAt ?? c.ts, evidence: c.evidence });
    }
    const dir = mkdtempSync(join(tmpdir(), 'aw-leak-change-'));
    const store = new SqliteStore(join(dir, 'ts.db'));
    await store.init();
    try {
      const readings: Point[] = [];
      run(restartDay, leaks, 60, 1, { readings });
      await store.write(readings);
      const restarted = new LeakChangeDetector({ topology: dmaTopology(60), health: { isFaulty: () => false }, timezone: ZONE }, {}, {
        openAlarms: withOpenAlarms ? () => [...open.values()] : undefined,
      });
      await restarted.warmUp(store, restartTs);
      return run(days, leaks, 60, 1, { detector: restarted, fromDay: restartDay });
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('a restart takes up a slow leak raised before the history it replays from its open alarm: the repair clears it as without the restart', async () => {
    // raised about day 55, settled in April; the restart on day 160 replays days 83-160, all with it running
    const from = START + 40 * DAY;
    const repaired = START + 180 * DAY + 11 * HOUR;
    const growing: Leak = (ts) => (ts < from || ts >= repaired ? 0 : Math.min(6, (6 * (ts - from)) / (28 * DAY)));
    const whole = run(200, [growing]);
    expect(transitions(whole, 'leak_trend', 'raise').map((c) => c.ts < START + 83 * DAY)).toEqual([true]);
    const clear = transitions(whole, 'leak_trend', 'clear');
    expect(clear.map((c) => c.evidence!.repairedTs)).toEqual([START + 181 * DAY]);
    const after = await restartedAt(160, 200, [growing], whole, true);
    const resumed = after.filter((c) => c.type === 'leak_trend' && c.state !== 'update');
    // the same clear on the same day, for the same repair; its figures are of the swing weight learnt again
    const key = (c: Condition) => [c.id, c.state, c.ts, c.evidence!.repairedTs];
    expect(resumed.map(key)).toEqual(clear.map(key));
    expect(Math.abs((resumed[0].evidence!.nightDropM3h as number) - 6)).toBeLessThan(0.5);
    // without the open alarms the warm-up learns the leak as the reference: its alarm is never cleared
    const blind = await restartedAt(160, 200, [growing], whole, false);
    expect(blind.filter((c) => c.type === 'leak_trend')).toEqual([]);
  });

  it('a restart takes up an abrupt leak raised before the history it replays: its repair clears it, and its flow is no new normal', async () => {
    const from = START + 20 * DAY + 14 * HOUR;
    const repaired = START + 130 * DAY + 11 * HOUR;
    const step: Leak = (ts) => (ts >= from && ts < repaired ? 4 : 0);
    const whole = run(150, [step]);
    const raised = transitions(whole, 'abrupt_leak', 'raise');
    expect(raised).toHaveLength(1);
    const clears = whole.filter((c) => c.state === 'clear');
    expect(clears.map((c) => c.id)).toEqual([raised[0].id]);
    const after = await restartedAt(110, 150, [step], whole, true);
    expect(after.filter((c) => c.state !== 'update')).toEqual(clears);
    const blind = await restartedAt(110, 150, [step], whole, false);
    expect(blind.filter((c) => c.type === 'abrupt_leak')).toEqual([]);
  });

  it('after a restart (reconcile), an abrupt leak the replayed days raised while analytics was down is raised; one repaired then is cleared', async () => {
    const from = START + 35 * DAY + 13 * HOUR;
    const to = START + 49 * DAY + 10 * HOUR;
    const step: Leak = (ts) => (ts >= from && ts < to ? 4 : 0);
    const whole = run(60, [step]);
    const raised = transitions(whole, 'abrupt_leak', 'raise')[0];
    const cleared = transitions(whole, 'abrupt_leak', 'clear')[0];
    /** The store holds every reading to `restartDay`; analytics had seen events to `analysedUntil`. */
    const restart = async (restartDay: number, open: OpenAlarm[], analysedUntil: number) => {
      const dir = mkdtempSync(join(tmpdir(), 'aw-leak-change-reconcile-'));
      const store = new SqliteStore(join(dir, 'ts.db'));
      await store.init();
      try {
        const readings: Point[] = [];
        run(restartDay, [step], 60, 1, { readings });
        await store.write(readings);
        const restarted = new LeakChangeDetector({ topology: dmaTopology(60), health: { isFaulty: () => false }, timezone: ZONE }, {}, { openAlarms: () => open });
        await restarted.warmUp(store, START + restartDay * DAY);
        const found = restarted.reconcile(open, START + restartDay * DAY, analysedUntil);
        return { found, after: run(60, [step], 60, 1, { detector: restarted, fromDay: restartDay }) };
      } finally {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    };
    // analytics stopped on day 34, back on day 40: raised at the restart with its start; its repair clears it as live
    const begun = await restart(40, [], START + 34 * DAY);
    expect(begun.found.map((c) => [c.id, c.state, c.ts])).toEqual([[raised.id, 'raise', START + 40 * DAY]]);
    expect(begun.found[0].evidence).toMatchObject({ confirmed: true, afterRestart: true });
    expect(begun.after.filter((c) => c.state !== 'update')).toEqual([cleared]);
    // seen live (analytics ran to day 38): no alarm now means none is due, nothing raised
    expect((await restart(40, [], START + 38 * DAY)).found).toEqual([]);
    // raised live, analytics stopped on day 45, back on day 55: the repair of day 49 was replayed, cleared at the restart
    const open: OpenAlarm = { conditionId: raised.id, type: 'abrupt_leak', dma: 'dma', raisedAt: raised.ts, evidence: raised.evidence };
    const repaired = await restart(55, [open], START + 45 * DAY);
    expect(repaired.found.map((c) => [c.id, c.state, c.ts])).toEqual([[raised.id, 'clear', START + 55 * DAY]]);
    expect(repaired.found[0].evidence!.endedAt).toBe(cleared.ts);
    expect(repaired.after.filter((c) => c.type === 'abrupt_leak')).toEqual([]);
  });

  it('raises a second leak_trend for a slow leak on top of one that stopped growing, and its repair clears only it', () => {
    const cs = run(240, [stackedA, stackedB(START + 215 * DAY + 11 * HOUR)]);
    const aFrom = STACKED_A_FROM;
    const bFrom = STACKED_B_FROM;
    const raised = transitions(cs, 'leak_trend', 'raise');
    // A's ten weeks of growth raise it once: while a leak grows, a rise is its growth
    expect(raised.map((c) => c.id)).toEqual(['leak_trend:dma', 'leak_trend:dma:2']);
    expect(raised[0].ts).toBeGreaterThan(aFrom);
    expect(raised[0].ts).toBeLessThan(aFrom + 70 * DAY);
    expect(raised[1].ts).toBeGreaterThan(bFrom);
    expect(raised[1].ts - bFrom).toBeLessThanOrEqual(21 * DAY);
    expect(Math.abs((raised[1].evidence!.estimatedStartTs as number) - bFrom)).toBeLessThanOrEqual(10 * DAY);
    // B's flow is measured above A's, which is known at about its 6 m³/h
    expect(raised[1].evidence!.leakM3h as number).toBeLessThan(6 + 1);
    expect(Math.abs((raised[1].evidence!.knownLeaksM3h as number) - 6)).toBeLessThanOrEqual(1.5);
    expect(raised[1].text!.code).toBe('leak_trend.raise_on_known');
    expect(raised[0].text!.code).toBe('leak_trend.raise');
    // each said when it stopped growing (a month after its peak: A's on day 100, B's on day 181), A's before B was raised on top
    const settled = cs.filter((c) => c.type === 'leak_trend' && c.evidence?.settled === true);
    expect(settled.map((c) => [c.id, c.text!.code])).toEqual([['leak_trend:dma', 'leak_trend.settled'], ['leak_trend:dma:2', 'leak_trend.settled']]);
    expect(settled[0].ts).toBeGreaterThan(START + 128 * DAY);
    expect(settled[0].ts).toBeLessThan(raised[1].ts);
    expect(settled[1].ts).toBeGreaterThan(START + 209 * DAY);
    const cleared = transitions(cs, 'leak_trend', 'clear');
    expect(cleared.map((c) => [c.id, c.evidence!.repairedTs])).toEqual([['leak_trend:dma:2', START + 216 * DAY]]);
    expect(transitions(cs, 'abrupt_leak', 'raise')).toEqual([]);
  });

  describe('#12.4 a dispatcher accepts a rise as a change of use', () => {
    /** A new factory's use, 6 m³/h day and night, reached over two weeks from day 45. */
    const factoryFrom = START + 45 * DAY;
    const factory: Leak = (ts) => (ts < factoryFrom ? 0 : Math.min(6, (6 * (ts - factoryFrom)) / (14 * DAY)));
    const decisionFor = (raised: Condition, effectiveTs: number): NewLeakDecision => ({
      alarmId: `${raised.id}@${new Date(raised.ts).toISOString()}`, conditionId: raised.id, type: raised.type as NewLeakDecision['type'], dma: 'dma',
      effectiveTs, reason: 'new night-shift factory on the ring road', decidedBy: 'dispatcher', decidedAt: 0,
    });
    const after = (cs: Condition[], ts: number) => cs.filter((c) => c.ts > ts && c.state !== 'clear');
    /** The dispatcher found the factory and accepts once its use is all there (before, it went on rising: a later rise is raised again). */
    const acceptedAt = factoryFrom + 16 * DAY + 9 * HOUR;

    it('#12.4 acceptance of a second slow leak clears it alone: the known leak below it stays raised', () => {
      const raised = transitions(run(230, [stackedA, stackedB()]), 'leak_trend', 'raise');
      expect(raised.map((c) => c.id)).toEqual(['leak_trend:dma', 'leak_trend:dma:2']);
      const decisions = new LeakDecisionStore(':memory:');
      const decision = decisions.accept(decisionFor(raised[1], STACKED_B_FROM + 30 * DAY + 9 * HOUR));
      const cs = run(230, [stackedA, stackedB()], 60, 1, { decisions });
      const cleared = transitions(cs, 'leak_trend', 'clear');
      expect(cleared.map((c) => [c.id, c.ts, c.evidence!.accepted])).toEqual([['leak_trend:dma:2', decision.effectiveTs, true]]);
      // the reference took B's use in: nothing new is raised after it
      expect(cs.filter((c) => c.ts > decision.effectiveTs && c.state === 'raise')).toEqual([]);
      decisions.close();
    });

    it('#12.4 acceptance of a slow rise re-bases the reference at the level now: the leak_trend clears accepted, and the accepted level raises nothing later', () => {
      const raised = transitions(run(100, [factory]), 'leak_trend', 'raise');
      expect(raised).toHaveLength(1);
      const decisions = new LeakDecisionStore(':memory:');
      const decision = decisions.accept(decisionFor(raised[0], acceptedAt));
      const cs = run(100, [factory], 60, 1, { decisions });
      // the same raise: nothing before the decision changed
      expect(transitions(cs, 'leak_trend', 'raise')).toEqual(raised);
      const cleared = transitions(cs, 'leak_trend', 'clear');
      expect(cleared.map((c) => [c.ts, c.evidence!.accepted, c.evidence!.decisionId, c.evidence!.reason])).toEqual([[decision.effectiveTs, true, decision.id, decision.reason]]);
      expect(cleared[0].evidence!.repairedTs).toBeUndefined();
      expect(cleared[0].text!.code).toBe('leak_trend.accepted');
      // re-based at the level of the last days, the reference includes most of the factory's use
      expect(cleared[0].evidence!.referenceM3h as number).toBeGreaterThan((raised[0].evidence!.referenceM3h as number) + 3);
      // seven more weeks at the accepted level: no alarm of any kind (without the decision, the leak stays raised)
      expect(after(cs, decision.effectiveTs)).toEqual([]);
      decisions.close();
    });

    it('#12.4 acceptance of an abrupt step, confirmed or only reported by day, clears it accepted and the new level raises nothing later (hourly and 15-min data)', () => {
      const from = START + 35 * DAY + 13 * HOUR;
      const step: Leak = (ts) => (ts >= from ? 4 : 0);
      // at 15 min the quarter hours' references must move to the new use as well
      for (const interval of [60, 15]) {
        const plain = run(63, [step], interval);
        const reported = transitions(plain, 'abrupt_leak', 'raise');
        const confirmed = transitions(plain, 'abrupt_leak', 'update');
        expect(reported).toHaveLength(1);
        expect(confirmed).toHaveLength(1);
        for (const [when, effectiveTs] of [['after the night confirmed it', confirmed[0].ts + 3 * HOUR], ['reported by day, before the night', reported[0].ts + HOUR]] as const) {
          const decisions = new LeakDecisionStore(':memory:');
          decisions.accept(decisionFor(reported[0], effectiveTs));
          const cs = run(63, [step], interval, 1, { decisions });
          const cleared = transitions(cs, 'abrupt_leak', 'clear');
          expect(cleared.map((c) => [c.id, c.ts, c.evidence!.accepted, c.evidence!.retracted]), `${when}, ${interval} min`).toEqual([[reported[0].id, effectiveTs, true, undefined]]);
          // four weeks at the new level (4 m³/h more, day and night): no step, no slow leak
          expect(after(cs, effectiveTs), `${when}, ${interval} min`).toEqual([]);
          decisions.close();
        }
      }
    });

    it('#12.4 decisions are read by event time: recorded during the run (live) or all there from the start (a replay), the same alarms', () => {
      const raised = transitions(run(100, [factory]), 'leak_trend', 'raise');
      const decision = decisionFor(raised[0], acceptedAt);
      const live = new LeakDecisionStore(':memory:');
      const liveRun = run(100, [factory], 60, 1, { decisions: live, beforeStep: (ts) => { if (ts === decision.effectiveTs) live.accept(decision); } });
      expect(live.list()).toHaveLength(1);
      const replayRun = run(100, [factory], 60, 1, { decisions: live });
      expect(replayRun).toEqual(liveRun);
      expect(transitions(replayRun, 'leak_trend', 'clear').map((c) => c.evidence!.accepted)).toEqual([true]);
      live.close();
    });

    it('#12.4 a replay reads the live state database\'s decisions read-only: none without the file or the table', () => {
      const dir = mkdtempSync(join(tmpdir(), 'aw-leak-decisions-'));
      try {
        const path = join(dir, 'state.sqlite');
        expect(readLeakDecisions(path).decisionsUpTo(Infinity)).toEqual([]);
        new Database(path).close();
        expect(readLeakDecisions(path).decisionsUpTo(Infinity)).toEqual([]);
        const live = new LeakDecisionStore(path);
        const decision = live.accept({
          alarmId: 'leak_trend:dma@2024-03-01T00:00:00.000Z', conditionId: 'leak_trend:dma', type: 'leak_trend', dma: 'dma',
          effectiveTs: START + 61 * DAY, reason: 'factory', decidedBy: 'dispatcher', decidedAt: 1,
        });
        live.close();
        const replay = readLeakDecisions(path);
        expect(replay.decisionsUpTo(START + 61 * DAY - 1)).toEqual([]);
        expect(replay.decisionsUpTo(START + 61 * DAY)).toEqual([decision]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

/**
 * A DMA fed from two sides, `west` and `east` (hourly data): the same town as above but with 6 %
 * hourly noise on its use, so a step of a few m³/h is not told from it by day; west gives 60 % of the
 * water on working days and 55 % on weekends (how the town's use spreads), within 0.1 % from hour to
 * hour. A leak draws `eastShare` of its flow from the east inlet. `oneMeter`: the same total through
 * one inlet, as a DMA metered once.
 */
function runTwoInlets(days: number, leak: Leak, eastShare: number, opts: { oneMeter?: boolean; valve?: (ts: number) => number } = {}): Condition[] {
  const inlets = opts.oneMeter ? ['in'] : ['west', 'east'];
  const topology = new Topology(topologySchema.parse({
    sites: [{ id: 's' }],
    dmas: [{ id: 'dma', inlets }],
    sensors: inlets.map((id) => ({ id, kind: 'flow', unit: 'm3/h', site: 's', dma: 'dma', place: 'inlet', intervalS: 3600 })),
  }));
  const detector = new LeakChangeDetector({ topology, health: { isFaulty: () => false }, timezone: ZONE });
  const conditions: Condition[] = [];
  const hourly = new Rng(2, 'hourly');
  const split = new Rng(2, 'split');
  const daily = new Rng(2, 'weather');
  let weather = 1;
  for (let ts = START; ts < START + days * DAY; ts += HOUR) {
    if ((ts - START) % DAY === 0) weather = 1 + 0.05 * daily.uniform(-1, 1);
    const localHour = ((ts - START) % DAY) / HOUR;
    const weekend = Math.floor((ts - START) / DAY) % 7 >= 5;
    const consumption = 15 + 60 * Math.max(0, Math.sin((Math.PI * (localHour - (weekend ? 7 : 6))) / 16));
    const town = (25 + consumption * weather) * (1 + 0.06 * hourly.uniform(-1, 1));
    const westShare = (weekend ? 0.55 : 0.6) + 0.001 * split.uniform(-1, 1) + (opts.valve?.(ts) ?? 0);
    const extra = leak(ts);
    const flows: Record<string, number> = opts.oneMeter
      ? { in: town + extra }
      : { west: town * westShare + extra * (1 - eastShare), east: town * (1 - westShare) + extra * eastShare };
    const points: Point[] = inlets.map((sensor) => ({ measurement: 'flow', sensor, ts, value: flows[sensor], quality: 'good', site: 's', dma: 'dma' }));
    const r = runStep([detector], points, ts);
    if (r.failures.length) throw r.failures[0].error;
    conditions.push(...r.conditions);
  }
  return conditions;
}

describe('leak-change: where the water comes from (a DMA with two inlets)', () => {
  const from = START + 36 * DAY + 13 * HOUR; // a Tuesday, 13:00
  const nightEnd = START + 37 * DAY + 5 * HOUR;
  const leak: Leak = (ts) => (ts >= from ? 8 : 0);

  it('reports a leak by day when the inlets\' split moves with the rise, names the inlet it draws from, and the night confirms it; metered once, the same leak shows only in the night', () => {
    const cs = runTwoInlets(40, leak, 0.8);
    const raised = transitions(cs, 'abrupt_leak', 'raise');
    expect(raised).toHaveLength(1);
    expect(raised[0].evidence!.confirmed).toBe(false);
    expect(raised[0].evidence!.splitSigma as number).toBeGreaterThanOrEqual(6);
    expect(raised[0].evidence!.nearestInlet).toBe('east');
    expect(raised[0].text).toMatchObject({ code: 'abrupt_leak.reported_split', params: { inlet: 'east' } });
    expect((raised[0].evidence!.inletShareShifts as Record<string, number>).east).toBeGreaterThan(0);
    expect(raised[0].ts).toBeGreaterThanOrEqual(from + 3 * HOUR);
    expect(raised[0].ts).toBeLessThanOrEqual(from + 6 * HOUR);
    const confirmed = cs.filter((c) => c.type === 'abrupt_leak' && c.evidence!.confirmed === true);
    expect(confirmed.map((c) => [c.id, c.ts])).toEqual([[raised[0].id, nightEnd]]);

    const once = runTwoInlets(40, leak, 0.8, { oneMeter: true });
    const first = transitions(once, 'abrupt_leak', 'raise');
    expect(first).toHaveLength(1);
    // by day its hours scatter too much; it shows only in the quiet hours of the night
    expect(first[0].ts).toBeGreaterThan(raised[0].ts + 6 * HOUR);
    expect(first[0].evidence!.splitSigma).toBeUndefined();
  });

  it('stays quiet on thirteen weeks of two inlets whose split differs on weekends, and when a valve moves the split with no rise in use', () => {
    expect(runTwoInlets(91, () => 0, 0.8).filter((c) => c.state === 'raise')).toEqual([]);
    // from day 30, a valve moves 3 % of the water to the east inlet and back every 3 days at 10:00, adding none
    const valve = (ts: number) => (ts >= START + 30 * DAY + 10 * HOUR && Math.floor((ts - START - 30 * DAY - 10 * HOUR) / (3 * DAY)) % 2 === 0 ? -0.03 : 0);
    expect(runTwoInlets(91, () => 0, 0.8, { valve }).filter((c) => c.state === 'raise')).toEqual([]);
  });
});
