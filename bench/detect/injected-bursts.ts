/**
 * Burst recall at coarse data on many bursts, not the suite's 17: bursts of a share of a DMA's mean
 * net inflow added to its inlet meter's readings in quiet-week.yaml (after the same two weeks of
 * warm-up as the suite's quiet week), one every 13 hours per DMA, the DMAs staggered by 2.6 h, each
 * starting at a minute drawn at random in a 2-hour span (so at every phase of the sample grid and
 * every hour of the day; the suite's bursts start on the hour, on a sample), lasting an hour. Three
 * runs with the schedule shifted by 0, 4.3 and 8.7 h give some 190 bursts. Scored by the suite's rule
 * (a `burst` raised in the DMA between a burst's start and 30 min after its end); any other burst
 * raise from the warm-up's end on is a false alarm.
 *
 * A burst added at the meter is a flow the DMA's water never drew: the pressures do not move with it
 * and the hydraulics do not answer (the burst detector judges the balance; its location hint, from
 * the pressures, has nothing to go on). What it measures is how often the balance's step test
 * finds a step of that size at that sampling, with a sample of bursts large enough that one more or
 * one fewer moves the recall by half a point. Deterministic (fixed seeds).
 */
import type { Point } from '../../core/model/reading.ts';
import type { Topology } from '../../core/topology/topology.ts';
import { BurstDetector } from '../../analytics/detectors/burst/index.ts';
import { LocalTime } from '../../analytics/baseline/local-time.ts';
import { runScenario } from '../../test/support/sim-drive.ts';
import { resampleFlowAndPressure, SUITE_START } from './burst.ts';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Hours between a DMA's bursts, between two DMAs' schedules, and of each schedule's shift per run. */
const EVERY_H = 13;
const STAGGER_H = 2.6;
const SHIFTS_H = [0, 4.3, 8.7];
/** Each start is drawn in this many hours after its slot of the schedule. */
const JITTER_H = 2;
const BURST_MS = HOUR;
/** The suite's recall rule: a raise up to this long after the burst's end counts. */
const GRACE_MS = 30 * MIN;
/** quiet-week.yaml's length after the warm-up. */
const QUIET_WEEK_DAYS = 7;

interface Injected {
  dma: string;
  start: number;
  end: number;
}

/** A small deterministic generator (a linear congruential one): the same schedule on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * Injects bursts of `fraction` × each DMA's mean net inflow (Σ inlet − Σ outlet means over the
 * warm-up) into its first inlet meter, from `from` on, on the schedule of `shiftH`.
 */
class BurstInjector {
  readonly bursts: Injected[] = [];
  /** Warm-up sum and count of each flow sensor's readings. */
  private readonly sums = new Map<string, { sum: number; n: number }>();
  private readonly size = new Map<string, number>();
  /** Each DMA's balance terms. */
  private readonly terms: { sensor: string; dma: string; sign: 1 | -1 }[] = [];
  /** The meter each DMA's bursts are added to → the DMA. */
  private readonly injectAt = new Map<string, string>();

  constructor(private readonly fraction: number, private readonly from: number, private readonly until: number, private readonly shiftH: number) {}

  plan(topology: Topology): void {
    const next = seeded(1_000 + Math.round(this.shiftH * 10));
    const dmas = [...topology.dmas.values()];
    // a meter between two DMAs (Central's outlet is one of East's inlets) carries a burst downstream
    // through the upstream DMA's balance too: the burst goes on a meter that is no DMA's outlet
    const outlets = new Set(dmas.flatMap((d) => d.outlets ?? []));
    dmas.forEach((dma, i) => {
      const fed = dma.inlets.find((sensor) => !outlets.has(sensor));
      if (fed === undefined) return;
      for (const sensor of dma.inlets) this.terms.push({ sensor, dma: dma.id, sign: 1 });
      for (const sensor of dma.outlets ?? []) this.terms.push({ sensor, dma: dma.id, sign: -1 });
      this.injectAt.set(fed, dma.id);
      for (let slot = this.from + (this.shiftH + i * STAGGER_H) * HOUR; ; slot += EVERY_H * HOUR) {
        const start = Math.round((slot + next() * JITTER_H * HOUR) / MIN) * MIN;
        if (start + BURST_MS + GRACE_MS > this.until) break;
        this.bursts.push({ dma: dma.id, start, end: start + BURST_MS });
      }
    });
  }

  apply(p: Point): Point {
    if (p.measurement !== 'flow') return p;
    if (p.ts < this.from) {
      const s = this.sums.get(p.sensor) ?? { sum: 0, n: 0 };
      s.sum += p.value;
      s.n++;
      this.sums.set(p.sensor, s);
      return p;
    }
    const dma = this.injectAt.get(p.sensor);
    if (dma === undefined) return p;
    const on = this.bursts.some((b) => b.dma === dma && p.ts >= b.start && p.ts < b.end);
    return on ? { ...p, value: p.value + this.sizeOf(dma) } : p;
  }

