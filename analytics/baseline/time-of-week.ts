/**
 * Time-of-week baseline: what a series usually does at this local time of day on this kind of day.
 *
 * Per series, the local day is cut into slots (15 min by default). Each finished slot's mean goes
 * into a ring of the last `historyDays` days kept for that slot, with the day's type (its weekday, or
 * holiday, or make-up working day from the site's calendar). The expected value at an instant is the
 * median of the same slot over the last `daysPerType` days of the same type, and its spread the MAD
 * of those values: robust, so a burst or an outage on one past day does not move the baseline. When
 * too few days of that type are known yet, a wider group stands in (the same weekday → working days
 * or weekend days; holidays → weekend days), and at a fresh start all known days.
 *
 * Slots are local wall time (DST-correct): on the spring-forward day the skipped slots get no value;
 * on the fall-back day the repeated hour's two passes are merged into one mean per slot.
 * Memory per series is fixed: slotsPerDay × historyDays numbers.
 */
import { medianAndMad, medianOf } from './median.ts';
import type { TimeSeriesStore } from '../../core/tsdb/types.ts';
import { DAY_MS, LocalTime, MINUTE_MS } from './local-time.ts';
import type { DayCalendar } from './calendar.ts';

export type DayTypes = 'weekday-weekend' | 'per-weekday' | 'all';

export interface BaselineOptions {
  /** IANA zone of the site. */
  timezone: string;
  /** Slot length, minutes; must divide a day. Default 15. */
  slotMinutes?: number;
  /**
   * How days are compared. 'per-weekday' (default): with the same weekday once `minSameWeekdays` of
   * them are known, until then with working days or weekend days; 'weekday-weekend': working days
   * with working days, weekend with weekend; 'all': every day alike. Holidays of the calendar are
   * compared with holidays (weekend days until one is known; not in 'all'), make-up working days
   * with working days.
   */
  dayTypes?: DayTypes;
  /** The site's holidays and make-up working days. */
  calendar?: DayCalendar;
  /** Days kept per slot (the ring). Default 28 (four weeks). */
  historyDays?: number;
  /** At most this many most recent days of the matching type are used. Default 10. */
  daysPerType?: number;
  /** Fewer days of the matching type than this: use all known days (sameType false). Default 1. */
  minDaysPerType?: number;
  /** 'per-weekday': fewer days of the same weekday than this, and its group stands in. Default 3. */
  minSameWeekdays?: number;
}

export interface SlotStats {
  /** Median of the slot's past day means. */
  median: number;
  /** Median absolute deviation (unscaled) of those means. */
  mad: number;
  /** 1.4826 × MAD: the standard deviation it stands for with normal noise. */
  sigma: number;
  /** How many past days the figures rest on. */
  days: number;
  /** False when too few days of the matching type (or its stand-in group) were known and all days stood in. */
  sameType: boolean;
}

/** A day's type as stored: its weekday (0 = Sunday … 6), or one of these from the calendar. */
const HOLIDAY = 7;
const MAKE_UP_WORKDAY = 8;
const DAY_TYPE_COUNT = 9;
const bit = (code: number) => 1 << code;
const WORKING_DAYS = bit(1) | bit(2) | bit(3) | bit(4) | bit(5) | bit(MAKE_UP_WORKDAY);
const WEEKEND_DAYS = bit(0) | bit(6);
const ALL_DAYS = (1 << DAY_TYPE_COUNT) - 1;

/** Which stored day types a day is compared with, in order of preference, each with the fewest days it needs. */
type MatchChain = readonly { mask: number; minDays: number }[];

function matchChains(mode: DayTypes, minDaysPerType: number, minSameWeekdays: number): MatchChain[] {
  const chains: MatchChain[] = [];
  for (let code = 0; code < DAY_TYPE_COUNT; code++) {
    const group = code === HOLIDAY ? WEEKEND_DAYS : (WORKING_DAYS & bit(code)) ? WORKING_DAYS : WEEKEND_DAYS;
    if (mode === 'all') chains.push([{ mask: ALL_DAYS, minDays: minDaysPerType }]);
    else if (code === HOLIDAY) chains.push([{ mask: bit(HOLIDAY), minDays: minDaysPerType }, { mask: WEEKEND_DAYS, minDays: minDaysPerType }]);
    else if (mode === 'weekday-weekend' || code === MAKE_UP_WORKDAY) chains.push([{ mask: group, minDays: minDaysPerType }]);
    else chains.push([{ mask: bit(code), minDays: minSameWeekdays }, { mask: group, minDays: minDaysPerType }]);
  }
  return chains;
}

