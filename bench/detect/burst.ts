/**
 * Measures the burst, night-flow and pressure detectors on the scenario suite: returns the figures
 * quoted in the READMEs and logs the detail for people. Not a test: it runs for a minute or two.
 *
 *   npm run bench -- detect:burst
 */
import { NightFlowDetector } from '../../analytics/detectors/night-flow/index.ts';
import { PressureDetector } from '../../analytics/detectors/pressure/index.ts';
import { raises, runScenario, score, type ScenarioRun } from '../../test/support/sim-drive.ts';
import { BurstDetector } from '../../analytics/detectors/burst/index.ts';
import type { Point } from '../../core/model/reading.ts';
import type { Detector, DetectorContext } from '../../analytics/types.ts';

const DAY = 86_400_000;
/** Every suite scenario used here starts then. */
export const SUITE_START = Date.parse('2024-05-06T00:00:00+08:00');
const START = SUITE_START;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN;
};

/**
 * The suite's flow and pressure readings as a SCADA logging every `intervalMin` minutes would keep
 * them: the instantaneous sample at each multiple of the interval (no averaging, so each value is as
 * noisy as a 1-min one); other kinds pass unchanged. The topology still declares 60 s, so the
 * detectors must infer the interval from the readings, as they must with a utility's import.
 */
export function resampleFlowAndPressure(intervalMin: number): ((batch: Point[]) => Point[]) | undefined {
  if (intervalMin === 1) return undefined;
  const every = intervalMin * 60_000;
  return (batch) => batch.filter((p) => (p.measurement !== 'flow' && p.measurement !== 'pressure') || p.ts % every === 0);
}

/** A run of measureBurstsAt with the pressure readings the detectors saw (for measurements of the evidence itself). */
export interface ObservedRun {
  scenario: string;
  run: ScenarioRun;
  timezone: string;
  pressures: Point[];
}
export type RunObserver = (o: ObservedRun) => void;

/** The detectors of a run, and the run's time zone (from their context) for an observer. */
function withTimezone(detectors: (ctx: DetectorContext) => Detector[]) {
  const seen = { timezone: 'UTC' };
  return { seen, detectors: (ctx: DetectorContext) => { seen.timezone = ctx.timezone; return detectors(ctx); } };
}

/** The resampling of `intervalMin`, keeping the pressure readings it lets through for `observe`. */
function sampling(intervalMin: number, observe: RunObserver | undefined): { transform?: (batch: Point[]) => Point[]; pressures: Point[] } {
  const resample = resampleFlowAndPressure(intervalMin);
  const pressures: Point[] = [];
  if (!observe) return { transform: resample, pressures };
  return {
    pressures,
    transform: (batch) => {
      const kept = resample ? resample(batch) : batch;
      for (const p of kept) if (p.measurement === 'pressure') pressures.push(p);
      return kept;
    },
  };
}

/** A burst scenario (suite name or path) after a quiet week, at `intervalMin`, scored by the suite's rule. */
export async function bursts(file: string, intervalMin: number, observe?: RunObserver) {
  const { transform, pressures } = sampling(intervalMin, observe);
  // a quiet week before the start warms the baselines (event times stay where the file puts them)
  const { seen, detectors } = withTimezone((ctx) => [new BurstDetector(ctx)]);
  const run = await runScenario({ scenario: file, from: START - 7 * DAY, detectors, transform });
  observe?.({ scenario: file, run, timezone: seen.timezone, pressures });
  const s = score(run, 'burst', 'burst', 30 * 60_000, START);
  const days = (run.end - START) / DAY;
  return { run, s, days };
}

/** Burst recall and delay on the burst scenarios, and burst false alarms on the quiet week (1-min data). */
export async function measureBursts(log: (line: string) => void): Promise<Record<string, number>> {
  const figures = await measureBurstsAt(1, log);
  await measureIncipientLeak(log);
  return figures;
}

/**
 * Burst recall and delays on burst.yaml and small-bursts.yaml, false alarms during those runs and on
 * the quiet week, with flows and pressures sampled every `intervalMin` minutes. Figure names carry
 * the interval unless it is 1 min (`detect.burst_recall_5min`). `observe` sees each run with the
 * pressure readings it was given.
 */
