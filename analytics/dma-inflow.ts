/**
 * DMA net inflow (net demand) = Σ inlet flows − Σ outlet flows − Σ dV/dt of its tanks (topology:
 * dmas[].inlets / outlets / tanks), aligned per time bucket (the DMA's slowest flow or level
 * sensor's interval, at least a minute).
 *
 * Storage: a tank's volume comes from its level and geometry (tank-volume.ts). A level is read to a
 * centimetre or so, which on a 16 m cylinder is 2 m³: a derivative over one 5-min sample would carry
 * ±24 m³/h of noise. So for a DMA with tanks the net demand is taken over a window of
 * `tankWindowMin` minutes (default 30), flows and volume alike: a weighted mean of the flows over
 * the window minus the least-squares slope of the volumes read in it (tank-volume.ts StorageWindow).
 * Both terms weigh the window alike, so a pump that fills the tank from the DMA's own inflow cancels
 * exactly (no spike at its starts and stops), and every level reading in the window counts. A DMA
 * without tanks gives each bucket's value as before.
 *
 * Each bucket takes the mean of each sensor's readings in it. A bucket is complete when every flow
 * sensor of the DMA has reported in it; otherwise it is closed when a later bucket completes, when
 * the DMA's newest reading is `latenessMs` past its end, or when the watermark passes its end.
 * A sensor missing from a closed bucket (a gap, a bad-quality or faulty reading) is held at its last
 * value for up to `holdMs`; past that the bucket has no net inflow (a gap in the output, never a
 * made-up value). Readings for a bucket already closed are late and dropped (counted).
 *
 * A frozen meter (a logger that repeats its last value, a link that resends it) is not a
 * measurement: at 10-min spacing or coarser, a flow meter's reading that repeats one value
 * `FROZEN_RUN_READINGS` times or more in a row is not usable either (a gap, as above), and its next,
 * different reading, the meter catching up, is noted (`meterResumedAt`). A DMA's flow read to its
 * meter's resolution hardly repeats one value at such intervals (BattLeDIM's inlets p227 and p235 at
 * 15-min samples: 3 in a row once in half a year, never more; BWDF's hourly inflows: never), while
 * sensor health flags a frozen meter only after 30 readings, 7.5 h at 15 min. Below 10 min health's
 * 30 readings are soon enough. Not judged so: an exact 0 (a closed main); a pump station's meter
 * (place `pump-station`: a pump holds its flow, PUMP_1 up to 7 readings); and a meter whose own
 * readings repeated as often in the day before the run (`FROZEN_RUN_READINGS` − 1 repeats: it is read
 * coarser than its flow moves, or its flow is held by a pump or a valve), or that has not a day of
 * readings yet to tell.
 *
 * Buckets are made only where readings are: sensors that report less often than declared (hourly
 * data in a topology that says 60 s) give one value per sample, which `minutesOf` weighs by the
 * sensors' inferred interval for the detectors that average over time.
 */
import type { Point, Quality } from '../core/model/reading.ts';
import type { Topology } from '../core/topology/topology.ts';
import type { TimeSeriesStore } from '../core/tsdb/types.ts';
import type { SensorHealthView } from './types.ts';
import { levelOffsetFraction, StorageWindow, tankVolume } from './tank-volume.ts';
import { SampleInterval } from './baseline/sample-interval.ts';
import { DAY_MS } from './baseline/local-time.ts';

export const DMA_INFLOW_MEASUREMENT = 'dma_inflow';

export interface NetInflow {
  dma: string;
  /** Bucket start, ms. */
  ts: number;
  /** m³/h. */
  value: number;
  quality: Quality;
  /** Sensors whose value was held from an earlier bucket. */
  held: string[];
  /** Σ inlets − Σ outlets of this bucket alone (m³/h), before any storage window: its steps bound the window's sampling error. */
  flows: number;
}

export interface DmaInflowOptions {
  /** Bucket length, ms; default the slowest flow sensor's interval of the DMA, at least 60 s. */
  bucketMs?: number;
  /** How long a missing sensor may be held at its last value. Default 5 min. */
  holdMs?: number;
  /** Close a bucket once the DMA's newest reading is this far past its end. Default 2 min. */
  latenessMs?: number;
}

