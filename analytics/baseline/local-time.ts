/**
 * Local calendar position of an instant in the site's time zone: local day, weekday and minute of
 * the day. Offsets come from the runtime's Intl data (core/time/zoned.ts) and are cached per
 * 15 minutes of UTC, so the cost per reading is one comparison; daylight-saving changes (which
 * happen on a whole quarter hour in every zone of the tz database) are picked up exactly.
 */
import { timeZone, type TimeZone } from '../../core/time/zoned.ts';

const QUARTER_MS = 900_000;
export const DAY_MS = 86_400_000;
export const MINUTE_MS = 60_000;

export interface LocalPosition {
  /** Local calendar day as a day number (days since 1970-01-01 in local wall time). */
  day: number;
  /** 0 = Sunday … 6 = Saturday. */
  weekday: number;
  /** Milliseconds since local midnight (0 … 86,399,999; on a fall-back day a wall time repeats). */
  msOfDay: number;
  /** The wall time read as if it were UTC ms (for arithmetic on local time). */
  wallMs: number;
}

export class LocalTime {
  private readonly zone: TimeZone;
  private cachedQuarter = NaN;
  private cachedOffset = 0;
  private cachedDay = NaN;
  /** The offset of all of `cachedDay` (UTC), or NaN when it changes that day. */
  private dayOffset = NaN;
  /** Per local day number: its one offset, or null on a day the offset changes (`instantOf`). */
  private readonly localDayOffsets = new Map<number, number | null>();

  constructor(readonly timezone: string) {
    this.zone = timeZone(timezone);
  }

  /** Offset of local time from UTC at `ts`, ms. */
  offsetAt(ts: number): number {
    const quarter = Math.floor(ts / QUARTER_MS);
    if (quarter !== this.cachedQuarter) {
      // Per UTC day: when the offset at the day's start equals the one at the next day's start, it
      // holds all day (offsets change at most once a day), so a whole day costs two Intl look-ups
      // even when readings come sensor by sensor through weeks of history (warm-up).
      const day = Math.floor(ts / DAY_MS);
      if (day !== this.cachedDay) {
        this.cachedDay = day;
        const a = this.zone.offsetAt(day * DAY_MS);
        this.dayOffset = a === this.zone.offsetAt((day + 1) * DAY_MS) ? a : NaN;
      }
      this.cachedQuarter = quarter;
      this.cachedOffset = Number.isNaN(this.dayOffset) ? this.zone.offsetAt(quarter * QUARTER_MS) : this.dayOffset;
    }
    return this.cachedOffset;
  }

  wallMs(ts: number): number {
    return ts + this.offsetAt(ts);
  }

  /** The local date and time to the minute, `YYYY-MM-DD HH:MM`, as an alarm text shows it. */
  stamp(ts: number): string {
    return new Date(this.wallMs(ts)).toISOString().slice(0, 16).replace('T', ' ');
  }

  position(ts: number): LocalPosition {
    const wallMs = this.wallMs(ts);
    const day = Math.floor(wallMs / DAY_MS);
    return { day, weekday: weekdayOfDay(day), msOfDay: wallMs - day * DAY_MS, wallMs };
  }

  /**
   * The instant the local clock shows `msOfDay` on local day `day`: the first one when the wall time
   * repeats (fall back); a wall time that was skipped (spring forward) maps forward by the gap, as
   * Temporal's 'compatible' rule does (02:30 on the spring-forward day in Rome → 03:30).
   */
  instantOf(day: number, msOfDay: number): number {
    const wall = day * DAY_MS + msOfDay;
    // a local day whose offset is the same from a day before it to a day after it has that offset
    // all day (offsets change at most once a day): one Map look-up instead of up to four Intl ones
    let single = this.localDayOffsets.get(day);
    if (single === undefined) {
      const before = this.zone.offsetAt(day * DAY_MS - DAY_MS);
      single = before === this.zone.offsetAt(day * DAY_MS + 2 * DAY_MS) ? before : null;
      if (this.localDayOffsets.size > 10_000) this.localDayOffsets.clear();
      this.localDayOffsets.set(day, single);
    }
    if (single !== null) return wall - single;
    // Try the offsets in force a day before and a day after; keep the first that round-trips.
    const candidates = [wall - this.zone.offsetAt(wall - DAY_MS), wall - this.zone.offsetAt(wall + DAY_MS)].sort((a, b) => a - b);
    for (const c of candidates) if (c + this.zone.offsetAt(c) === wall) return c;
    return candidates[1];
  }
}

/** The weekday (0 = Sunday) of a local day number (days since 1970-01-01, a Thursday). */
export function weekdayOfDay(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

export function isWeekend(weekday: number): boolean {
  return weekday === 0 || weekday === 6;
}
