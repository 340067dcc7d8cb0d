/**
 * The `calendar:` section of the site configuration: the days that are not what their weekday says.
 * Holidays (public holidays, the Spring Festival week) are compared with holidays by the time-of-week
 * baselines (analytics/baseline), and make-up working days (调休: a Saturday or Sunday worked in
 * exchange for a holiday) with working days; festive eves are not judged by the leak detectors.
 * Dates are local dates of the site (`site.timezone`).
 */
import { z } from 'zod';
import { timeZone } from '../time/zoned.ts';

const localDate = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'YYYY-MM-DD (site date)')
  .refine((d) => new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'not a calendar date');

/** One day (`2025-10-01` or `{ date, name }`) or a run of days (`{ from, to, name }`, both included). */
const daysSchema = z.union([
  localDate,
  z.object({ date: localDate, name: z.string().optional() }).strict(),
  z.object({ from: localDate, to: localDate, name: z.string().optional() }).strict()
    .refine((r) => r.from <= r.to, 'from must not be after to'),
]);

export const calendarSchema = z.object({
  /** Days off: compared with other holidays (weekend days stand in until a holiday is known). */
  holidays: z.array(daysSchema).default([]),
  /** Make-up working days (调休): weekend dates worked as working days, compared with working days. */
  workdays: z.array(daysSchema).default([]),
  /**
   * Festive eves: days used like no other from morning through the night after (Christmas Eve and
   * New Year's Eve in Europe, 除夕 where it is worked, a festival night). The leak detectors judge
   * neither the day nor that night, as if their data were missing; bursts are still watched.
   */
  eves: z.array(daysSchema).default([]),
}).strict();

export type CalendarConfig = z.input<typeof calendarSchema>;
export type DaysEntry = z.infer<typeof daysSchema>;

const DAY_MS = 86_400_000;
const dayNumber = (date: string) => Date.parse(`${date}T00:00:00Z`) / DAY_MS;

/** The local day numbers (days since 1970-01-01 in wall time) an entry covers. */
export function daysOf(entry: DaysEntry): number[] {
  if (typeof entry === 'string') return [dayNumber(entry)];
  if ('date' in entry) return [dayNumber(entry.date)];
  const out: number[] = [];
  for (let d = dayNumber(entry.from); d <= dayNumber(entry.to); d++) out.push(d);
  return out;
}

/** Every local day number the calendar names, holidays, make-up working days and eves alike. */
function namedDays(c: z.output<typeof calendarSchema>): number[] {
  return [...c.holidays, ...c.workdays, ...c.eves].flatMap(daysOf);
}

/** How many days the calendar names, and the last of them (a local date; undefined when it names none). */
export function calendarExtent(config: CalendarConfig): { holidays: number; workdays: number; eves: number; lastDate?: string } {
  const c = calendarSchema.parse(config);
  const count = (entries: DaysEntry[]) => entries.reduce((n, e) => n + daysOf(e).length, 0);
  const last = Math.max(-Infinity, ...namedDays(c));
  return {
    holidays: count(c.holidays), workdays: count(c.workdays), eves: count(c.eves),
    ...(Number.isFinite(last) ? { lastDate: new Date(last * DAY_MS).toISOString().slice(0, 10) } : {}),
  };
}

/**
 * Days ahead of the last named day a warning is given: a calendar is kept one year at a time
 * (China's public holidays and make-up working days are published each November for the next year).
 */
export const CALENDAR_NOTICE_DAYS = 30;

/**
 * A warning when a calendar that names days names none from `today` (the site's local date) plus
 * CALENDAR_NOTICE_DAYS on: the next year's holidays are not in it yet, and from its last day on
 * holidays are compared as the weekdays they fall on. Undefined for an empty calendar (a site that
 * keeps none) and for one that reaches far enough.
 */
export function calendarExpiryWarning(config: CalendarConfig, today: string): string | undefined {
  const { lastDate } = calendarExtent(config);
  if (!lastDate || daysBetween(today, lastDate) >= CALENDAR_NOTICE_DAYS) return undefined;
  return `calendar: names no day after ${lastDate}: from then on holidays are compared as the weekdays they fall on; add the next year's public holidays and make-up working days`;
}

/** Whole days from one local date to another (negative when `to` is earlier): a calendar's days left. */
export function daysBetween(from: string, to: string): number {
  return dayNumber(to) - dayNumber(from);
}

/**
 * For a replay over [fromDate, toDate] (the site's local dates): the years of the period in which a
 * calendar that names days names none, so their holidays are compared as the weekdays they fall
 * on (a year's calendar kept, the years replayed earlier). Undefined for an empty calendar.
 */
export function calendarPeriodWarning(config: CalendarConfig, fromDate: string, toDate: string): string | undefined {
  const c = calendarSchema.parse(config);
  const named = new Set(namedDays(c).map((d) => new Date(d * DAY_MS).getUTCFullYear()));
  if (!named.size) return undefined;
  const missing: number[] = [];
  for (let y = Number(fromDate.slice(0, 4)); y <= Number(toDate.slice(0, 4)); y++) if (!named.has(y)) missing.push(y);
  if (!missing.length) return undefined;
  return `calendar: names no day in ${missing.join(', ')} (the period runs ${fromDate} to ${toDate}): holidays there are compared as the weekdays they fall on`;
}

/** One line on the calendar for people: what it names, and through when. */
export function describeCalendar(config: CalendarConfig): string {
  const { holidays, workdays, eves, lastDate } = calendarExtent(config);
  if (!lastDate) return 'none (holidays are compared as the weekdays they fall on)';
  return `${holidays} holiday(s), ${workdays} make-up working day(s)${eves ? `, ${eves} festive eve(s)` : ''}, through ${lastDate}`;
}

/** The local date (YYYY-MM-DD) of an instant in a time zone. */
export function localDateOf(utcMs: number, zone: string): string {
  return new Date(utcMs + timeZone(zone).offsetAt(utcMs)).toISOString().slice(0, 10);
}
