/**
 * Demand multipliers over time: the weekday/weekend shapes derived from the real BWDF inflows
 * (demand-profiles.json), in the city's local time, with seeded day-to-day and hour-to-hour variation
 * of the size the real data shows.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TimeZone } from '../../core/time/zoned.ts';
import { Rng, SmoothNoise } from './random.ts';

export interface ProfileData {
  weekday: number[];
  weekend: number[];
  dailySd: number;
  hourlySd: number;
  meanLs?: number;
  nightRatio?: number;
}

export interface ProfileFile {
  provenance: string;
  stepMinutes: number;
  profiles: Record<string, ProfileData>;
}

let cached: ProfileFile | undefined;

/** The committed profiles (derived once from BWDF by derive-profiles.ts). */
export function loadProfiles(): ProfileFile {
  cached ??= JSON.parse(readFileSync(fileURLToPath(new URL('./demand-profiles.json', import.meta.url)), 'utf8')) as ProfileFile;
  return cached;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Local time of a UTC instant in one zone, with the offset cached per hour (DST moves on the hour). */
export class LocalClock {
  private readonly zone: TimeZone;
  private lastHour = NaN;
  private lastOffset = 0;

  constructor(readonly timezone: string) {
    this.zone = new TimeZone(timezone);
  }

  /** The wall-clock time as if it were UTC ms: its date and hour read with getUTC*. */
  local(ts: number): number {
    const hour = Math.floor(ts / HOUR_MS);
    if (hour !== this.lastHour) {
      this.lastHour = hour;
      this.lastOffset = this.zone.offsetAt(hour * HOUR_MS);
    }
    return ts + this.lastOffset;
  }
}

/**
 * A week of hourly multipliers (Monday 00:00 to Sunday 24:00 local), each the mean of its hour and so
 * placed at the half hour; values between are interpolated linearly, across midnight and across the
 * weekday/weekend change too, so demand has no steps.
 */
export class WeeklyProfile {
  private readonly week: Float64Array;

  constructor(readonly data: ProfileData) {
    if (data.weekday.length !== 24 || data.weekend.length !== 24) throw new Error('a profile needs 24 weekday and 24 weekend values');
    this.week = new Float64Array(168);
    for (let d = 0; d < 7; d++) {
      const values = d < 5 ? data.weekday : data.weekend;
      for (let h = 0; h < 24; h++) this.week[d * 24 + h] = values[h];
    }
  }

  /** Multiplier at a local wall time (as returned by LocalClock.local). */
  at(localMs: number): number {
    const day = Math.floor(localMs / DAY_MS);
    const mondayBased = (((day + 3) % 7) + 7) % 7; // 1970-01-01 was a Thursday (index 3 from Monday)
    let h = mondayBased * 24 + (localMs - day * DAY_MS) / HOUR_MS - 0.5;
    if (h < 0) h += 168;
    const i = Math.floor(h);
    const frac = h - i;
    return this.week[i % 168] * (1 - frac) + this.week[(i + 1) % 168] * frac;
  }
}

/**
 * The demand multiplier of one group (a DMA): its profile × a day level × slow, smooth wandering.
 * The day level depends only on (seed, group, local date), so a given day has the same level in
 * every run with that seed, whatever time the run started. It is the level at local noon and moves
 * linearly from one noon to the next: a step at midnight (as a level per calendar day would make)
 * is no feature of real demand, and as large as a small burst in a small DMA.
 */
export class GroupDemand {
  private readonly hourly: SmoothNoise;
  /** Day levels by local day index, the two around the current instant. */
  private readonly levels = new Map<number, number>();
  private wander = 0;

  constructor(
    private readonly group: string,
    private readonly profile: WeeklyProfile,
    private readonly seed: number,
    /** Scales the derived noise: 0 for smooth demand, 1 for the spread the real data shows. */
    private readonly noise = 1,
  ) {
    // the hourly spread in BWDF includes its meters' own noise; half of it is demand wandering, on
    // hours, with a smooth path: a whole DMA's use drifts, and an hourly record says nothing of jumps
    // from minute to minute
    const sd = Math.min(profile.data.hourlySd, 0.1) * 0.5 * noise;
    this.hourly = new SmoothNoise(new Rng(seed, `demand-hourly:${group}`), sd, 3600);
  }

  /** Move the slow wandering on by `dtS` seconds (call on the sample grid only, so runs that solve at extra instants draw the same numbers). */
  advance(dtS: number): void {
    this.wander = this.hourly.step(dtS);
  }

  /** Multiplier at local time `localMs` (as returned by LocalClock.local). */
  at(localMs: number): number {
    const sinceNoon = localMs / DAY_MS - 0.5;
    const day = Math.floor(sinceNoon);
    const f = sinceNoon - day;
    const level = this.dayLevel(day) * (1 - f) + this.dayLevel(day + 1) * f;
    return Math.max(0, this.profile.at(localMs) * level * (1 + this.wander));
  }

  private dayLevel(day: number): number {
    let level = this.levels.get(day);
    if (level === undefined) {
      const sd = Math.min(this.profile.data.dailySd, 0.08) * this.noise;
      level = 1 + sd * new Rng(this.seed, `demand-day:${this.group}:${day}`).normal();
      if (this.levels.size >= 4) this.levels.clear(); // only the days around now are needed
      this.levels.set(day, level);
    }
    return level;
  }

  /** advance(dtS), then at(localMs). */
  next(localMs: number, dtS: number): number {
    this.advance(dtS);
    return this.at(localMs);
  }
}
