/**
 * Slow leaks of one DMA from its daily figures (see README.md): a CUSUM of the adjusted night flow
 * against a reference that moves only on evidence of a tight network (a repair, the lower envelope
 * of several weeks), never with every recent night.
 */
import { madSigma, medianOf } from '../../baseline/median.ts';
import type { LeakChangeSettings } from './options.ts';

/** One local day's figures, m³/h: the night window's mean and the 24-hour mean of net inflow. */
export interface DayFigure { day: number; nightM3h: number; dayM3h: number }

export type TrendJudgement =
  | { kind: 'raise'; startDay: number; leakM3h: number; state: TrendState }
  | { kind: 'update'; startDay: number; leakM3h: number; state: TrendState }
  /** Repaired; `dropM3h`: from the leak's peak level down to the re-based reference. */
  | { kind: 'clear'; startDay: number; repairedDay: number; leakM3h: number; dropM3h: number; state: TrendState }
  /** A dispatcher accepted the rise as a change of use: the reference moved to the level now. */
  | { kind: 'accepted'; startDay: number; leakM3h: number; state: TrendState };

export interface TrendState {
  adjustedNightM3h: number;
  referenceM3h: number;
  sigmaM3h: number;
  cusum: number;
  /** β of adjusted = night − β × (day−night swing − its mean). */
  swingWeight: number;
}


export class SlowLeakTrend {
  private days: DayFigure[] = [];
  /** Night flow moves with the day–night swing (weather, weekday) by β; a leak adds to night and day alike and leaves the swing alone. */
  private beta = 0;
  private swingMean = 0;
  private reference = NaN;
  private referenceDay = NaN;
  private cusum = 0;
  private cusumStartDay = NaN;
  private active?: { startDay: number; peakLeakM3h: number; clearDays: number[] };
  /** Last day a change of use was accepted: the nights before it are no evidence of a tighter network. */
  private acceptedDay = NaN;

  constructor(private readonly o: LeakChangeSettings) {}

  /**
   * A closed day; returns the leak judgement once the reference is learnt. `estimated`: the day's
   * figures have an abrupt leak's estimated flow taken off, so they are no evidence of a tighter network.
   */
  addDay(f: DayFigure, estimated = false): TrendJudgement | undefined {
    this.days.push(f);
    if (this.days.length > this.o.historyDays) this.days.shift();
    if (Number.isNaN(this.reference)) {
      if (this.days.length >= this.o.learnDays) this.rebase(this.days, f.day);
      return undefined;
    }
    const y = this.adjusted(f);
    const sigma = this.sigma();
    const state = (): TrendState => ({ adjustedNightM3h: y, referenceM3h: this.reference, sigmaM3h: sigma, cusum: this.cusum, swingWeight: this.beta });
    if (this.active) {
      const a = this.active;
      const leak = this.recentLevel(3) - this.reference;
      if (y - this.reference < this.o.clearShare * a.peakLeakM3h) a.clearDays.push(f.day);
      else a.clearDays = [];
      if (a.clearDays.length >= this.o.clearDays) {
        // the repair is the evidence: the nights since it are the tight network's new level
        const repairedDay = a.clearDays[0];
        const peak = a.peakLeakM3h;
        const peakLevel = this.reference + peak;
        this.active = undefined;
        this.reference = medianOf(this.days.filter((d) => d.day >= repairedDay).map((d) => this.adjusted(d)));
        this.referenceDay = f.day;
        this.cusum = 0;
        this.cusumStartDay = NaN;
        return { kind: 'clear', startDay: a.startDay, repairedDay, leakM3h: peak, dropM3h: peakLevel - this.reference, state: state() };
      }
      a.peakLeakM3h = Math.max(a.peakLeakM3h, leak);
      return { kind: 'update', startDay: a.startDay, leakM3h: leak, state: state() };
    }
    const before = this.cusum;
    this.cusum = Math.max(0, this.cusum + y - this.reference - this.o.trendAllowanceSigma * sigma);
    if (this.cusum === 0) this.cusumStartDay = NaN;
    else if (before === 0) this.cusumStartDay = f.day;
    if (this.cusum >= this.o.trendDecisionSigma * sigma) {
      const leak = this.recentLevel(Math.min(3, f.day - this.cusumStartDay + 1)) - this.reference;
      if (leak >= this.o.minLeakM3h && leak >= this.o.minLeakSigma * sigma) {
        this.active = { startDay: this.cusumStartDay, peakLeakM3h: leak, clearDays: [] };
        return { kind: 'raise', startDay: this.cusumStartDay, leakM3h: leak, state: state() };
      }
    }
    if (!estimated) this.followEnvelope(f.day);
    return undefined;
  }

  /** Replace a stored day's figures (an abrupt leak explained part of its flow). */
  replaceDay(f: DayFigure): void {
    const i = this.days.findIndex((d) => d.day === f.day);
    if (i >= 0) this.days[i] = f;
  }

  /** Flow that built the CUSUM is explained elsewhere (an abrupt leak was raised): start again from zero. */
  restartCusum(): void {
    if (this.active) return;
    this.cusum = 0;
    this.cusumStartDay = NaN;
  }

