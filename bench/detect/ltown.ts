/**
 * The burst figures on L-Town, a real network (BattLeDIM 2020) read from the reference data folder:
 * the burst detector on simulators/scenarios/bench/ltown-burst.yaml (45 and 25 m³/h) and
 * ltown-small-bursts.yaml (15 bursts of about 6.5 % of their DMA's mean inflow), each after a quiet
 * week that warms the baselines, as bench/detect/burst.ts measures the demo town. Without L-Town in
 * the data folder it throws ReferenceDataMissingError (the benchmark says what is missing and where).
 */
import { referenceFile } from '../../core/reference-data.ts';
import { runScenario, score } from '../../test/support/sim-drive.ts';
import { BurstDetector } from '../../analytics/detectors/burst/index.ts';

const DAY = 86_400_000;
const START = Date.parse('2024-05-06T00:00:00+08:00'); // both scenarios start then
const SCENARIOS = ['ltown-burst.yaml', 'ltown-small-bursts.yaml'].map((f) => new URL(`../../simulators/scenarios/bench/${f}`, import.meta.url).pathname);

/** Burst recall, delays and false alarms on L-Town. */
export async function measureLtownBursts(log: (line: string) => void): Promise<Record<string, number>> {
  referenceFile('ltown'); // before minutes of simulation: say at once when it is absent
  const delays: number[] = [];
  let events = 0;
  let falseAlarms = 0;
  let dmaDays = 0;
  for (const scenario of SCENARIOS) {
    const run = await runScenario({ scenario, from: START - 7 * DAY, detectors: (ctx) => [new BurstDetector(ctx)] });
    const s = score(run, 'burst', 'burst', 30 * 60_000, START);
    events += s.found.length + s.missed.length;
    delays.push(...s.found.map((f) => f.delayMin));
    falseAlarms += s.falseAlarms.length;
    dmaDays += ((run.end - START) / DAY) * run.topology.dmas.size;
    log(JSON.stringify({ scenario: scenario.split('/').pop(), found: s.found.length, missed: s.missed.map((m) => m.id), delaysMin: s.found.map((f) => f.delayMin), falseAlarms: s.falseAlarms.length }));
  }
  delays.sort((a, b) => a - b);
  return {
    'detect.ltown_burst_recall': delays.length / events,
    'detect.ltown_burst_delay_median_min': delays[Math.floor(delays.length / 2)] ?? NaN,
    'detect.ltown_burst_false_alarms_per_dma_4w_during_event_runs': (falseAlarms / dmaDays) * 28,
  };
}
