/**
 * Local wall-clock times in an IANA time zone, turned into UTC milliseconds with the offsets of the
 * platform's own Intl data (no time-zone library). Used where input carries local times without an
 * offset: CSV history files ("01/03/2021 02:00" in Europe/Rome), and to parse ISO 8601 strictly.
 *
 * Daylight-saving changes make the mapping from wall clock to instant irregular:
 * - spring forward: a wall time in the skipped hour (02:30 on the last Sunday of March in Rome)
 *   never happened; it is refused, not guessed;
 * - fall back: a wall time in the repeated hour (02:30 on the last Sunday of October in Rome)
 *   happened twice; the caller chooses which occurrence ('earlier' = first, before the clocks go back).
 */

export interface WallTime {
  year: number;
  /** 1–12. */
  month: number;
  /** 1–31. */
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

/** Which instant a wall time in a repeated (fall-back) hour stands for. */
export type Disambiguation = 'earlier' | 'later';

export type ZonedResult =
  | { ok: true; utc: number; /** Both instants, when the wall time was in a repeated hour. */ ambiguous?: readonly [number, number] }
  | { ok: false; reason: string };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Whether `name` is a time zone this runtime knows (IANA name or UTC). */
export function isValidTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Why a wall time cannot exist on any calendar, or undefined when its fields are in range. */
export function wallTimeProblem(w: WallTime): string | undefined {
  if (!Number.isInteger(w.year) || w.year < 1 || w.year > 9999) return `year ${w.year} out of range`;
  if (!Number.isInteger(w.month) || w.month < 1 || w.month > 12) return `month ${w.month} out of range 1-12`;
  if (!Number.isInteger(w.day) || w.day < 1 || w.day > daysInMonth(w.year, w.month)) {
    return `day ${w.day} does not exist in ${w.year}-${String(w.month).padStart(2, '0')}`;
  }
  if (!Number.isInteger(w.hour) || w.hour < 0 || w.hour > 23) return `hour ${w.hour} out of range 0-23`;
  if (!Number.isInteger(w.minute) || w.minute < 0 || w.minute > 59) return `minute ${w.minute} out of range 0-59`;
  if (!Number.isInteger(w.second) || w.second < 0 || w.second > 59) return `second ${w.second} out of range 0-59`;
  if (!Number.isInteger(w.millisecond) || w.millisecond < 0 || w.millisecond > 999) return `millisecond ${w.millisecond} out of range`;
  return undefined;
}

/** The wall time read as if it were UTC: the arithmetic base for offsets. */
function wallAsUtc(w: WallTime): number {
  // Date.UTC maps years 0–99 to 1900–1999; setUTCFullYear does not.
  const d = new Date(Date.UTC(2000, w.month - 1, w.day, w.hour, w.minute, w.second, w.millisecond));
  d.setUTCFullYear(w.year);
  return d.getTime();
}

export function formatWallTime(w: WallTime): string {
  const p = (n: number, l = 2) => String(n).padStart(l, '0');
  const base = `${p(w.year, 4)}-${p(w.month)}-${p(w.day)} ${p(w.hour)}:${p(w.minute)}:${p(w.second)}`;
  return w.millisecond ? `${base}.${p(w.millisecond, 3)}` : base;
}

/**
 * One time zone with cached offset lookups. Converting a wall time costs one Map lookup on all but
 * the two transition days of a year: for each local calendar day the zone's offset is checked a day
 * before and two days after; when they agree the whole day has one offset. (This assumes a zone
 * never changes its offset twice within three days, which holds for every zone in the tz database.)
 */
export class TimeZone {
  private readonly fmt: Intl.DateTimeFormat;
  /** Local day (wall midnight as UTC ms) → its single offset, or null when the day has a transition. */
  private readonly dayOffsets = new Map<number, number | null>();

  constructor(readonly name: string) {
    try {
      this.fmt = new Intl.DateTimeFormat('en-US', {
        timeZone: name, hourCycle: 'h23', era: 'short',
        year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
      });
    } catch {
      throw new RangeError(`unknown time zone ${JSON.stringify(name)} (expected an IANA name such as Europe/Rome or Asia/Shanghai)`);
    }
  }

  /** Offset of local time from UTC at the instant `utcMs`, in ms (Rome in summer: +7,200,000). */
  offsetAt(utcMs: number): number {
    const whole = Math.floor(utcMs / 1000) * 1000; // Intl formats whole seconds
    const f: Record<string, string> = {};
    for (const part of this.fmt.formatToParts(new Date(whole))) f[part.type] = part.value;
    let year = Number(f.year);
    if (f.era === 'BC' || f.era === 'B') year = 1 - year;
    const d = new Date(Date.UTC(2000, Number(f.month) - 1, Number(f.day), Number(f.hour), Number(f.minute), Number(f.second)));
    d.setUTCFullYear(year);
    return d.getTime() - whole;
  }

