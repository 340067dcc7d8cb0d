/** Wall-clock time in the site's time zone, as comparable strings (no time-zone library needed). */
import type { WEEKDAYS } from '../../../core/config/notify.ts';

export type Weekday = (typeof WEEKDAYS)[number];

export interface LocalTime {
  /** `YYYY-MM-DDTHH:MM`, sortable as text. */
  dateTime: string;
  weekday: Weekday;
  /** `HH:MM` */
  time: string;
}

const formats = new Map<string, Intl.DateTimeFormat>();

export function localTime(ms: number, timeZone: string): LocalTime {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
    formats.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, x.value]));
  const time = `${p.hour}:${p.minute}`;
  return { dateTime: `${p.year}-${p.month}-${p.day}T${time}`, weekday: p.weekday.toLowerCase() as Weekday, time };
}

/** Is `time` (HH:MM) in [from, to)? A window with to ≤ from crosses midnight. */
export function inDailyWindow(time: string, from: string, to: string): boolean {
  return from < to ? time >= from && time < to : time >= from || time < to;
}
