/**
 * How many identical readings in a row make a flatline, per sensor: a frozen transmitter repeats
 * its last value, but so does a healthy sensor whose resolution is coarse against how fast its
 * quantity moves at its interval. On BattLeDIM, tank T1's level read to 1 cm held one value for up
 * to 37 readings at 5-min data (3 h), while its flow meters never repeated one for more than 2 (3 at
 * 15-min samples). So the run a sensor's own healthy readings show sets the bar, and the rest is
 * stated in time (#12.2: never in samples alone):
 *
 *   readings needed = max(⌈flatlineMinutes ÷ interval⌉, 2 × the longest run it showed + 1)
 *
 * the longest over the runs that ended in the last RUN_HISTORY_DAYS days without being a flatline.
 * Until a day of its readings has been seen, the fixed count `flatlineSamples` stands (a sensor's
 * first day, and the first day after a restart: its runs are not stored).
 */

const DAY_MS = 86_400_000;
/** Days of runs the longest is taken over: a week holds every day type's quiet hours. */
export const RUN_HISTORY_DAYS = 7;

export class FlatlineRuns {
  /** The longest run of identical readings that ended on each day (UTC days since the epoch), oldest first. */
  private readonly days: { day: number; longest: number }[] = [];
  private firstTs = Number.NaN;

  /** A reading at `ts`: the sensor is heard from (its first day is counted from the first one). */
  heard(ts: number): void {
    if (Number.isNaN(this.firstTs)) this.firstTs = ts;
  }

  /** A run of `length` identical readings ended at `ts` and was not a flatline. */
  ended(ts: number, length: number): void {
    const day = Math.floor(ts / DAY_MS);
    const last = this.days[this.days.length - 1];
    if (last?.day === day) last.longest = Math.max(last.longest, length);
    else this.days.push({ day, longest: length });
    while (this.days.length && this.days[0].day <= day - RUN_HISTORY_DAYS) this.days.shift();
  }

  /** The longest healthy run of the last RUN_HISTORY_DAYS days at `ts` (0 when none ended). */
  longest(ts: number): number {
    const from = Math.floor(ts / DAY_MS) - RUN_HISTORY_DAYS;
    let longest = 0;
    for (const d of this.days) if (d.day > from) longest = Math.max(longest, d.longest);
    return longest;
  }

  /** Identical readings in a row that make a flatline at `ts`, the readings coming every `intervalMs`. */
  needed(ts: number, intervalMs: number | undefined, flatlineMinutes: number, untilKnown: number): number {
    if (Number.isNaN(this.firstTs) || ts - this.firstTs < DAY_MS || !(intervalMs !== undefined && intervalMs > 0)) return untilKnown;
    return Math.max(Math.ceil((flatlineMinutes * 60_000) / intervalMs), 2 * this.longest(ts) + 1);
  }
}
