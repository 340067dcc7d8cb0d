/**
 * Slow leaks of one DMA from its daily figures (see README.md): a CUSUM of the adjusted night flow
 * against a reference that moves only on evidence of a tight network (a repair, the lower envelope
 * of several weeks), never with every recent night.
 */
import { madSigma, medianOf } from '../../baseline/median.ts';
import type { LeakChangeSettings } from './options.ts';

/** One local day's figures, m³/h: the night window's mean and the 24-hour mean of net inflow. */
export interface DayFigure { day: number; nightM3h: number; dayM3h: number }

/**
 * `serial`: which of the DMA's slow leaks, 1 for the first; a leak raised while others are known
 * (settled, below) takes the smallest serial not in use.
 */
export type TrendJudgement =
  | { kind: 'raise'; serial: number; startDay: number; leakM3h: number; state: TrendState }
  /** `settled`: the leak stopped growing; `leakM3h` is its known flow from now on. */
  | { kind: 'update'; serial: number; startDay: number; leakM3h: number; state: TrendState; settled?: true }
  /** Repaired; `dropM3h`: from the leak's peak level down to the re-based reference. */
  | { kind: 'clear'; serial: number; startDay: number; repairedDay: number; leakM3h: number; dropM3h: number; state: TrendState }
  /** A dispatcher accepted the rise as a change of use: the reference moved to the level now. */
  | { kind: 'accepted'; serial: number; startDay: number; leakM3h: number; state: TrendState };

/** The leak being measured: raised, its flow the level above the base (the reference and the settled leaks). */
interface RisingLeak {
  serial: number;
  startDay: number;
  peakLeakM3h: number;
  clearDays: number[];
  /** Highest 7-day median flow so far, and the day it was set: a month without a new one is a settled leak. */
  peakWeekM3h: number;
  peakWeekDay: number;
  /** Abrupt leaks confirmed since it was raised, by key: their estimated flows, taken off the figures. */
  laterAbrupt: Map<number, number>;
}

/**
 * A raised leak that stopped growing: its flow is known, and a further rise above it is a new leak.
 * `laterAbrupt`: abrupt leaks confirmed since it settled (its flow was measured net of those before).
 */
interface SettledLeak { serial: number; startDay: number; flowM3h: number; clearDays: number[]; laterAbrupt: Map<number, number> }

/** A raised leak taken up from its open alarm after a restart: its last figures (index.ts). */
export interface ResumedLeak {
  serial: number;
  startDay: number;
  /** Its flow (rising: the last update's; settled: its known flow). */
  leakM3h: number;
  /** A rising one's: the flows of the settled leaks under it, as its last update said. */
  knownLeaksM3h: number;
  settled: boolean;
}

export interface TrendState {
  adjustedNightM3h: number;
  referenceM3h: number;
  sigmaM3h: number;
  cusum: number;
  /** β of adjusted = night − β × (day−night swing − its mean). */
  swingWeight: number;
  /** Flow of the raised leaks that stopped growing, in the reference (0: the reference is the tight network's). */
  knownLeaksM3h: number;
}


/** What the nights after a step say of it (`SlowLeakTrend.stepExcess`), m³/h above the median of the days before it. */
export interface StepExcess {
  /** The mean of the nights after, and the noise of that difference. */
  excessM3h: number;
  sigmaM3h: number;
  nights: number;
}

/** The mean day number of the days given. */
const centre = (days: readonly DayFigure[]) => days.reduce((a, d) => a + d.day, 0) / days.length;

