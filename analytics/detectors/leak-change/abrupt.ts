/**
 * Small abrupt leaks of one DMA (see README.md): hourly residuals of net inflow against the same
 * hour of recent days of the same kind; a step that holds for `stepHours` (beyond the week's hours
 * pooled, or at `stepSigma` of its own hours' noise) becomes a candidate, and the candidate is a
 * leak when the next night is still above its reference (or, failing that, the nights after it). A
 * step whose excess over `dayStepHours` is `dayStepSigma` times the noise of such an excess at those hours of day is
 * reported at once, by day (judged on the clock hours here, and on the hours beginning at a
 * quarter past, half past and a quarter to in quarters.ts); the next night then confirms its size
 * or retracts it. A step down of about a known leak's size, confirmed the same way, is its repair.
 */
import { DAY_MS } from '../../baseline/local-time.ts';
import { medianOf } from '../../baseline/median.ts';
import { DayExcessMeter, robustSigma, type DayExcess } from './excess.ts';
import type { LeakChangeSettings } from './options.ts';
import type { SplitShift } from './split.ts';
import type { StepExcess } from './trend.ts';

export interface AbruptLeak {
  /** The start first reported, which names the alarm (the estimate may move when the night confirms). */
  key: number;
  /** Estimated start: the first hour of the step. */
  startTs: number;
  sizeM3h: number;
  raisedTs: number;
}

export type StepJudgement =
  /** By day: an excess of `excessSigma` × the noise of a dayStepHours mean, before any night saw it. */
  | { kind: 'report'; leak: AbruptLeak; excessSigma: number; excessM3h: number; split?: SplitShift }
  /** A reported step that the night did not confirm, or that ended before it. */
  | { kind: 'retract'; leak: AbruptLeak; nightResidualM3h?: number }
  /**
   * Confirmed by the night; `reported`: it was reported by day already (the night gives the size).
   * `nights`: confirmed by the mean of this many nights after it (its first night alone did not).
   */
  | { kind: 'raise'; leak: AbruptLeak; nightRiseM3h: number; nightSigmaM3h: number; reported: boolean; nights?: number }
  /** `nights`: seen over this many nights after the fall (its first night alone did not). */
  | { kind: 'repair'; leak: AbruptLeak; repairTs: number; nightDropM3h: number; nights?: number };

interface Candidate {
  sign: 1 | -1; startTs: number; residuals: number[]; reported?: AbruptLeak;
  /** The end of the hour that made it a candidate: the hours before it are the ones that showed the step. */
  formedTs: number;
  /** Started by the inlets' split: held while the split still shows it, even when the net's noise hides it. */
  bySplit?: boolean;
  /**
   * Started by the hours' own noise alone (`stepSigma` of it, below the report's `dayStepSigma`):
   * the mean that made it; held while the mean since its start keeps half of it.
   */
  seenMean?: number;
}

const HOUR_MS = 3_600_000;
const meanOf = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Residuals kept for the hourly noise (a week) and the night noise (four weeks). */
const HOURLY_NOISE_HOURS = 7 * 24;
/** How far before the candidate the change point is looked for, hours. */
const CHANGE_POINT_LOOKBACK_H = 12;
const NIGHT_NOISE_NIGHTS = 28;
/** The nights a step is measured against when its first night did not confirm it: a week, every day kind once. */
export const STEP_BASE_DAYS = 7;
/** The leak of `leaks` (one at least) whose size is nearest `sizeM3h`. */
function closestTo(leaks: readonly AbruptLeak[], sizeM3h: number): AbruptLeak {
  let best = leaks[0];
  for (const l of leaks) if (Math.abs(l.sizeM3h - sizeM3h) < Math.abs(best.sizeM3h - sizeM3h)) best = l;
  return best;
}
/** Two steps' estimated starts this close are one step. */
const SAME_STEP_MS = 12 * HOUR_MS;

