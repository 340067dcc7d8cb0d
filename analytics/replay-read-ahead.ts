/**
 * Where the replay's chunks come from (analytics/replay.ts). Any store: the chunk's range query per
 * (DMA, kind) group, turned into columns. A SQLite store file: a second thread
 * (replay-read-ahead-thread.mjs) reads the chunks on its own connection with the store's own range
 * query, so the store reads (about 15 % of a replay's CPU time) run beside the detectors instead of
 * between their chunks. Both give the same readings in the same order (replay-read-ahead.test.ts).
 */
import { Worker } from 'node:worker_threads';
import { QUALITY_CODE, QUALITY_FROM_CODE } from '../core/model/reading.ts';
import { RAW_RANGE_SQL, SqliteStore } from '../core/tsdb/sqlite.ts';
import type { SeriesValue, TimeSeriesStore } from '../core/tsdb/types.ts';

/**
 * One sensor's readings of a chunk as columns, ascending in time. `quality` holds codes
 * (QUALITY_CODE); without it every reading is good.
 */
export interface SeriesColumns {
  measurement: string;
  sensor: string;
  ts: Float64Array;
  value: Float64Array;
  quality?: Uint8Array;
}

export interface QueryGroup { measurement: string; sensors: string[] }

export interface ChunkSource {
  /** The non-empty series of [from, to). */
  read(from: number, to: number): Promise<SeriesColumns[]>;
  close(): Promise<void>;
}

/** A store's range query result as columns. */
export function toColumns(measurement: string, sensor: string, values: readonly SeriesValue[]): SeriesColumns {
  const n = values.length;
  const ts = new Float64Array(n);
  const value = new Float64Array(n);
  let quality: Uint8Array | undefined;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    ts[i] = v.ts;
    value[i] = v.value;
    const code = v.quality === undefined ? QUALITY_CODE.good : QUALITY_CODE[v.quality];
    if (code !== 0) (quality ??= new Uint8Array(n))[i] = code;
  }
  return { measurement, sensor, ts, value, quality };
}

/** The chunks by range queries on the store itself (any store). */
class StoreChunkSource implements ChunkSource {
  constructor(private readonly store: TimeSeriesStore, private readonly groups: readonly QueryGroup[]) {}

  async read(from: number, to: number): Promise<SeriesColumns[]> {
    const out: SeriesColumns[] = [];
    for (const g of this.groups) {
      const found = await this.store.query({ measurement: g.measurement, sensors: g.sensors, from, to });
      for (const [sensor, values] of found) if (values.length) out.push(toColumns(g.measurement, sensor, values));
    }
    return out;
  }

  async close(): Promise<void> {}
}

/** A chunk from the thread: series i's readings at [offsets[i], offsets[i + 1]) of the columns. */
interface PackedChunk { offsets: Int32Array; ts: Float64Array; value: Float64Array; quality: Uint8Array | null }
type ThreadReply = { id: number; chunk: PackedChunk } | { id: number; error: { message: string; stack?: string } };

/** The chunks read by a second thread on its own connection to the store's file. */
class ThreadChunkSource implements ChunkSource {
  private readonly thread: Worker;
  private readonly series: { measurement: string; sensor: string }[];
  private readonly waiting = new Map<number, { resolve: (c: SeriesColumns[]) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private failure?: Error;
  private closing = false;

  constructor(file: string, groups: readonly QueryGroup[]) {
    this.series = groups.flatMap((g) => g.sensors.map((sensor) => ({ measurement: g.measurement, sensor })));
    if (QUALITY_CODE.good !== 0) throw new Error('the read-ahead thread takes quality code 0 for good');
    this.thread = new Worker(new URL('./replay-read-ahead-thread.mjs', import.meta.url), {
      workerData: { file, sql: RAW_RANGE_SQL, series: this.series, qualityCodes: QUALITY_FROM_CODE.length, badCode: QUALITY_CODE.bad },
    });
    this.thread.on('message', (m: ThreadReply) => this.onReply(m));
    this.thread.on('error', (e) => this.fail(e));
    this.thread.on('exit', (code) => { if (!this.closing) this.fail(new Error(`the replay's read-ahead thread exited (code ${code})`)); });
  }

  read(from: number, to: number): Promise<SeriesColumns[]> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.thread.postMessage({ id, from, to });
    });
  }

  private onReply(m: ThreadReply): void {
    const w = this.waiting.get(m.id);
    if (!w) return;
    this.waiting.delete(m.id);
    if ('error' in m) {
      const e = new Error(`replay read-ahead: ${m.error.message}`);
      if (m.error.stack) e.stack = m.error.stack;
      w.reject(e);
      return;
    }
    const { offsets, ts, value, quality } = m.chunk;
    const out: SeriesColumns[] = [];
    this.series.forEach((s, i) => {
      const start = offsets[i];
      const end = offsets[i + 1];
      if (end > start) {
        out.push({
          measurement: s.measurement, sensor: s.sensor, ts: ts.subarray(start, end), value: value.subarray(start, end),
          quality: quality ? quality.subarray(start, end) : undefined,
        });
      }
    });
    w.resolve(out);
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiting.values()) w.reject(this.failure);
    this.waiting.clear();
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.thread.terminate();
  }
}

/**
 * The replay's source of chunks: a read-ahead thread for a SQLite store file (unless `thread` is
 * false), else the store's own range queries.
 */
export function openChunkSource(store: TimeSeriesStore, groups: readonly QueryGroup[], opts: { thread?: boolean } = {}): ChunkSource {
  const file = store instanceof SqliteStore ? store.file : undefined;
  if (file !== undefined && opts.thread !== false) return new ThreadChunkSource(file, groups);
  return new StoreChunkSource(store, groups);
}
