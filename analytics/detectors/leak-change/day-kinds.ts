/**
 * Day kinds of the hourly references, as night-flow's nights: Tuesday to Friday (working, after a
 * working day), Saturday (a day off after a working day), Sunday (a day off after a day off), Monday
 * (a working day after a day off: its early hours are Sunday night).
 */
import { isWeekend } from '../../baseline/local-time.ts';
import { medianOf } from '../../baseline/median.ts';

export const SATURDAY = 1;
export const SUNDAY = 2;
export const DAY_KINDS = 4;
/** Indexed by weekday, 0 = Sunday. */
export const DAY_KIND_OF = [SUNDAY, 3, 0, 0, 0, 0, SATURDAY];

/** A sample of one hour of day (or one hour beginning at a quarter) on a day of this weekday. */
export interface DaySample { weekday: number; value: number }

/**
 * Per day kind: the kind's median minus all days' median (the same weeks: leaks cancel out); a kind
 * seen fewer than twice takes its class's (working day or day off), or 0. `known`: the kind's own.
 */
export function kindOffsets(samples: readonly DaySample[]): { offsets: number[]; known: boolean[] } {
  const all: number[] = [];
  const byClass: number[][] = [[], []];
  const byKind: number[][] = Array.from({ length: DAY_KINDS }, () => []);
  for (const s of samples) {
    if (!Number.isFinite(s.value)) continue;
    all.push(s.value);
    byClass[+isWeekend(s.weekday)].push(s.value);
    byKind[DAY_KIND_OF[s.weekday]].push(s.value);
  }
  const m = medianOf(all);
  const offsets: number[] = [];
  const known: boolean[] = [];
  for (let k = 0; k < DAY_KINDS; k++) {
    const own = byKind[k];
    const cls = byClass[+(k === SATURDAY || k === SUNDAY)];
    offsets.push(own.length >= 2 ? medianOf(own) - m : cls.length >= 2 ? medianOf(cls) - m : 0);
    known.push(own.length >= 2);
  }
  return { offsets, known };
}
