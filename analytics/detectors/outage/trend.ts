/**
 * A short window of (time, value) samples with a least-squares trend: enough to say "this level
 * falls at 0.8 m/h" or "this pressure will cross 0.05 MPa in 20 minutes". Bounded by time and count,
 * so memory per sensor stays small.
 */
export interface Fit {
  /** Value per ms. */
  slope: number;
  /** Fitted value at the last sample's time. */
  valueAtEnd: number;
  n: number;
  spanMs: number;
}

export class TrendWindow {
  private readonly ts: number[] = [];
  private readonly xs: number[] = [];

  constructor(readonly windowMs: number, private readonly maxSamples = 512) {}

  /** The same samples in a window of another length (those older than it are dropped at the next push). */
  widened(windowMs: number): TrendWindow {
    const w = new TrendWindow(windowMs, this.maxSamples);
    w.ts.push(...this.ts);
    w.xs.push(...this.xs);
    return w;
  }

  push(ts: number, value: number): void {
    const last = this.ts.length ? this.ts[this.ts.length - 1] : -Infinity;
    if (ts <= last) return; // late or repeated data cannot enter a time-ordered fit
    this.ts.push(ts); this.xs.push(value);
    const cutoff = ts - this.windowMs;
    let drop = 0;
    while (drop < this.ts.length && this.ts[drop] < cutoff) drop++;
    if (this.ts.length - drop > this.maxSamples) drop = this.ts.length - this.maxSamples;
    if (drop) { this.ts.splice(0, drop); this.xs.splice(0, drop); }
  }

  clear(): void { this.ts.length = 0; this.xs.length = 0; }

  get size(): number { return this.ts.length; }
  get lastTs(): number | undefined { return this.ts.length ? this.ts[this.ts.length - 1] : undefined; }
  get lastValue(): number | undefined { return this.xs.length ? this.xs[this.xs.length - 1] : undefined; }

  /** Least-squares line over samples [from, to) of the window (default all). */
  fit(from = 0, to = this.ts.length): Fit | undefined {
    const n = to - from;
    if (n < 2) return undefined;
    const t0 = this.ts[from];
    let st = 0, sx = 0, stt = 0, stx = 0;
    for (let i = from; i < to; i++) {
      const t = this.ts[i] - t0; const x = this.xs[i];
      st += t; sx += x; stt += t * t; stx += t * x;
    }
    const den = n * stt - st * st;
    if (den === 0) return undefined;
    const slope = (n * stx - st * sx) / den;
    const intercept = (sx - slope * st) / n;
    const tEnd = this.ts[to - 1] - t0;
    return { slope, valueAtEnd: intercept + slope * tEnd, n, spanMs: this.ts[to - 1] - t0 };
  }

  /** Fits of the first and the second half: a steady decline falls in both, a step in one only. */
  halves(): [Fit | undefined, Fit | undefined] {
    const mid = Math.floor(this.ts.length / 2);
    return [this.fit(0, mid + 1), this.fit(mid, this.ts.length)];
  }
}
