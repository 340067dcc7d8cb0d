/**
 * Where the replay's chunks come from (analytics/replay.ts). Any store: the chunk's range query per
 * (DMA, kind) group, packed into columns and merged into the worker's order here. A SQLite store
 * file: a second thread (replay-read-ahead-thread.mjs) reads the chunks on its own connection with
 * the store's own range query and merges them (merge-order.mjs, the same merge), and writes the
 * derived series back, so the store's reads and writes and the merge run beside the detectors
 * instead of between their chunks. Both give the same readings in the same order
 * (replay-read-ahead.test.ts).
 */
import { Worker } from 'node:worker_threads';
import type { Point } from '../core/model/reading.ts';
import { QUALITY_CODE, QUALITY_FROM_CODE } from '../core/model/reading.ts';
import type { Topology } from '../core/topology/topology.ts';
import { INSERT_ROW_SQL, RAW_RANGE_SQL, SqliteStore } from '../core/tsdb/sqlite.ts';
import { checkPoints } from '../core/tsdb/line-protocol.ts';
import type { SeriesValue, TimeSeriesStore } from '../core/tsdb/types.ts';
import { mergeOrder } from './merge-order.mjs';

export interface SeriesId { measurement: string; sensor: string }

/**
 * A chunk's readings: the series (ranked by sensor id) one after the other, series j's at
 * [offsets[j], offsets[j + 1]) of the columns, each ascending in time; `quality` holds codes
 * (QUALITY_CODE), null when every reading is good. `order` and `seriesOf` are the worker's order:
 * each reading's position in the columns and its series, by time, then sensor id.
 */
export interface ChunkColumns {
  series: readonly SeriesId[];
  offsets: Int32Array;
  ts: Float64Array;
  value: Float64Array;
  quality: Uint8Array | null;
  order: Int32Array;
  seriesOf: Int32Array;
}

export interface QueryGroup { measurement: string; sensors: string[] }

/** The replay's access to the store: chunks to read, derived series to write back. */
export interface ChunkSource {
  /** The readings of [from, to). */
  read(from: number, to: number): Promise<ChunkColumns>;
  /** Resolves once the points are durable in the store, as TimeSeriesStore.write. */
  write(points: readonly Point[]): Promise<void>;
  close(): Promise<void>;
}

const bySensorId = (a: SeriesId, b: SeriesId) => (a.sensor < b.sensor ? -1 : a.sensor > b.sensor ? 1 : 0);

/** Range query results (each ascending in time) as a chunk in the worker's order. */
export function packSeries(found: (SeriesId & { values: readonly SeriesValue[] })[]): ChunkColumns {
  const series = [...found].sort(bySensorId);
  const offsets = new Int32Array(series.length + 1);
  series.forEach((s, j) => { offsets[j + 1] = offsets[j] + s.values.length; });
  const total = offsets[series.length];
  const ts = new Float64Array(total);
  const value = new Float64Array(total);
  let quality: Uint8Array | null = null;
  series.forEach((s, j) => {
    for (let i = 0, at = offsets[j]; i < s.values.length; i++, at++) {
      const v = s.values[i];
      ts[at] = v.ts;
      value[at] = v.value;
      const code = v.quality === undefined ? QUALITY_CODE.good : QUALITY_CODE[v.quality];
      if (code !== 0) (quality ??= new Uint8Array(total))[at] = code;
    }
  });
  return { series: series.map(({ measurement, sensor }) => ({ measurement, sensor })), offsets, ts, value, quality, ...mergeOrder(ts, offsets) };
}

/** The chunk's readings as the worker's Points, in its order, joined with their sensors' site and DMA. */
export function chunkPoints(c: ChunkColumns, topology: Topology): Point[] {
  const infos = c.series.map((s) => topology.sensors.get(s.sensor)!);
  const { order, seriesOf, ts, value, quality } = c;
  const out: Point[] = new Array(order.length);
  for (let n = 0; n < order.length; n++) {
    const at = order[n];
    const j = seriesOf[n];
    const s = c.series[j];
    const info = infos[j];
    out[n] = {
      measurement: s.measurement, sensor: s.sensor, ts: ts[at], value: value[at],
      quality: quality ? QUALITY_FROM_CODE[quality[at]] : 'good', site: info.site, dma: info.dma,
    };
  }
  return out;
}