interface Term { sensor: string; sign: number }

/** A tank's level sensor, its level → volume (m³), and how often the level is read. */
interface TankTerm { sensor: string; volume: (levelM: number) => number; intervalMs: number }

export const DEFAULT_TANK_WINDOW_MIN = 30;
/** Readings of one value in a row from which a flow meter's readings are taken for a frozen meter's (at 10-min spacing or coarser). */
const FROZEN_RUN_READINGS = 3;
/** The spacing from which a run of identical readings is taken for a frozen meter, ms. */
const FROZEN_FROM_SPACING_MS = 10 * 60_000;

/** A flow meter's current run of identical readings, and its repeats before it. */
interface ReadingRun {
  value: number;
  count: number;
  startTs: number;
  lastTs: number;
  /** Taken for a frozen meter's: its readings from the FROZEN_RUN_READINGS-th on are not used. */
  frozen: boolean;
  /** The meter's earlier runs (end, readings repeated), newest last: only as many as reach FROZEN_RUN_READINGS − 1 repeats. */
  earlier: { ts: number; repeats: number }[];
  /** The meter's first reading. */
  firstTs: number;
}

interface Bucket { start: number; sums: Map<string, number>; counts: Map<string, number>; uncertain: boolean }

interface DmaState {
  id: string;
  site: string;
  terms: Term[];
  tanks: TankTerm[];
  /** Flow and level sensors: a bucket is complete when each has reported. */
  sensorCount: number;
  /** DMAs with tanks: the net demand over the tank window. */
  storage?: StorageWindow;
  bucketMs: number;
  open: Map<number, Bucket>;
  lastClosed: number;
  newestTs: number;
  last: Map<string, { ts: number; value: number }>;
  /** Each balance sensor's sample interval: declared, until its readings show their own spacing. */
  intervals: SampleInterval[];
}

export class DmaInflow {
  private readonly byDma = new Map<string, DmaState>();
  /** sensor → DMAs it enters or leaves. */
  private readonly bySensor = new Map<string, DmaState[]>();
  private readonly intervals = new Map<string, SampleInterval>();
  /** Each balance flow meter's run of identical readings (not a pump station's). */
  private readonly runs = new Map<string, ReadingRun>();
  /** Per DMA: when one of its flow meters last moved after a run taken for frozen (the reading's time). */
  private readonly resumedAt = new Map<string, number>();
  private readonly holdMs: number;
  private readonly latenessMs: number;
  lateDropped = 0;
  gaps = 0;
  /** Readings not used as a frozen meter's. */
  frozenDropped = 0;

  constructor(topology: Topology, private readonly health?: SensorHealthView, options: DmaInflowOptions = {}) {
    this.holdMs = options.holdMs ?? 300_000;
    this.latenessMs = options.latenessMs ?? 120_000;
    for (const d of topology.dmas.values()) {
      if (d.inlets.length === 0) continue;
      const signs = new Map<string, number>();
      for (const s of d.inlets) signs.set(s, (signs.get(s) ?? 0) + 1);
      for (const s of d.outlets) signs.set(s, (signs.get(s) ?? 0) - 1);
      const terms = [...signs].filter(([, sign]) => sign !== 0).map(([sensor, sign]) => ({ sensor, sign }));
      const tanks = (d.tanks ?? []).map((t) => ({ sensor: t.level, volume: tankVolume(t), intervalMs: (topology.sensors.get(t.level)?.intervalS ?? 60) * 1000 }));
      const intervals = [...terms, ...tanks].map((t) => topology.sensors.get(t.sensor)?.intervalS ?? 60);
      const bucketMs = options.bucketMs ?? Math.max(60, ...intervals) * 1000;
      const site = topology.sensors.get(d.inlets[0])?.site ?? '';
      const windowMs = (d.tankWindowMin ?? DEFAULT_TANK_WINDOW_MIN) * 60_000;
      const state: DmaState = {
        id: d.id, site, terms, tanks, sensorCount: terms.length + tanks.length, bucketMs, open: new Map(), lastClosed: -Infinity, newestTs: -Infinity, last: new Map(),
        intervals: [],
        storage: tanks.length ? new StorageWindow(bucketMs, windowMs, levelOffsetFraction(bucketMs, Math.max(...tanks.map((t) => t.intervalMs)))) : undefined,
      };
      this.byDma.set(d.id, state);
      for (const t of [...terms, ...tanks]) {
        const list = this.bySensor.get(t.sensor) ?? [];
        list.push(state);
        this.bySensor.set(t.sensor, list);
        let interval = this.intervals.get(t.sensor);
        if (!interval) this.intervals.set(t.sensor, interval = new SampleInterval((topology.sensors.get(t.sensor)?.intervalS ?? 60) * 1000));
        state.intervals.push(interval);
      }
      for (const t of terms) {
        if (topology.sensors.get(t.sensor)?.place !== 'pump-station') {
          this.runs.set(t.sensor, { value: NaN, count: 0, startTs: NaN, lastTs: NaN, frozen: false, earlier: [], firstTs: NaN });
        }
      }
    }
  }

