/**
 * Bounds on the periods a request may ask for (review finding F9): a KPI report reads the store once
 * per day of its period and a history read scans every point of its range, so an unbounded period
 * from any signed-in viewer could keep the store busy for hours.
 */
import { explicitPeriod, quarterOf } from '../../../analytics/kpi/period.ts';
import type { Period } from '../../../analytics/kpi/types.ts';
import { ApiError } from '../context.ts';

/** A year and a quarter: the longest report a utility draws (a year, with the quarter before it). */
export const MAX_PERIOD_DAYS = 460;
const DAY_MS = 86_400_000;

/** Throws a validation error naming `querystring.to` when the period is reversed or too long. */
export function checkPeriod(from: number, to: number, maxDays = MAX_PERIOD_DAYS): void {
  if (to <= from) throw new ApiError('validation', 'querystring.to: must be after from', 'querystring.to');
  if (to - from > maxDays * DAY_MS) {
    throw new ApiError('validation', `querystring.to: the period may be at most ${maxDays} days (got ${Math.ceil((to - from) / DAY_MS)})`, 'querystring.to');
  }
}

/** The period a request names (`from` and `to` both, checked), or else the current quarter in the site's zone. */
export function periodOrQuarter(q: { from?: number; to?: number }, now: number, zone: string): Period {
  if ((q.from === undefined) !== (q.to === undefined)) {
    const [missing, given] = q.from === undefined ? ['from', 'to'] : ['to', 'from'];
    throw new ApiError('validation', `querystring.${missing}: required with ${given}`, `querystring.${missing}`);
  }
  if (q.from === undefined) return quarterOf(now, zone);
  checkPeriod(q.from, q.to!);
  return explicitPeriod(q.from, q.to!, zone);
}
