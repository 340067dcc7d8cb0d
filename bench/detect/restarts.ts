/**
 * Restarts give the alarms a run without them gives (`npm run bench -- detect:restarts`).
 *
 * A live server restarts (an upgrade, a crash, the machine rebooted) while the network goes on and
 * ingest keeps storing. Each detector warms up from the store and reconciles the alarms left open
 * (analytics/types.ts), so that what people see is what they would have seen had analytics never
 * stopped. This bench checks that end to end on every scenario of the suite (bursts, leaks, outages,
 * pump trips, lost links, tank drains, water quality, sensor faults, a network event, quiet weeks,
 * the demo): each is driven twice through the real worker, alarm manager (state database on disk)
 * and every detector of the registry, as fingerprint.ts drives it: once without a stop, once with the analytics stopped and
 * started again over the same state database, its readings stored meanwhile in an embedded store
 * the restarted analytics warms up from (DOWNTIMES: minutes to 7 hours, the long one past the burst
 * detector's 6 replayed hours). The two runs' alarms are compared per condition:
 * - missed: an alarm of the run without restarts that no alarm of the restarted run overlaps (one
 *   that began and ended within one downtime is not counted: nobody is told of what is over);
 * - extra: an alarm of the restarted run that overlaps none of the other run's;
 * - split: an alarm of the run without restarts overlapped by two or more of the restarted run's
 *   (the restart cleared it and raised it again: a second notification for one event);
 * - stuck: an alarm still open at the end of the restarted run where the other run's cleared more
 *   than an hour before the end.
 * Targets 0; each mismatch is logged with its times.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Point } from '../../core/model/reading.ts';
import { Topology } from '../../core/topology/topology.ts';
import { AlarmStore, type AlarmRecord } from '../../core/state/alarm-store.ts';
import { SqliteStore } from '../../core/tsdb/sqlite.ts';
import { Simulation } from '../../simulators/engine.ts';
import { AlarmManager } from '../../analytics/alarms/manager.ts';
import { createDetectors } from '../../analytics/detectors/index.ts';
import { AnalyticsWorker } from '../../analytics/worker.ts';
import { SUITE_DIR } from './fingerprint.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** The instant a scenario starting at `now-…` (the demo) counts from (as fingerprint.ts). */
const FIXED_NOW = Date.parse('2024-05-13T00:00:00+08:00');
const LEAD_IN_DAYS = 7;
const DAYS = 3;

/** The suite's scenarios: those with conditions that last across a restart first, then the rest. */
export const RESTART_SCENARIOS = [
  'burst.yaml', 'small-bursts.yaml', 'incipient-leak.yaml', 'pump-trip.yaml', 'planned-outage.yaml',
  'comms-loss.yaml', 'tank-drain.yaml', 'quality-excursion.yaml', 'sensor-faults.yaml',
  'network-event.yaml', 'quiet-week.yaml', 'demo.yaml',
] as const;

/** Downtimes from the scenario's start: [start h, minutes down]. One is longer than 6 h, the burst detector's replay. */
export const DOWNTIMES: readonly (readonly [number, number])[] = [[1, 20], [4, 7 * 60], [14, 45], [21, 5], [30, 120], [47, 30], [60, 10]];

interface Episode { conditionId: string; raisedAt: number; clearedAt?: number }

/**
 * One drive of a scenario; `down` are the event-time intervals [from, to) the analytics is stopped;
 * every sensor read once every `everyMin` minutes (instantaneous samples, the topology still
 * declaring its own intervals, as a utility's coarser export imported into it would be).
 */
