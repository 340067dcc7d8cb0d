/** The slow-leak judgement on daily figures alone (trend.ts): what a raise needs. */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../simulators/hydraulics/random.ts';
import { leakChangeOptionsSchema } from './options.ts';
import { SlowLeakTrend, type TrendJudgement } from './trend.ts';

const settings = leakChangeOptionsSchema.parse({});
const FIRST_DAY = 20_000;

/**
 * A quiet DMA's daily figures, night 100 m³/h and day 200, each ±1 m³/h of noise, with `extra(day)`
 * added to both (a leak adds the same flow by night and by day).
 */
function judge(days: number, extra: (day: number) => number): Array<TrendJudgement & { index: number }> {
  const trend = new SlowLeakTrend(settings);
  const noise = new Rng(7, 'trend');
  const judgements: Array<TrendJudgement & { index: number }> = [];
  for (let index = 0; index < days; index++) {
    const e = extra(index);
    const j = trend.addDay({ day: FIRST_DAY + index, nightM3h: 100 + noise.uniform(-1, 1) + e, dayM3h: 200 + noise.uniform(-1, 1) + e });
    if (j) judgements.push({ ...j, index });
  }
  return judgements;
}

describe('leak-change slow leaks: a raise needs a week at the level', () => {
  it('a rise of 6 m³/h for three days (6 σ), gone by itself, raises nothing: the CUSUM passes its decision, the week does not hold it', () => {
    const raises = judge(70, (d) => (d >= 40 && d < 43 ? 6 : 0)).filter((j) => j.kind === 'raise');
    expect(raises).toEqual([]);
  });

  it('the same 6 m³/h that stays is raised once four days of the week hold it, with its start and level', () => {
    const raises = judge(70, (d) => (d >= 40 ? 6 : 0)).filter((j) => j.kind === 'raise');
    expect(raises.map((j) => [j.index, j.serial])).toEqual([[43, 1]]);
    // the day the CUSUM left zero: noise may start it a day or two early
    expect(Math.abs(raises[0].startDay - FIRST_DAY - 40)).toBeLessThanOrEqual(2);
    expect(Math.abs(raises[0].leakM3h - 6)).toBeLessThanOrEqual(1);
  });
});

describe('leak-change slow leaks: a second leak on top of a settled one', () => {
  it('a second leak repaired while still rising clears alone, and its last elevated days raise nothing again', () => {
    // A: 10 m³/h from day 30, never repaired (settles a month after it stopped rising); B: 8 m³/h from day 100 to day 110
    const js = judge(160, (d) => (d >= 30 ? 10 : 0) + (d >= 100 && d < 110 ? 8 : 0));
    const raisesAndClears = js.filter((j) => j.kind !== 'update').map((j) => [j.kind, j.serial]);
    expect(raisesAndClears).toEqual([['raise', 1], ['raise', 2], ['clear', 2]]);
    const settled = js.filter((j) => j.kind === 'update' && j.settled);
    expect(settled.map((j) => j.serial)).toEqual([1]);
    expect(settled[0].index).toBeLessThan(100);
  });
});

describe('leak-change slow leaks: a repair is a fall of the nights as measured', () => {
  /**
   * A: 10 m³/h from day 30, repaired on day `repairDay`. On day 50 an abrupt leak is confirmed with an
   * estimated 9 m³/h, taken off the figures from then on, while the nights gained 1 m³/h (an
   * incipient leak's growth reported as a step): the figures fall 8 m³/h below what A leaves.
   */
  function run(repairDay: number): Array<TrendJudgement & { index: number }> {
    const trend = new SlowLeakTrend(settings);
    const noise = new Rng(7, 'trend');
    const js: Array<TrendJudgement & { index: number }> = [];
    for (let index = 0; index < 140; index++) {
      if (index === 50) trend.noteAbrupt(1, 9);
      const measured = (index >= 30 && index < repairDay ? 10 : 0) + (index >= 50 ? 1 : 0);
      const takenOff = index >= 50 ? 9 : 0;
      const e = measured - takenOff;
      const j = trend.addDay({ day: FIRST_DAY + index, nightM3h: 100 + noise.uniform(-1, 1) + e, dayM3h: 200 + noise.uniform(-1, 1) + e }, takenOff > 0);
      if (j) js.push({ ...j, index });
    }
    return js;
  }

  it('an abrupt leak estimated larger than the nights gained does not "repair" a slow leak that runs on', () => {
    const js = run(Infinity);
    expect(js.filter((j) => j.kind !== 'update').map((j) => [j.kind, j.serial])).toEqual([['raise', 1]]);
  });

  it('the slow leak\'s real repair still clears it, on the first day of the fall', () => {
    const clears = run(90).filter((j) => j.kind === 'clear');
    expect(clears.map((j) => [j.index, j.serial, j.kind === 'clear' && j.repairedDay - FIRST_DAY])).toEqual([[91, 1, 90]]);
  });
});

