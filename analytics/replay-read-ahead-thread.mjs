// The replay's read-ahead thread (analytics/replay-read-ahead.ts): reads the chunks of a SQLite
// store file on its own connection while the main thread runs the detectors on the previous chunk.
// Plain JavaScript so that it starts without a TypeScript loader (under tsx, vitest and the CLI).
// workerData: { file, sql (RAW_RANGE_SQL), series: [{ measurement, sensor }], qualityCodes, badCode }.
// Message in: { id, from, to }. Reply: { id, columns } with, per series, null when it has no reading
// in [from, to), else { ts: Float64Array, value: Float64Array, quality: Uint8Array | null (all
// good) }, ascending in time; or { id, error: { message, stack } }. The arrays' buffers are
// transferred, not copied.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { file, sql, series, qualityCodes, badCode } = workerData;
const db = new Database(file, { readonly: true, fileMustExist: true });
const range = db.prepare(sql).raw(true);

/** As the store's own read: a code outside the table reads as bad (qualityFromCode). */
const known = (code) => Number.isInteger(code) && code >= 0 && code < qualityCodes;

function readSeries(measurement, sensor, from, to) {
  const [tsJson, valueJson, qualityJson] = range.get(measurement, sensor, from, to);
  const ts = JSON.parse(tsJson);
  const n = ts.length;
  if (n === 0) return null;
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
  const out = { ts: new Float64Array(n), value: new Float64Array(n), quality: null };
  for (let i = 0; i < n; i++) {
    const k = order ? order[i] : i;
    out.ts[i] = ts[k];
    out.value[i] = value[k];
    const code = known(codes[k]) ? codes[k] : badCode;
    if (code !== 0) (out.quality ??= new Uint8Array(n))[i] = code;
  }
  return out;
}

parentPort.on('message', ({ id, from, to }) => {
  try {
    const columns = [];
    const transfer = [];
    for (const s of series) {
      const c = readSeries(s.measurement, s.sensor, from, to);
      columns.push(c);
      if (c) transfer.push(c.ts.buffer, c.value.buffer, ...(c.quality ? [c.quality.buffer] : []));
    }
    parentPort.postMessage({ id, columns }, transfer);
  } catch (e) {
    parentPort.postMessage({ id, error: { message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined } });
  }
});
