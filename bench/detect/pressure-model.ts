/**
 * The pressure-model detector (analytics/detectors/pressure-model) on leaks of 4 m³/h, one per DMA
 * of the demo town: per leak whether `leak_candidate` was raised in its DMA while it ran, the delay,
 * and the rank of the leak's nearest logger (by pipe, from the ground truth) in the alarm's ranking;
 * every other raise is a false alarm.
 * - simulators/scenarios/bench/pressure-leaks-long.yaml (`detect.pressure_model_*`): a quiet week
 *   learned on, then leaks of 3 days, at the detector's defaults;
 * - simulators/scenarios/bench/pressure-leaks.yaml (`detect.pressure_model_12h_*`), the harder case
 *   kept from before: two quiet days only (learnDays 2), leaks of 12 hours.
 *
 *   npm run bench -- detect:pressure-model
 */
import { PressureModelDetector, type PressureModelOptions, type RankedSensor } from '../../analytics/detectors/pressure-model/index.ts';
import { raises, runScenario } from '../../test/support/sim-drive.ts';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const scenario = (name: string) => new URL(`../../simulators/scenarios/bench/${name}`, import.meta.url).pathname;

async function measure(file: string, prefix: string, options: PressureModelOptions, log: (line: string) => void): Promise<Record<string, number>> {
  const learnDays = options.learnDays ?? 7;
  const run = await runScenario({ scenario: scenario(file), detectors: (ctx) => [new PressureModelDetector(ctx, options)] });
  const candidates = raises(run.conditions, 'leak_candidate');
  const used = new Set<object>();
  let found = 0;
  const delaysH: number[] = [];
  const ranks: number[] = [];
  log(`${file} (learnDays ${learnDays})`);
  for (const g of run.groundTruth) {
    const hits = candidates.filter((c) => c.dma === g.dma && c.ts >= g.start && c.ts <= (g.end ?? Infinity));
    for (const c of hits) used.add(c); // further raises in the leak's DMA while it runs are repeats
    const hit = hits[0];
    if (!hit) { log(`${g.id}: missed`); continue; }
    found++;
    delaysH.push((hit.ts - g.start) / HOUR);
    const ranked = hit.evidence!.ranked as RankedSensor[];
    const rank = ranked.findIndex((r) => r.sensor === g.expect.nearestSensor) + 1;
    ranks.push(rank || Infinity);
    log(`${g.id}: found after ${((hit.ts - g.start) / HOUR).toFixed(2)} h; nearest logger ${String(g.expect.nearestSensor)} ranked ${rank || 'not in the top'} `
      + `(${ranked.map((r) => `${r.sensor} ${r.residualKpa.toFixed(2)} kPa z=${r.z}`).join(', ')})`);
  }
  const falseAlarms = candidates.filter((c) => !used.has(c));
  for (const c of falseAlarms) log(`false: ${c.id} at ${new Date(c.ts).toISOString()} ${JSON.stringify(c.evidence!.ranked)}`);
  const dmaDays = ((run.end - run.start) / DAY - learnDays) * run.topology.dmas.size; // after the learning days
  const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN; };
  return {
    [`${prefix}_found`]: found,
    [`${prefix}_leaks`]: run.groundTruth.length,
    [`${prefix}_false`]: falseAlarms.length,
    [`${prefix}_false_per_dma_4w`]: (falseAlarms.length / dmaDays) * 28,
    [`${prefix}_delay_median_h`]: median(delaysH),
    [`${prefix}_nearest_rank1_share`]: ranks.length ? ranks.filter((r) => r === 1).length / ranks.length : 0,
  };
}

export async function measurePressureModel(log: (line: string) => void): Promise<Record<string, number>> {
  return {
    ...await measure('pressure-leaks-long.yaml', 'detect.pressure_model', {}, log),
    ...await measure('pressure-leaks.yaml', 'detect.pressure_model_12h', { learnDays: 2 }, log),
  };
}
