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