  /** DMAs with a net inflow (at least one inlet). */
  dmas(): string[] {
    return [...this.byDma.keys()];
  }

  /** The flow sensors of a DMA with their sign (+1 inlet, −1 outlet). */
  termsOf(dma: string): readonly Term[] {
    return this.byDma.get(dma)?.terms ?? [];
  }

  /** The level sensors of a DMA's tanks with their level → volume. */
  tanksOf(dma: string): readonly TankTerm[] {
    return this.byDma.get(dma)?.tanks ?? [];
  }

  /** Every sensor the DMA's balance reads: its flows and its tanks' levels. */
  balanceSensorsOf(dma: string): string[] {
    const st = this.byDma.get(dma);
    return st ? [...st.terms, ...st.tanks].map((t) => t.sensor) : [];
  }

  /** The window (ms) net demand is taken over: a DMA with tanks, its tank window; else one bucket. */
  storageWindowMsOf(dma: string): number {
    const st = this.byDma.get(dma);
    return st?.storage?.windowMs ?? st?.bucketMs ?? 60_000;
  }

  bucketMsOf(dma: string): number {
    return this.byDma.get(dma)?.bucketMs ?? 60_000;
  }

  /**
   * The minutes a net inflow value stands for, for means over time (night flow's 15-min windows,
   * leak-change's hours): one bucket, or, when the DMA's sensors report less often than their
   * declared interval (hourly data imported into a topology that says 60 s), the span of a sample:
   * each value all of whose sensors reported in its bucket stands for the slowest sensor's inferred
   * interval (analytics/baseline/sample-interval.ts). Buckets are only made where readings are, so
   * at coarse data without this a value would count as one minute and no window would be covered.
   */
  minutesOf(v: NetInflow): number {
    const st = this.byDma.get(v.dma);
    if (!st) return 1;
    let sampleMs = st.bucketMs;
    for (const i of st.intervals) if (i.ms > sampleMs) sampleMs = i.ms;
    return (v.held.length === 0 ? sampleMs : st.bucketMs) / 60_000;
  }

  siteOf(dma: string): string {
    return this.byDma.get(dma)?.site ?? '';
  }

  /** A flow or tank level sensor of some DMA's balance. */
  isBalanceSensor(sensor: string): boolean {
    return this.bySensor.has(sensor);
  }

