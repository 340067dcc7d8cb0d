/**
 * Spike detection for one sensor: a robust Hampel test on a short causal window, plus an
 * "isolated" check so a step (a pump start, a burst's pressure drop) is not a spike.
 *
 * Each reading x is compared with the median m of the previous `window` readings; it is an outlier
 * when |x − m| > max(k × 1.4826 × MAD, minAbs, minRel × |m|). An excursion (a run of outliers) is
 * a spike only if it returns within `maxRun` readings to where it left (within half the band); a
 * longer run, or one that ends elsewhere, is a level change and is not counted. The detector raises when `samples` spiked readings fall within
 * `windowMs` (so one legitimate transient does not alarm), leaving out those a peer of the sensor
 * (same kind, same DMA) showed too at the same instant and in the same direction (`outlierAt`): the
 * water moved, not the sensor.
 */
import { medianOf } from '../../baseline/median.ts';

export interface SpikeParams {
  window: number;
  k: number;
  minAbs: number;
  minRel: number;
  maxRun: number;
}

export interface SpikeFound {
  /** Times and values of the spiked readings of the excursion that just ended. */
  ts: number[];
  values: number[];
  median: number;
  band: number;
}

export class SpikeTracker {
  private readonly buf: Float64Array;
  private readonly dev: Float64Array;
  /** The last `window` readings' times and whether each was an outlier: +1 above, −1 below, 0 not (peers ask, `outlierAt`). */
  private readonly seenTs: Float64Array;
  private readonly seenSign: Int8Array;
  private filled = 0;
  private next = 0;
  /** The running excursion: its readings, and the median and band when it began. */
  private runTs: number[] = [];
  private runValues: number[] = [];
  private runMedian = 0;
  private runBand = 0;
  /** A run longer than maxRun: a level change; ignore until readings are back inside the band. */
  private shifted = false;

  constructor(private readonly p: SpikeParams) {
    this.buf = new Float64Array(p.window);
    this.dev = new Float64Array(p.window);
    this.seenTs = new Float64Array(p.window).fill(Number.NaN);
    this.seenSign = new Int8Array(p.window);
  }

  /** Whether the reading at `ts`, if among the last `window`, was an outlier: +1 above its median, −1 below, 0 not (or not seen). */
  outlierAt(ts: number): number {
    for (let i = 0; i < this.p.window; i++) if (this.seenTs[i] === ts) return this.seenSign[i];
    return 0;
  }

  /**
   * Fast path for the common case: x is within the fixed band of every value of the window, so of
   * its median too, whatever that is (a min/max pass instead of a median).
   */
  private surelyInside(x: number): boolean {
    let lo = Infinity; let hi = -Infinity;
    for (let i = 0; i < this.filled; i++) { const v = this.buf[i]; if (v < lo) lo = v; if (v > hi) hi = v; }
    const band = Math.max(this.p.minAbs, lo > 0 || hi < 0 ? this.p.minRel * Math.min(Math.abs(lo), Math.abs(hi)) : 0);
    return x - lo <= band && hi - x <= band;
  }

  /** Take a reading; returns the spike when an excursion of ≤ maxRun readings has just ended. */
  push(ts: number, x: number): SpikeFound | undefined {
    let found: SpikeFound | undefined;
    let sign = 0;
    if (this.filled === this.p.window && !(this.runTs.length === 0 && !this.shifted && this.surelyInside(x))) {
      const m = medianOf(this.buf, this.filled);
      const d = Math.abs(x - m);
      let outlier = false;
      let band = Math.max(this.p.minAbs, this.p.minRel * Math.abs(m));
      // the MAD is needed only when the reading is past the fixed minimum
      if (d > band) {
        for (let i = 0; i < this.filled; i++) this.dev[i] = Math.abs(this.buf[i] - m);
        band = Math.max(band, this.p.k * 1.4826 * medianOf(this.dev, this.filled));
        outlier = d > band;
      }
      if (outlier) {
        sign = x > m ? 1 : -1;
        if (!this.shifted) {
          if (!this.runTs.length) { this.runMedian = m; this.runBand = band; }
          this.runTs.push(ts); this.runValues.push(x);
          if (this.runTs.length > this.p.maxRun) { this.shifted = true; this.runTs = []; this.runValues = []; }
        }
      } else {
        // back inside: a short excursion that came back to where it left (within half the band,
        // so a step that hovers at the band's edge is not taken for one) is a spike
        if (this.runTs.length && Math.abs(x - this.runMedian) <= this.runBand / 2) {
          found = { ts: this.runTs, values: this.runValues, median: this.runMedian, band: this.runBand };
        }
        this.runTs = []; this.runValues = [];
        this.shifted = false;
      }
    }
    this.buf[this.next] = x;
    this.seenTs[this.next] = ts;
    this.seenSign[this.next] = sign;
    this.next = (this.next + 1) % this.p.window;
    if (this.filled < this.p.window) this.filled++;
    return found;
  }
}