/** A step its first night did not confirm, still judged by the nights after it (`judgePending`). */
interface PendingStep {
  key: number; startTs: number;
  /** 1: a rise (a leak?), −1: a fall while leaks are known (a repair?). */
  sign: 1 | -1;
  /** A step its hours showed only at `stepSigma` of their own noise: its nights must show half the size they did. */
  minSizeM3h?: number;
}

/** What the nights after a step say of it: their mean excess over the nights before it, and its noise. */
type NightsEvidence = Pick<StepExcess, 'excessM3h' | 'sigmaM3h' | 'nights'>;

export class AbruptSteps {
  readonly active: AbruptLeak[] = [];
  /** Steps up their first night did not confirm, judged again on the nights after them. */
  private pending: PendingStep[] = [];
  private readonly hourly: { ts: number; r: number }[] = [];
  private readonly nights: number[] = [];
  /** The last stepHours residuals with their hour starts. */
  private readonly recent: { ts: number; r: number }[] = [];
  private candidate?: Candidate;
  private readonly stepN: number;
  /** The report by day's evidence over the clock hours. */
  private readonly excess: DayExcessMeter;

  constructor(private readonly o: LeakChangeSettings) {
    this.stepN = Math.max(1, Math.round(o.stepHours));
    this.excess = new DayExcessMeter(Math.max(1, Math.round(o.dayStepHours)), 24);
  }

  /** Net inflow of leaks raised and not repaired whose step began by `ts`, m³/h. */
  activeFlowAt(ts: number): number {
    let sum = 0;
    for (const l of this.active) if (l.startTs <= ts) sum += l.sizeM3h;
    return sum;
  }

  /**
   * One hour's residual (its flow minus known leaks minus its reference; NaN when either is missing),
   * `hourOfDay` its local hour; `byDay` false while its day kind's profile is not its own yet (no
   * report by day then). Returns a report or retraction of a step by day.
   */
  onHour(startTs: number, hourOfDay: number, residual: number, sigmaFloor: number, byDay = true, split?: SplitShift): StepJudgement | undefined {
    if (!Number.isFinite(residual)) {
      this.recent.length = 0;
      this.excess.reset();
      return undefined;
    }
    this.recent.push({ ts: startTs, r: residual });
    if (this.recent.length > this.stepN) this.recent.shift();
    const sigma = robustSigma(this.hourly.map((h) => h.r), 48, sigmaFloor);
    this.hourly.push({ ts: startTs, r: residual });
    if (this.hourly.length > HOURLY_NOISE_HOURS) this.hourly.shift();
    const measured = this.excess.add(hourOfDay, residual, sigmaFloor);
    // the report by day judges hours against their own day kind's profile: none before it is known
    const excess = byDay ? measured : undefined;
    // the inlets' split moved beyond doubt while the net demand rose: shown by day too
    const bySplit = excess !== undefined && split !== undefined && split.sigmas >= this.o.splitSigma && excess.rawSigmas >= this.o.splitNetSigma;
    if (this.recent.length < this.stepN || Number.isNaN(sigma)) return undefined;
    const mean = this.recent.reduce((a, b) => a + b.r, 0) / this.recent.length;
    const threshold = Math.max(this.o.minStepM3h, (this.o.stepSigma * sigma) / Math.sqrt(this.stepN));
    const c = this.candidate;
    if (c) {
      c.residuals.push(residual);
      if (bySplit && c.sign > 0) c.bySplit = true;
      const splitHolds = c.bySplit && split !== undefined && split.sigmas >= this.o.splitSigma / 2;
      const seenHolds = c.seenMean !== undefined && !c.reported && meanOf(c.residuals) >= c.seenMean / 2;
      if (c.sign * mean < threshold / 2 && !splitHolds && !seenHolds) {
        this.candidate = undefined; // the step did not hold
        return c.reported ? { kind: 'retract', leak: c.reported } : undefined;
      }
      return this.reportByDay(c, excess, startTs + HOUR_MS, bySplit ? split : undefined);
    }
    const shown = (excess !== undefined && excess.sigmas >= this.o.dayStepSigma) || bySplit;
    const seen = excess !== undefined && excess.sigmas >= this.o.stepSigma && excess.meanM3h >= this.o.minStepM3h;
    const sign = mean >= threshold || shown || seen ? 1 : mean <= -threshold && this.active.length ? -1 : 0;
    if (!sign) return undefined;
    const first = this.recent.find((h) => sign * h.r >= (sign * mean) / 2) ?? this.recent[0];
    const created: Candidate = { sign, startTs: first.ts, formedTs: startTs + HOUR_MS, residuals: this.recent.filter((h) => h.ts >= first.ts).map((h) => h.r), bySplit: sign > 0 && bySplit };
    if (sign > 0 && mean < threshold && !shown) created.seenMean = mean;
    this.candidate = created;
    return this.reportByDay(created, excess, startTs + HOUR_MS, bySplit ? split : undefined);
  }