describe('leak-change: the noise of a step judged on the nights after it', () => {
  /** Daily figures as `judge` makes them, `extra(day)` on night and day alike; the trend after `days` days. */
  function feed(days: number, extra: (day: number) => number): SlowLeakTrend {
    const trend = new SlowLeakTrend(settings);
    const noise = new Rng(11, 'step-noise');
    for (let index = 0; index < days; index++) {
      const e = extra(index);
      trend.addDay({ day: FIRST_DAY + index, nightM3h: 100 + noise.uniform(-1, 1) + e, dayM3h: 200 + noise.uniform(-1, 1) + e });
    }
    return trend;
  }

  it('an earlier change of level in the weeks before is not counted as noise: a 4 m³/h step is 3 σ after three nights', () => {
    // the network got 10 m³/h tighter on day 40 (a repair); a 4 m³/h leak from day 55
    const trend = feed(58, (d) => (d >= 40 ? -10 : 0) + (d >= 55 ? 4 : 0));
    const e = trend.stepExcess(FIRST_DAY + 55, FIRST_DAY + 54, 7)!;
    expect(e.nights).toBe(3);
    expect(Math.abs(e.excessM3h - 4)).toBeLessThan(1);
    // four weeks around their median hold both levels (σ about 7 m³/h): the test measures ±1 m³/h days
    expect(e.sigmaM3h).toBeLessThan(1);
    expect(e.excessM3h).toBeGreaterThanOrEqual(settings.nightSigma * e.sigmaM3h);
  });

  it('a step is judged before the slow-leak reference is learnt (a long learnDays): its noise is a number, not NaN', () => {
    const trend = new SlowLeakTrend(leakChangeOptionsSchema.parse({ learnDays: 40 }));
    const noise = new Rng(17, 'before-learnt');
    for (let index = 0; index < 32; index++) {
      const e = index >= 28 ? 4 : 0;
      trend.addDay({ day: FIRST_DAY + index, nightM3h: 100 + noise.uniform(-1, 1) + e, dayM3h: 200 + noise.uniform(-1, 1) + e });
    }
    const e = trend.stepExcess(FIRST_DAY + 28, FIRST_DAY + 27, 7)!;
    expect(Number.isFinite(e.sigmaM3h)).toBe(true);
    expect(e.excessM3h).toBeGreaterThanOrEqual(settings.nightSigma * e.sigmaM3h);
  });

  it('demand that wanders for days is counted: ±4 m³/h over ten days confirms no step on any day', () => {
    const wander = (d: number) => 4 * Math.sin((2 * Math.PI * d) / 10);
    const trend = new SlowLeakTrend(settings);
    const noise = new Rng(13, 'wander');
    let worst = 0;
    for (let index = 0; index < 120; index++) {
      const e = wander(index);
      trend.addDay({ day: FIRST_DAY + index, nightM3h: 100 + noise.uniform(-1, 1) + e, dayM3h: 200 + noise.uniform(-1, 1) + e });
      if (index < 60) continue;
      for (let nights = 1; nights <= settings.confirmNights; nights++) {
        const s = trend.stepExcess(FIRST_DAY + index - nights + 1, FIRST_DAY + index - nights, 7);
        if (s) worst = Math.max(worst, s.excessM3h / s.sigmaM3h);
      }
    }
    expect(worst).toBeGreaterThan(0.5);
    expect(worst).toBeLessThan(settings.nightSigma);
  });

  it('a raised leak still growing is judged by its growth since it began: its next days of growth are no step of their own', () => {
    // a leak growing 0.5 m³/h a day from day 50 (raised within days); the nights from day 61 on, against the week before
    const ramp = (d: number) => (d >= 50 ? 0.5 * (d - 50) : 0);
    const trend = new SlowLeakTrend(settings);
    const noise = new Rng(19, 'growing');
    let raisedDay: number | undefined;
    for (let index = 0; index < 65; index++) {
      const e = ramp(index);
      const j = trend.addDay({ day: FIRST_DAY + index, nightM3h: 100 + noise.uniform(-1, 1) + e, dayM3h: 200 + noise.uniform(-1, 1) + e });
      if (j?.kind === 'raise') raisedDay ??= index;
    }
    expect(raisedDay).toBeDefined();
    expect(raisedDay!).toBeLessThan(61);
    const e = trend.stepExcess(FIRST_DAY + 61, FIRST_DAY + 60, 7)!;
    expect(e.nights).toBe(4);
    // its growth since day 50 leaves nothing (−0.05 m³/h); measured over the four weeks before, whose
    // 17 flat days halve the rate, it left 1.5 m³/h (2.2 σ: a small step on top would have made 3)
    expect(Math.abs(e.excessM3h)).toBeLessThan(settings.nightSigma * e.sigmaM3h / 2);
  });
});
