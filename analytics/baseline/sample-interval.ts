/**
 * The sample interval of one series: the one the topology declares (`intervalS`), until the
 * readings say otherwise. The inferred interval is the median gap between the last 9 values, so a
 * dropped sample or two (a longer gap) does not change it, while a series that really reports every
 * 5 minutes though its sensor is declared at 60 s is read as 5-minute data after 5 values.
 *
 * Detectors state their windows in minutes; they use this to widen a window that would hold too
 * few samples at a coarse interval (a median needs three values, a step needs one sample after it).
 */
import { medianOf } from './median.ts';

const GAPS = 9;
/** Values (4 gaps) before the inferred interval replaces the declared one. */
const MIN_GAPS = 4;

/**
 * The interval a sensor's readings come at, ms, as the detectors judge recency and size windows
 * by it: sensor health's observed interval when coarser than the declared one (15-min samples of a
 * sensor declared at 60 s), else the declared `intervalS`.
 */
export function readingIntervalMs(health: { intervalMs?(sensor: string): number | undefined }, sensor: { id: string; intervalS: number }): number {
  return Math.max(sensor.intervalS * 1000, health.intervalMs?.(sensor.id) ?? 0);
}

export class SampleInterval {
  private lastTs = Number.NaN;
  private readonly gaps: number[] = [];
  private next = 0;
  private inferredMs = Number.NaN;
  private readonly scratch: number[] = [];

  constructor(private readonly declaredMs: number) {}

  /** A value of the series at `ts` (time order; an earlier or equal ts is ignored). */
  observe(ts: number): void {
    const gap = ts - this.lastTs;
    if (!(gap > 0)) {
      if (Number.isNaN(this.lastTs)) this.lastTs = ts;
      return;
    }
    this.lastTs = ts;
    let evicted = Number.NaN;
    if (this.gaps.length < GAPS) this.gaps.push(gap);
    else {
      evicted = this.gaps[this.next];
      this.gaps[this.next] = gap;
      this.next = (this.next + 1) % GAPS;
    }
    if (this.gaps.length < MIN_GAPS) return;
    // a regular series replaces a gap by the same gap: the median cannot change
    if (evicted === gap && !Number.isNaN(this.inferredMs)) return;
    this.scratch.length = 0;
    for (const g of this.gaps) this.scratch.push(g);
    this.inferredMs = medianOf(this.scratch);
  }

  /** Whether the readings have shown their own interval yet (4 gaps). */
  get inferred(): boolean {
    return !Number.isNaN(this.inferredMs);
  }

  /** The last gap seen, ms (NaN before two values). */
  get lastGapMs(): number {
    if (this.gaps.length === 0) return Number.NaN;
    return this.gaps.length < GAPS ? this.gaps[this.gaps.length - 1] : this.gaps[(this.next + GAPS - 1) % GAPS];
  }

  /** The interval, ms: inferred from the readings once known, else the declared one. */
  get ms(): number {
    return Number.isNaN(this.inferredMs) ? this.declaredMs : this.inferredMs;
  }

  /** The interval in minutes, clamped to `maxMin` (windows stop widening beyond it). */
  minutes(maxMin = Infinity): number {
    return Math.min(this.ms / 60_000, maxMin);
  }
}