export class SlowLeakTrend {
  private days: DayFigure[] = [];
  /** Night flow moves with the day–night swing (weather, weekday) by β; a leak adds to night and day alike and leaves the swing alone. */
  private beta = 0;
  private swingMean = 0;
  private reference = NaN;
  private referenceDay = NaN;
  private cusum = 0;
  private cusumStartDay = NaN;
  private active?: RisingLeak;
  /** Raised leaks that stopped growing, oldest first; the base for a new leak is the reference plus their flows. */
  private settled: SettledLeak[] = [];
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
    const state = (): TrendState => ({ adjustedNightM3h: y, referenceM3h: this.base(), sigmaM3h: sigma, cusum: this.cusum, swingWeight: this.beta, knownLeaksM3h: this.base() - this.reference });
    if (this.active) return this.judgeRising(this.active, f.day, y, state);
    const repaired = this.judgeSettled(f.day, y, state);
    if (repaired) return repaired;
    const base = this.base();
    const before = this.cusum;
    this.cusum = Math.max(0, this.cusum + y - base - this.o.trendAllowanceSigma * sigma);
    if (this.cusum === 0) this.cusumStartDay = NaN;
    else if (before === 0) this.cusumStartDay = f.day;
    if (this.cusum >= this.o.trendDecisionSigma * sigma) {
      const leak = this.recentLevel(7) - base;
      if (leak >= this.o.minLeakM3h && leak >= this.o.minLeakSigma * sigma) {
        const serial = this.freeSerial();
        this.active = { serial, startDay: this.cusumStartDay, peakLeakM3h: leak, clearDays: [], peakWeekM3h: -Infinity, peakWeekDay: f.day, laterAbrupt: new Map() };
        return { kind: 'raise', serial, startDay: this.cusumStartDay, leakM3h: leak, state: state() };
      }
    }
    if (!estimated) this.followEnvelope(f.day);
    return undefined;
  }

  /**
   * The raised leak on top: its flow each day, its repair (the level back near the base), or, once
   * its flow has set no new high for envelopeWeeks weeks, settled: its flow (the median of those
   * weeks above the base) joins the base and a further rise is judged as a new leak. While it grows, a rise is
   * its growth: flows alone cannot tell growth from a second leak.
   */
  private judgeRising(a: RisingLeak, day: number, y: number, state: () => TrendState): TrendJudgement {
    const base = this.base();
    const leak = this.recentLevel(3) - base;
    if (y + sumOf(a.laterAbrupt) - base < this.o.clearShare * a.peakLeakM3h) a.clearDays.push(day);
    else a.clearDays = [];
    if (a.clearDays.length >= this.o.clearDays) {
      // a settled leak below may be the one repaired: the drop is matched to the nearest flow
      const drop = base + a.peakLeakM3h - this.recentLevel(a.clearDays.length);
      const below = this.nearestSettled(drop);
      if (below && Math.abs(drop - below.flowM3h) < Math.abs(drop - a.peakLeakM3h)) {
        const repairedDay = a.clearDays[0];
        a.clearDays = [];
        return this.repairSettled(below, repairedDay, day, state);
      }
      // the repair is the evidence: the nights since it are the tight network's new level
      const repairedDay = a.clearDays[0];
      const peakLevel = base + a.peakLeakM3h;
      this.active = undefined;
      // the CUSUM still holds the leak's excess: with leaks settled below there is no re-base to restart it
      this.cusum = 0;
      this.cusumStartDay = NaN;
      this.rebaseAfterRepair(repairedDay, day);
      return { kind: 'clear', serial: a.serial, startDay: a.startDay, repairedDay, leakM3h: a.peakLeakM3h, dropM3h: peakLevel - this.base(), state: state() };
    }
    a.peakLeakM3h = Math.max(a.peakLeakM3h, leak);
    const week = this.recentLevel(7) - base;
    if (week > a.peakWeekM3h) {
      a.peakWeekM3h = week;
      a.peakWeekDay = day;
    }
    const span = 7 * this.o.envelopeWeeks;
    if (day - a.peakWeekDay >= span && this.days.length >= span) {
      const flow = Math.max(0, this.recentLevel(span) - base);
      this.settled.push({ serial: a.serial, startDay: a.startDay, flowM3h: flow, clearDays: [], laterAbrupt: new Map() });
      this.active = undefined;
      this.cusum = 0;
      this.cusumStartDay = NaN;
      return { kind: 'update', serial: a.serial, startDay: a.startDay, leakM3h: flow, state: state(), settled: true };
    }
    return { kind: 'update', serial: a.serial, startDay: a.startDay, leakM3h: leak, state: state() };
  }

  /**
   * With no leak rising: a settled leak is repaired when the level stays below the base by more
   * than (1 − clearShare) of its flow for clearDays days; of several, the one whose flow is nearest the drop.
   */
  private judgeSettled(day: number, y: number, state: () => TrendState): TrendJudgement | undefined {
    const base = this.base();
    let done: SettledLeak | undefined;
    for (const s of this.settled) {
      if (base - y - sumOf(s.laterAbrupt) > (1 - this.o.clearShare) * s.flowM3h) s.clearDays.push(day);
      else s.clearDays = [];
      if (s.clearDays.length >= this.o.clearDays) done = s;
    }
    if (!done) return undefined;
    const repairedDay = done.clearDays[0];
    return this.repairSettled(this.nearestSettled(base - this.recentLevel(done.clearDays.length)) ?? done, repairedDay, day, state);
  }

  private repairSettled(s: SettledLeak, repairedDay: number, day: number, state: () => TrendState): TrendJudgement {
    const before = this.base();
    this.settled = this.settled.filter((x) => x !== s);
    for (const x of this.settled) x.clearDays = [];
    if (!this.active && this.settled.length === 0) this.rebaseAfterRepair(repairedDay, day);
    return { kind: 'clear', serial: s.serial, startDay: s.startDay, repairedDay, leakM3h: s.flowM3h, dropM3h: before - this.base(), state: state() };
  }

  /** The last leak is repaired: the nights since the repair are the tight network's new level. */
  private rebaseAfterRepair(repairedDay: number, day: number): void {
    if (this.settled.length > 0) return;
    this.reference = medianOf(this.days.filter((d) => d.day >= repairedDay).map((d) => this.adjusted(d)));
    this.referenceDay = day;
    this.cusum = 0;
    this.cusumStartDay = NaN;
  }

  private nearestSettled(dropM3h: number): SettledLeak | undefined {
    let best: SettledLeak | undefined;
    for (const s of this.settled) if (!best || Math.abs(dropM3h - s.flowM3h) < Math.abs(dropM3h - best.flowM3h)) best = s;
    return best;
  }

  /** The level a new leak is measured against: the reference plus the flows of the settled leaks. */
  private base(): number {
    let b = this.reference;
    for (const s of this.settled) b += s.flowM3h;
    return b;
  }

  private freeSerial(): number {
    const used = new Set(this.settled.map((s) => s.serial));
    let n = 1;
    while (used.has(n)) n++;
    return n;
  }

  /** The lowest of the last `span` days' weekly medians. */
  private envelope(span: number): number {
    const recent = this.days.slice(-span);
    const weekly: number[] = [];
    for (let w = 0; w + 7 <= recent.length; w += 7) weekly.push(medianOf(recent.slice(w, w + 7).map((d) => this.adjusted(d))));
    return Math.min(...weekly);
  }

  /** Replace a stored day's figures (an abrupt leak explained part of its flow). */
  replaceDay(f: DayFigure): void {
    const i = this.days.findIndex((d) => d.day === f.day);
    if (i >= 0) this.days[i] = f;
  }

  /**
   * An abrupt leak was confirmed (`sizeM3h` > 0: its estimated flow is taken off the figures from
   * now on) or is gone (undefined: repaired or accepted). A raised slow leak's repair is a fall of
   * the nights as measured: while the figures have an abrupt leak confirmed after it taken off, its
   * repair test puts that flow back. An incipient leak's growth reported as abrupt steps can be
   * estimated larger than the nights gained, and the figures then fall with no repair.
   */
  noteAbrupt(key: number, sizeM3h?: number): void {
    for (const leak of [...(this.active ? [this.active] : []), ...this.settled]) {
      if (sizeM3h === undefined) leak.laterAbrupt.delete(key);
      else leak.laterAbrupt.set(key, sizeM3h);
    }
  }

  /**
   * Raised leaks whose alarms are open but which this trend does not hold (raised before the history
   * a restart replays): taken up again, each with its flow, settled or rising (one at most). The
   * reference is put under the level the replayed nights show with them running, by their flows:
   * flows carry over, the adjusted figures do not (β and the mean swing are learnt again). A
   * rising leak's last update is the day before the restart: the last 3 days, as its flow is
   * measured. Settled ones keep their flow: the oldest week held, from before any repair while
   * the platform was down. Only when the trend holds no leak: with leaks raised in the replayed
   * history, which alarm is which cannot be told.
   */
  resume(leaks: readonly ResumedLeak[]): void {
    const last = this.days.at(-1);
    if (!last || Number.isNaN(this.reference) || this.active || this.settled.length || !leaks.length) return;
    if (leaks.some((l) => !(l.leakM3h >= 0)) || new Set(leaks.map((l) => l.serial)).size !== leaks.length) return;
    const rising = leaks.filter((l) => !l.settled);
    const settled = leaks.filter((l) => l.settled).sort((a, b) => a.serial - b.serial);
    if (rising.length > 1) return;
    const flows = rising.length ? rising[0].leakM3h + rising[0].knownLeaksM3h : settled.reduce((a, l) => a + l.leakM3h, 0);
    const level = rising.length ? this.recentLevel(3) : medianOf(this.days.slice(0, 7).map((d) => this.adjusted(d)));
    if (!Number.isFinite(flows) || !Number.isFinite(level)) return;
    this.reference = level - flows;
    this.referenceDay = last.day;
    for (const l of settled) this.settled.push({ serial: l.serial, startDay: l.startDay, flowM3h: l.leakM3h, clearDays: [], laterAbrupt: new Map() });
    for (const l of rising) {
      this.active = { serial: l.serial, startDay: l.startDay, peakLeakM3h: l.leakM3h, clearDays: [], peakWeekM3h: l.leakM3h, peakWeekDay: last.day, laterAbrupt: new Map() };
    }
    this.cusum = 0;
    this.cusumStartDay = NaN;
  }

  /** Flow that built the CUSUM is explained elsewhere (an abrupt leak was raised): start again from zero. */
  restartCusum(): void {
    if (this.active) return;
    this.cusum = 0;
    this.cusumStartDay = NaN;
  }

  /**
   * A dispatcher accepted raised leak `serial` as a change of use, not a leak: the reference moves up
   * by its flow (a rising leak's: the median of the last 3 days above the base, the level its flow is
   * measured at) and the leak is closed, not as a repair. Undefined when that leak is not raised.
   */
  accept(serial: number): TrendJudgement | undefined {
    const last = this.days.at(-1);
    if (!last) return undefined;
    const base = this.base();
    let leak: number;
    let startDay: number;
    if (this.active?.serial === serial) {
      leak = this.recentLevel(3) - base;
      startDay = this.active.startDay;
      this.active = undefined;
    } else {
      const s = this.settled.find((x) => x.serial === serial);
      if (!s) return undefined;
      leak = s.flowM3h;
      startDay = s.startDay;
      this.settled = this.settled.filter((x) => x !== s);
    }
    this.reference += leak;
    this.referenceDay = last.day;
    this.acceptedDay = last.day;
    this.cusum = 0;
    this.cusumStartDay = NaN;
    const state: TrendState = { adjustedNightM3h: this.adjusted(last), referenceM3h: this.base(), sigmaM3h: this.sigma(), cusum: 0, swingWeight: this.beta, knownLeaksM3h: this.base() - this.reference };
    return { kind: 'accepted', serial, startDay, leakM3h: leak, state };
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

  /**
   * A step's evidence in the adjusted night figures: the mean of the days from `firstAfterDay` on
   * (their nights came after the step) less the median of the `baseDays` days up to `lastBeforeDay`
   * (wholly before it), and the noise of that difference, measured on the days before the step
   * (`stepNoise`; the step's own days would count the step as noise), or σ·√(1/n + π/(2m)) with σ of
   * the four weeks before it as `sigma()` measures it while too few days are known (a median of m
   * days has about π/2 the variance of their mean). While a raised slow
   * leak still grows, a rise is its growth unless it goes beyond it: its growth per day over the
   * four weeks before (Theil–Sen; over the days since it began when a week or more of them lies in
   * those weeks) is taken off each night after, by its distance from the week before. Undefined until two weeks before the step are known, or
   * while no day came after it.
   */
  stepExcess(firstAfterDay: number, lastBeforeDay: number, baseDays: number): StepExcess | undefined {
    const afterDays = this.days.filter((d) => d.day >= firstAfterDay);
    const prior = this.days.filter((d) => d.day <= lastBeforeDay && d.day > lastBeforeDay - 28);
    if (!afterDays.length || prior.length < 14) return undefined;
    const beforeDays = prior.filter((d) => d.day > lastBeforeDay - baseDays);
    if (beforeDays.length < Math.ceil(baseDays / 2)) return undefined;
    // a raised slow leak still growing: the nights after carry its growth since the days before
    // (since the leak began when that is a week or more into these four: flat weeks before it would halve its rate)
    const growing = this.active ? prior.filter((d) => d.day >= this.active!.startDay) : [];
    const growth = this.active ? this.growthPerDay(growing.length >= 7 ? growing : prior) : 0;
    const base = medianOf(beforeDays.map((d) => this.adjusted(d)));
    const excessOf = (d: DayFigure) => this.adjusted(d) - base - growth * (d.day - centre(beforeDays));
    const nights = afterDays.map(excessOf);
    const sigma = this.stepNoise(lastBeforeDay, afterDays.length, baseDays, growth)
      ?? this.sigmaOf(prior) * Math.sqrt(1 / afterDays.length + Math.PI / (2 * beforeDays.length));
    return { excessM3h: nights.reduce((a, b) => a + b, 0) / nights.length, sigmaM3h: sigma, nights: nights.length };
  }

  /**
   * The noise of a step's test measured on the days before it: at every earlier day, the same
   * statistic (the mean of `nights` days from it less the median of the `baseDays` before it, the
   * growth taken off alike), and the robust σ of those values. Demand that wanders for days is in it
   * (the σ·√(1/n + π/2m) of independent days leaves it out), while an earlier step moves only the
   * values whose windows straddle it: the level's σ over four weeks counts such a step as noise (on
   * L-Town, p710's step of late March made it 8 m³/h, and the 14 m³/h nights after p514 were judged
   * against 5 m³/h). At least the independent days' figure from day-to-day differences. Undefined
   * with fewer than two weeks of values.
   */
  private stepNoise(lastBeforeDay: number, nights: number, baseDays: number, growthPerDay: number): number | undefined {
    const history = this.days.filter((d) => d.day <= lastBeforeDay);
    const values: number[] = [];
    for (let origin = lastBeforeDay - nights + 1; origin > lastBeforeDay - this.o.historyDays; origin--) {
      const after = history.filter((d) => d.day >= origin && d.day < origin + nights);
      const before = history.filter((d) => d.day < origin && d.day >= origin - baseDays);
      if (after.length < Math.ceil(nights / 2) || before.length < Math.ceil(baseDays / 2)) continue;
      const mean = after.reduce((a, d) => a + this.adjusted(d), 0) / after.length;
      values.push(mean - medianOf(before.map((d) => this.adjusted(d))) - growthPerDay * (centre(after) - centre(before)));
    }
    if (values.length < 14) return undefined;
    const independent = Math.max(this.sigmaFloor(history), madSigma(this.dayToDay(history)) / Math.SQRT2) * Math.sqrt(1 / nights + Math.PI / (2 * baseDays));
    return Math.max(independent, madSigma(values));
  }


  /**
   * How fast the level grew over the days given, m³/h per day (0 when it fell): the Theil–Sen slope
   * (the median of every pair's slope), which a day or two of odd demand does not move.
   */
  private growthPerDay(days: readonly DayFigure[]): number {
    const ys = days.map((d) => this.adjusted(d));
    const slopes: number[] = [];
    for (let i = 0; i < days.length; i++) {
      for (let j = i + 1; j < days.length; j++) slopes.push((ys[j] - ys[i]) / (days[j].day - days[i].day));
    }
    return slopes.length ? Math.max(0, medianOf(slopes)) : 0;
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
    return this.sigmaOf(this.days);
  }

  /** The differences of the adjusted night flow between consecutive days. */
  private dayToDay(days: readonly DayFigure[]): number[] {
    const diffs: number[] = [];
    for (let i = 1; i < days.length; i++) {
      if (days[i].day === days[i - 1].day + 1) diffs.push(this.adjusted(days[i]) - this.adjusted(days[i - 1]));
    }
    return diffs;
  }

  /** The least noise a figure is given: `sigmaFloorShare` of the reference (of the nights' median before it is learnt). */
  private sigmaFloor(days: readonly DayFigure[]): number {
    return this.o.sigmaFloorShare * Math.abs(Number.isNaN(this.reference) ? medianOf(days.map((d) => d.nightM3h)) : this.reference);
  }

  private sigmaOf(days: readonly DayFigure[]): number {
    const diffs = this.dayToDay(days);
    const floor = this.sigmaFloor(days);
    if (diffs.length < 7) return floor;
    const level = days.slice(-28).map((d) => this.adjusted(d));
    return Math.max(floor, madSigma(diffs) / Math.SQRT2, madSigma(level));
  }

  /**
   * With no leak rising: the base drops when the last two weeks' medians are both below it (the
   * network got tighter), and, with no leak settled either, rises only when every one of the last
   * envelopeWeeks weeks' medians is above it.
   */
  private followEnvelope(day: number): void {
    // after an accepted change of use, the nights before it (lower) would pull the reference back down
    if (this.days.length >= 14 && !(day - this.acceptedDay < 14)) {
      // two weeks running below: the network is tighter (one low week is noise)
      const lastWeek = this.recentLevel(7);
      const weekBefore = medianOf(this.days.slice(-14, -7).map((d) => this.adjusted(d)));
      const tighter = Math.max(lastWeek, weekBefore);
      // with leaks settled, the top one's flow was less than taken (or partly repaired): it shrinks first
      const top = this.settled.at(-1);
      if (top && tighter < this.base()) top.flowM3h = Math.max(0, top.flowM3h - (this.base() - tighter));
      else if (tighter < this.reference) this.reference = tighter;
    }
    // a settled leak is a raised leak: the reference does not rise under it
    if (this.settled.length > 0) return;
    const span = 7 * this.o.envelopeWeeks;
    if (day - this.referenceDay < span || this.days.length < span) return;
    const envelope = this.envelope(span);
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

function sumOf(flows: Map<number, number>): number {
  let sum = 0;
  for (const v of flows.values()) sum += v;
  return sum;
}
