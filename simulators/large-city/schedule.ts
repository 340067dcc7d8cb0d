/**
 * When each device reports: every item has an interval and a phase inside it (seeded from its id,
 * whole seconds), so a fleet of 100,000 meters on a 15-minute interval sends evenly, about 111 a
 * second, rather than all at the quarter hour. `due(from, to)` visits the items due in (from, to]
 * in a cost proportional to how many are due: per interval, the phases are sorted and the window is
 * found by binary search.
 */
import { hash32 } from '../hydraulics/random.ts';

interface IntervalClass {
  intervalMs: number;
  /** Phases, ms, ascending; items[k] has phases[k]. */
  phases: Float64Array;
  items: Int32Array;
}

export class ReportingSchedule {
  private readonly classes: IntervalClass[] = [];

  /** `intervalS[i]` and `ids[i]` of item i (the id seeds its phase). */
  constructor(ids: readonly string[], intervalS: ArrayLike<number>, seed: number) {
    const byInterval = new Map<number, { phase: number; item: number }[]>();
    for (let i = 0; i < ids.length; i++) {
      const s = Math.round(intervalS[i]);
      const phase = (hash32(ids[i], seed) % s) * 1000;
      let list = byInterval.get(s * 1000);
      if (!list) byInterval.set(s * 1000, list = []);
      list.push({ phase, item: i });
    }
    for (const [intervalMs, list] of byInterval) {
      list.sort((a, b) => a.phase - b.phase || a.item - b.item);
      this.classes.push({ intervalMs, phases: Float64Array.from(list, (x) => x.phase), items: Int32Array.from(list, (x) => x.item) });
    }
  }

  /** Calls visit(item, ts) for every report due in (from, to], class by class, each in time order. */
  due(from: number, to: number, visit: (item: number, ts: number) => void): void {
    for (const c of this.classes) {
      const I = c.intervalMs;
      for (let cycle = Math.floor(from / I) * I; cycle <= to; cycle += I) {
        // phases p with from < cycle + p <= to
        let k = upperBound(c.phases, from - cycle);
        const last = to - cycle;
        for (; k < c.phases.length && c.phases[k] <= last; k++) visit(c.items[k], cycle + c.phases[k]);
      }
    }
  }
}

/** First index whose value is > x. */
function upperBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