  /** Every instant at which the zone's clocks show `w`: none (skipped), one, or two (repeated). */
  possibleInstants(w: WallTime): number[] {
    const wall = wallAsUtc(w);
    const day = Math.floor(wall / DAY) * DAY;
    let single = this.dayOffsets.get(day);
    if (single === undefined) {
      const before = this.offsetAt(day - DAY);
      const after = this.offsetAt(day + 2 * DAY);
      single = before === after ? before : null;
      if (this.dayOffsets.size > 50_000) this.dayOffsets.clear();
      this.dayOffsets.set(day, single);
    }
    if (single !== null) return [wall - single];
    // A transition day: try the offsets in force before and after (Temporal's algorithm).
    const offBefore = this.offsetAt(wall - DAY);
    const offAfter = this.offsetAt(wall + DAY);
    const out: number[] = [];
    for (const off of offBefore === offAfter ? [offBefore] : [offBefore, offAfter]) {
      const candidate = wall - off;
      if (this.offsetAt(candidate) === off && !out.includes(candidate)) out.push(candidate);
    }
    return out.sort((a, b) => a - b);
  }

  /** The UTC instant of a wall time, or the reason there is none. */
  toUtc(w: WallTime, disambiguation: Disambiguation = 'earlier'): ZonedResult {
    const problem = wallTimeProblem(w);
    if (problem) return { ok: false, reason: problem };
    const instants = this.possibleInstants(w);
    if (instants.length === 0) {
      return { ok: false, reason: `${formatWallTime(w)} does not exist in ${this.name} (clocks skip this hour for daylight saving time)` };
    }
    if (instants.length === 1) return { ok: true, utc: instants[0] };
    const pair = [instants[0], instants[instants.length - 1]] as const;
    return { ok: true, utc: disambiguation === 'earlier' ? pair[0] : pair[1], ambiguous: pair };
  }
}

const zones = new Map<string, TimeZone>();

/** A shared TimeZone instance per name (its caches are worth keeping). Throws RangeError for an unknown name. */
export function timeZone(name: string): TimeZone {
  let z = zones.get(name);
  if (!z) {
    z = new TimeZone(name);
    zones.set(name, z);
  }
  return z;
}

/** Convenience: a wall time in `zone` to UTC ms; throws with the reason when it does not exist. */
export function zonedToUtc(w: WallTime, zone: string, disambiguation: Disambiguation = 'earlier'): number {
  const r = timeZone(zone).toUtc(w, disambiguation);
  if (!r.ok) throw new RangeError(r.reason);
  return r.utc;
}

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

export interface IsoParts { wall: WallTime; /** Offset in ms, when the string has one. */ offsetMs?: number }

/**
 * Strict ISO 8601 (calendar date, optional time, optional offset). Unlike Date.parse it never reads
 * an offset-less time in the machine's zone: the caller decides. Returns the reason when invalid.
 */
export function parseIsoParts(s: string): IsoParts | { reason: string } {
  const m = ISO_RE.exec(s.trim());
  if (!m) return { reason: `${JSON.stringify(s)} is not an ISO 8601 time (e.g. 2026-03-01T08:30:00+08:00)` };
  const frac = m[7] ?? '';
  const wall: WallTime = {
    year: Number(m[1]), month: Number(m[2]), day: Number(m[3]),
    hour: Number(m[4] ?? 0), minute: Number(m[5] ?? 0), second: Number(m[6] ?? 0),
    millisecond: frac ? Math.floor(Number(`0.${frac}`) * 1000 + 1e-6) : 0,
  };
  const problem = wallTimeProblem(wall);
  if (problem) return { reason: `${JSON.stringify(s)}: ${problem}` };
  const z = m[8];
  if (!z) return { wall };
  if (z === 'Z' || z === 'z') return { wall, offsetMs: 0 };
  const sign = z[0] === '-' ? -1 : 1;
  const digits = z.slice(1).replace(':', '');
  const oh = Number(digits.slice(0, 2));
  const om = Number(digits.slice(2) || '0');
  if (oh > 18 || om > 59) return { reason: `${JSON.stringify(s)}: offset ${z} out of range` };
  return { wall, offsetMs: sign * (oh * HOUR + om * 60_000) };
}

/**
 * An ISO 8601 string to UTC ms. With an offset in the string it is used; without one, the time is
 * read in `zone` when given, and refused otherwise (an offset-less time is ambiguous).
 */
export function parseIso(s: string, zone?: string, disambiguation: Disambiguation = 'earlier'): ZonedResult {
  const p = parseIsoParts(s);
  if ('reason' in p) return { ok: false, reason: p.reason };
  if (p.offsetMs !== undefined) return { ok: true, utc: wallAsUtc(p.wall) - p.offsetMs };
  if (!zone) return { ok: false, reason: `${JSON.stringify(s)} has no UTC offset (add Z or e.g. +08:00)` };
  return timeZone(zone).toUtc(p.wall, disambiguation);
}
