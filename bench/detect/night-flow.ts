/**
 * Measures the night-flow detector on the incipient leak, and every detector of the registry
 * (analytics/detectors/index.ts) on event-free weeks, and returns the figures (the names the detection
 * benchmark uses). Not a test: it simulates several weeks of the demo town and runs for a few minutes.
 *
 *   npm run bench -- detect:night-flow
 *
 * - detect.leak_nights_max: over the incipient-leak scenarios, nights from the first night the leak
 *   is ≥ 10 % of the DMA's night flow (the leak grows linearly to its full size; night flow = the
 *   reference MNF the alarm reports) to the night the new_leak alarm is raised, counted as the test
 *   does (the 10 % night is night 1); 99 when a leak is missed.
 * - detect.false_alarms_per_dma_4w: the quiet week (seeds 1 and 2) after 14 days of warm-up, fed with
 *   the sensors each minute and the customer meters once a day, through ALL detectors as the worker
 *   runs them (sensor health first); every raise of any type in the week counts, per DMA per 4 weeks.
 */
import { Simulation } from '../../simulators/engine.ts';
import { readScenarioFile } from '../../simulators/scenarios/load.ts';
import { Topology } from '../../core/topology/topology.ts';
import type { Point } from '../../core/model/reading.ts';
import type { Condition } from '../../analytics/types.ts';
import { createDetectors } from '../../analytics/detectors/index.ts';
import { raises, runScenario, toReading } from '../../test/support/sim-drive.ts';
import { runStep } from '../../analytics/step.ts';
import { NightFlowDetector } from '../../analytics/detectors/night-flow/index.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const SUITE = new URL('../../simulators/scenarios/suite/', import.meta.url).pathname;
const START = Date.parse('2024-05-06T00:00:00+08:00'); // the suite's scenarios start then

export interface LeakMeasure { scenario: string; dma: string; raised: boolean; nightsFromTenPercent?: number; nightsFromStart?: number; riseM3h?: unknown; otherDmas: string[] }

/** Nights from the leak reaching 10 % of night flow to the alarm, on one incipient-leak scenario. */
export async function measureLeak(file = 'incipient-leak.yaml'): Promise<LeakMeasure> {
  const run = await runScenario({ scenario: file, detectors: (ctx) => [new NightFlowDetector(ctx)] });
  const leak = run.groundTruth.find((t) => t.type === 'leak');
  if (!leak || leak.magnitude === undefined) throw new Error(`${file}: no leak with a magnitude in the ground truth`);
  const all = raises(run.conditions, 'new_leak');
  const hit = all.find((c) => c.dma === leak.dma && c.ts >= leak.start);
  const otherDmas = all.filter((c) => c !== hit).map((c) => `${c.dma} ${new Date(c.ts).toISOString()}`);
  if (!hit) return { scenario: file, dma: leak.dma!, raised: false, otherDmas };
  const fullFrom = leak.expect.fullSizeFrom as number;
  const sizeAt = (ts: number) => leak.magnitude! * Math.min(1, Math.max(0, (ts - leak.start) / (fullFrom - leak.start)));
  const reference = hit.evidence!.referenceM3h as number;
  // night n is judged on its 02:00–04:00 window; 03:00 local stands for it
  const nightAt = (n: number) => run.start + 3 * HOUR + n * DAY;
  const nights = Math.ceil((run.end - run.start) / DAY) + 1;
  const first = (pred: (ts: number) => boolean) => Array.from({ length: nights }, (_, n) => n).find((n) => pred(nightAt(n)));
  const raisedNight = first((ts) => ts + HOUR >= hit.ts)!;
  const tenPercentNight = first((ts) => sizeAt(ts) >= 0.1 * reference)!;
  const leakNight = first((ts) => ts >= leak.start)!;
  return {
    scenario: file, dma: leak.dma!, raised: true, nightsFromTenPercent: raisedNight - tenPercentNight + 1,
    nightsFromStart: raisedNight - leakNight + 1, riseM3h: hit.evidence!.riseM3h, otherDmas,
  };
}

export interface QuietMeasure { scenario: string; seed: number; dmas: number; days: number; raises: Condition[] }

/** Every raise of every detector in an event-free scenario after `warmDays` of warm-up. */
export async function measureQuiet(file = 'quiet-week.yaml', seed?: number, warmDays = 14): Promise<QuietMeasure> {
  const parsed = readScenarioFile(`${SUITE}${file}`);
  if (parsed.scenario.events?.length) throw new Error(`${file}: not event-free (${parsed.scenario.events.length} events)`);
  const sim = new Simulation({ scenario: parsed, seed, from: START - warmDays * DAY });
  const topology = new Topology(sim.topology());
  const { all } = createDetectors({ topology, timezone: sim.scenario.timezone });
  const conditions: Condition[] = [];
  let meterDay = NaN;
  let end = NaN;
  try {
    for await (const step of sim.steps()) {
      end = step.ts;
      const batch: Point[] = step.samples.map((s) => toReading(topology, s.sensor, s.ts, s.value, s.quality));
      // the PDA rounds read each customer meter once a day
      const day = Math.floor(step.ts / DAY);
      if (step.meters.length && day !== meterDay) {
        meterDay = day;
        for (const m of step.meters) batch.push(toReading(topology, m.meter, m.ts, m.reading, 'good'));
      }
      batch.sort((a, b) => a.ts - b.ts || (a.sensor < b.sensor ? -1 : a.sensor > b.sensor ? 1 : 0));
      // the worker's own step: every detector sees the batch, then the watermark (sensor health first)
      const r = runStep(all, batch, step.ts + 60_000);
      if (r.failures.length) throw new Error(`${file}: detector ${r.failures[0].detector} failed: ${String(r.failures[0].error)}`);
      conditions.push(...r.conditions);
    }
  } finally {
    sim.close();
  }
  return {
    scenario: file, seed: sim.scenario.seed, dmas: topology.dmas.size, days: (end + 60_000 - START) / DAY,
    raises: conditions.filter((c) => c.state === 'raise' && c.ts >= START),
  };
}

function count(xs: string[]): Record<string, number> {
  const o: Record<string, number> = {};
  for (const x of xs) o[x] = (o[x] ?? 0) + 1;
  return o;
}

/** Nights to a new leak's alarm, and false alarms of every detector on the quiet week (seeds 1 and 2). */
export async function measureLeaksAndQuiet(log: (line: string) => void): Promise<Record<string, number>> {
  const print = (o: Record<string, unknown>) => log(JSON.stringify(o));
  const leaks = [await measureLeak('incipient-leak.yaml')];
  for (const l of leaks) print({ ...l });
  const missed = leaks.filter((l) => !l.raised).length;
  const leakNightsMax = missed ? 99 : Math.max(...leaks.map((l) => l.nightsFromTenPercent!));
  print({ leaksMissed: missed });

  let raised = 0;
  let dmaDays = 0;
  for (const seed of [1, 2]) {
    const q = await measureQuiet('quiet-week.yaml', seed);
    raised += q.raises.length;
    dmaDays += q.dmas * q.days;
    print({
      scenario: `${q.scenario} seed ${q.seed} (14 d warm-up)`, days: q.days, raisesByType: count(q.raises.map((c) => c.type)),
      raises: q.raises.map((c) => `${new Date(c.ts).toISOString()} ${c.id}`),
    });
  }
  print({ raises: raised, dmaDays });
  return { 'detect.leak_nights_max': leakNightsMax, 'detect.false_alarms_per_dma_4w': (raised / dmaDays) * 28 };
}