  /**
   * The report by day judged on an hour that does not begin on the clock (quarters.ts), ending at
   * `endTs`: a candidate not reported yet is reported when this excess shows it beyond doubt; with
   * no candidate, one is made from the clock hours (as when theirs shows it) and reported.
   */
  onOffHour(endTs: number, excess: DayExcess): StepJudgement | undefined {
    const c = this.candidate;
    if (c) return this.reportByDay(c, excess, endTs);
    if (excess.sigmas < this.o.dayStepSigma || excess.meanM3h < this.o.minStepM3h || this.recent.length < this.stepN) return undefined;
    const mean = this.recent.reduce((a, b) => a + b.r, 0) / this.recent.length;
    const first = this.recent.find((h) => h.r >= mean / 2) ?? this.recent[0];
    const created: Candidate = { sign: 1, startTs: first.ts, formedTs: endTs, residuals: this.recent.filter((h) => h.ts >= first.ts).map((h) => h.r) };
    this.candidate = created;
    return this.reportByDay(created, excess, endTs);
  }

  /** A rising candidate not yet reported whose excess is shown beyond doubt by day: report it now. */
  private reportByDay(c: Candidate, excess: DayExcess | undefined, nowTs: number, split?: SplitShift): StepJudgement | undefined {
    if (c.sign < 0 || c.reported || !excess || excess.meanM3h < this.o.minStepM3h) return undefined;
    if (excess.sigmas < this.o.dayStepSigma && !split) return undefined;
    const step = this.changePoint(c, nowTs);
    c.reported = { key: step.startTs, startTs: step.startTs, sizeM3h: step.size, raisedTs: nowTs };
    return { kind: 'report', leak: c.reported, excessSigma: excess.rawSigmas, excessM3h: excess.meanM3h, ...(split ? { split } : {}) };
  }

  /**
   * A dispatcher accepted the leak named `key` as a change of use: it is no longer a leak (neither
   * repaired nor retracted). Returns it and whether it was confirmed (its flow taken off the stored
   * hours) or only reported by day; undefined when no such leak or report is held.
   */
  accept(key: number): { leak: AbruptLeak; confirmed: boolean } | undefined {
    const i = this.active.findIndex((l) => l.key === key);
    const c = this.candidate;
    let found: { leak: AbruptLeak; confirmed: boolean } | undefined;
    if (i >= 0) found = { leak: this.active.splice(i, 1)[0], confirmed: true };
    else if (c?.reported?.key === key) {
      this.candidate = undefined;
      found = { leak: c.reported, confirmed: false };
    }
    // the last hours' residuals hold the step: it must not become a new candidate
    if (found) {
      this.recent.length = 0;
      this.excess.reset();
    }
    return found;
  }

