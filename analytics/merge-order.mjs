// The order in which a replay chunk's readings go to the worker: by time, then by series, the
// series being ranked by sensor id (the worker's step order, so it need not sort). Plain JavaScript
// so that the replay's read-ahead thread (replay-read-ahead-thread.mjs) runs the same merge as the
// main thread (analytics/replay.ts); types in merge-order.d.mts.

/** Series a goes before series b: the earlier next reading, then the smaller index (the sensor order). */
function before(headTs, a, b) {
  const ta = headTs[a];
  const tb = headTs[b];
  return ta < tb || (ta === tb && a < b);
}

function siftDown(heap, size, headTs, i) {
  for (;;) {
    const l = 2 * i + 1;
    if (l >= size) return;
    const c = l + 1 < size && before(headTs, heap[l + 1], heap[l]) ? l + 1 : l;
    if (!before(headTs, heap[c], heap[i])) return;
    const t = heap[c]; heap[c] = heap[i]; heap[i] = t;
    i = c;
  }
}

/**
 * Series j's readings are at [offsets[j], offsets[j + 1]) of `ts`, ascending in time. Returns, in
 * merged order, each reading's position in `ts` and its series: a k-way merge on a binary heap of
 * series, compared without closures (the replay's hot path).
 */
export function mergeOrder(ts, offsets) {
  const k = offsets.length - 1;
  const total = k > 0 ? offsets[k] - offsets[0] : 0;
  const order = new Int32Array(total);
  const seriesOf = new Int32Array(total);
  const next = new Int32Array(k); // cursor per series
  const headTs = new Float64Array(k); // the time of each series' next reading
  const heap = new Int32Array(k); // series indices; the smaller (time, index) on top
  let size = 0;
  for (let j = 0; j < k; j++) {
    next[j] = offsets[j];
    if (offsets[j + 1] > offsets[j]) {
      headTs[j] = ts[offsets[j]];
      heap[size++] = j;
    }
  }
  for (let i = (size >> 1) - 1; i >= 0; i--) siftDown(heap, size, headTs, i);
  let n = 0;
  while (size) {
    const j = heap[0];
    const at = next[j]++;
    order[n] = at;
    seriesOf[n++] = j;
    if (at + 1 === offsets[j + 1]) heap[0] = heap[--size];
    else headTs[j] = ts[at + 1];
    if (size) siftDown(heap, size, headTs, 0);
  }
  return { order, seriesOf };
}
