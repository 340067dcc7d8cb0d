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
/** Standardised window means kept for their own noise (two weeks of hours), and the fewest that give it. */
const EXCESS_NOISE_HOURS = 14 * 24;
const EXCESS_NOISE_MIN = 48;

export class DayExcessMeter {
  /** Residuals per hour of day (`slot`): demand's noise differs between 03:00 and 08:00. */
  private readonly bySlot: number[][];
  /** The last n residuals, m³/h, and the same in units of their hour of day's noise. */
  private readonly recent: number[] = [];
  private readonly recentZ: number[] = [];
  /** Means of n standardised residuals (neighbouring hours move together: this is their real noise). */
  private readonly means: number[] = [];

  /** `n`: hours in the window (dayStepHours); `slots`: hours of day the series has (24 a day). */
  constructor(private readonly n: number, slots: number) {
    this.bySlot = Array.from({ length: slots }, () => []);
  }

  /** A gap: the window starts again. */
  reset(): void {
    this.recent.length = 0;
    this.recentZ.length = 0;
  }

  /**
   * The next hour's residual (finite), `slot` its hour of day: the window's excess, undefined until
   * both noises are known (the hour of day's: robust σ over four weeks, at least 7 days; the
   * means': robust σ over two weeks, at least that of independent hours, 1/√n).
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
    const noise = this.means.length >= EXCESS_NOISE_MIN ? Math.max(madSigma(this.means), 1 / Math.sqrt(this.n)) : NaN;
    push(this.means, meanZ, EXCESS_NOISE_HOURS);
    if (Number.isNaN(noise)) return undefined;
    const meanM3h = this.recent.reduce((a, b) => a + b, 0) / this.n;
    // a leak is a step: every hour of the window shows it (one hour's draw cannot make the mean alone)
    const rawSigmas = meanZ / noise;
    if (Math.min(...this.recent) < meanM3h / 2) return { sigmas: 0, rawSigmas, meanM3h };
    return { sigmas: rawSigmas, rawSigmas, meanM3h };
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