export async function measureBurstsAt(intervalMin: number, log: (line: string) => void, observe?: RunObserver): Promise<Record<string, number>> {
  const print = (o: Record<string, unknown>) => log(JSON.stringify(intervalMin === 1 ? o : { intervalMin, ...o }));
  const suffix = intervalMin === 1 ? '' : `_${intervalMin}min`;
  const figures: Record<string, number> = {};
  const all: { delay: number }[] = [];
  let events = 0;
  let falseAlarms = 0;
  let dmaDays = 0;
  for (const file of ['burst.yaml', 'small-bursts.yaml']) {
    const { run, s, days } = await bursts(file, intervalMin, observe);
    events += s.found.length + s.missed.length;
    all.push(...s.found.map((f) => ({ delay: f.delayMin })));
    falseAlarms += s.falseAlarms.length;
    dmaDays += days * run.topology.dmas.size;
    print({
      scenario: file, found: s.found.length, missed: s.missed.map((m) => m.id), delaysMin: s.found.map((f) => f.delayMin),
      hintRight: s.found.filter((f) => f.condition.evidence?.locationHint === f.truth.expect.nearestSensor).length,
      falseAlarms: s.falseAlarms.length, falseAlarmsByDma: count(s.falseAlarms.map((c) => c.dma ?? '')),
      // the simulator steps each DMA's demand level at local midnight (a new day's level), which the step test takes for a burst
      falseAlarmsStartingAtLocalMidnight: s.falseAlarms.filter(atLocalMidnight).length,
    });
  }
  figures[`detect.burst_recall${suffix}`] = all.length / events;
  figures[`detect.burst_delay_median${suffix}_min`] = pct(all.map((a) => a.delay), 0.5);
  figures[`detect.burst_delay_p95${suffix}_min`] = pct(all.map((a) => a.delay), 0.95);
  print({ 'burst.false_alarms_per_dma_4w_during_event_runs': (falseAlarms / dmaDays) * 28 });

  // event-free: quiet-week after two weeks of warm-up
  {
    const { transform, pressures } = sampling(intervalMin, observe);
    const { seen, detectors } = withTimezone((ctx) => {
      const b = new BurstDetector(ctx);
      return [b, new NightFlowDetector(ctx), new PressureDetector(ctx, { bursts: b })];
    });
    const run = await runScenario({ scenario: 'quiet-week.yaml', from: START - 14 * DAY, transform, detectors });
    observe?.({ scenario: 'quiet-week.yaml', run, timezone: seen.timezone, pressures });
    const after = run.conditions.filter((c) => c.ts >= START && c.state === 'raise');
    const dmaWeeks = run.topology.dmas.size;
    const byType = count(after.map((c) => c.type));
    // burst alarms only: the night-flow measurement counts every type (detect.false_alarms_per_dma_4w)
    figures[`detect.burst_false_alarms_per_dma_4w${suffix}`] = ((byType.burst ?? 0) / dmaWeeks) * 4;
    print({ scenario: 'quiet-week.yaml (14 d warm-up)', raisesByType: byType, burstByDma: count(after.filter((c) => c.type === 'burst').map((c) => c.dma ?? '')), 'new_leak_per_dma_4w': ((byType.new_leak ?? 0) / dmaWeeks) * 4 });
  }
  return figures;
}

async function measureIncipientLeak(log: (line: string) => void): Promise<void> {
  const print = (o: Record<string, unknown>) => log(JSON.stringify(o));
  {
    const run = await runScenario({ scenario: 'incipient-leak.yaml', detectors: (ctx) => [new NightFlowDetector(ctx)] });
    const leak = run.groundTruth.find((t) => t.type === 'leak')!;
    const r = raises(run.conditions, 'new_leak');
    const night = (ts: number) => Math.floor((ts - START - 3 * 3_600_000) / DAY); // night index, 03:00 local
    const west = r.find((c) => c.dma === leak.dma);
    const full = leak.expect.fullSizeFrom as number;
    print({
      scenario: 'incipient-leak.yaml', raised: r.map((c) => c.dma),
      nightsSinceLeakStart: west ? night(west.ts) - night(leak.start) : null,
      nightsSinceFullSize: west ? night(west.ts) - night(full) : null, riseM3h: west?.evidence?.riseM3h,
    });
  }
}

function atLocalMidnight(c: { evidence?: Record<string, unknown> }): boolean {
  const start = c.evidence?.estimatedStart;
  return typeof start === 'number' && (((start - START) % DAY) + DAY) % DAY < 3 * 60_000;
}

function count(xs: string[]): Record<string, number> {
  const o: Record<string, number> = {};
  for (const x of xs) o[x] = (o[x] ?? 0) + 1;
  return o;
}