async function drive(scenario: string, down: readonly { from: number; to: number }[], everyMin = 1): Promise<{ episodes: Episode[]; end: number; restarts: number }> {
  const probe = new Simulation({ scenario, now: FIXED_NOW });
  const { start, end: fileEnd } = probe.scenario;
  probe.close();
  const sim = new Simulation({ scenario, now: FIXED_NOW, from: start - LEAD_IN_DAYS * DAY, to: Math.min(fileEnd ?? Infinity, start + DAYS * DAY) });
  const topology = new Topology(sim.topology());
  const timezone = sim.scenario.timezone;
  const dir = mkdtempSync(join(tmpdir(), 'aw-bench-restarts-'));
  const store = new SqliteStore(join(dir, 'tsdb.sqlite'));
  await store.init();
  const alarmStore = new AlarmStore(join(dir, 'state.sqlite'));
  const openAlarms = () => alarmStore.openAlarms().filter((a) => a.state.startsWith('active'));
  /** The analytics as a live server starts it: a new alarm manager over the same state database. */
  const startAnalytics = () => {
    const alarms = new AlarmManager({ store: alarmStore, now: () => 0 });
    const detectors = createDetectors({ topology, timezone, openAlarms, memory: alarmStore });
    return new AnalyticsWorker({
      topology, detectors: detectors.all, alarms, timezone, allowedLatenessMs: 0, stepMs: MIN, store, openAlarms, sensorStatus: detectors.health,
    });
  };
  let worker: AnalyticsWorker | undefined = startAnalytics();
  let restarts = 0;
  let last = Number.NaN;
  // what ingest stores (and the derived series the server keeps), written in batches: read only at a
  // restart, so the run without restarts stores nothing
  const storing = down.length > 0;
  const stored: Point[] = [];
  const keep = async (points: readonly Point[], force = false) => {
    if (!storing) return;
    for (const p of points) stored.push(p);
    if (stored.length >= 100_000 || (force && stored.length)) await store.write(stored.splice(0));
  };
  const keepDerived = async (w: AnalyticsWorker) => keep(w.drainDerived());
  try {
    for await (const step of sim.steps()) {
      const points: Point[] = [];
      for (const s of step.samples) {
        if (s.ts % (everyMin * MIN) !== 0) continue;
        const info = topology.sensors.get(s.sensor)!;
        points.push({ measurement: info.kind, sensor: s.sensor, ts: s.ts, value: info.convert(s.value), quality: s.quality, site: info.site, dma: info.dma });
      }
      // what ingest stores, whether the analytics runs or not
      await keep(points);
      if (down.some((d) => step.ts >= d.from && step.ts < d.to)) {
        if (worker) { worker.flush(step.ts); await keepDerived(worker); worker = undefined; }
        continue;
      }
      if (!worker) {
        worker = startAnalytics();
        restarts++;
        await keep([], true);
        await worker.warmUp(step.ts);
      } else if (Number.isNaN(last)) worker.startAt(step.ts);
      last = step.ts;
      worker.feedPoints(points);
      await keepDerived(worker);
    }
    worker?.flush(last + MIN);
    const episodes = alarmStore.listAlarms({}).map((a: AlarmRecord) => ({ conditionId: a.conditionId, raisedAt: a.raisedAt, clearedAt: a.clearedAt }));
    return { episodes, end: last + MIN, restarts };
  } finally {
    sim.close();
    alarmStore.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface RestartComparison { missed: string[]; extra: string[]; split: string[]; stuck: string[]; restarts: number }

const overlaps = (a: Episode, b: Episode, end: number) => a.raisedAt <= (b.clearedAt ?? end) && b.raisedAt <= (a.clearedAt ?? end);
const at = (ms: number | undefined) => (ms === undefined ? 'open' : new Date(ms).toISOString().slice(5, 16).replace('T', ' '));
const show = (e: Episode) => `${e.conditionId} ${at(e.raisedAt)}–${at(e.clearedAt)}`;

/** A scenario with and without the restarts of DOWNTIMES, every sensor read every `everyMin` minutes: the alarms that differ. */
export async function compareAcrossRestarts(scenario: string, everyMin = 1): Promise<RestartComparison> {
  const probe = new Simulation({ scenario, now: FIXED_NOW });
  const { start } = probe.scenario;
  probe.close();
  const down = DOWNTIMES.map(([h, min]) => ({ from: start + h * HOUR, to: start + h * HOUR + min * MIN }));
  const reference = await drive(scenario, [], everyMin);
  const restarted = await drive(scenario, down, everyMin);
  const end = Math.min(reference.end, restarted.end);
  const out: RestartComparison = { missed: [], extra: [], split: [], stuck: [], restarts: restarted.restarts };
  const same = (a: Episode, b: Episode) => a.conditionId === b.conditionId && overlaps(a, b, end);
  for (const f of reference.episodes) {
    const matched = restarted.episodes.filter((r) => same(f, r));
    const withinDowntime = f.clearedAt !== undefined && down.some((d) => f.raisedAt >= d.from && f.clearedAt! < d.to);
    if (!matched.length && !withinDowntime) out.missed.push(show(f));
    if (matched.length > 1) out.split.push(`${show(f)} as ${matched.map((r) => `${at(r.raisedAt)}–${at(r.clearedAt)}`).join(', ')}`);
  }
  for (const r of restarted.episodes) {
    const matched = reference.episodes.filter((f) => same(f, r));
    if (!matched.length) out.extra.push(show(r));
    else if (r.clearedAt === undefined && matched.every((f) => f.clearedAt !== undefined && f.clearedAt < end - HOUR)) {
      out.stuck.push(`${show(r)}; without restarts cleared ${matched.map((f) => at(f.clearedAt)).join(', ')}`);
    }
  }
  return out;
}

/** Every scenario of RESTART_SCENARIOS: the mismatches in all, each logged. */
export async function measureRestarts(log: (line: string) => void): Promise<Record<string, number>> {
  return restartsAt(1, log);
}

/**
 * The same at 15-min samples of every sensor (`npm run bench -- detect:restarts-15min`): the
 * warm-ups must find enough in fewer readings (the burst detector's prediction from its stored net
 * inflow, sensor health's intervals, the quality windows), figures `detect.restart_*_15min`.
 */
export async function measureRestartsAt15Min(log: (line: string) => void): Promise<Record<string, number>> {
  return Object.fromEntries(Object.entries(await restartsAt(15, log)).map(([k, v]) => [`${k}_15min`, v]));
}

async function restartsAt(everyMin: number, log: (line: string) => void): Promise<Record<string, number>> {
  const total = { missed: 0, extra: 0, split: 0, stuck: 0, restarts: 0 };
  for (const f of RESTART_SCENARIOS) {
    const c = await compareAcrossRestarts(`${SUITE_DIR}${f}`, everyMin);
    log(`${f}: ${c.restarts} restarts; missed ${c.missed.length}, extra ${c.extra.length}, split ${c.split.length}, stuck ${c.stuck.length}`);
    for (const kind of ['missed', 'extra', 'split', 'stuck'] as const) {
      for (const line of c[kind]) log(`  ${kind}: ${line}`);
      total[kind] += c[kind].length;
    }
    total.restarts += c.restarts;
  }
  return {
    'detect.restart_missed': total.missed, 'detect.restart_extra': total.extra, 'detect.restart_split': total.split,
    'detect.restart_stuck': total.stuck, 'detect.restart_restarts': total.restarts,
  };
}