  /** Add one reading; returns the net inflow of buckets it closed, in time order. */
  add(r: Point, out: NetInflow[] = []): NetInflow[] {
    const states = this.bySensor.get(r.sensor);
    if (!states) return out;
    this.intervals.get(r.sensor)!.observe(r.ts);
    let usable = r.quality !== 'bad' && Number.isFinite(r.value) && !this.health?.isFaulty(r.sensor);
    if (usable && this.frozenReading(r, states)) {
      usable = false;
      this.frozenDropped++;
    }
    for (const st of states) {
      const start = Math.floor(r.ts / st.bucketMs) * st.bucketMs;
      if (start <= st.lastClosed) {
        this.lateDropped++;
        continue;
      }
      if (r.ts > st.newestTs) st.newestTs = r.ts;
      if (usable) {
        let b = st.open.get(start);
        if (!b) {
          b = { start, sums: new Map(), counts: new Map(), uncertain: false };
          st.open.set(start, b);
        }
        b.sums.set(r.sensor, (b.sums.get(r.sensor) ?? 0) + r.value);
        b.counts.set(r.sensor, (b.counts.get(r.sensor) ?? 0) + 1);
        if (r.quality === 'uncertain') b.uncertain = true;
        if (b.sums.size === st.sensorCount) this.closeThrough(st, start, out);
      }
      this.closeThrough(st, Math.floor((st.newestTs - this.latenessMs) / st.bucketMs) * st.bucketMs - st.bucketMs, out);
    }
    return out;
  }

  /**
   * When one of the DMA's flow meters last moved after readings taken for a frozen meter's: the time
   * of the reading that caught up (NaN: never).
   */
  meterResumedAt(dma: string): number {
    return this.resumedAt.get(dma) ?? NaN;
  }

  /** Counts the reading into its meter's run; true when it is a frozen meter's (see the header). */
  private frozenReading(r: Point, states: readonly DmaState[]): boolean {
    const run = this.runs.get(r.sensor);
    if (!run) return false;
    if (Number.isNaN(run.firstTs)) run.firstTs = r.ts;
    if (r.value === run.value && r.value !== 0) run.count++;
    else {
      if (run.frozen) for (const st of states) this.resumedAt.set(st.id, r.ts);
      if (run.count > 1) {
        run.earlier.push({ ts: run.lastTs, repeats: run.count - 1 });
        // the judgement needs only the newest runs that reach the limit
        let newer = 0;
        for (let i = run.earlier.length - 1; i > 0; i--) {
          newer += run.earlier[i].repeats;
          if (newer >= FROZEN_RUN_READINGS - 1) { run.earlier.splice(0, i); break; }
        }
      }
      run.value = r.value;
      run.count = 1;
      run.startTs = r.ts;
      run.frozen = false;
    }
    run.lastTs = r.ts;
    if (!run.frozen && run.count >= FROZEN_RUN_READINGS && this.intervals.get(r.sensor)!.ms >= FROZEN_FROM_SPACING_MS
      && run.startTs - run.firstTs >= DAY_MS) {
      let repeatsBefore = 0;
      for (const e of run.earlier) if (e.ts >= run.startTs - DAY_MS) repeatsBefore += e.repeats;
      run.frozen = repeatsBefore < FROZEN_RUN_READINGS - 1;
    }
    return run.frozen;
  }

  /** The watermark reached `ts`: close every bucket that ended by then. */
  advance(ts: number, out: NetInflow[] = []): NetInflow[] {
    for (const st of this.byDma.values()) this.closeThrough(st, Math.floor(ts / st.bucketMs) * st.bucketMs - st.bucketMs, out);
    return out;
  }

  /** Close all open buckets of `st` starting at or before `upTo`, in order. */
  private closeThrough(st: DmaState, upTo: number, out: NetInflow[]): void {
    if (st.open.size === 0) {
      if (upTo > st.lastClosed) st.lastClosed = upTo;
      return;
    }
    const starts = [...st.open.keys()].filter((s) => s <= upTo).sort((a, b) => a - b);
    for (const s of starts) {
      const b = st.open.get(s)!;
      st.open.delete(s);
      const v = this.netOf(st, b);
      if (v) out.push(v);
    }
    if (upTo > st.lastClosed) st.lastClosed = upTo;
  }

  /** The bucket's mean of a sensor, or its last value held; undefined past the hold (a gap). */
  private meanOrHeld(st: DmaState, b: Bucket, sensor: string, held: string[]): number | undefined {
    const n = b.counts.get(sensor);
    if (n) {
      const v = b.sums.get(sensor)! / n;
      st.last.set(sensor, { ts: b.start, value: v });
      return v;
    }
    const last = st.last.get(sensor);
    if (!last || b.start - last.ts > this.holdMs) return undefined;
    held.push(sensor);
    return last.value;
  }

