/**
 * The report by day's evidence (README, "Reported by day"): the mean excess of the last
 * dayStepHours hourly residuals, each in units of its own hour of day's noise, in units of the noise
 * of such means. One meter per series of consecutive hours: the clock hours, and the hours that
 * begin at a quarter past, half past and a quarter to (quarters.ts).
 */
import { madSigma } from '../../baseline/median.ts';

/** The net demand's excess over the last dayStepHours hours, in units of its noise at those hours. */
export interface DayExcess {
  /** 0 when not every hour shows at least half the mean. */
  sigmas: number;
  /** Without the every-hour rule (the split's own rule stands in for it). */
  rawSigmas: number;
  meanM3h: number;
}

/** Days of residuals per hour of day (their noise), and the fewest that give it. */
const HOUR_OF_DAY_NOISE_DAYS = 28;
const HOUR_OF_DAY_NOISE_MIN = 7;
/**
 * The noise of a window's mean is measured on the windows ending at the same hour of day and at the
 * hours either side (neighbouring hours move together more by day than at night), over the same
 * four weeks as the hours' own noise, from the same 7 days at least.
 */
const WINDOW_NOISE_NEIGHBOUR_HOURS = 2;
/** Until then (after a cold start) the windows of every time of day stand in: two weeks of them, at least two days. */
const POOLED_NOISE_HOURS = 14 * 24;
const POOLED_NOISE_MIN = 48;

export class DayExcessMeter {
  /** Residuals per hour of day (`slot`): demand's noise differs between 03:00 and 08:00. */
  private readonly bySlot: number[][];
  /** The last n residuals, m³/h, and the same in units of their hour of day's noise. */
  private readonly recent: number[] = [];
  private readonly recentZ: number[] = [];
  /** Means of n standardised residuals per slot their window ends at (neighbouring hours move together: this is their real noise). */
  private readonly meansBySlot: number[][];
  /** The same means of every time of day, the last two weeks of them. */
  private readonly pooledMeans: number[] = [];
  /** Slots per hour (1 for clock hours, 4 for a quarter-hour series). */
  private readonly slotsPerHour: number;

  /** `n`: hours in the window (dayStepHours); `slots`: slots of the series in a day (24 for clock hours, 96 for quarters). */
  constructor(private readonly n: number, slots: number) {
    this.bySlot = Array.from({ length: slots }, () => []);
    this.meansBySlot = Array.from({ length: slots }, () => []);
    this.slotsPerHour = Math.max(1, Math.round(slots / 24));
  }

  /** A gap: the window starts again. */
  reset(): void {
    this.recent.length = 0;
    this.recentZ.length = 0;
  }

  /**
   * The next hour's residual (finite), `slot` its hour of day: the window's excess, undefined until
   * both noises are known (the hour of day's: robust σ over four weeks, at least 7 days; the
   * means': robust σ of the windows ending within two hours of this one's time of day over four
   * weeks, at least 7 days of them, until then of every window of the last two weeks, at least two
   * days of them; at least that of independent hours, 1/√n).
   */
  add(slot: number, residual: number, sigmaFloor: number): DayExcess | undefined {
    const sameHour = this.bySlot[slot];
    const hourSigma = robustSigma(sameHour, HOUR_OF_DAY_NOISE_MIN, sigmaFloor);
    sameHour.push(residual);
    if (sameHour.length > HOUR_OF_DAY_NOISE_DAYS) sameHour.shift();
    if (Number.isNaN(hourSigma) || hourSigma <= 0) {
      this.reset();
      return undefined;
    }
    push(this.recent, residual, this.n);
    push(this.recentZ, residual / hourSigma, this.n);
    if (this.recentZ.length < this.n) return undefined;
    const meanZ = this.recentZ.reduce((a, b) => a + b, 0) / this.n;
    const noise = this.windowNoise(slot);
    push(this.meansBySlot[slot], meanZ, HOUR_OF_DAY_NOISE_DAYS);
    push(this.pooledMeans, meanZ, POOLED_NOISE_HOURS);
    if (Number.isNaN(noise)) return undefined;
    const meanM3h = this.recent.reduce((a, b) => a + b, 0) / this.n;
    // a leak is a step: every hour of the window shows it (one hour's draw cannot make the mean alone)
    const rawSigmas = meanZ / noise;
    if (Math.min(...this.recent) < meanM3h / 2) return { sigmas: 0, rawSigmas, meanM3h };
    return { sigmas: rawSigmas, rawSigmas, meanM3h };
  }

  /** The noise of a window's mean at this time of day (the pooled windows' until 7 days of windows near it are known). */
  private windowNoise(slot: number): number {
    const slots = this.meansBySlot.length;
    const near: number[] = [];
    for (let h = -WINDOW_NOISE_NEIGHBOUR_HOURS; h <= WINDOW_NOISE_NEIGHBOUR_HOURS; h++) {
      near.push(...this.meansBySlot[(((slot + h * this.slotsPerHour) % slots) + slots) % slots]);
    }
    const min = HOUR_OF_DAY_NOISE_MIN * (2 * WINDOW_NOISE_NEIGHBOUR_HOURS + 1);
    const measured = near.length >= min ? madSigma(near) : this.pooledMeans.length >= POOLED_NOISE_MIN ? madSigma(this.pooledMeans) : NaN;
    return Number.isNaN(measured) ? NaN : Math.max(measured, 1 / Math.sqrt(this.n));
  }
}

/** 1.4826 × MAD of the values; NaN with fewer than `min`; at least `floor`. */
export function robustSigma(values: readonly number[], min: number, floor: number): number {
  if (values.length < min) return NaN;
  return Math.max(floor, madSigma(values));
}

function push(values: number[], value: number, max: number): void {
  values.push(value);
  if (values.length > max) values.shift();
}
