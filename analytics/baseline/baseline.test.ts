import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../core/tsdb/sqlite.ts';
import { timeZone, zonedToUtc } from '../../core/time/zoned.ts';
import { LocalTime } from './local-time.ts';
import { TimeOfWeekBaseline, warmBaselineFromStore } from './time-of-week.ts';
import { DayCalendar } from './calendar.ts';
import { calendarSchema } from '../../core/config/calendar.ts';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const SH = 'Asia/Shanghai';
const at = (iso: string, zone = SH) => {
  const [d, t = '00:00'] = iso.split('T');
  const [year, month, day] = d.split('-').map(Number);
  const [hour, minute] = t.split(':').map(Number);
  return zonedToUtc({ year, month, day, hour, minute, second: 0, millisecond: 0 }, zone);
};

/** Feed one value per minute over [from, to) with value = f(ts). */
function feed(b: TimeOfWeekBaseline, key: string, from: number, to: number, f: (ts: number) => number) {
  for (let ts = from; ts < to; ts += MIN) b.add(key, ts, f(ts));
  b.advance(to);
}

describe('LocalTime', () => {
  it('gives the local day, weekday and time of day, DST-correct (Europe/Rome)', () => {
    const rome = new LocalTime('Europe/Rome');
    // 2024-03-31: clocks go from 02:00 to 03:00; 01:30 UTC is 03:30 CEST
    const p = rome.position(Date.UTC(2024, 2, 31, 1, 30));
    expect(p.msOfDay).toBe(3.5 * HOUR);
    expect(p.weekday).toBe(0); // Sunday
    const before = rome.position(Date.UTC(2024, 2, 31, 0, 30)); // 01:30 CET
    expect(before.msOfDay).toBe(1.5 * HOUR);
    expect(before.day).toBe(p.day);
    // the skipped 02:30 maps forward (Temporal's 'compatible'): 03:30 CEST = 01:30 UTC
    expect(rome.instantOf(p.day, 2.5 * HOUR)).toBe(Date.UTC(2024, 2, 31, 1, 30));
    // the repeated 02:30 on 2024-10-27: the first one (CEST, 00:30 UTC)
    const oct = rome.position(Date.UTC(2024, 9, 27, 12));
    expect(rome.instantOf(oct.day, 2.5 * HOUR)).toBe(Date.UTC(2024, 9, 27, 0, 30));
  });

  it('gives every local quarter hour of a year the instant the zone\'s offsets give it, the days around the clock changes included', () => {
    for (const zone of ['Europe/Rome', 'Australia/Lord_Howe']) {
      const local = new LocalTime(zone);
      const z = timeZone(zone);
      // by the offsets a day before and after, the first that round-trips (else the later: skipped wall times move forward)
      const expected = (wall: number) => {
        const candidates = [wall - z.offsetAt(wall - DAY), wall - z.offsetAt(wall + DAY)].sort((a, b) => a - b);
        return candidates.find((c) => c + z.offsetAt(c) === wall) ?? candidates[1];
      };
      const first = local.position(Date.UTC(2024, 0, 1, 12)).day;
      let wrong = 0;
      for (let day = first; day < first + 366; day++) {
        for (let ms = 0; ms < DAY; ms += 15 * MIN) if (local.instantOf(day, ms) !== expected(day * DAY + ms)) wrong++;
      }
      expect(wrong, zone).toBe(0);
    }
  });
});

