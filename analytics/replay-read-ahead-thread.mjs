// The replay's read-ahead thread (analytics/replay-read-ahead.ts): reads the chunks of a SQLite
// store file on its own connection while the main thread runs the detectors on the previous chunk,
// and writes the derived series back on another. Plain JavaScript so that it starts without a
// TypeScript loader (under tsx, vitest and the CLI).
// workerData: { file, sql (RAW_RANGE_SQL), insertSql (INSERT_ROW_SQL), series: [{ measurement,
// sensor }] ranked by sensor id, codeCount (quality codes 0 to codeCount - 1 name a quality),
// badCode }.
// Messages, answered in the order they come:
// - { id, from, to }: reply { id, chunk } where chunk packs every series' readings in [from, to),
//   ascending in time, one series after the other: series i's are at [offsets[i], offsets[i + 1])
//   of ts and value (Float64Array) and quality (Uint8Array of codes, null when all are good);
//   `order` and `seriesOf` give the worker's order (merge-order.mjs). One set of buffers per
//   chunk, transferred, not copied.
// - { id, write: { keys, key, ts, value, quality } }: points (already checked by the main thread)
//   as columns, point i of series keys[key[i]] ({ measurement, sensor, site, dma }) with its ts,
//   value and quality code, in one transaction, durable (synchronous FULL, as the store's own
//   connection) when the reply { id } comes.
// A failure replies { id, error: { message, stack } }.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { mergeOrder } from './merge-order.mjs';

const { file, sql, insertSql, series, codeCount, badCode } = workerData;
const db = new Database(file, { readonly: true, fileMustExist: true });
const range = db.prepare(sql).raw(true);

/** As the store's own read: a code outside the table reads as bad (qualityFromCode). */
const known = (code) => Number.isInteger(code) && code >= 0 && code < codeCount;

/** The derived series' writer, on a connection of its own (opened at the first write). */
let writeMany;
function write(points) {
  if (!writeMany) {
    const out = new Database(file, { fileMustExist: true });
    out.pragma('synchronous = FULL');
    const insert = out.prepare(insertSql);
    writeMany = out.transaction(({ keys, key, ts, value, quality }) => {
      for (let i = 0; i < key.length; i++) {
        const k = keys[key[i]];
        insert.run(k.measurement, k.sensor, ts[i], value[i], quality[i], k.site, k.dma);
      }
    });
  }
  writeMany(points);
}

/** One series' rows of [from, to) appended to `chunk` at `at`, ascending in time. */
function readSeries(chunk, at, measurement, sensor, from, to) {
  const [tsJson, valueJson, qualityJson] = range.get(measurement, sensor, from, to);
  const ts = JSON.parse(tsJson);
  const n = ts.length;
  if (n === 0) return 0;
  const value = JSON.parse(valueJson);
  const codes = JSON.parse(qualityJson);
  // the store's read sorts (stably) should SQLite ever hand the aggregate its rows out of order
  let order;
  for (let i = 1; i < n; i++) {
    if (ts[i] <= ts[i - 1]) {
      order = Array.from({ length: n }, (_, k) => k).sort((a, b) => ts[a] - ts[b]);
      break;
    }
  }
  chunk.reserve(at + n);
  for (let i = 0; i < n; i++) {
    const k = order ? order[i] : i;
    chunk.ts[at + i] = ts[k];
    chunk.value[at + i] = value[k];
    const code = known(codes[k]) ? codes[k] : badCode;
    if (code !== 0) chunk.qualityAt(at + i, code);
  }
  return n;
}

/** The growing columns of one chunk. */
function chunkColumns() {
  const c = {
    ts: new Float64Array(1024), value: new Float64Array(1024), quality: null,
    reserve(size) {
      if (size <= c.ts.length) return;
      const grow = (a) => { const b = new a.constructor(Math.max(size, 2 * a.length)); b.set(a); return b; };
      c.ts = grow(c.ts);
      c.value = grow(c.value);
      if (c.quality) c.quality = grow(c.quality);
    },
    qualityAt(i, code) { (c.quality ??= new Uint8Array(c.ts.length))[i] = code; },
  };
  return c;
}

parentPort.on('message', ({ id, from, to, write: points }) => {
  try {
    if (points) {
      write(points);
      parentPort.postMessage({ id });
      return;
    }
    const chunk = chunkColumns();
    const offsets = new Int32Array(series.length + 1);
    let at = 0;
    series.forEach((s, i) => {
      at += readSeries(chunk, at, s.measurement, s.sensor, from, to);
      offsets[i + 1] = at;
    });
    const ts = chunk.ts.slice(0, at);
    const { order, seriesOf } = mergeOrder(ts, offsets);
    const packed = { offsets, ts, value: chunk.value.slice(0, at), quality: chunk.quality ? chunk.quality.slice(0, at) : null, order, seriesOf };
    const buffers = [offsets.buffer, ts.buffer, packed.value.buffer, order.buffer, seriesOf.buffer, ...(packed.quality ? [packed.quality.buffer] : [])];
    parentPort.postMessage({ id, chunk: packed }, buffers);
  } catch (e) {
    parentPort.postMessage({ id, error: { message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined } });
  }
});