  /** `fraction` × the DMA's mean net inflow over the warm-up, m³/h. */
  sizeOf(dma: string): number {
    let size = this.size.get(dma);
    if (size === undefined) {
      let net = 0;
      for (const t of this.terms) {
        const s = this.sums.get(t.sensor);
        if (t.dma === dma && s) net += t.sign * (s.sum / s.n);
      }
      size = this.fraction * net;
      this.size.set(dma, size);
    }
    return size;
  }
}

export interface InjectedBurstsResult {
  bursts: number;
  found: number;
  recall: number;
  delayMedianMin: number;
  /** Minutes from a found burst's end (the flow back) to its alarm's clear (the run's end if none): median, 90th percentile, largest. */
  clearedAfterEndMin: { median: number; p90: number; max: number };
  /** Found bursts whose alarm stayed open more than 6 h after the flow was back. */
  openOver6hAfterEnd: number;
  /** Found bursts whose alarm cleared while the burst still ran. */
  clearedWhileRunning: number;
  falseAlarms: number;
  falseAlarmsPerDma4w: number;
  /** Bursts missed per local hour of their start. */
  missedByLocalHour: Record<string, number>;
  /** Each DMA's burst size, m³/h. */
  sizesM3h: Record<string, number>;
}

/** The burst detector on quiet-week.yaml at `intervalMin` with bursts of `fraction` × mean net inflow injected (above). */
export async function measureInjectedBursts(intervalMin: number, fraction: number): Promise<InjectedBurstsResult> {
  const resample = resampleFlowAndPressure(intervalMin);
  const delays: number[] = [];
  const clearedAfterEnd: number[] = [];
  const missedByLocalHour: Record<string, number> = {};
  const sizesM3h: Record<string, number> = {};
  let total = 0;
  let falseAlarms = 0;
  let dmaDays = 0;
  for (const shiftH of SHIFTS_H) {
    const until = SUITE_START + QUIET_WEEK_DAYS * DAY;
    const injector = new BurstInjector(fraction, SUITE_START, until, shiftH);
    let timezone = 'UTC';
    const run = await runScenario({
      scenario: 'quiet-week.yaml',
      from: SUITE_START - 14 * DAY,
      transform: (batch) => (resample ? resample(batch) : batch).map((p) => injector.apply(p)),
      detectors: (ctx) => {
        timezone = ctx.timezone;
        injector.plan(ctx.topology);
        return [new BurstDetector(ctx)];
      },
    });
    const local = new LocalTime(timezone);
    const raised = run.conditions.filter((c) => c.type === 'burst' && c.state === 'raise' && c.ts >= SUITE_START);
    const matched = new Set<unknown>();
    for (const b of injector.bursts) {
      total++;
      const hit = raised.find((c) => c.dma === b.dma && c.ts >= b.start && c.ts <= b.end + GRACE_MS);
      if (hit) {
        matched.add(hit);
        delays.push((hit.ts - b.start) / MIN);
        // the flow is back when the burst ends: the alarm should clear within minutes of it
        const cleared = run.conditions.find((c) => c.id === hit.id && c.state === 'clear' && c.ts > hit.ts);
        clearedAfterEnd.push(((cleared?.ts ?? run.end) - b.end) / MIN);
      } else {
        const hour = String(Math.floor(local.position(b.start).msOfDay / HOUR));
        missedByLocalHour[hour] = (missedByLocalHour[hour] ?? 0) + 1;
      }
    }
    // a raise inside an injected burst's window that is not its first is a repeat, not a false alarm
    falseAlarms += raised.filter((c) => !matched.has(c) && !injector.bursts.some((b) => b.dma === c.dma && c.ts >= b.start && c.ts <= b.end + GRACE_MS)).length;
    dmaDays += ((run.end - SUITE_START) / DAY) * new Set(injector.bursts.map((b) => b.dma)).size;
    for (const dma of new Set(injector.bursts.map((b) => b.dma))) sizesM3h[dma] = Math.round(injector.sizeOf(dma) * 100) / 100;
  }
  delays.sort((a, b) => a - b);
  clearedAfterEnd.sort((a, b) => a - b);
  const at = (xs: number[], q: number) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor(q * xs.length))] : NaN);
  return {
    bursts: total, found: delays.length, recall: delays.length / total,
    delayMedianMin: at(delays, 0.5),
    clearedAfterEndMin: { median: at(clearedAfterEnd, 0.5), p90: at(clearedAfterEnd, 0.9), max: at(clearedAfterEnd, 1) },
    openOver6hAfterEnd: clearedAfterEnd.filter((m) => m > 6 * 60).length,
    clearedWhileRunning: clearedAfterEnd.filter((m) => m < 0).length,
    falseAlarms, falseAlarmsPerDma4w: (falseAlarms / dmaDays) * 28, missedByLocalHour, sizesM3h,
  };
}