/** The chunks by range queries on the store itself (any store). */
class StoreChunkSource implements ChunkSource {
  constructor(private readonly store: TimeSeriesStore, private readonly groups: readonly QueryGroup[]) {}

  async read(from: number, to: number): Promise<ChunkColumns> {
    const found: (SeriesId & { values: SeriesValue[] })[] = [];
    for (const g of this.groups) {
      const result = await this.store.query({ measurement: g.measurement, sensors: g.sensors, from, to });
      for (const [sensor, values] of result) if (values.length) found.push({ measurement: g.measurement, sensor, values });
    }
    return packSeries(found);
  }

  write(points: readonly Point[]): Promise<void> {
    return this.store.write(points);
  }

  async close(): Promise<void> {}
}

type PackedChunk = Omit<ChunkColumns, 'series'>;

/** Points as columns for the thread: a Point object each cost more to copy than to write. */
interface PointColumns {
  keys: Pick<Point, 'measurement' | 'sensor' | 'site' | 'dma'>[];
  key: Int32Array;
  ts: Float64Array;
  value: Float64Array;
  quality: Uint8Array;
}

function pointColumns(points: readonly Point[]): PointColumns {
  const n = points.length;
  const out: PointColumns = { keys: [], key: new Int32Array(n), ts: new Float64Array(n), value: new Float64Array(n), quality: new Uint8Array(n) };
  const keyOfSensor = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const p = points[i];
    let k = keyOfSensor.get(p.sensor);
    const known = k === undefined ? undefined : out.keys[k];
    if (!known || known.measurement !== p.measurement || known.site !== p.site || known.dma !== p.dma) {
      k = out.keys.push({ measurement: p.measurement, sensor: p.sensor, site: p.site, dma: p.dma }) - 1;
      keyOfSensor.set(p.sensor, k);
    }
    out.key[i] = k!;
    out.ts[i] = p.ts;
    out.value[i] = p.value;
    out.quality[i] = QUALITY_CODE[p.quality];
  }
  return out;
}
type ThreadReply = { id: number; chunk?: PackedChunk } | { id: number; error: { message: string; stack?: string } };

/**
 * The chunks read, and the derived series written, by a second thread on its own connections to
 * the store's file.
 */
class ThreadChunkSource implements ChunkSource {
  private readonly thread: Worker;
  private readonly series: SeriesId[];
  private readonly waiting = new Map<number, { resolve: (chunk: PackedChunk | undefined) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private failure?: Error;
  private closing = false;

  constructor(file: string, groups: readonly QueryGroup[]) {
    this.series = groups.flatMap((g) => g.sensors.map((sensor) => ({ measurement: g.measurement, sensor }))).sort(bySensorId);
    if (QUALITY_CODE.good !== 0) throw new Error('the read-ahead thread takes quality code 0 for good');
    this.thread = new Worker(new URL('./replay-read-ahead-thread.mjs', import.meta.url), {
      // plain JavaScript: without the parent's flags the thread starts without its TypeScript
      // loader (tsx's hooks cost ~0.1 s of CPU per replay)
      execArgv: [],
      workerData: {
        file, sql: RAW_RANGE_SQL, insertSql: INSERT_ROW_SQL, series: this.series,
        codeCount: QUALITY_FROM_CODE.length, badCode: QUALITY_CODE.bad,
      },
    });
    this.thread.on('message', (m: ThreadReply) => this.onReply(m));
    this.thread.on('error', (e) => this.fail(e));
    this.thread.on('exit', (code) => { if (!this.closing) this.fail(new Error(`the replay's read-ahead thread exited (code ${code})`)); });
  }

  async read(from: number, to: number): Promise<ChunkColumns> {
    const chunk = await this.ask({ from, to });
    return { series: this.series, ...chunk! };
  }

  async write(points: readonly Point[]): Promise<void> {
    // refused here as the store itself refuses them (InvalidPointError), before any is written
    checkPoints(points);
    if (points.length) await this.ask({ write: pointColumns(points) });
  }

  private ask(message: { from: number; to: number } | { write: PointColumns }): Promise<PackedChunk | undefined> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const w = 'write' in message ? message.write : undefined; // its columns' buffers transferred, not copied
      this.thread.postMessage({ id, ...message }, w ? [w.key.buffer as ArrayBuffer, w.ts.buffer as ArrayBuffer, w.value.buffer as ArrayBuffer, w.quality.buffer as ArrayBuffer] : []);
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
    w.resolve(m.chunk);
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
