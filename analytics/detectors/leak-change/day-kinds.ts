/**
 * Day kinds of the hourly references, as night-flow's nights: a working day after a working day
 * (Tuesday to Friday), a day off after a working day (Saturday), a day off after a day off (Sunday),
 * a working day after a day off (Monday: its early hours are Sunday night). Days off are weekend days
 * and the site calendar's holidays, less its make-up working days (调休): a Wednesday holiday is
 * compared as a Saturday, the Thursday after it as a Monday.
 */
import { isDayOff, isFestive, type DayCalendar } from '../../baseline/calendar.ts';
import { medianOf } from '../../baseline/median.ts';

export const WORKING = 0;
export const SATURDAY = 1;
export const SUNDAY = 2;
export const MONDAY = 3;
export const DAY_KINDS = 4;

const isDayOffKind = (kind: number) => kind === SATURDAY || kind === SUNDAY;

/** The kind of each local day (days since 1970-01-01 in wall time), from its weekday and the site calendar. */
export class DayKinds {
  constructor(private readonly calendar?: DayCalendar) {}

  of(day: number): number {
    const off = isDayOff(day, this.calendar);
    const offBefore = isDayOff(day - 1, this.calendar);
    if (off) return offBefore ? SUNDAY : SATURDAY;
    return offBefore ? MONDAY : WORKING;
  }

  /** The calendar names festive eves (otherwise nothing is festive: no clock arithmetic per reading). */
  get hasEves(): boolean {
    return this.calendar?.hasEves ?? false;
  }

  /** In a festive eve's span (the eve, and the night after it up to `nightEndMs` past midnight): not judged. */
  festive(day: number, msOfDay: number, nightEndMs: number): boolean {
    return isFestive(day, msOfDay, nightEndMs, this.calendar);
  }
}

/** A sample of one hour of day (or one hour beginning at a quarter) on a day of this kind. */
export interface DaySample { kind: number; value: number }

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
    byClass[+isDayOffKind(s.kind)].push(s.value);
    byKind[s.kind].push(s.value);
  }
  const m = medianOf(all);
  const offsets: number[] = [];
  const known: boolean[] = [];
  for (let k = 0; k < DAY_KINDS; k++) {
    const own = byKind[k];
    const cls = byClass[+isDayOffKind(k)];
    offsets.push(own.length >= 2 ? medianOf(own) - m : cls.length >= 2 ? medianOf(cls) - m : 0);
    known.push(own.length >= 2);
  }
  return { offsets, known };
}