/** The fixed-size memory of one series. */
class SeriesRing {
  /** [slot * history + i]: local day number of the entry, or NaN when empty. */
  readonly day: Float64Array;
  readonly value: Float64Array;
  readonly count: Float64Array;
  readonly type: Uint8Array;
  /** Next write position per slot. */
  readonly head: Uint16Array;
  /** Open slot being accumulated. */
  openDay = NaN;
  openSlot = -1;
  openType = 0;
  openEndTs = -Infinity;
  sum = 0;
  n = 0;
  /** Cache of the last stats lookup per (slot, target day) — lookups repeat every reading. */
  readonly cacheKey: Float64Array;
  readonly cacheStats: (SlotStats | undefined)[];

  constructor(slots: number, readonly history: number) {
    this.day = new Float64Array(slots * history).fill(NaN);
    this.value = new Float64Array(slots * history);
    this.count = new Float64Array(slots * history);
    this.type = new Uint8Array(slots * history);
    this.head = new Uint16Array(slots);
    this.cacheKey = new Float64Array(slots * 2).fill(NaN);
    this.cacheStats = new Array(slots * 2);
  }
}

export class TimeOfWeekBaseline {
  readonly local: LocalTime;
  readonly slotMs: number;
  readonly slotsPerDay: number;
  readonly historyDays: number;
  private readonly daysPerType: number;
  private readonly minDaysPerType: number;
  private readonly chains: MatchChain[];
  private readonly calendar: DayCalendar | undefined;
  private readonly series = new Map<string, SeriesRing>();
  /** Readings older than the open slot of their series (late data), not used. */
  lateDropped = 0;
  private readonly scratch: number[] = [];

  constructor(options: BaselineOptions) {
    const slotMinutes = options.slotMinutes ?? 15;
    if (!(slotMinutes > 0) || 1440 % slotMinutes !== 0) throw new Error(`baseline.slotMinutes: must divide a day (got ${slotMinutes})`);
    this.local = new LocalTime(options.timezone);
    this.slotMs = slotMinutes * MINUTE_MS;
    this.slotsPerDay = 1440 / slotMinutes;
    this.historyDays = options.historyDays ?? 28;
    this.daysPerType = options.daysPerType ?? 10;
    this.minDaysPerType = options.minDaysPerType ?? 1;
    this.chains = matchChains(options.dayTypes ?? 'per-weekday', this.minDaysPerType, options.minSameWeekdays ?? 3);
    this.calendar = options.calendar?.size ? options.calendar : undefined;
    if (!(this.historyDays >= 1 && this.historyDays <= 366)) throw new Error(`baseline.historyDays: must be 1–366 (got ${this.historyDays})`);
  }

  /** The stored type of local day `day` (weekday 0 = Sunday … 6, HOLIDAY, MAKE_UP_WORKDAY). */
  private dayType(day: number, weekday: number): number {
    const kind = this.calendar?.kindOf(day);
    if (kind === 'holiday') return HOLIDAY;
    if (kind === 'workday') return MAKE_UP_WORKDAY;
    return weekday;
  }

  private ring(key: string): SeriesRing {
    let r = this.series.get(key);
    if (!r) {
      r = new SeriesRing(this.slotsPerDay, this.historyDays);
      this.series.set(key, r);
    }
    return r;
  }

  has(key: string): boolean {
    return this.series.has(key);
  }

  /** Add one reading of series `key`. Readings must come in time order per series; older ones are dropped. */
  add(key: string, ts: number, value: number): void {
    if (!Number.isFinite(value)) return;
    const r = this.ring(key);
    const pos = this.local.position(ts);
    const slot = Math.floor(pos.msOfDay / this.slotMs);
    if (pos.day !== r.openDay || slot !== r.openSlot) {
      if (r.n > 0 && ts < r.openEndTs - this.slotMs) {
        this.lateDropped++;
        return;
      }
      this.closeOpen(r);
      r.openDay = pos.day;
      r.openSlot = slot;
      r.openType = this.dayType(pos.day, pos.weekday);
      r.openEndTs = ts - (pos.msOfDay - slot * this.slotMs) + this.slotMs;
    }
    r.sum += value;
    r.n++;
  }

  /** Close open slots that ended at or before `ts` (the watermark), so their means count. */
  advance(ts: number): void {
    for (const r of this.series.values()) if (r.n > 0 && ts >= r.openEndTs) this.closeOpen(r);
  }

