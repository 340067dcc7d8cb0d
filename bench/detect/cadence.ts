/**
 * The burst detector at coarse sample intervals (#12.2): the suite's burst scenarios and quiet week
 * (bench/detect/burst.ts) with the flow and pressure readings resampled to one instantaneous sample
 * every 5 and every 15 minutes before the detectors see them. Resampling the simulator's 1-min
 * readings, rather than simulating at a coarser step, keeps the very same demand, events and
 * hydraulics as the 1-min figures, so the figures differ by the sampling alone; and the topology
 * still declares 60 s, so the detector must infer the interval from the readings (as with data a
 * utility imports). Deterministic; a few minutes.
 *
 *   npm run bench -- detect:cadence
 */
import { measureBurstsAt } from './burst.ts';

export const CADENCE_INTERVALS_MIN = [5, 15];

export async function measureBurstsAtCoarseIntervals(log: (line: string) => void): Promise<Record<string, number>> {
  const figures: Record<string, number> = {};
  for (const intervalMin of CADENCE_INTERVALS_MIN) Object.assign(figures, await measureBurstsAt(intervalMin, log));
  return figures;
}
