/**
 * Where a DMA's water comes from, hour by hour (a DMA with two or more inlets; README.md, "Reported
 * by day from the inlets' split"). Each inlet's share of the inflow is set by the network's heads
 * and the spread of demand over it: when the whole town uses more or less, every inlet gives more or
 * less alike and the shares hardly move, while a new leak draws from the inlets nearest it. On
 * L-Town (two inlets, 5-min data) an inlet's hourly share scatters by 0.2-0.3 % of the inflow
 * against its same hour of recent days, where the inflow itself scatters by 5-10 %.
 */
import { LocalTime } from '../../baseline/local-time.ts';
import { madSigma } from '../../baseline/median.ts';

const HOUR_MS = 3_600_000;
/** dayStepHours means of share residuals kept for their noise (two weeks), and the fewest that give it. */
const SHIFT_NOISE_HOURS = 14 * 24;
const SHIFT_NOISE_MIN = 48;
/** Hours of inlet readings kept while their hour is not closed yet. */
const OPEN_HOURS = 4;

/** Each inlet's mean flow per local hour, from its own readings. */
export class InletHours {
  private readonly open = new Map<number, { sums: Float64Array; counts: Uint32Array }>();
  private readonly index = new Map<string, number>();
  private hourStart = NaN;
  private hourEnd = NaN;

  constructor(readonly inlets: readonly string[], private readonly local: LocalTime) {
    inlets.forEach((s, i) => this.index.set(s, i));
  }

  isInlet(sensor: string): boolean {
    return this.index.has(sensor);
  }

  add(sensor: string, ts: number, value: number): void {
    const i = this.index.get(sensor);
    if (i === undefined || !Number.isFinite(value)) return;
    // the local hour's bounds are worked out once per hour, not per reading (replay speed)
    if (!(ts >= this.hourStart && ts < this.hourEnd)) {
      const pos = this.local.position(ts);
      const hour = Math.min(23, Math.floor(pos.msOfDay / HOUR_MS));
      this.hourStart = this.local.instantOf(pos.day, hour * HOUR_MS);
      this.hourEnd = hour === 23 ? this.local.instantOf(pos.day + 1, 0) : this.local.instantOf(pos.day, (hour + 1) * HOUR_MS);
    }
    const start = this.hourStart;
    let b = this.open.get(start);
    if (!b) {
      if (this.open.size >= OPEN_HOURS) this.open.delete(Math.min(...this.open.keys()));
      b = { sums: new Float64Array(this.inlets.length), counts: new Uint32Array(this.inlets.length) };
      this.open.set(start, b);
    }
    b.sums[i] += value;
    b.counts[i]++;
  }

  /**
   * Each inlet's share of the hour starting at `startTs` (NaN each when an inlet has no reading in it
   * or the inflow is not positive); the hour and older ones are forgotten.
   */
  sharesOf(startTs: number): number[] {
    const b = this.open.get(startTs);
    for (const k of [...this.open.keys()]) if (k <= startTs) this.open.delete(k);
    const shares = new Array<number>(this.inlets.length).fill(NaN);
    if (!b) return shares;
    let total = 0;
    for (let i = 0; i < this.inlets.length; i++) {
      if (!b.counts[i]) return shares;
      total += b.sums[i] / b.counts[i];
    }
    if (!(total > 0)) return shares;
    for (let i = 0; i < this.inlets.length; i++) shares[i] = b.sums[i] / b.counts[i] / total;
    return shares;
  }
}

export interface SplitShift {
  /**
   * The largest inlet's move over the last dayStepHours hours, in units of such a move's noise; 0 when
   * not every hour moved the same way, or when the move began more than dayStepHours before them (a
   * split that moved earlier and stays so is not a new step: its reference learns it in profileDays).
   */
  sigmas: number;
  /** Each inlet's mean share residual over those hours (+: it gives more of the inflow). */
  shifts: number[];
}

/** The moves of each inlet's share against its reference, and their noise. */
export class SplitShifts {
  private readonly recent: number[][];
  private readonly means: number[][];

  constructor(inlets: number, private readonly hours: number, private readonly floor: number) {
    this.recent = Array.from({ length: inlets }, () => []);
    this.means = Array.from({ length: inlets }, () => []);
  }

  /** One hour's share residuals (share − its reference; NaN when either is missing). */
  onHour(residuals: readonly number[]): SplitShift | undefined {
    if (residuals.some((r) => !Number.isFinite(r))) {
      for (const r of this.recent) r.length = 0;
      return undefined;
    }
    let best = 0;
    let known = true;
    const shifts: number[] = [];
    residuals.forEach((r, i) => {
      const recent = this.recent[i];
      recent.push(r);
      if (recent.length > 2 * this.hours) recent.shift();
      if (recent.length < this.hours) { known = false; return; }
      const window = recent.slice(-this.hours);
      const mean = window.reduce((a, b) => a + b, 0) / this.hours;
      shifts.push(mean);
      const history = this.means[i];
      const noise = history.length >= SHIFT_NOISE_MIN ? Math.max(madSigma(history), this.floor / Math.sqrt(this.hours)) : NaN;
      history.push(mean);
      if (history.length > SHIFT_NOISE_HOURS) history.shift();
      if (Number.isNaN(noise)) { known = false; return; }
      // a leak is a step: every hour of the window moved the same way, by at least half the mean, and
      // the move is new: one of the hours just before the window had not moved yet
      const moved = (x: number) => Math.sign(x) === Math.sign(mean) && Math.abs(x) >= Math.abs(mean) / 2;
      const before = recent.slice(0, -this.hours);
      if (!window.every(moved) || before.length < this.hours || before.every(moved)) return;
      best = Math.max(best, Math.abs(mean) / noise);
    });
    return known ? { sigmas: best, shifts } : undefined;
  }
}
