/**
 * Fingerprint of what analytics makes of the scenario suite: every condition, alarm transition and
 * derived point of the suite's scenarios (the first 3 days of each; the demo's `now` fixed), driven through the real worker (its step function) and
 * alarm manager with every detector of the registry, at the worker's 60-s step and at 1-h steps.
 * A refactor of the detectors, the step function or the alarm manager must leave every hash as it
 * was: run it before and after and compare (`npx tsx bench/detect/fingerprint.ts [--json]`).
 */
import { createHash, type Hash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import type { Point } from '../../core/model/reading.ts';
import { CUSTOMER_SITE, Topology } from '../../core/topology/topology.ts';
import { AlarmStore } from '../../core/state/alarm-store.ts';
import { Simulation } from '../../simulators/engine.ts';
import { AlarmManager, type AlarmTransition } from '../../analytics/alarms/manager.ts';
import { createDetectors } from '../../analytics/detectors/index.ts';
import { AnalyticsWorker } from '../../analytics/worker.ts';
import type { Condition } from '../../analytics/types.ts';
import type { PlannedOutageLookup } from '../../analytics/outages/register.ts';

export const SUITE_DIR = new URL('../../simulators/scenarios/suite/', import.meta.url).pathname;
/** The instant a scenario starting at `now-…` (the demo) counts from: fixed, so its hash is too. */
const FIXED_NOW = Date.parse('2024-05-13T00:00:00+08:00');

export interface Fingerprint {
  conditions: number;
  transitions: number;
  derived: number;
  /** sha256 over every condition, transition (without its wall time) and derived point, in order. */
  hash: string;
}

/** Stable JSON: keys sorted, so the hash depends on values only. */
function stable(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'undefined';
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${stable(o[k])}`).join(',')}}`;
}

export interface DriveOptions {
  stepMs: number;
  /** Days from the scenario's start (or from `from`) to run; at most to the scenario's end. */
  days: number;
  /** Start earlier than the file (a quiet lead-in that warms the baselines); event times stay where the file puts them. */
  from?: number;
  /** The planned-outage register the detectors consult (the outage detector, the pressure detector's network events). */
  register?: PlannedOutageLookup;
  /** Before the first step, with the alarm manager and its store (e.g. to wire planned-outage suppressions). */
  setup?: (alarms: AlarmManager, alarmStore: AlarmStore) => void;
  /** Customer meter registers too (default true). */
  meters?: boolean;
  onCondition?: (c: Condition) => void;
  onTransition?: (t: AlarmTransition) => void;
  onDerived?: (p: Point) => void;
}

/** One scenario through the worker (every detector of the registry) and the alarm manager, from the simulator's readings (the fingerprint's drive; alarm-rate.ts drives the same way). */
export async function driveScenario(scenario: string, o: DriveOptions): Promise<void> {
  const { start, end } = new Simulation({ scenario, now: FIXED_NOW }).scenario;
  const sim = new Simulation({ scenario, now: FIXED_NOW, from: o.from, to: Math.min(end ?? Infinity, start + o.days * 86_400_000) });
  const topology = new Topology(sim.topology());
  const alarmStore = new AlarmStore(':memory:');
  // wall time fixed: transitions record it, and it must not change the hash
  const alarms = new AlarmManager({ store: alarmStore, now: () => 0 });
  const detectors = createDetectors({ topology, timezone: sim.scenario.timezone, register: o.register });
  const { stepMs } = o;
  const worker = new AnalyticsWorker({ topology, detectors: detectors.all, alarms, timezone: sim.scenario.timezone, allowedLatenessMs: 0, stepMs });
  if (o.onCondition) worker.on('condition', o.onCondition);
  if (o.onTransition) alarms.on('transition', o.onTransition);
  const drain = () => {
    for (const p of worker.drainDerived()) o.onDerived?.(p);
  };
  let last = Number.NaN;
  try {
    o.setup?.(alarms, alarmStore);
    for await (const step of sim.steps()) {
      if (Number.isNaN(last)) worker.startAt(step.ts);
      last = step.ts;
      const points: Point[] = [];
      for (const s of step.samples) {
        const info = topology.sensors.get(s.sensor)!;
        points.push({ measurement: info.kind, sensor: s.sensor, ts: s.ts, value: info.convert(s.value), quality: s.quality, site: info.site, dma: info.dma });
      }
      if (o.meters !== false) for (const m of step.meters) {
        points.push({ measurement: 'meter', sensor: m.meter, ts: m.ts, value: m.reading, quality: 'good', site: CUSTOMER_SITE, dma: topology.meters.get(m.meter)?.dma ?? '' });
      }
      worker.feedPoints(points);
      drain();
    }
    worker.flush(last + stepMs);
    drain();
  } finally {
    sim.close();
    alarmStore.close();
  }
}

/** One scenario's fingerprint. */
export async function fingerprintScenario(scenario: string, stepMs: number, days = 3): Promise<Fingerprint> {
  const parts: Record<'conditions' | 'transitions' | 'derived', Hash> = {
    conditions: createHash('sha256'), transitions: createHash('sha256'), derived: createHash('sha256'),
  };
  const counts = { conditions: 0, transitions: 0, derived: 0 };
  await driveScenario(scenario, {
    stepMs, days,
    onCondition: (c) => { counts.conditions++; parts.conditions.update(stable(c)); },
    onTransition: (t) => {
      counts.transitions++;
      const { wallTs: _wall, ...rest } = t;
      parts.transitions.update(stable(rest));
    },
    onDerived: (p) => { counts.derived++; parts.derived.update(stable(p)); },
  });
  const all = createHash('sha256');
  for (const k of ['conditions', 'transitions', 'derived'] as const) all.update(parts[k].digest('hex'));
  return { ...counts, hash: all.digest('hex').slice(0, 16) };
}

/** Every scenario of the suite at each step (default the worker's 60 s and 1 h), keyed `<file>@<step>`. */
export async function fingerprintSuite(
  stepsMs: readonly number[] = [60_000, 3_600_000], onResult?: (key: string, f: Fingerprint) => void,
): Promise<Record<string, Fingerprint>> {
  const out: Record<string, Fingerprint> = {};
  const only = process.env.FINGERPRINT_ONLY?.split(',');
  const files = readdirSync(SUITE_DIR).filter((f) => f.endsWith('.yaml') && (!only || only.includes(f.replace(/\.yaml$/, '')))).sort();
  for (const stepMs of stepsMs) {
    for (const f of files) {
      const key = `${f.replace(/\.yaml$/, '')}@${stepMs / 60_000}min`;
      out[key] = await fingerprintScenario(`${SUITE_DIR}${f}`, stepMs);
      onResult?.(key, out[key]);
    }
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const json = process.argv.includes('--json');
  // FINGERPRINT_ONLY=burst,demo: only these scenarios. --step MINUTES (repeatable): only these steps; the scenarios take minutes per step size
  const steps = process.argv.flatMap((a, i) => (process.argv[i - 1] === '--step' ? [Number(a) * 60_000] : []));
  const result = await fingerprintSuite(steps.length ? steps : undefined, json ? undefined : (k, f) => console.log(`${k.padEnd(28)} ${f.hash}  conditions ${f.conditions}  transitions ${f.transitions}  derived ${f.derived}`));
  if (json) console.log(JSON.stringify(result, null, 2));
}