  /**
   * The night window [startTs, endTs) closed with this mean residual: a candidate made before the
   * window is confirmed when the night still shows it, else dropped. A step must still be there the
   * *next* night, and the hours that made a candidate cannot also confirm it: one made by hours
   * inside the window (its stepHours held only once the night had begun) is dropped unconfirmed (if
   * the step lasts, the hours after the night make it again, and the next night judges it) or, when
   * it was reported by day already, waits for the next night.
   */
  onNight(startTs: number, endTs: number, residual: number, sigmaFloor: number): StepJudgement | undefined {
    if (!Number.isFinite(residual)) return undefined;
    const sigma = robustSigma(this.nights, 7, sigmaFloor);
    this.nights.push(residual);
    if (this.nights.length > NIGHT_NOISE_NIGHTS) this.nights.shift();
    const c = this.candidate;
    if (!c || Number.isNaN(sigma)) return undefined;
    if (c.formedTs > startTs) {
      if (!c.reported) this.candidate = undefined;
      return undefined;
    }
    this.candidate = undefined;
    const step = this.changePoint(c, endTs);
    const shown = c.sign * residual;
    if (shown < this.o.nightConfirmShare * step.size || shown < this.o.nightSigma * sigma) {
      if (c.sign > 0) this.watch(c.reported?.key ?? step.startTs, step.startTs, 1, c.seenMean !== undefined && !c.reported ? this.o.nightConfirmShare * step.size : undefined);
      else this.watch(step.startTs, step.startTs, -1);
      return c.reported ? { kind: 'retract', leak: c.reported, nightResidualM3h: residual } : undefined;
    }
    if (c.sign > 0) {
      const leak: AbruptLeak = { key: c.reported?.key ?? step.startTs, startTs: step.startTs, sizeM3h: step.size, raisedTs: c.reported?.raisedTs ?? endTs };
      this.active.push(leak);
      this.nights[this.nights.length - 1] -= step.size; // the night's residual is explained now
      return { kind: 'raise', leak, nightRiseM3h: residual, nightSigmaM3h: sigma, reported: c.reported !== undefined };
    }
    // a step down: the repair of the active leak whose size it matches best (none left: repaired or accepted since the fall began)
    if (!this.active.length) return undefined;
    const best = closestTo(this.active, step.size);
    if (shown < this.o.nightConfirmShare * best.sizeM3h) return undefined;
    this.active.splice(this.active.indexOf(best), 1);
    this.nights[this.nights.length - 1] += best.sizeM3h;
    return { kind: 'repair', leak: best, repairTs: step.startTs, nightDropM3h: -residual };
  }

  /**
   * A step its first night did not confirm: the nights after it will judge it (one per step). A fall
   * only while some known leak began more than the nights' week before it: the week the fall is
   * measured against must hold that leak's flow on every night, or the fall cannot be its repair.
   */
  private watch(key: number, startTs: number, sign: 1 | -1, minSizeM3h?: number): void {
    if (this.pending.some((p) => p.sign === sign && Math.abs(p.startTs - startTs) <= SAME_STEP_MS)) return;
    if (sign > 0 && this.active.some((l) => Math.abs(l.startTs - startTs) <= SAME_STEP_MS)) return;
    if (sign < 0 && !this.repairable(startTs).length) return;
    this.pending.push({ key, startTs, sign, ...(minSizeM3h !== undefined ? { minSizeM3h } : {}) });
  }

  /** The known leaks a fall at `ts` judged on the nights after it may repair: begun more than the nights' week (and a day) before it. */
  private repairable(ts: number): AbruptLeak[] {
    return this.active.filter((l) => ts - l.startTs > (STEP_BASE_DAYS + 1) * DAY_MS);
  }

