/**
 * Replay: the detectors over stored history, through the same worker the live feed uses, so the
 * alarms come out at the event times the platform would have raised them (`aquawatch analyze`).
 *
 * History is read in time chunks (default 6 h), per DMA and quantity kind, merged into (time, sensor)
 * order (the worker's step order, so it does not sort) and handed to the worker; after each chunk the watermark moves to the chunk's end (stored
 * history is complete, so no lateness is needed). The next READ_AHEAD_CHUNKS chunks are read while
 * the detectors run (a SQLite store file by a second thread, which also writes the derived series
 * back: analytics/replay-read-ahead.ts). Memory
 * is 1 + READ_AHEAD_CHUNKS chunks of readings, and up to two batches of DERIVED_WRITE_BATCH derived
 * points (one being written while the next is gathered): they are written in batches of that size
 * (and at the end), not after every chunk, since each store write is a durable commit (an fsync on
 * SQLite).
 */
import type { Point } from '../core/model/reading.ts';
import type { Topology } from '../core/topology/topology.ts';
import type { SeriesValue, TimeSeriesStore } from '../core/tsdb/types.ts';
import type { Logger } from '../core/log.ts';
import type { Detector } from './types.ts';
import type { AlarmManager, AlarmTransition } from './alarms/manager.ts';
import { AnalyticsWorker, type WorkerStats } from './worker.ts';
import { chunkPoints, openChunkSource, packSeries, type ChunkColumns, type QueryGroup } from './replay-read-ahead.ts';

export interface ReplayOptions {
  store: TimeSeriesStore;
  topology: Topology;
  detectors: readonly Detector[];
  alarms?: AlarmManager;
  /** Event time range [from, to), ms. */
  from: number;
  to: number;
  /** Default 6 h. */
  chunkMs?: number;
  /** The worker's step (default 60 s, as live). */
  stepMs?: number;
  timezone?: string;
  /** Warm the detectors from the history before `from` (default true). */
  warmUp?: boolean;
  /** Write the derived series (night flow, DMA inflow) back to the store (default true). */
  writeDerived?: boolean;
  /** Only these sensors (default: every sensor and meter of the topology). */
  sensors?: readonly string[];
  /**
   * Read a SQLite store file ahead of the detectors, and write the derived series back, in a second
   * thread (default true): the same readings and rows, the store's work beside the detectors instead
   * of between their chunks.
   */
  readThread?: boolean;
  log?: Logger;
  /** After each chunk: the event time reached and the readings so far. */
  onProgress?: (p: { eventTime: number; readings: number }) => void;
}

export interface ReplaySummary {
  from: number;
  to: number;
  chunks: number;
  readings: number;
  derivedWritten: number;
  /** Alarms raised during the replay (transitions of kind `raise`). */
  alarmsRaised: number;
  wallMs: number;
  readingsPerS: number;
  worker: WorkerStats;
}

/** Sensor ids grouped by (DMA, kind): one store query per group and chunk. */
function queryGroups(topology: Topology, only?: readonly string[]): QueryGroup[] {
  const wanted = only ? new Set(only) : undefined;
  const groups = new Map<string, QueryGroup>();
  for (const s of topology.sensors.values()) {
    if (wanted && !wanted.has(s.id)) continue;
    if (s.source?.type === 'derived') continue; // computed by the detectors themselves
    const key = `${s.dma}\u0000${s.kind}`;
    let g = groups.get(key);
    if (!g) groups.set(key, g = { measurement: s.kind, sensors: [] });
    g.sensors.push(s.id);
  }
  return [...groups.values()];
}

/** Derived points gathered before a store write (a 6-h chunk of the demo town makes some 1,800). */
const DERIVED_WRITE_BATCH = 20_000;

interface ChunkSeries { measurement: string; sensor: string; values: readonly SeriesValue[] }

