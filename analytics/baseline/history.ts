/**
 * Reading stored history back as the readings detectors see live, for warm-ups: a restart replays
 * the last hours through the detector (silently) so on-delays, change detectors and incidents in
 * progress are where they were.
 */
import type { Topology } from '../../core/topology/topology.ts';
import type { TimeSeriesStore } from '../../core/tsdb/types.ts';
import type { Point } from '../../core/model/reading.ts';

/** Raw readings of `sensors` (grouped by measurement = kind) in [from, to), in time order. */
export async function readRawHistory(
  store: TimeSeriesStore, topology: Topology, sensors: readonly string[], from: number, to: number,
): Promise<Point[]> {
  if (to <= from || sensors.length === 0) return [];
  const byKind = new Map<string, string[]>();
  for (const id of sensors) {
    const s = topology.sensors.get(id);
    if (!s) continue;
    const list = byKind.get(s.kind) ?? [];
    list.push(id);
    byKind.set(s.kind, list);
  }
  const out: Point[] = [];
  for (const [kind, ids] of byKind) {
    const result = await store.query({ measurement: kind, sensors: ids, from, to });
    for (const [id, values] of result) {
      const s = topology.sensors.get(id)!;
      for (const v of values) out.push({ measurement: kind, sensor: id, ts: v.ts, value: v.value, quality: v.quality ?? 'good', site: s.site, dma: s.dma });
    }
  }
  // stable order: by time, then sensor id, as a live batch would come
  out.sort((a, b) => a.ts - b.ts || (a.sensor < b.sensor ? -1 : a.sensor > b.sensor ? 1 : 0));
  return out;
}

/** Feed `raw` (in time order) to `onReadings` one timestamp at a time, as live batches come. */
export function replayByTimestamp(raw: readonly Point[], onReadings: (batch: Point[]) => unknown): void {
  for (let i = 0; i < raw.length;) {
    let j = i;
    while (j < raw.length && raw[j].ts === raw[i].ts) j++;
    onReadings(raw.slice(i, j));
    i = j;
  }
}
