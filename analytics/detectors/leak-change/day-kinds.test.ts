import { describe, expect, it } from 'vitest';
import { DayCalendar } from '../../baseline/calendar.ts';
import { weekdayOfDay } from '../../baseline/local-time.ts';
import { DayKinds, kindOffsets, MONDAY, SATURDAY, SUNDAY, WORKING } from './day-kinds.ts';

const dayOf = (date: string) => Date.parse(`${date}T00:00:00Z`) / 86_400_000;

describe('leak-change day kinds', () => {
  it('without a calendar: Tuesday–Friday working, Saturday, Sunday and Monday each their own', () => {
    const kinds = new DayKinds();
    const monday = dayOf('2024-01-01');
    expect(weekdayOfDay(monday)).toBe(1);
    expect([0, 1, 2, 3, 4, 5, 6].map((i) => kinds.of(monday + i))).toEqual([MONDAY, WORKING, WORKING, WORKING, WORKING, SATURDAY, SUNDAY]);
  });

  it('#12.3 with the calendar: a Wednesday holiday is a day off after a working day, the Thursday after it a working day after a day off, a make-up Sunday a working day', () => {
    // China 2024: 1 May (Wednesday) to 5 May off, Saturday 11 May worked
    const kinds = new DayKinds(new DayCalendar({ holidays: [{ from: '2024-05-01', to: '2024-05-05' }], workdays: ['2024-05-11'] }));
    const day = dayOf('2024-04-30'); // Tuesday
    expect([0, 1, 2, 3, 4, 5, 6].map((i) => kinds.of(day + i))).toEqual([WORKING, SATURDAY, SUNDAY, SUNDAY, SUNDAY, SUNDAY, MONDAY]);
    expect(kinds.of(dayOf('2024-05-11'))).toBe(WORKING); // after Friday, worked
    expect(kinds.of(dayOf('2024-05-12'))).toBe(SATURDAY); // the only day off of that weekend
    expect(kinds.of(dayOf('2024-05-13'))).toBe(MONDAY);
  });

  it('a kind seen fewer than twice takes its class: a lone holiday kind from the days off', () => {
    const samples = [
      ...[10, 10, 10, 10].map((value) => ({ kind: WORKING, value })),
      ...[4, 4].map((value) => ({ kind: SUNDAY, value })),
      { kind: SATURDAY, value: 100 },
    ];
    const { offsets, known } = kindOffsets(samples);
    expect(known).toEqual([true, false, true, false]);
    // Saturday, seen once, takes the days off's median (4 and 100 and 4: 4) less all days' (10)
    expect(offsets[SATURDAY]).toBe(-6);
    expect(offsets[MONDAY]).toBe(0);
  });
});
