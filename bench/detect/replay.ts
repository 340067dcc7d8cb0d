/**
 * Replay throughput through ALL detectors (createDetectors: sensor health, burst, pressure, night
 * flow, outage, quality, meters) on the demo town at 1-min samples: `aquawatch analyze`'s path.
 *
 * History: the quiet-week scenario simulated for `days` days into an embedded SQLite store (sensors
 * every minute, customer meters once a day as the PDA rounds read them). The first day warms the
 * detectors; the rest is replayed. Two figures:
 * - end to end (detect.replay_readings_per_s): replay() from the store, as `aquawatch analyze` runs it:
 *   warm-up queries, chunked store reads, the worker and every detector, the alarm manager with its
 *   SQLite alarm store, and the derived series written back;
 * - detectors only: the same readings read from the store beforehand, then timed through the worker
 *   (feedPoints + flush per 6-h chunk) with the alarm manager; no store reads or writes.
 *
 *   node --import tsx bench/detect/replay.ts [--days 8] [--runs 3] [--keep DIR (reuse the history there)]
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Point } from '../../core/model/reading.ts';
import { Topology } from '../../core/topology/topology.ts';
import { SqliteStore } from '../../core/tsdb/sqlite.ts';
import { AlarmStore } from '../../core/state/alarm-store.ts';
import { Simulation } from '../../simulators/engine.ts';
import { AlarmManager } from '../../analytics/alarms/manager.ts';
import { AnalyticsWorker } from '../../analytics/worker.ts';
import { createDetectors } from '../../analytics/detectors/index.ts';
import { mergeByTime, replay } from '../../analytics/replay.ts';

const DAY = 86_400_000;
const CHUNK = 6 * 3_600_000;
const SCENARIO = new URL('../../simulators/scenarios/suite/quiet-week.yaml', import.meta.url).pathname;

export interface SimulatedHistory {
  dir: string;
  store: SqliteStore;
  topology: Topology;
  timezone: string;
  /** Replay range: the day after the first to the end. */
  from: number;
  to: number;
  stored: number;
  close(): Promise<void>;
}

/**
 * `days` of the quiet week of the demo town in a SQLite store in a temp dir. With `keepDir` (profiling),
 * the store there is reused when it exists and kept afterwards.
 */
export async function simulatedHistory(days = 8, keepDir?: string): Promise<SimulatedHistory> {
  const dir = keepDir ?? mkdtempSync(join(tmpdir(), 'aw-bench-replay-'));
  const file = join(dir, `tsdb-${days}d.sqlite`);
  const reuse = keepDir !== undefined && existsSync(file);
  const store = new SqliteStore(file);
  await store.init();
  const start = Date.parse('2024-05-06T00:00:00+08:00');
  const sim = new Simulation({ scenario: SCENARIO, from: start - DAY, to: start - DAY + days * DAY });
  const topology = new Topology(sim.topology());
  const close = async () => { await store.close(); if (!keepDir) rmSync(dir, { recursive: true, force: true }); };
  if (reuse) {
    sim.close();
    return { dir, store, topology, timezone: sim.scenario.timezone, from: start, to: start - DAY + days * DAY, stored: NaN, close };
  }
  let stored = 0;
  let buffer: Point[] = [];
  let lastMeterDay = NaN;
  const point = (sensor: string, ts: number, value: number, quality: Point['quality']): Point => {
    const info = topology.sensors.get(sensor)!;
    return { measurement: info.kind, sensor, ts, value: info.convert(value), quality, site: info.site, dma: info.dma };
  };
  let first = NaN;
  let last = NaN;
  try {
    for await (const step of sim.steps()) {
      if (Number.isNaN(first)) first = step.ts;
      last = step.ts;
      for (const s of step.samples) buffer.push(point(s.sensor, s.ts, s.value, s.quality));
      const day = Math.floor(step.ts / DAY);
      if (step.meters.length && day !== lastMeterDay) {
        lastMeterDay = day;
        for (const m of step.meters) buffer.push(point(m.meter, m.ts, m.reading, 'good'));
      }
      if (buffer.length >= 50_000) { await store.write(buffer); stored += buffer.length; buffer = []; }
    }
    await store.write(buffer); stored += buffer.length;
  } finally {
    sim.close();
  }
  if (first !== start - DAY || last + 60_000 !== start - DAY + days * DAY) throw new Error(`simulated ${new Date(first).toISOString()} to ${new Date(last).toISOString()}, not the days asked for`);
  return { dir, store, topology, timezone: sim.scenario.timezone, from: start, to: last + 60_000, stored, close };
}