  /**
   * Put a finished slot mean directly (warm-up from a store's windowed means). `ts` is any instant
   * in the slot; `samples` weighs it when the same local slot is seen twice (fall-back hour).
   */
  addSlotMean(key: string, ts: number, mean: number, samples = 1): void {
    if (!Number.isFinite(mean)) return;
    const r = this.ring(key);
    const pos = this.local.position(ts);
    this.push(r, Math.floor(pos.msOfDay / this.slotMs), pos.day, this.dayType(pos.day, pos.weekday), mean, samples);
  }

  private closeOpen(r: SeriesRing): void {
    if (r.n > 0) this.push(r, r.openSlot, r.openDay, r.openType, r.sum / r.n, r.n);
    r.sum = 0;
    r.n = 0;
    r.openSlot = -1;
    r.openDay = NaN;
  }

  private push(r: SeriesRing, slot: number, day: number, type: number, mean: number, samples: number): void {
    const base = slot * r.history;
    const last = base + ((r.head[slot] + r.history - 1) % r.history);
    let evicted = false;
    if (r.day[last] === day) {
      // The same local slot again (the repeated hour when clocks go back): merge.
      const total = r.count[last] + samples;
      r.value[last] = (r.value[last] * r.count[last] + mean * samples) / total;
      r.count[last] = total;
    } else if (Number.isNaN(r.day[last]) || day > r.day[last]) {
      const at = base + r.head[slot];
      evicted = !Number.isNaN(r.day[at]);
      r.day[at] = day;
      r.value[at] = mean;
      r.count[at] = samples;
      r.type[at] = type;
      r.head[slot] = (r.head[slot] + 1) % r.history;
    } else {
      this.lateDropped++;
      return;
    }
    // A cached slot's stats use only the days before its `beforeDay` (key = beforeDay × 16 + type):
    // the slot closing today (the common case) leaves the stats for today as they are, unless the
    // ring was full and a day fell out.
    for (let c = slot * 2; c <= slot * 2 + 1; c++) {
      const key = r.cacheKey[c];
      if (!Number.isNaN(key) && (evicted || day < Math.floor(key / 16))) r.cacheKey[c] = NaN;
    }
  }

  /**
   * Median and MAD of slot `slot` over days before `beforeDay` that match a day of type `type` (its
   * chain: the same type, else its stand-in group), or of all days when too few match.
   */
  private slotStats(r: SeriesRing, slot: number, beforeDay: number, type: number): SlotStats | undefined {
    // two entries per slot: consecutive days (today, and the next day's first slot near midnight) alternate
    const cacheAt = slot * 2 + (beforeDay & 1);
    const key = beforeDay * 16 + type;
    if (r.cacheKey[cacheAt] === key) return r.cacheStats[cacheAt];
    const values = this.scratch;
    const base = slot * r.history;
    let sameType = false;
    for (const { mask, minDays } of this.chains[type]) {
      values.length = 0;
      // newest first
      for (let k = 1; k <= r.history && values.length < this.daysPerType; k++) {
        const at = base + ((r.head[slot] + r.history - k) % r.history);
        const d = r.day[at];
        if (Number.isNaN(d)) break;
        if (d >= beforeDay || !(mask & bit(r.type[at]))) continue;
        values.push(r.value[at]);
      }
      if (values.length >= minDays) {
        sameType = true;
        break;
      }
    }
    if (!sameType) {
      values.length = 0;
      for (let k = 1; k <= r.history && values.length < this.daysPerType; k++) {
        const at = base + ((r.head[slot] + r.history - k) % r.history);
        const d = r.day[at];
        if (Number.isNaN(d)) break;
        if (d < beforeDay) values.push(r.value[at]);
      }
    }
    const stats = values.length ? { ...robustStats(values), sameType } : undefined;
    r.cacheKey[cacheAt] = key;
    r.cacheStats[cacheAt] = stats;
    return stats;
  }

  /** Baseline statistics of the slot containing `ts`, from earlier days only. */
  slot(key: string, ts: number): SlotStats | undefined {
    const r = this.series.get(key);
    if (!r) return undefined;
    const pos = this.local.position(ts);
    return this.slotStats(r, Math.floor(pos.msOfDay / this.slotMs), pos.day, this.dayType(pos.day, pos.weekday));
  }

  /**
   * Expected value at `ts`: slot medians interpolated between slot centres (demand ramps have no
   * steps at slot edges), with the interpolated spread. From earlier days only, so today's event
   * never feeds its own baseline. Undefined until the series has history for these slots.
   */
  expected(key: string, ts: number): SlotStats | undefined {
    const r = this.series.get(key);
    if (!r) return undefined;
    const pos = this.local.position(ts);
    const p = pos.msOfDay / this.slotMs - 0.5;
    const i = Math.floor(p);
    const frac = p - i;
    return interpolated(this.neighbour(r, pos.day, pos.weekday, i), this.neighbour(r, pos.day, pos.weekday, i + 1), frac);
  }

