/** A customer's consumption from the meter's register: per day of the site's calendar, or per reading interval; readings that went backwards held apart. */
import { describe, expect, it } from 'vitest';
import { consumptionOf } from './customer-workspace.ts';

const H = 3_600_000;
/** 2026-11-30 00:00 in Shanghai (UTC+8). */
const DAY0 = Date.parse('2026-11-29T16:00:00Z');

describe('consumptionOf', () => {
  it('gives the use per local day from readings several times a day', () => {
    const readings: [number, number][] = [
      [DAY0 - 2 * H, 100], // the evening before: the first day's start
      [DAY0 + 6 * H, 100.2], [DAY0 + 20 * H, 100.5],
      [DAY0 + 30 * H, 100.9], [DAY0 + 46 * H, 101.5],
    ];
    expect(consumptionOf(readings, 'Asia/Shanghai')).toEqual({ step: 'day', rows: [
      { from: DAY0 - 2 * H, to: DAY0 + 20 * H, m3: 0.5, m3PerDay: 0.545 },
      { from: DAY0 + 20 * H, to: DAY0 + 46 * H, m3: 1, m3PerDay: 0.923 },
    ] });
  });

  it('gives the use per reading interval from monthly readings', () => {
    const d = 24 * H;
    expect(consumptionOf([[DAY0, 500], [DAY0 + 30 * d, 515], [DAY0 + 61 * d, 530.5]], 'Asia/Shanghai')).toEqual({ step: 'reading', rows: [
      { from: DAY0, to: DAY0 + 30 * d, m3: 15, m3PerDay: 0.5 },
      { from: DAY0 + 30 * d, to: DAY0 + 61 * d, m3: 15.5, m3PerDay: 0.5 },
    ] });
    expect(consumptionOf([], 'UTC')).toEqual({ step: 'reading', rows: [] });
  });

  it('holds a reading that went backwards: a misread joins the next interval, a reset register gives one unknown interval', () => {
    const d = 24 * H;
    // 110 is a misread (the next is back above 120): the use runs from 120 to 124 over two days
    expect(consumptionOf([[DAY0, 100], [DAY0 + d, 120], [DAY0 + 2 * d, 110], [DAY0 + 3 * d, 124]], 'UTC').rows).toEqual([
      { from: DAY0, to: DAY0 + d, m3: 20, m3PerDay: 20 },
      { from: DAY0 + d, to: DAY0 + 3 * d, m3: 4, m3PerDay: 2 },
    ]);
    // a replaced meter: 5 and 8 go on from the new register 3
    expect(consumptionOf([[DAY0, 100], [DAY0 + d, 120], [DAY0 + 2 * d, 3], [DAY0 + 3 * d, 5], [DAY0 + 4 * d, 8]], 'UTC').rows).toEqual([
      { from: DAY0, to: DAY0 + d, m3: 20, m3PerDay: 20 },
      { from: DAY0 + d, to: DAY0 + 2 * d, m3: null, m3PerDay: null },
      { from: DAY0 + 2 * d, to: DAY0 + 3 * d, m3: 2, m3PerDay: 2 },
      { from: DAY0 + 3 * d, to: DAY0 + 4 * d, m3: 3, m3PerDay: 3 },
    ]);
  });
});