  private netOf(st: DmaState, b: Bucket): NetInflow | undefined {
    let net = 0;
    const held: string[] = [];
    for (const t of st.terms) {
      const v = this.meanOrHeld(st, b, t.sensor, held);
      if (v === undefined) { this.gaps++; st.storage?.reset(); return undefined; }
      net += t.sign * v;
    }
    if (st.storage) {
      let volume = 0;
      for (const t of st.tanks) {
        const level = this.meanOrHeld(st, b, t.sensor, held);
        if (level === undefined) { this.gaps++; st.storage.reset(); return undefined; }
        volume += t.volume(level);
      }
      const demand = st.storage.add(b.start, net, volume, b.uncertain || held.length > 0);
      if (!demand) return undefined; // the window is filling
      return { dma: st.id, ts: b.start, value: demand.value, quality: demand.uncertain ? 'uncertain' : 'good', held, flows: net };
    }
    return { dma: st.id, ts: b.start, value: net, quality: b.uncertain || held.length ? 'uncertain' : 'good', held, flows: net };
  }

  /** A net inflow value as a derived point for the store. */
  toPoint(v: NetInflow): Point {
    return { measurement: DMA_INFLOW_MEASUREMENT, sensor: v.dma, ts: v.ts, value: v.value, quality: v.quality, site: this.siteOf(v.dma), dma: v.dma };
  }
}

/**
 * Net inflow per DMA from a store's windowed means of its flow sensors: Σ inlet means − Σ outlet
 * means per window, for windows where every sensor has a mean (a window with any sensor missing is
 * left out rather than guessed); for a DMA with tanks, minus the storage change taken over the tank
 * window (or over two consecutive windows when they are longer), as live. For warm-ups.
 */
export async function netInflowFromStore(
  store: TimeSeriesStore, inflow: DmaInflow, dma: string, from: number, to: number, windowMs: number,
): Promise<{ ts: number; value: number }[]> {
  const terms = inflow.termsOf(dma);
  if (terms.length === 0 || to <= from) return [];
  const q = await store.query({ measurement: 'flow', sensors: terms.map((t) => t.sensor), from, to, windowMs, aggregate: 'mean' });
  const sums = new Map<number, { net: number; n: number }>();
  for (const t of terms) {
    for (const v of q.get(t.sensor) ?? []) {
      const e = sums.get(v.ts) ?? { net: 0, n: 0 };
      e.net += t.sign * v.value;
      e.n++;
      sums.set(v.ts, e);
    }
  }
  const flows = [...sums].filter(([, e]) => e.n === terms.length).map(([ts, e]) => ({ ts, value: e.net })).sort((a, b) => a.ts - b.ts);
  const tanks = inflow.tanksOf(dma);
  if (tanks.length === 0) return flows;
  const levels = await store.query({ measurement: 'level', sensors: tanks.map((t) => t.sensor), from, to, windowMs, aggregate: 'mean' });
  const volumes = new Map<number, { volume: number; n: number }>();
  for (const t of tanks) {
    for (const v of levels.get(t.sensor) ?? []) {
      const e = volumes.get(v.ts) ?? { volume: 0, n: 0 };
      e.volume += t.volume(v.value);
      e.n++;
      volumes.set(v.ts, e);
    }
  }
  const levelOffset = levelOffsetFraction(windowMs, Math.max(...tanks.map((t) => t.intervalMs)));
  const storage = new StorageWindow(windowMs, Math.max(inflow.storageWindowMsOf(dma), windowMs), levelOffset);
  const out: { ts: number; value: number }[] = [];
  for (const f of flows) {
    const v = volumes.get(f.ts);
    if (!v || v.n !== tanks.length) { storage.reset(); continue; }
    const demand = storage.add(f.ts, f.value, v.volume, false);
    if (demand) out.push({ ts: f.ts, value: demand.value });
  }
  return out;
}
