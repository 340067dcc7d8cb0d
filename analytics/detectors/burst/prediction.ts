/**
 * The demand's wander predicted from its last two samples, for the step test at coarse sample
 * intervals (README, "Any sample interval"). At 10–15-min samples a DMA's net inflow, as a ratio to
 * its time-of-week baseline, moves between two samples by as much as a small burst (1.2–2.3 % of
 * the flow at 15 min on the demo town), but smoothly: part of its next value is known from the last
 * ones. A burst is the part that was not, the innovation: the ratio less its AR(2) prediction, the
 * two coefficients fitted by least squares on the DMA's quiet samples of the last week. Its noise
 * scale is kept per local hour of day (1.4826 × MAD of the quiet innovations of that hour over the
 * last week): the prediction errs most where demand turns (the morning's rise, which the baseline,
 * from other days, has a little earlier or later), least at night. Nothing here is a setting: the
 * coefficients and scales are the DMA's own.
 *
 * Memory per DMA is bounded: a week of quiet samples (672 at 15 min) and their innovations.
 */
import { madSigma } from '../../baseline/median.ts';

const HOUR_MS = 3_600_000;
/** Days of quiet samples the coefficients and the scales rest on. */
export const LEARN_DAYS = 7;
/** Fewest quiet samples before the prediction is used (a day at 15-min data). */
const MIN_FIT_SAMPLES = 96;
/** Fewest quiet innovations of an hour before that hour has its own scale (else the pooled one). */
const MIN_HOUR_VALUES = 12;

/** A sample the prediction reads back: its time, its ratio to its own baseline, and its net inflow (m³/h). */
export interface WanderLag {
  ts: number;
  q: number;
  value: number;
}

export class WanderPrediction {
  private readonly capacity: number;
  private readonly perHour: number;
  /** Quiet samples as (q, q one sample before, q two before), oldest first. */
  private readonly samples: [number, number, number][] = [];
  /** Quiet innovations, pooled and per local hour. */
  private readonly pooled: number[] = [];
  private readonly hourly: number[][] = Array.from({ length: 24 }, () => []);
  private coefficients: [number, number] | undefined;
  private fittedAt = -Infinity;
  private pooledSigma = NaN;
  private readonly hourSigma = new Float64Array(24).fill(NaN);
  private scalesAt = -Infinity;
  /** The last two samples (time, ratio, net inflow), newest first. */
  private lags: WanderLag[] = [];
  /** The lags' ratios as innovation() read them for the sample at `ts`, for advance(). */
  private read: { ts: number; a: number; b: number } | undefined;

  constructor(private readonly sampleMs: number) {
    this.capacity = Math.round((LEARN_DAYS * 24 * HOUR_MS) / sampleMs);
    this.perHour = Math.max(MIN_HOUR_VALUES, Math.round((LEARN_DAYS * HOUR_MS) / sampleMs));
  }

  get intervalMs(): number { return this.sampleMs; }

  /** What the model has learned: its coefficients (undefined until fitted) and noise scales, pooled and per local hour. */
  learned(): { coefficients?: readonly [number, number]; pooledSigma: number; hourSigma: readonly number[] } {
    return { coefficients: this.coefficients, pooledSigma: this.pooledSigma, hourSigma: [...this.hourSigma] };
  }

  /**
   * The innovation of the ratio `q` at `ts` (ratio units) and its noise scale at local `hour`: the
   * innovation NaN while no model is fitted or the two samples before are not the last two
   * intervals, the scale NaN until some quiet innovations are known. `lagRatio` reads a lag's ratio
   * against the baseline `q` is read against (the lag's own where they share a local day; across
   * midnight the day types' baselines differ, and the ratio would jump where demand did not).
   */
  innovation(ts: number, q: number, hour: number, lagRatio: (lag: WanderLag) => number = (lag) => lag.q): { innovation: number; sigma: number } {
    const [a, b] = this.lags;
    this.read = undefined;
    if (!a || !b || ts - a.ts !== this.sampleMs || a.ts - b.ts !== this.sampleMs) return { innovation: NaN, sigma: NaN };
    this.read = { ts, a: lagRatio(a), b: lagRatio(b) };
    if (!this.coefficients) return { innovation: NaN, sigma: NaN };
    const [c1, c2] = this.coefficients;
    // the hour's own scale once it has been worked out (hourly), the pooled one until then: an hour
    // that has just reached its count has no scale yet, which left the step to the level test
    const sigma = Number.isFinite(this.hourSigma[hour]) ? this.hourSigma[hour] : this.pooledSigma;
    return { innovation: q - c1 * this.read.a - c2 * this.read.b, sigma };
  }

  /**
   * After innovation(): a quiet sample (no candidate, no burst) teaches the model; every sample
   * moves the lags on.
   */
  advance(ts: number, q: number, hour: number, quiet: boolean, innovation: number, value = NaN): void {
    const [a] = this.lags;
    const read = this.read?.ts === ts ? this.read : undefined;
    if (quiet && read && Number.isFinite(read.a) && Number.isFinite(read.b)) {
      push(this.samples, [q, read.a, read.b], this.capacity);
      if (Number.isFinite(innovation)) {
        push(this.pooled, innovation, this.capacity);
        push(this.hourly[hour], innovation, this.perHour);
      }
    }
    this.lags = [{ ts, q, value }, ...(a ? [a] : [])];
    this.read = undefined;
    // refitted hourly: a week's coefficients do not move in an hour
    if (this.samples.length >= MIN_FIT_SAMPLES && ts - this.fittedAt >= HOUR_MS) {
      this.coefficients = fitAr2(this.samples) ?? this.coefficients;
      this.fittedAt = ts;
    }
    if (this.pooled.length >= MIN_HOUR_VALUES && ts - this.scalesAt >= HOUR_MS) {
      this.pooledSigma = madSigma(this.pooled);
      for (let h = 0; h < 24; h++) this.hourSigma[h] = this.hourly[h].length >= MIN_HOUR_VALUES ? madSigma(this.hourly[h]) : NaN;
      this.scalesAt = ts;
    }
  }
}

function push<T>(ring: T[], value: T, capacity: number): void {
  ring.push(value);
  if (ring.length > capacity) ring.shift();
}

/** Least-squares (c1, c2) for q ≈ c1 q₋₁ + c2 q₋₂ (the 2 × 2 normal equations); undefined when singular. */
export function fitAr2(samples: readonly (readonly [number, number, number])[]): [number, number] | undefined {
  let s11 = 0, s12 = 0, s22 = 0, s01 = 0, s02 = 0;
  for (const [q, q1, q2] of samples) {
    s11 += q1 * q1; s12 += q1 * q2; s22 += q2 * q2; s01 += q * q1; s02 += q * q2;
  }
  const det = s11 * s22 - s12 * s12;
  if (!(Math.abs(det) > 1e-12 * Math.max(1e-300, s11 * s22))) return undefined;
  return [(s01 * s22 - s02 * s12) / det, (s02 * s11 - s01 * s12) / det];
}