describe('TimeOfWeekBaseline', () => {
  it('expects the median of the same local slot on earlier days of the same type, robust to a past event', () => {
    const b = new TimeOfWeekBaseline({ timezone: SH });
    const mon = at('2024-05-06'); // a Monday
    // five weekdays at 50, except Wednesday 08:00-09:00 when a burst added 30
    feed(b, 'dma', mon, mon + 5 * DAY, (ts) => (ts >= at('2024-05-08T08:00') && ts < at('2024-05-08T09:00') ? 80 : 50));
    const e = b.expected('dma', at('2024-05-13T08:30'))!; // next Monday
    expect(e.median).toBeCloseTo(50, 6);
    expect(e.mad).toBeCloseTo(0, 6);
    expect(e.days).toBe(5);
    expect(e.sameType).toBe(true);
    // today's own values never feed today's expectation
    expect(b.expected('dma', at('2024-05-08T08:30'))!.median).toBeCloseTo(50, 6);
  });

  it('keeps weekdays and weekends apart, and says when it had to use the other kind of day', () => {
    const b = new TimeOfWeekBaseline({ timezone: SH });
    const mon = at('2024-05-06');
    feed(b, 's', mon, mon + 7 * DAY, (ts) => (new LocalTime(SH).position(ts).weekday % 6 === 0 ? 30 : 60));
    expect(b.expected('s', at('2024-05-13T12:00'))!.median).toBeCloseTo(60, 6); // Monday
    expect(b.expected('s', at('2024-05-18T12:00'))!.median).toBeCloseTo(30, 6); // Saturday
    const fresh = new TimeOfWeekBaseline({ timezone: SH });
    feed(fresh, 's', mon, mon + 2 * DAY, () => 60);
    const sat = fresh.expected('s', at('2024-05-11T12:00'))!;
    expect(sat.sameType).toBe(false); // no weekend known yet: weekdays stood in
    expect(sat.median).toBe(60);
  });

  it('interpolates between slot centres so a ramp has no steps', () => {
    const b = new TimeOfWeekBaseline({ timezone: SH, slotMinutes: 15 });
    const mon = at('2024-05-06');
    const local = new LocalTime(SH);
    const ramp = (ts: number) => local.position(ts).msOfDay / MIN; // value = minute of the day
    feed(b, 'r', mon, mon + 3 * DAY, ramp);
    const e = b.expected('r', at('2024-05-09T10:07'))!;
    // within a minute of the true 607 (samples sit at the start of each minute)
    expect(Math.abs(e.median - 607)).toBeLessThanOrEqual(0.5);
  });

  it('uses local slots across a DST change (Europe/Rome, spring forward and fall back)', () => {
    const rome = new LocalTime('Europe/Rome');
    const b = new TimeOfWeekBaseline({ timezone: 'Europe/Rome', dayTypes: 'all' });
    const hourOfDay = (ts: number) => Math.floor(rome.position(ts).msOfDay / HOUR); // demand follows the local clock
    // a week across the spring-forward night of 2024-03-31
    feed(b, 'p', at('2024-03-27', 'Europe/Rome'), at('2024-04-03', 'Europe/Rome'), hourOfDay);
    // After the change, 07:00 local is 05:00 UTC; the baseline must expect the 07:00 value, not 08:00's
    const e = b.slot('p', at('2024-04-03T07:20', 'Europe/Rome'))!;
    expect(e.median).toBe(7);
    expect(e.days).toBe(7);
    // the skipped hour 02:00-03:00 of 2024-03-31 left no value: 6 days in those slots
    expect(b.slot('p', at('2024-04-03T02:20', 'Europe/Rome'))!.days).toBe(6);
    // fall back, 2024-10-27: 02:00-03:00 happens twice; both passes merge into one day per slot
    const fall = new TimeOfWeekBaseline({ timezone: 'Europe/Rome', dayTypes: 'all' });
    feed(fall, 'p', at('2024-10-25', 'Europe/Rome'), at('2024-10-29', 'Europe/Rome'), hourOfDay);
    const s = fall.slot('p', at('2024-10-29T02:20', 'Europe/Rome'))!;
    expect(s.days).toBe(4);
    expect(s.median).toBe(2);
  });

  it('keeps a bounded ring of past days per slot and drops late readings', () => {
    const b = new TimeOfWeekBaseline({ timezone: SH, historyDays: 5, daysPerType: 10, dayTypes: 'all' });
    const start = at('2024-01-01');
    for (let d = 0; d < 30; d++) feed(b, 'k', start + d * DAY, start + d * DAY + HOUR, () => d);
    const s = b.slot('k', start + 31 * DAY + 10 * MIN)!;
    expect(s.days).toBe(5);
    expect(s.median).toBe(27); // days 25..29
    const late = b.lateDropped;
    b.add('k', start + 31 * DAY, 1);
    b.add('k', start + 30 * DAY, 1000); // a day earlier than the open slot: late
    expect(b.lateDropped).toBe(late + 1);
  });

  it('warms up from a store with one mean per slot window', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aw-baseline-'));
    const store = new SqliteStore(join(dir, 'ts.db'));
    await store.init();
    try {
      const mon = at('2024-05-06');
      const points = [];
      const local = new LocalTime(SH);
      for (let ts = mon; ts < mon + 7 * DAY; ts += MIN) {
        points.push({ measurement: 'pressure', sensor: 'P1', ts, value: 0.3 + local.position(ts).msOfDay / DAY / 10, quality: 'good' as const, site: 's', dma: 'd' });
      }
      await store.write(points);
      const live = new TimeOfWeekBaseline({ timezone: SH });
      for (const p of points) live.add('P1', p.ts, p.value);
      live.advance(mon + 7 * DAY);
      const warm = new TimeOfWeekBaseline({ timezone: SH });
      const n = await warmBaselineFromStore(warm, store, 'pressure', ['P1'], mon, mon + 7 * DAY);
      expect(n).toBe(7 * 96);
      const ts = at('2024-05-14T09:10');
      expect(warm.expected('P1', ts)!.median).toBeCloseTo(live.expected('P1', ts)!.median, 9);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('TimeOfWeekBaseline, day types and the calendar', () => {
  const hourlyFeed = (b: TimeOfWeekBaseline, from: number, days: number, f: (ts: number) => number) => {
    // hourly data (as BWDF's) is enough: each hour's value fills its slot
    for (let ts = from; ts < from + days * DAY; ts += HOUR) b.add('dma', ts, f(ts));
    b.advance(from + days * DAY);
  };
  /** 20 m³/h, with a draw of 40 more every Tuesday 02:00–03:00 (a weekly tank fill, BWDF DMA 1's kind). */
  const tuesdayDraw = (ts: number) => {
    const p = new LocalTime(SH).position(ts);
    return p.weekday === 2 && p.msOfDay >= 2 * HOUR && p.msOfDay < 3 * HOUR ? 60 : 20;
  };

  it('per weekday: a Tuesday is compared with Tuesdays once three are known, before that with working days', () => {
    const b = new TimeOfWeekBaseline({ timezone: SH });
    const mon = at('2024-05-06');
    hourlyFeed(b, mon, 14, tuesdayDraw);
    // two Tuesdays known: working days stand in, and the draw looks like an event
    expect(b.expected('dma', at('2024-05-21T02:00'))).toMatchObject({ median: 20, sameType: true });
    hourlyFeed(b, mon + 14 * DAY, 7, tuesdayDraw);
    expect(b.expected('dma', at('2024-05-28T02:00'))).toMatchObject({ median: 60, days: 3, sameType: true });
    // a Wednesday is not compared with Tuesdays
    expect(b.expected('dma', at('2024-05-29T02:00'))!.median).toBe(20);
    // the old grouping still on offer
    const grouped = new TimeOfWeekBaseline({ timezone: SH, dayTypes: 'weekday-weekend' });
    hourlyFeed(grouped, mon, 21, tuesdayDraw);
    expect(grouped.expected('dma', at('2024-05-28T02:00'))!.median).toBe(20);
  });

  it('reads an instant of the day before against the baseline of a given day (expectedLike): a prediction across midnight', () => {
    const b = new TimeOfWeekBaseline({ timezone: SH, dayTypes: 'weekday-weekend' });
    const local = new LocalTime(SH);
    const weekend = (ts: number) => [0, 6].includes(local.position(ts).weekday);
    // working days draw 100, weekend days 60, every minute
    const mon = at('2024-05-06');
    for (let ts = mon; ts < mon + 13 * DAY; ts += MIN) b.add('dma', ts, weekend(ts) ? 60 : 100);
    b.advance(mon + 13 * DAY);
    const sunday = at('2024-05-19T23:55');
    const monday = at('2024-05-20T00:00');
    // (its own baseline: Sunday's last slot, a sixth of the way to Monday's first)
    expect(b.expected('dma', sunday)!.median).toBeCloseTo(60 + 40 / 6, 9);
    // Sunday's 23:55 as a working day has it: the working days' slots, wrapping past midnight
    expect(b.expectedLike('dma', sunday, monday)).toMatchObject({ median: 100, sameType: true });
    expect(b.expectedLike('dma', at('2024-05-20T10:00'), monday)!.median).toBe(b.expected('dma', at('2024-05-20T10:00'))!.median);
    expect(b.expectedLike('nobody', sunday, monday)).toBeUndefined();
  });

  it('compares a holiday with holidays (weekend days until one is known) and a make-up working day with working days', () => {
    // Spring Festival 2025 (China): holidays 28 Jan – 4 Feb; Sunday 26 Jan and Saturday 8 Feb worked (调休)
    const calendar = new DayCalendar(calendarSchema.parse({
      holidays: [{ from: '2025-01-28', to: '2025-02-04', name: 'Spring Festival' }, '2025-01-01'],
      workdays: [{ date: '2025-01-26', name: 'make-up for the Spring Festival' }, '2025-02-08'],
    }));
    const b = new TimeOfWeekBaseline({ timezone: SH, calendar });
    const local = new LocalTime(SH);
    // working days 100, weekend days 60, holidays 30
    const level = (ts: number) => {
      const p = local.position(ts);
      const kind = calendar.kindOf(p.day);
      if (kind === 'holiday') return 30;
      if (kind === 'workday') return 100;
      return p.weekday === 0 || p.weekday === 6 ? 60 : 100;
    };
    const from = at('2024-12-23');
    hourlyFeed(b, from, 9, level); // to 1 Jan 00:00: no holiday known yet
    expect(b.expected('dma', at('2025-01-01T10:00'))).toMatchObject({ median: 60, sameType: true }); // weekend days stand in
    hourlyFeed(b, from + 9 * DAY, 26, level); // to 27 Jan
    expect(b.expected('dma', at('2025-01-26T10:00'))!.median).toBe(100); // a worked Sunday: like a working day
    expect(b.expected('dma', at('2025-01-28T10:00'))!.median).toBe(30); // New Year's Day is a holiday already known
    hourlyFeed(b, from + 35 * DAY, 4, level); // to 31 Jan
    expect(b.expected('dma', at('2025-01-31T10:00'))!.median).toBe(30); // a Friday of the festival week
    expect(b.expected('dma', at('2025-02-03T10:00'))!.median).toBe(30);
    // and the Monday after it is a working day again, its holidays not among its values
    expect(b.expected('dma', at('2025-02-10T10:00'))!.median).toBe(100);
  });

  it('refuses a day that is both a holiday and a make-up working day, and a date that does not exist', () => {
    expect(() => new DayCalendar({ holidays: ['2025-10-01'], workdays: ['2025-10-01'] })).toThrow(/both a holiday and a make-up working day/);
    expect(calendarSchema.safeParse({ holidays: ['2025-02-30'] }).success).toBe(false);
    expect(calendarSchema.safeParse({ holidays: [{ from: '2025-02-04', to: '2025-01-28' }] }).success).toBe(false);
  });
});
