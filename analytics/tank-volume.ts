/**
 * The storage term of a DMA's water balance: a tank's volume from its level (core/config/schema.ts
 * dmaTankSchema), and the net demand over a window from bucket flows and volumes (dma-inflow.ts).
 */
import type { DmaTankConfig } from '../core/config/schema.ts';

/** Level (m) → volume (m³) of a tank: a cylinder, a constant plan area, or a volume curve. */
export function tankVolume(t: DmaTankConfig): (levelM: number) => number {
  if (t.diameterM !== undefined) {
    const area = Math.PI * (t.diameterM / 2) ** 2;
    return (level) => area * level;
  }
  if (t.areaM2 !== undefined) {
    const area = t.areaM2;
    return (level) => area * level;
  }
  const curve = t.volumeCurve!;
  // linear between the points, and beyond the ends along the end segments (only differences matter)
  return (level) => {
    let i = 1;
    while (i < curve.length - 1 && level > curve[i][0]) i++;
    const [l0, v0] = curve[i - 1];
    const [l1, v1] = curve[i];
    return v0 + ((level - l0) * (v1 - v0)) / (l1 - l0);
  };
}

interface Slot { ts: number; flow: number; volume: number; uncertain: boolean }

/**
 * Where in its bucket a bucket's mean level sits, as a fraction of the bucket: with n level readings
 * evenly spread from the bucket's start, (1 − 1/n) / 2: at the start for one reading per bucket
 * (the usual case: the bucket is the slowest sensor's interval), towards the middle for many.
 */
export const levelOffsetFraction = (bucketMs: number, levelIntervalMs: number) => (1 - 1 / Math.max(1, bucketMs / levelIntervalMs)) / 2;

/**
 * Net demand over a window of k buckets, from each bucket's mean net flow (m³/h) and its tanks'
 * volume (m³, from the bucket's mean level). The storage term is the least-squares slope of the
 * k + 1 volumes across the window, not the difference of its two end volumes: with reading noise σ
 * per volume the end-point difference over k intervals carries σ·√2 / window, the slope
 * σ·√(12 / (n·(n² − 1))) / interval (n = k + 1 readings; storageSlopeStandardError): 1.25× less
 * with 5-min levels in a 30-min window (n = 7), 2.3× less with 1-min levels (n = 31), about √(n/6). The flows are averaged with the weights the slope gives each
 * interval between two readings (the slope is a weighted mean of the volume's rate over them), so
 * a pump that moves water from the inlet into the tank still cancels exactly at its starts and
 * stops. Consecutive buckets only: a missing one starts the window again.
 */
export class StorageWindow {
  private k = 1;
  private readonly slots: Slot[] = [];
  /** Per reading i of the window, its weight in the volume slope (per bucket, hours⁻¹). */
  private volumeWeights: number[] = [];
  /** Per interval j between readings j and j + 1, its weight in the flows' mean (they sum to 1). */
  private intervalWeights: number[] = [];
  /** The spacing of the values the window holds: the bucket, or the data's own when coarser. */
  private spacingMs = NaN;
  private offset = 0;

  /** `levelOffset`: levelOffsetFraction of the level sensors (0: a level read at the bucket's start). */
  constructor(readonly bucketMs: number, readonly windowMs: number, private readonly levelOffset = 0) {
    this.configure(bucketMs);
  }

  /**
   * The window's readings `spacingMs` apart. Data coarser than the buckets (15-min samples of
   * sensors the topology declares at 5 min, as a utility's imported SCADA often is) fills every
   * third bucket only: consecutive buckets never came, so until 2026-12-06 such a DMA had no net
   * demand at all (BattLeDIM at 15-min data: no value in the half-year). Each value is then one
   * sample, read at its instant (no offset into its bucket).
   */
  private configure(spacingMs: number): void {
    this.spacingMs = spacingMs;
    this.k = Math.max(1, Math.round(this.windowMs / spacingMs));
    this.offset = spacingMs === this.bucketMs ? this.levelOffset : 0;
    ({ volumeWeights: this.volumeWeights, intervalWeights: this.intervalWeights } = slopeWeights(this.k + 1, spacingMs / 3_600_000));
  }

  reset(): void {
    this.slots.length = 0;
  }

