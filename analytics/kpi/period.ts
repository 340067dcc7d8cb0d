/**
 * Report periods in the site's time zone: a quarter `2026-Q3` is Jul 1 00:00 to Oct 1 00:00 local
 * (Asia/Shanghai: 2026-06-30T16:00Z to 2026-09-30T16:00Z).
 */
import { parseIso, timeZone, zonedToUtc } from '../../core/time/zoned.ts';
import type { Period } from './types.ts';

export class PeriodError extends Error {
  constructor(readonly field: string, reason: string) {
    super(`${field}: ${reason}`);
    this.name = 'PeriodError';
  }
}

const QUARTER_RE = /^(\d{4})-?Q([1-4])$/i;

/** `2026-Q3` (or `2026Q3`) → the quarter's [from, to) in `zone`. */
export function quarterPeriod(text: string, zone: string): Period {
  const m = QUARTER_RE.exec(text.trim());
  if (!m) throw new PeriodError('quarter', `${JSON.stringify(text)} is not a quarter (e.g. 2026-Q3)`);
  const year = Number(m[1]);
  const q = Number(m[2]);
  const from = localMidnight(year, (q - 1) * 3 + 1, zone);
  const to = q === 4 ? localMidnight(year + 1, 1, zone) : localMidnight(year, q * 3 + 1, zone);
  return { from, to, label: `${year}-Q${q}`, timezone: zone };
}

/** The quarter holding `ts` in `zone`. */
export function quarterOf(ts: number, zone: string): Period {
  const wall = new Date(ts + timeZone(zone).offsetAt(ts));
  return quarterPeriod(`${wall.getUTCFullYear()}-Q${Math.floor(wall.getUTCMonth() / 3) + 1}`, zone);
}

/** The last complete quarter before the one holding `now` (what a quarterly report covers by default). */
export function previousQuarter(now: number, zone: string): Period {
  return quarterOf(quarterOf(now, zone).from - 1, zone);
}

/** A free period from ISO 8601 times (read in `zone` when they carry no offset). */
export function isoPeriod(fromText: string, toText: string, zone: string): Period {
  const from = parseIso(fromText, zone);
  if (!from.ok) throw new PeriodError('from', from.reason);
  const to = parseIso(toText, zone);
  if (!to.ok) throw new PeriodError('to', to.reason);
  return explicitPeriod(from.utc, to.utc, zone);
}

/** A period from instants, labelled with its local dates. */
export function explicitPeriod(from: number, to: number, zone: string, label?: string): Period {
  if (!Number.isFinite(from)) throw new PeriodError('from', `expected a time in ms, got ${from}`);
  if (!Number.isFinite(to)) throw new PeriodError('to', `expected a time in ms, got ${to}`);
  if (to <= from) throw new PeriodError('to', 'must be after from');
  timeZone(zone); // throws a clear RangeError for an unknown zone
  return { from, to, label: label ?? `${localDateTime(from, zone)} – ${localDateTime(to, zone)}`, timezone: zone };
}

/** `2026-07-01` at local midnight, `2026-07-01 08:30` otherwise. */
export function localDateTime(ts: number, zone: string): string {
  const iso = new Date(ts + timeZone(zone).offsetAt(ts)).toISOString();
  const time = iso.slice(11, 16);
  return time === '00:00' ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${time}`;
}

function localMidnight(year: number, month: number, zone: string): number {
  const wall = { year, month, day: 1, hour: 0, minute: 0, second: 0, millisecond: 0 };
  const r = timeZone(zone).toUtc(wall);
  // A few zones spring forward at midnight: the day then starts at 01:00 local.
  return r.ok ? r.utc : zonedToUtc({ ...wall, hour: 1 }, zone);
}
