/**
 * Generated-city benchmark (`npm run bench -- city`): the large city (100,000 junctions, 300 DMAs)
 * solved in EPANET over two days at hourly steps with each DMA's weekday profile; the first day
 * settles the tanks, the second is checked. Figures: the lowest and highest junction pressure of the
 * checked day (the generator's design window is 0.2-0.6 MPa), the share of junction-hours outside
 * it, and the time to generate and to solve. Too slow for `npm test` (minutes), hence a benchmark.
 */
import type { Benchmark, Figure } from './run.ts';
import { generateCity, LARGE_CITY, type GeneratorParams } from '../simulators/city/generator/index.ts';
import { buildCity } from '../simulators/city/city.ts';
import { HydraulicModel } from '../simulators/hydraulics/model.ts';
import { loadProfiles } from '../simulators/hydraulics/demand.ts';

const MPA_PER_M = 0.00980665;

export interface PressureSurvey {
  junctions: number;
  lowestMPa: number;
  lowestAt: string;
  highestMPa: number;
  highestAt: string;
  /** Junction-hours of the checked day below 0.2 MPa or above 0.6 MPa, as a share of all. */
  outsideShare: number;
  /** Lowest and highest pressure per zone (main, hill, low, plant), MPa. */
  byZone: Record<string, { lowestMPa: number; highestMPa: number }>;
  generateS: number;
  solveS: number;
}

/** Solve a generated city over two days (hourly) and survey the second day's junction pressures. */
export async function surveyPressures(params: GeneratorParams, log: (line: string) => void = () => {}): Promise<PressureSurvey> {
  const t0 = performance.now();
  const generated = generateCity(params);
  const city = buildCity(generated.spec, generated.inpText);
  const generateS = (performance.now() - t0) / 1000;
  log(`generated ${city.network.junctions.size} junctions in ${city.dmas.length} DMAs in ${generateS.toFixed(1)} s`);
  const t1 = performance.now();
  const model = await HydraulicModel.open(generated.inpText, { hydraulicStepS: 3600, demandGroups: city.junctionDma });
  const zoneOf = new Map(generated.network.nodes.map((n) => [n.id, n.zone]));
  const junctions = [...city.network.junctions.keys()].map((id) => ({ id, index: model.nodeIndex(id), zone: zoneOf.get(id) ?? 'main' }));
  const profiles = loadProfiles().profiles;
  const s: PressureSurvey = { junctions: junctions.length, lowestMPa: Infinity, lowestAt: '', highestMPa: -Infinity, highestAt: '', outsideShare: 0, byZone: {}, generateS, solveS: 0 };
  let outside = 0;
  let checked = 0;
  try {
    for (let t = 3600; t <= 48 * 3600; t += 3600) {
      model.advanceTo(t, (at) => {
        const hour = Math.floor(at / 3600) % 24;
        for (const d of city.dmas) model.setGroupMultiplier(d.id, profiles[d.profile].weekday[hour]);
      });
      if (t <= 24 * 3600) continue;
      for (const j of junctions) {
        const p = model.pressureM(j.index) * MPA_PER_M;
        checked++;
        if (p < 0.2 || p > 0.6) outside++;
        const z = (s.byZone[j.zone] ??= { lowestMPa: Infinity, highestMPa: -Infinity });
        z.lowestMPa = Math.min(z.lowestMPa, p);
        z.highestMPa = Math.max(z.highestMPa, p);
        if (p < s.lowestMPa) { s.lowestMPa = p; s.lowestAt = `${j.id} at ${t / 3600 - 24}:00`; }
        if (p > s.highestMPa) { s.highestMPa = p; s.highestAt = `${j.id} at ${t / 3600 - 24}:00`; }
      }
    }
  } finally {
    model.close();
  }
  s.outsideShare = outside / checked;
  s.solveS = (performance.now() - t1) / 1000;
  return s;
}

export const cityBenchmark: Benchmark = async () => {
  console.error(`city benchmark: the large city (seed ${LARGE_CITY.seed}, ${LARGE_CITY.dmas} DMAs, ${LARGE_CITY.junctions} junctions) in EPANET over two days, the second checked`);
  const s = await surveyPressures(LARGE_CITY, (l) => console.error(`  ${l}`));
  console.error(`  lowest ${s.lowestMPa.toFixed(3)} MPa (${s.lowestAt}), highest ${s.highestMPa.toFixed(3)} MPa (${s.highestAt}); by zone ${JSON.stringify(s.byZone, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 1000) / 1000 : v))}`);
  const figures: Figure[] = [
    { bench: 'city.large_pressure_min_mpa', value: s.lowestMPa, unit: 'MPa', target: '>= 0.2' },
    { bench: 'city.large_pressure_max_mpa', value: s.highestMPa, unit: 'MPa', target: '<= 0.6' },
    { bench: 'city.large_junction_hours_outside_share', value: s.outsideShare, unit: 'share', target: '0' },
    { bench: 'city.large_generate_s', value: s.generateS, unit: 's' },
    { bench: 'city.large_solve_2d_hourly_s', value: s.solveS, unit: 's' },
  ];
  return figures;
};