  /**
   * A bucket's flow and volume; the net demand once the window is full. Values one spacing apart
   * fill it; any other gap starts it again, at that gap's spacing (from the value before it) when
   * it is a whole number of buckets no longer than the window (the data's own interval), else at
   * the bucket's.
   */
  add(ts: number, flow: number, volume: number, uncertain: boolean): { value: number; uncertain: boolean } | undefined {
    const last = this.slots.at(-1);
    if (last && ts - last.ts !== this.spacingMs) {
      this.reset();
      const gap = ts - last.ts;
      const spacing = gap > 0 && gap % this.bucketMs === 0 && gap <= this.windowMs ? gap : this.bucketMs;
      if (spacing !== this.spacingMs) this.configure(spacing);
      // the value before is one spacing back: it begins the new window
      if (gap === this.spacingMs) this.slots.push(last);
    }
    this.slots.push({ ts, flow, volume, uncertain });
    if (this.slots.length > this.k + 1) this.slots.shift();
    if (this.slots.length < this.k + 1) return undefined;
    // reading j sits `levelOffset` into bucket j, so the interval from reading j to j + 1 holds the
    // rest of bucket j and the head of bucket j + 1
    let flowMean = 0;
    let volumeSlope = 0;
    for (let j = 0; j < this.k; j++) {
      flowMean += this.intervalWeights[j] * (this.slots[j].flow * (1 - this.offset) + this.slots[j + 1].flow * this.offset);
    }
    for (let i = 0; i <= this.k; i++) volumeSlope += this.volumeWeights[i] * this.slots[i].volume;
    const anyUncertain = this.slots.slice(1).some((s) => s.uncertain);
    return { value: flowMean - volumeSlope, uncertain: anyUncertain };
  }
}

/**
 * Weights of the least-squares slope of n readings `intervalH` hours apart: slope = Σ wᵢ·yᵢ with
 * wᵢ = (tᵢ − t̄) / Σ(t − t̄)². Written as a mean of the rates over the n − 1 intervals, interval j
 * weighs intervalH · Σ_{i>j} wᵢ (positive, summing to 1): the weights the flows need to match.
 */
export function slopeWeights(n: number, intervalH: number): { volumeWeights: number[]; intervalWeights: number[] } {
  const mean = (n - 1) / 2;
  const sxx = Array.from({ length: n }, (_, i) => (i - mean) ** 2).reduce((a, b) => a + b, 0) * intervalH ** 2;
  const volumeWeights = Array.from({ length: n }, (_, i) => ((i - mean) * intervalH) / sxx);
  const intervalWeights: number[] = [];
  let tail = 0;
  for (let i = n - 1; i >= 1; i--) {
    tail += volumeWeights[i];
    intervalWeights[i - 1] = intervalH * tail;
  }
  return { volumeWeights, intervalWeights };
}

/** Standard error (m³/h) of the storage term of a window of n volumes `intervalH` apart, each with noise σ (m³). */
export const storageSlopeStandardError = (sigmaM3: number, n: number, intervalH: number) => (sigmaM3 * Math.sqrt(12 / (n * (n * n - 1)))) / intervalH;

/**
 * How much independent reading noise of the volume (σ_V, m³ per reading) moves the burst detector's
 * step statistic on a windowed net demand (m³/h per m³): the statistic is the mean of the last
 * `after` net-demand values minus the mean of the `before` values just ahead of them (the detector
 * takes their median, which on values this correlated is close to the mean), each value the
 * least-squares slope over `k` intervals of `intervalH` hours; so it is Σ cᵢ·Vᵢ over the volume
 * readings, and its noise is σ_V·√Σcᵢ². (k = 30 at 1-min data: 0.71 h⁻¹; k = 6 at 5-min: 2.5 h⁻¹.)
 */
export function storageStepNoiseGain(k: number, after: number, before: number, intervalH: number): number {
  const { volumeWeights } = slopeWeights(k + 1, intervalH);
  // value m (m = 0 the newest) takes reading m + i (back from the newest) with weight volumeWeights[k − i]
  const c = new Map<number, number>();
  const add = (m: number, share: number) => {
    for (let i = 0; i <= k; i++) c.set(m + i, (c.get(m + i) ?? 0) + share * volumeWeights[k - i]);
  };
  for (let a = 0; a < after; a++) add(a, 1 / after);
  for (let b = 0; b < before; b++) add(after + b, -1 / before);
  let sumSq = 0;
  for (const x of c.values()) sumSq += x * x;
  return Math.sqrt(sumSq);
}
