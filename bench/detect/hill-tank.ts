/**
 * The demo's Hill drawn around its tank (#12.1; `demoTownWithHillOnTank`: PUMP_1's delivery in, T1's
 * storage in the balance, F-p1093 a sub-meter) against the burst detector, at the suite's 1-min data:
 * Hill's bursts of `small-bursts` found and Hill's false bursts there and on `quiet-week` (each with
 * its week of quiet lead-in, as bench/detect/burst.ts runs them on the demo as it is, where Hill's
 * inlet is F-p1093), and the storage term's noise: the tank balance less F-p1093 weighted over the same
 * window, against what T1's level noise predicts. What decides whether the demo switches Hill to the
 * tank balance (simulators/city/README.md). Not in the detect suite.
 *
 *   npm run bench -- detect:hill-tank
 */
import { BurstDetector } from '../../analytics/detectors/burst/index.ts';
import { slopeWeights, storageSlopeStandardError } from '../../analytics/tank-volume.ts';
import { DEFAULT_TANK_WINDOW_MIN } from '../../analytics/dma-inflow.ts';
import { buildCity } from '../../simulators/city/city.ts';
import { demoTownWithHillOnTank } from '../../simulators/city/generator/index.ts';
import { noiseSd } from '../../simulators/sensors.ts';
import { runScenario, score } from '../../test/support/sim-drive.ts';

const MIN = 60_000;
const DAY = 86_400_000;
const START = Date.parse('2024-05-06T00:00:00+08:00'); // both scenarios start then
const OUTLET = 'F-p1093';

export async function measureHillOnTank(log: (line: string) => void): Promise<Record<string, number>> {
  const drawn = demoTownWithHillOnTank();
  const city = buildCity(drawn.spec, drawn.inpText);
  const windowSteps = DEFAULT_TANK_WINDOW_MIN; // 1-min data
  const { intervalWeights } = slopeWeights(windowSteps + 1, 1 / 60);
  const areaM2 = Math.PI * (city.dmas.find((d) => d.id === 'hill')!.tanks[0].diameterM / 2) ** 2;
  const predicted = storageSlopeStandardError(areaM2 * noiseSd('level', 0), windowSteps + 1, 1 / 60);
  const figures: Record<string, number> = { 'detect.hill_tank_burst_found': 0, 'detect.hill_tank_burst_events': 0, 'detect.hill_tank_burst_false': 0 };
  const storageErrors: number[] = [];
  for (const file of ['small-bursts.yaml', 'quiet-week.yaml']) {
    const outlet = new Map<number, number>();
    const run = await runScenario({
      scenario: file, city, from: START - 7 * DAY, detectors: (ctx) => [new BurstDetector(ctx)],
      transform: (batch) => {
        for (const p of batch) if (p.sensor === OUTLET) outlet.set(p.ts, p.value);
        return batch;
      },
    });
    const s = score(run, 'burst', 'burst', 30 * MIN, START);
    const found = s.found.filter((f) => f.truth.dma === 'hill');
    const missed = s.missed.filter((m) => m.dma === 'hill');
    const falseAlarms = s.falseAlarms.filter((c) => c.dma === 'hill');
    figures['detect.hill_tank_burst_found'] += found.length;
    figures['detect.hill_tank_burst_events'] += found.length + missed.length;
    figures['detect.hill_tank_burst_false'] += falseAlarms.length;
    // the net demand at ts covers the minutes [ts − W, ts): F-p1093 over the same minutes, weighted alike
    for (const v of run.derived) {
      if (v.sensor !== 'hill' || v.ts < START) continue;
      let mean = 0;
      for (let j = 0; j < windowSteps && Number.isFinite(mean); j++) mean += intervalWeights[j] * (outlet.get(v.ts - (windowSteps - j) * MIN) ?? NaN);
      if (Number.isFinite(mean)) storageErrors.push(v.value - mean);
    }
    log(JSON.stringify({
      scenario: file, hill: 'tank balance', found: found.map((f) => ({ id: f.truth.id, delayMin: f.delayMin })), missed: missed.map((m) => m.id),
      falseAlarms: falseAlarms.map((c) => ({ at: new Date(c.ts).toISOString(), stepM3h: c.evidence?.stepAtStartM3h, sizeM3h: c.evidence?.burstFlowM3h })),
    }));
  }
  const mean = storageErrors.reduce((a, b) => a + b, 0) / storageErrors.length;
  figures['detect.hill_tank_storage_noise_m3h'] = Math.sqrt(storageErrors.reduce((a, b) => a + (b - mean) ** 2, 0) / storageErrors.length);
  figures['detect.hill_tank_storage_noise_predicted_m3h'] = predicted;
  log(JSON.stringify({ storageNoiseM3h: figures['detect.hill_tank_storage_noise_m3h'], predictedFromLevelNoise: predicted, windows: storageErrors.length }));
  return figures;
}