  /**
   * Expected value at `ts`'s local time of day on a day like `refTs`'s: the slots of the days before
   * `refTs`'s day that match its type, wherever `ts` falls (interpolated as in expected()). For a
   * prediction from the samples before `refTs` across midnight: Sunday's 23:45 read against Sunday's
   * baseline and Monday's 00:00 against Monday's differ by the two baselines' own errors, a jump of
   * the ratio that demand did not make.
   */
  expectedLike(key: string, ts: number, refTs: number): SlotStats | undefined {
    const r = this.series.get(key);
    if (!r) return undefined;
    const ref = this.local.position(refTs);
    const type = this.dayType(ref.day, ref.weekday);
    const p = this.local.position(ts).msOfDay / this.slotMs - 0.5;
    const i = Math.floor(p);
    const wrap = (slot: number) => (slot + this.slotsPerDay) % this.slotsPerDay;
    return interpolated(this.slotStats(r, wrap(i), ref.day, type), this.slotStats(r, wrap(i + 1), ref.day, type), p - i);
  }

  private neighbour(r: SeriesRing, day: number, weekday: number, slot: number): SlotStats | undefined {
    if (slot < 0) return this.slotStats(r, this.slotsPerDay - 1, day - 1, this.dayType(day - 1, (weekday + 6) % 7));
    if (slot >= this.slotsPerDay) return this.slotStats(r, 0, day + 1, this.dayType(day + 1, (weekday + 1) % 7));
    return this.slotStats(r, slot, day, this.dayType(day, weekday));
  }

  /** Mean of the slot medians over a day of the type of the day of `ts`, today included (a typical daily mean), or undefined. */
  typicalMean(key: string, ts: number): number | undefined {
    const r = this.series.get(key);
    if (!r) return undefined;
    const pos = this.local.position(ts);
    let sum = 0;
    let n = 0;
    for (let s = 0; s < this.slotsPerDay; s++) {
      const st = this.slotStats(r, s, pos.day + 1, this.dayType(pos.day, pos.weekday));
      if (st) {
        sum += st.median;
        n++;
      }
    }
    return n >= this.slotsPerDay / 2 ? sum / n : undefined;
  }

  /** Days of history known for the slot containing `ts` (0 when none). */
  daysKnown(key: string, ts: number): number {
    return this.slot(key, ts)?.days ?? 0;
  }

  /** Forget a series. */
  delete(key: string): void {
    this.series.delete(key);
  }

  get seriesCount(): number {
    return this.series.size;
  }
}

/** Two adjacent slots' statistics interpolated at `frac` (0: a, 1: b); either alone when the other is missing. */
function interpolated(a: SlotStats | undefined, b: SlotStats | undefined, frac: number): SlotStats | undefined {
  if (!a || !b) return a ?? b;
  return {
    median: a.median * (1 - frac) + b.median * frac,
    mad: a.mad * (1 - frac) + b.mad * frac,
    sigma: a.sigma * (1 - frac) + b.sigma * frac,
    days: Math.min(a.days, b.days),
    sameType: a.sameType && b.sameType,
  };
}

export function robustStats(values: number[]): Omit<SlotStats, 'sameType'> {
  const { median, mad } = medianAndMad(values);
  return { median, mad, sigma: 1.4826 * mad, days: values.length };
}

/**
 * Warm a baseline from a store: one mean per slot window over `historyDays` before `until`, per
 * sensor of `measurement` (series key = `keyOf(sensor)`). Windows are aligned to the epoch, which is
 * the local slot grid whenever the zone's offset is a multiple of the slot (every zone for 15 min).
 */
export async function warmBaselineFromStore(
  baseline: TimeOfWeekBaseline, store: TimeSeriesStore, measurement: string, sensors: readonly string[],
  from: number, until: number, keyOf: (sensor: string) => string = (s) => s,
): Promise<number> {
  if (sensors.length === 0 || until <= from) return 0;
  const slotMs = baseline.slotMs;
  const start = Math.floor(from / slotMs) * slotMs;
  const end = Math.floor(until / slotMs) * slotMs; // whole windows only; the open one comes live
  if (end <= start) return 0;
  const result = await store.query({ measurement, sensors, from: start, to: end, windowMs: slotMs, aggregate: 'mean' });
  let n = 0;
  for (const [sensor, values] of result) {
    for (const v of values) {
      baseline.addSlotMean(keyOf(sensor), v.ts, v.value);
      n++;
    }
  }
  return n;
}

export const BASELINE_DAY_MS = DAY_MS;
