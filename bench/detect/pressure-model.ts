/**
 * The pressure-model detector (analytics/detectors/pressure-model) on the leaks of
 * simulators/scenarios/bench/pressure-leaks.yaml (five 4 m³/h leaks, one per DMA of the demo town,
 * after two quiet learning days): per leak whether `leak_candidate` was raised in its DMA while it
 * ran, the delay, and the rank of the leak's nearest logger (by pipe, from the ground truth) in the
 * alarm's ranking; every other raise is a false alarm.
 *
 *   npm run bench -- detect:pressure-model
 */
import { PressureModelDetector, type RankedSensor } from '../../analytics/detectors/pressure-model/index.ts';
import { raises, runScenario } from '../../test/support/sim-drive.ts';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const SCENARIO = new URL('../../simulators/scenarios/bench/pressure-leaks.yaml', import.meta.url).pathname;

export async function measurePressureModel(log: (line: string) => void): Promise<Record<string, number>> {
  const run = await runScenario({ scenario: SCENARIO, detectors: (ctx) => [new PressureModelDetector(ctx)] });
  const candidates = raises(run.conditions, 'leak_candidate');
  const used = new Set<object>();
  let found = 0;
  const delaysH: number[] = [];
  const ranks: number[] = [];
  for (const g of run.groundTruth) {
    const hit = candidates.find((c) => c.dma === g.dma && c.ts >= g.start && c.ts <= (g.end ?? Infinity) && !used.has(c));
    if (!hit) { log(`${g.id}: missed`); continue; }
    used.add(hit);
    found++;
    delaysH.push((hit.ts - g.start) / HOUR);
    const ranked = hit.evidence!.ranked as RankedSensor[];
    const rank = ranked.findIndex((r) => r.sensor === g.expect.nearestSensor) + 1;
    ranks.push(rank || Infinity);
    log(`${g.id}: found after ${((hit.ts - g.start) / HOUR).toFixed(2)} h; nearest logger ${String(g.expect.nearestSensor)} ranked ${rank || 'not in the top'} `
      + `(${ranked.map((r) => `${r.sensor} ${(r.residualMPa * 1000).toFixed(1)} kPa z=${r.z}`).join(', ')})`);
  }
  const falseAlarms = candidates.filter((c) => !used.has(c));
  for (const c of falseAlarms) log(`false: ${c.id} at ${new Date(c.ts).toISOString()} ${JSON.stringify(c.evidence!.ranked)}`);
  const dmaDays = ((run.end - run.start) / DAY - 2) * run.topology.dmas.size; // after the two learning days
  const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN; };
  return {
    'detect.pressure_model_found': found,
    'detect.pressure_model_leaks': run.groundTruth.length,
    'detect.pressure_model_false': falseAlarms.length,
    'detect.pressure_model_false_per_dma_4w': (falseAlarms.length / dmaDays) * 28,
    'detect.pressure_model_delay_median_h': median(delaysH),
    'detect.pressure_model_nearest_rank1_share': ranks.length ? ranks.filter((r) => r === 1).length / ranks.length : 0,
  };
}