export interface ReplayThroughput {
  readings: number;
  endToEndPerS: number;
  endToEndWallMs: number;
  /** Readings per second of this process's CPU time (user + system): steadier on a shared machine. */
  endToEndPerCpuS: number;
  warmUpMs: number;
  detectorsOnlyPerS: number;
  detectorsOnlyWallMs: number;
  detectorsOnlyPerCpuS: number;
  storeReadMs: number;
  alarmsRaised: number;
  detectorErrors: number;
  heapUsedMb: number;
  /** Heap the detectors (and the worker's alarm manager) hold after the replay, after a full GC. */
  retainedMb: number;
  sensors: number;
}

/** A full garbage collection, without starting node with --expose-gc. */
function fullGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** One measurement: a fresh detector set and alarm store for each of the two timings. */
export async function measureReplayThroughput(h: SimulatedHistory): Promise<ReplayThroughput> {
  const alarmsFor = () => {
    const alarmStore = new AlarmStore(':memory:');
    return { alarmStore, alarms: new AlarmManager({ store: alarmStore }) };
  };

  // end to end, as `aquawatch analyze` runs it (derived series are written back, then removed by
  // the next run's overwrite: same keys)
  const gc = fullGc();
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const e2e = alarmsFor();
  const detectors = createDetectors({ topology: h.topology, timezone: h.timezone }).all;
  const c0 = process.cpuUsage();
  const summary = await replay({ store: h.store, topology: h.topology, detectors, alarms: e2e.alarms, from: h.from, to: h.to, timezone: h.timezone });
  const e2eCpuS = cpuSeconds(process.cpuUsage(c0));
  gc();
  // what the detectors keep between readings: bounded per sensor, whatever the length of the replay
  const retainedMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
  if (detectors.length === 0) throw new Error('no detectors'); // (keeps them alive up to here)
  e2e.alarmStore.close();

  // detectors only: read the chunks first
  const groups = new Map<string, { measurement: string; sensors: string[] }>();
  for (const s of h.topology.sensors.values()) {
    if (s.source?.type === 'derived') continue;
    const key = `${s.dma}\u0000${s.kind}`;
    if (!groups.has(key)) groups.set(key, { measurement: s.kind, sensors: [] });
    groups.get(key)!.sensors.push(s.id);
  }
  const t0 = performance.now();
  const chunks: { end: number; points: Point[] }[] = [];
  let readings = 0;
  for (let t = h.from; t < h.to; t += CHUNK) {
    const end = Math.min(t + CHUNK, h.to);
    const series: Parameters<typeof mergeByTime>[0] = [];
    for (const g of groups.values()) {
      const found = await h.store.query({ measurement: g.measurement, sensors: g.sensors, from: t, to: end });
      for (const [sensor, values] of found) if (values.length) series.push({ measurement: g.measurement, sensor, values });
    }
    const points = mergeByTime(series, h.topology);
    readings += points.length;
    chunks.push({ end, points });
  }
  const storeReadMs = performance.now() - t0;
  const only = alarmsFor();
  const worker = new AnalyticsWorker({
    topology: h.topology, store: h.store, detectors: createDetectors({ topology: h.topology, timezone: h.timezone }).all,
    alarms: only.alarms, timezone: h.timezone, allowedLatenessMs: 0,
  });
  const w0 = performance.now();
  await worker.warmUp(h.from);
  const warmUpMs = performance.now() - w0;
  const t1 = performance.now();
  const c1 = process.cpuUsage();
  for (const c of chunks) {
    worker.feedPoints(c.points);
    worker.flush(c.end);
    worker.drainDerived();
  }
  const detectorsOnlyWallMs = performance.now() - t1;
  const onlyCpuS = cpuSeconds(process.cpuUsage(c1));
  only.alarmStore.close();
  if (readings !== summary.readings) throw new Error(`replay read ${summary.readings} readings, the direct read ${readings}`);
  return {
    readings, endToEndPerS: summary.readings / (summary.wallMs / 1000), endToEndWallMs: summary.wallMs, endToEndPerCpuS: summary.readings / e2eCpuS, warmUpMs,
    detectorsOnlyPerS: readings / (detectorsOnlyWallMs / 1000), detectorsOnlyWallMs, detectorsOnlyPerCpuS: readings / onlyCpuS, storeReadMs,
    alarmsRaised: summary.alarmsRaised, detectorErrors: summary.worker.detectorErrors + worker.stats.detectorErrors,
    heapUsedMb: process.memoryUsage().heapUsed / 2 ** 20, retainedMb, sensors: h.topology.sensors.size,
  };
}

const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;

async function main(): Promise<void> {
  const arg = (name: string, dflt: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : dflt;
  };
  const t0 = performance.now();
  const keep = process.argv.indexOf('--keep');
  const h = await simulatedHistory(arg('days', 8), keep > 0 ? process.argv[keep + 1] : undefined);
  console.error(`history: ${h.stored} readings simulated and stored in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  try {
    for (let k = 0; k < arg('runs', 1); k++) {
      const r = await measureReplayThroughput(h);
      console.log(JSON.stringify(r));
    }
  } finally {
    await h.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e: unknown) => { console.error(e); process.exit(1); });
}