/**
 * The chunk's series (each ascending in time) merged into (time, sensor) order, the order the worker
 * steps in, so it need not sort them (merge-order.mjs: a k-way merge on a heap of series).
 */
export function mergeByTime(series: ChunkSeries[], topology: Topology): Point[] {
  return chunkPoints(packSeries(series), topology);
}

/** Chunks read ahead of the one the detectors are on: the memory bound is this many chunks more. */
const READ_AHEAD_CHUNKS = 2;

export async function replay(o: ReplayOptions): Promise<ReplaySummary> {
  if (!Number.isFinite(o.from)) throw new Error('from: must be a finite event time, ms');
  if (!Number.isFinite(o.to) || o.to <= o.from) throw new Error('to: must be an event time after from');
  const chunkMs = o.chunkMs ?? 6 * 3_600_000;
  if (!(Number.isFinite(chunkMs) && chunkMs >= 1000)) throw new Error(`chunkMs: must be at least 1000 ms (got ${chunkMs})`);
  const started = Date.now();
  const worker = new AnalyticsWorker({
    topology: o.topology, store: o.store, detectors: o.detectors, alarms: o.alarms, timezone: o.timezone,
    allowedLatenessMs: 0, stepMs: o.stepMs, log: o.log,
  });
  let alarmsRaised = 0;
  const countRaise = (t: AlarmTransition) => { if (t.kind === 'raise') alarmsRaised++; };
  o.alarms?.on('transition', countRaise);
  const source = openChunkSource(o.store, queryGroups(o.topology, o.sensors), { thread: o.readThread });
  let readings = 0;
  let chunks = 0;
  let derivedWritten = 0;
  let derivedBatch: Point[] = [];
  // one batch written while the next is gathered (by the read-ahead thread for a SQLite file)
  let writing: Promise<void> = Promise.resolve();
  const flushDerived = async () => {
    if (!derivedBatch.length) return;
    const batch = derivedBatch;
    derivedBatch = [];
    await writing;
    writing = source.write(batch).then(() => { derivedWritten += batch.length; });
    writing.catch(() => {}); // awaited at the next batch or at the end
  };
  try {
    // the first chunks are read (by the read-ahead thread) while the detectors warm up
    const ranges: { from: number; to: number }[] = [];
    for (let t = o.from; t < o.to; t += chunkMs) ranges.push({ from: t, to: Math.min(t + chunkMs, o.to) });
    const reads = new Map<number, Promise<ChunkColumns>>();
    const requestRead = (k: number) => {
      if (k >= ranges.length) return;
      const read = source.read(ranges[k].from, ranges[k].to);
      read.catch(() => {}); // awaited in its turn; a replay that stops before it must not leave it unhandled
      reads.set(k, read);
    };
    for (let k = 0; k < READ_AHEAD_CHUNKS; k++) requestRead(k);
    if (o.warmUp !== false) await worker.warmUp(o.from);
    else worker.startAt(o.from);
    for (let k = 0; k < ranges.length; k++) {
      const end = ranges[k].to;
      requestRead(k + READ_AHEAD_CHUNKS);
      const chunk = await reads.get(k)!;
      reads.delete(k);
      const points = chunkPoints(chunk, o.topology);
      readings += points.length;
      worker.feedPoints(points);
      worker.flush(end);
      chunks++;
      if (o.writeDerived !== false) {
        for (const p of worker.drainDerived()) derivedBatch.push(p);
        if (derivedBatch.length >= DERIVED_WRITE_BATCH) await flushDerived();
      }
      o.onProgress?.({ eventTime: end, readings });
    }
    await flushDerived();
    await writing;
  } finally {
    o.alarms?.off('transition', countRaise);
    await source.close();
  }
  const wallMs = Date.now() - started;
  return {
    from: o.from, to: o.to, chunks, readings, derivedWritten, alarmsRaised, wallMs,
    readingsPerS: wallMs > 0 ? Math.round(readings / (wallMs / 1000)) : readings,
    worker: worker.stats,
  };
}
