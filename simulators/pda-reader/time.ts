/** Local times of a reader's day in the utility's time zone, and ISO 8601 with the local offset. */
import { timeZone, zonedToUtc } from '../../core/time/zoned.ts';

const DAY_MS = 86_400_000;

/** `2026-01-05T09:02:00+08:00` (milliseconds only when there are some): what a PDA's clock writes. */
export function isoWithOffset(ts: number, zone: string): string {
  const offset = timeZone(zone).offsetAt(ts);
  const local = new Date(ts + offset).toISOString().replace(/\.000Z$/, '').replace(/Z$/, '');
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset) / 60_000;
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${local}${sign}${hh}:${mm}`;
}

/** The local calendar day of `ts` as days since 1970-01-01 (local), and the UTC instant of `hour`:00 that day. */
export function localDay(ts: number, zone: string): { day: number; at(hour: number, minute?: number): number } {
  const offset = timeZone(zone).offsetAt(ts);
  const day = Math.floor((ts + offset) / DAY_MS);
  const d = new Date(day * DAY_MS);
  return {
    day,
    at: (hour: number, minute = 0) => zonedToUtc({
      year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour, minute, second: 0, millisecond: 0,
    }, zone),
  };
}