  /**
   * A dispatcher accepted the raised leak as a change of use: the reference moves to the level now
   * (the median of the last 3 days, the level the leak flow is measured at) and the leak is closed,
   * not as a repair. Undefined when no leak is raised.
   */
  accept(): TrendJudgement | undefined {
    const a = this.active;
    const last = this.days.at(-1);
    if (!a || !last) return undefined;
    const level = this.recentLevel(3);
    const leak = level - this.reference;
    this.active = undefined;
    this.reference = level;
    this.referenceDay = last.day;
    this.acceptedDay = last.day;
    this.cusum = 0;
    this.cusumStartDay = NaN;
    const state: TrendState = { adjustedNightM3h: this.adjusted(last), referenceM3h: level, sigmaM3h: this.sigma(), cusum: 0, swingWeight: this.beta };
    return { kind: 'accepted', startDay: a.startDay, leakM3h: leak, state };
  }

  /**
   * An accepted change of use of `deltaM3h` was added to every stored day (abrupt leak accepted):
   * the reference moves with it, so the figures keep their distance to it.
   */
  shiftReference(deltaM3h: number): void {
    if (Number.isNaN(this.reference)) return;
    this.reference += deltaM3h;
    const last = this.days.at(-1);
    if (last) this.acceptedDay = last.day;
    this.restartCusum();
  }

  private adjusted(f: DayFigure): number {
    return f.nightM3h - this.beta * (f.dayM3h - f.nightM3h - this.swingMean);
  }

  /** Median adjusted night flow of the last n days. */
  private recentLevel(n: number): number {
    return medianOf(this.days.slice(-Math.max(1, n)).map((d) => this.adjusted(d)));
  }

  /**
   * Noise of the adjusted figure: the larger of the robust σ of consecutive days' differences ÷ √2
   * (blind to slow trends and single steps) and the robust σ of the last four weeks around their
   * median (demand that wanders for days at a time, which day-to-day differences understate).
   */
  private sigma(): number {
    const diffs: number[] = [];
    for (let i = 1; i < this.days.length; i++) {
      if (this.days[i].day === this.days[i - 1].day + 1) diffs.push(this.adjusted(this.days[i]) - this.adjusted(this.days[i - 1]));
    }
    const floor = this.o.sigmaFloorShare * Math.abs(this.reference);
    if (diffs.length < 7) return floor;
    const level = this.days.slice(-28).map((d) => this.adjusted(d));
    return Math.max(floor, madSigma(diffs) / Math.SQRT2, madSigma(level));
  }

  /**
   * With no leak raised: the reference drops when the last two weeks' medians are both below it (the
   * network got tighter), and rises only when every one of the last envelopeWeeks weeks' medians is above it.
   */
  private followEnvelope(day: number): void {
    // after an accepted change of use, the nights before it (lower) would pull the reference back down
    if (this.days.length >= 14 && !(day - this.acceptedDay < 14)) {
      // two weeks running below: the network is tighter (one low week is noise)
      const lastWeek = this.recentLevel(7);
      const weekBefore = medianOf(this.days.slice(-14, -7).map((d) => this.adjusted(d)));
      const tighter = Math.max(lastWeek, weekBefore);
      if (tighter < this.reference) this.reference = tighter;
    }
    const span = 7 * this.o.envelopeWeeks;
    if (day - this.referenceDay < span || this.days.length < span) return;
    const recent = this.days.slice(-span);
    const weekly: number[] = [];
    for (let w = 0; w < this.o.envelopeWeeks; w++) weekly.push(medianOf(recent.slice(7 * w, 7 * w + 7).map((d) => this.adjusted(d))));
    const envelope = Math.min(...weekly);
    if (envelope > this.reference) {
      this.reference = envelope;
      this.referenceDay = day;
    }
  }

  /** Learn β and the reference (the median adjusted night flow) from these days. */
  private rebase(days: DayFigure[], day: number): void {
    const fitted = this.fitSwing(days);
    this.beta = fitted.beta;
    this.swingMean = fitted.swingMean;
    this.reference = medianOf(days.map((d) => this.adjusted(d)));
    this.referenceDay = day;
    this.cusum = 0;
    this.cusumStartDay = NaN;
  }

  /** Least squares of night flow on the day–night swing; β within [−1, 1] (beyond it the figure extrapolates). */
  private fitSwing(days: DayFigure[]): { beta: number; swingMean: number } {
    const xs = days.map((d) => d.dayM3h - d.nightM3h);
    const ys = days.map((d) => d.nightM3h);
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = ys.reduce((a, b) => a + b, 0) / ys.length;
    let sxy = 0;
    let sxx = 0;
    for (let i = 0; i < xs.length; i++) {
      sxy += (xs[i] - mx) * (ys[i] - my);
      sxx += (xs[i] - mx) ** 2;
    }
    const beta = sxx > 1e-9 ? Math.max(-1, Math.min(1, sxy / sxx)) : 0;
    return { beta, swingMean: mx };
  }
}


