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
 * volume (m³, from the bucket's mean level): the volume change between the levels k buckets apart,
 * divided by the k buckets' length, taken from the flows' mean over exactly the span the two levels
 * enclose (the end buckets weighted by the part of them inside it). So a pump that moves water from
 * the inlet into the tank cancels out at its starts and stops, whatever the window. Consecutive
 * buckets only: a missing one starts the window again.
 */
export class StorageWindow {
  private readonly k: number;
  private readonly slots: Slot[] = [];

  /** `levelOffset`: levelOffsetFraction of the level sensors (0: a level read at the bucket's start). */
  constructor(readonly bucketMs: number, readonly windowMs: number, private readonly levelOffset = 0) {
    this.k = Math.max(1, Math.round(windowMs / bucketMs));
  }

  reset(): void {
    this.slots.length = 0;
  }

  /** A bucket's flow and volume; the net demand once the window is full. */
  add(ts: number, flow: number, volume: number, uncertain: boolean): { value: number; uncertain: boolean } | undefined {
    const last = this.slots.at(-1);
    if (last && ts - last.ts !== this.bucketMs) this.reset();
    this.slots.push({ ts, flow, volume, uncertain });
    if (this.slots.length > this.k + 1) this.slots.shift();
    if (this.slots.length < this.k + 1) return undefined;
    const first = this.slots[0];
    const newest = this.slots[this.k];
    // the levels span [first + offset, newest + offset): the rest of the first bucket, the whole
    // buckets between, the head of the newest
    let flowSum = first.flow * (1 - this.levelOffset) + newest.flow * this.levelOffset;
    let anyUncertain = newest.uncertain;
    for (let i = 1; i < this.k; i++) {
      flowSum += this.slots[i].flow;
      anyUncertain ||= this.slots[i].uncertain;
    }
    const hours = (this.k * this.bucketMs) / 3_600_000;
    return { value: flowSum / this.k - (newest.volume - first.volume) / hours, uncertain: anyUncertain };
  }
}
