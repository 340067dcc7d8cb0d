import { describe, expect, it } from 'vitest';
import { calendarExpiryWarning, calendarExtent, calendarPeriodWarning, localDateOf } from './calendar.ts';

const CHINA_2025 = {
  holidays: [{ date: '2025-01-01' }, { from: '2025-01-28', to: '2025-02-04' }, { from: '2025-10-01', to: '2025-10-08' }],
  workdays: ['2025-01-26', '2025-02-08', '2025-09-28', '2025-10-11'],
};

describe('the calendar\'s extent', () => {
  it('counts the days it names and finds the last, holiday or make-up working day', () => {
    expect(calendarExtent(CHINA_2025)).toEqual({ holidays: 17, workdays: 4, eves: 0, lastDate: '2025-10-11' });
    expect(calendarExtent({})).toEqual({ holidays: 0, workdays: 0, eves: 0 });
  });

  it('warns from 30 days before the last named day, naming it; never for an empty calendar', () => {
    expect(calendarExpiryWarning(CHINA_2025, '2025-09-10')).toBeUndefined();
    expect(calendarExpiryWarning(CHINA_2025, '2025-09-12')).toMatch(/^calendar: names no day after 2025-10-11: /);
    expect(calendarExpiryWarning(CHINA_2025, '2025-12-05')).toMatch(/2025-10-11/);
    expect(calendarExpiryWarning({}, '2025-12-05')).toBeUndefined();
  });

  it('takes today as the site\'s local date', () => {
    // 2025-12-31 17:00 UTC is already 1 January 2026 in Shanghai
    expect(localDateOf(Date.UTC(2025, 11, 31, 17), 'Asia/Shanghai')).toBe('2026-01-01');
    expect(localDateOf(Date.UTC(2025, 11, 31, 17), 'Europe/Rome')).toBe('2025-12-31');
  });
});

describe('a replay\'s period against the calendar', () => {
  it('names the years of the period in which the calendar names no day; nothing for a period it covers or an empty calendar', () => {
    expect(calendarPeriodWarning(CHINA_2025, '2025-03-01', '2025-12-31')).toBeUndefined();
    expect(calendarPeriodWarning(CHINA_2025, '2023-06-01', '2026-02-01')).toBe('calendar: names no day in 2023, 2024, 2026 (the period runs 2023-06-01 to 2026-02-01): holidays there are compared as the weekdays they fall on');
    expect(calendarPeriodWarning({}, '2023-06-01', '2026-02-01')).toBeUndefined();
  });
});