  /**
   * Once a day: each step its first night did not confirm, judged on the nights since it
   * (`evidenceOf`, their mean against the nights before it, the slow-leak figures: trend.ts). A
   * lasting step shows in every night, so n nights measure it √n times better than one: a rise is a
   * leak when the mean excess reaches `nightSigma` times its noise (and `minStepM3h`); a fall is the
   * repair of the known leak (begun before the week it is measured against) whose size it matches
   * best when it reaches as much below, and at least `nightConfirmShare` of that leak's size (the
   * night's own rule for a repair). Given up after `confirmNights` nights. One judgement per call: a
   * leak's flow is taken off the figures (or put back) before the next is judged.
   */
  judgePending(evidenceOf: (startTs: number) => NightsEvidence | undefined, nowTs: number): StepJudgement | undefined {
    // a step whose nights could not be judged (days missing, the first two weeks) is not kept longer
    this.pending = this.pending.filter((p) => nowTs - p.startTs <= (this.o.confirmNights + 1) * DAY_MS);
    for (const p of [...this.pending]) {
      const repairable = p.sign < 0 ? this.repairable(p.startTs) : [];
      if (p.sign < 0 && !repairable.length) {
        this.pending = this.pending.filter((q) => q !== p); // no known leak left for it to repair
        continue;
      }
      const e = evidenceOf(p.startTs);
      if (!e) continue;
      if (p.sign < 0) {
        const repair = this.repairOverNights(p, e, repairable);
        if (repair) return repair;
      } else if (e.excessM3h >= this.o.nightSigma * e.sigmaM3h && e.excessM3h >= Math.max(this.o.minStepM3h, p.minSizeM3h ?? 0)) {
        this.pending = this.pending.filter((q) => q !== p);
        const leak: AbruptLeak = { key: p.key, startTs: p.startTs, sizeM3h: e.excessM3h, raisedTs: nowTs };
        this.active.push(leak);
        return { kind: 'raise', leak, nightRiseM3h: e.excessM3h, nightSigmaM3h: e.sigmaM3h, reported: false, nights: e.nights };
      }
      if (e.nights >= this.o.confirmNights) this.pending = this.pending.filter((q) => q !== p);
    }
    return undefined;
  }

  /** A fall its first night did not confirm, judged on the nights after it: the repair of the leak (of `leaks`) its size matches best. */
  private repairOverNights(p: PendingStep, e: NightsEvidence, leaks: readonly AbruptLeak[]): StepJudgement | undefined {
    const drop = -e.excessM3h;
    const best = closestTo(leaks, drop);
    if (drop < this.o.nightSigma * e.sigmaM3h || drop < Math.max(this.o.minStepM3h, this.o.nightConfirmShare * best.sizeM3h)) return undefined;
    this.pending = this.pending.filter((q) => q !== p);
    this.active.splice(this.active.indexOf(best), 1);
    return { kind: 'repair', leak: best, repairTs: p.startTs, nightDropM3h: drop, nights: e.nights };
  }

  /** A slow leak raised from `fromTs`: the steps since are its rise, judged no longer as steps of their own. */
  dropPendingFrom(fromTs: number): void {
    this.pending = this.pending.filter((p) => p.sign < 0 || p.startTs < fromTs);
  }

  /**
   * Where the step is: the split of the hourly residuals from CHANGE_POINT_LOOKBACK_H before the
   * candidate to the night's end that best separates two levels (the two-segment likelihood for a
   * shift in mean: largest |mean after − mean before| × √(n₁n₂/n)), and its size (median after − median before).
   */
  private changePoint(c: Candidate, endTs: number): { startTs: number; size: number } {
    // CHANGE_POINT_LOOKBACK_H hours *with data* before the candidate: after a gap (missing data, a
    // festive eve) the hours before it are still the level the step is measured from
    let first = this.hourly.findIndex((h) => h.ts >= c.startTs);
    if (first < 0) first = this.hourly.length;
    const span = this.hourly.slice(Math.max(0, first - CHANGE_POINT_LOOKBACK_H)).filter((h) => h.ts < endTs);
    const n = span.length;
    let best = { score: -Infinity, at: span.findIndex((h) => h.ts >= c.startTs) };
    const total = span.reduce((a, h) => a + h.r, 0);
    let before = 0;
    for (let i = 1; i < n; i++) {
      before += span[i - 1].r;
      const shift = c.sign * ((total - before) / (n - i) - before / i);
      const score = shift * Math.sqrt((i * (n - i)) / n);
      if (score > best.score) best = { score, at: i };
    }
    const at = Math.max(0, best.at);
    const after = span.slice(at).map((h) => h.r);
    const prior = span.slice(0, at).map((h) => h.r);
    const size = Math.abs(medianOf(after) - (prior.length ? medianOf(prior) : 0));
    return { startTs: span[at]?.ts ?? c.startTs, size };
  }
}
