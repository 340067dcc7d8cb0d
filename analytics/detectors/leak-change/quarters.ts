/**
 * The report by day judged at every quarter hour (README, "Reported by day"). The clock hours'
 * excess (abrupt.ts) is judged at the end of each hour, so a leak whose evidence reaches the
 * threshold at 01:15 waits until 02:00, and where a utility's data puts its events against the
 * hour boundaries moves every report by up to an hour. Here the net demand is kept in quarter-hours
 * and the same test runs on the hours that begin at a quarter past, half past and a quarter to:
 * each such hour against the same hour of recent days (kind by kind, as the clock hours), in units
 * of that hour of day's noise, its last dayStepHours hours' mean in units of the noise of such means.
 * Only for data at 15 min or finer: an hourly value says nothing about the quarters inside it.
 */
import type { LocalTime } from '../../baseline/local-time.ts';
import { medianOf } from '../../baseline/median.ts';
import { DAY_KINDS, DayKinds, kindOffsets } from './day-kinds.ts';
import { DayExcessMeter, type DayExcess } from './excess.ts';
import { HourlyMeans, type ClosedHour } from './hours.ts';
import type { LeakChangeSettings } from './options.ts';

const QUARTER_MS = 900_000;
const QUARTERS_PER_DAY = 96;
const QUARTER_MIN = 15;

/** An off-hour's excess that the report by day may judge, and when its hour ended. */
export interface OffHourExcess {
  excess: DayExcess;
  endTs: number;
}

export class QuarterHours {
  private readonly quarters: HourlyMeans;
  /** Ring of the last days' quarter means (m³/h, less the flow of abrupt leaks raised), by absolute quarter (day × 96 + quarter). */
  private readonly size: number;
  private readonly keys: Int32Array;
  private readonly values: Float64Array;
  /** Days closed, oldest first (historyDays of them): the offsets' days. */
  private readonly days: number[] = [];
  /** Per day kind and hour starting at quarter p: how far that kind's hour runs from all days'. */
  private readonly offsets: Float64Array[];
  private readonly known: boolean[][];
  /** One meter per off-hour phase (a quarter past, half past, a quarter to). */
  private readonly meters: DayExcessMeter[];
  private pending?: OffHourExcess;

  constructor(
    private readonly o: LeakChangeSettings, private readonly local: LocalTime,
    /** Flow of abrupt leaks raised whose step began by then (taken off each quarter as it closes). */
    private readonly activeFlowAt: (ts: number) => number,
    private readonly kinds = new DayKinds(),
  ) {
    this.quarters = new HourlyMeans(local, o.hourCoverage, (q) => this.onQuarter(q), QUARTER_MS);
    this.size = (o.historyDays + 2) * QUARTERS_PER_DAY;
    this.keys = new Int32Array(this.size).fill(-1);
    this.values = new Float64Array(this.size).fill(NaN);
    this.offsets = Array.from({ length: DAY_KINDS }, () => new Float64Array(QUARTERS_PER_DAY));
    this.known = Array.from({ length: DAY_KINDS }, () => new Array<boolean>(QUARTERS_PER_DAY).fill(false));
    const n = Math.max(1, Math.round(o.dayStepHours));
    this.meters = [1, 2, 3].map(() => new DayExcessMeter(n, QUARTERS_PER_DAY));
  }

  /** A net inflow value standing for `minutes`; coarser than a quarter hour, it is not kept. */
  add(ts: number, value: number, minutes: number): OffHourExcess | undefined {
    if (minutes > QUARTER_MIN) return undefined;
    this.quarters.add(ts, value, minutes);
    return this.take();
  }

  advance(ts: number): OffHourExcess | undefined {
    this.quarters.advance(ts);
    return this.take();
  }

  /** A leak's flow taken off (delta > 0) or put back from the quarters whose start `which` selects, as the clock hours. */
  correct(delta: number, which: (startTs: number) => boolean): void {
    for (let i = 0; i < this.size; i++) {
      const k = this.keys[i];
      if (k < 0 || !Number.isFinite(this.values[i])) continue;
      const startTs = this.local.instantOf(Math.floor(k / QUARTERS_PER_DAY), (k % QUARTERS_PER_DAY) * QUARTER_MS);
      if (which(startTs)) this.values[i] -= delta;
    }
  }

  /** A dispatcher's acceptance: the windows start again (the last hours hold the step accepted). */
  reset(): void {
    for (const m of this.meters) m.reset();
  }

  /** A local day closed: the day kinds' offsets of every off-hour, over the days kept. */
  closeDay(day: number): void {
    if (this.days.at(-1) !== day) this.days.push(day);
    if (this.days.length > this.o.historyDays) this.days.shift();
    const dayKinds = this.days.map((d) => this.kinds.of(d));
    for (let p = 0; p < QUARTERS_PER_DAY; p++) {
      if (p % 4 === 0) continue; // a clock hour: the clock hours' own
      const kinds = kindOffsets(this.days.map((d, i) => ({ kind: dayKinds[i], value: this.hourMean(d * QUARTERS_PER_DAY + p + 3) })));
      for (let k = 0; k < DAY_KINDS; k++) {
        this.offsets[k][p] = kinds.offsets[k];
        this.known[k][p] = kinds.known[k];
      }
    }
  }

  private take(): OffHourExcess | undefined {
    const p = this.pending;
    this.pending = undefined;
    return p;
  }

  private onQuarter(q: ClosedHour): void {
    const k = q.day * QUARTERS_PER_DAY + q.hour;
    const i = k % this.size;
    this.keys[i] = k;
    this.values[i] = q.mean - this.activeFlowAt(q.startTs);
    const start = k - 3;
    const p = ((start % QUARTERS_PER_DAY) + QUARTERS_PER_DAY) % QUARTERS_PER_DAY;
    if (p % 4 === 0) return; // the hour ending now is a clock hour
    const meter = this.meters[(p % 4) - 1];
    const day = Math.floor(start / QUARTERS_PER_DAY);
    const kind = this.kinds.of(day);
    const reference = this.referenceOf(k, p, kind);
    const residual = this.hourMean(k) - reference;
    if (!Number.isFinite(residual)) {
      meter.reset();
      return;
    }
    const excess = meter.add(p, residual, this.o.sigmaFloorShare * Math.abs(reference));
    // judged against its own day kind's profile only, as the clock hours
    if (excess && this.known[kind][p]) this.pending = { excess, endTs: q.endTs };
  }

  /** The hour ending with quarter k: the mean of its quarters, when enough of them are covered. */
  private hourMean(k: number): number {
    let sum = 0;
    let n = 0;
    for (let j = k - 3; j <= k; j++) {
      const i = ((j % this.size) + this.size) % this.size;
      if (this.keys[i] !== j || !Number.isFinite(this.values[i])) continue;
      sum += this.values[i];
      n++;
    }
    return n >= this.o.hourCoverage * 4 && n > 0 ? sum / n : NaN;
  }

  /** The same hour of the last profileDays days (median), each moved to this day's kind by the kinds' offsets. */
  private referenceOf(k: number, p: number, kind: number): number {
    const values: number[] = [];
    for (let back = 1; back <= this.o.historyDays && values.length < this.o.profileDays; back++) {
      const earlier = k - back * QUARTERS_PER_DAY;
      const v = this.hourMean(earlier);
      if (Number.isFinite(v)) values.push(v - this.offsets[this.kinds.of(Math.floor((earlier - 3) / QUARTERS_PER_DAY))][p]);
    }
    return values.length >= 2 ? medianOf(values) + this.offsets[kind][p] : NaN;
  }
}
