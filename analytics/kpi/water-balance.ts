/**
 * Water balance per DMA for a period (IWA, simplified to what the platform measures):
 * - system input volume: the DMA's net inflow (Σ inlets − Σ outlets, m³/h) integrated over the period,
 *   from windowed means in the store, less the water its tanks stored over the period (topology
 *   dmas[].tanks: volume from the level in the period's last window minus its first). A window counts
 *   when every flow sensor of the area has at least half its expected samples in it; the volume over
 *   the counted windows is `measured`, the share of the period they cover is `coverage`, and
 *   measured ÷ coverage (gaps filled at the covered mean) is the input the balance uses;
 * - billed metered consumption: Σ over the DMA's customer meters of (register at the period's end −
 *   register at its start), each register interpolated linearly between the PDA readings (cumulative
 *   m³) either side of the boundary. Readings of quality other than good (a rollback the PDA source
 *   flagged is `uncertain`) are left out;
 * - non-revenue water = input − billed; leakage rate by CJJ 92-2016's basic formula:
 *   综合漏损率 = (供水总量 − 注册用户用水量) ÷ 供水总量 × 100 %. The standard grades (≤ 10 % grade 1,
 *   ≤ 12 % grade 2) the corrected rate of the whole utility: leakage-correction.ts.
 */
import type { Topology } from '../../core/topology/topology.ts';
import { tankVolume } from '../tank-volume.ts';
import type { SeriesValue, TimeSeriesStore } from '../../core/tsdb/types.ts';
import { reportNote } from '../../core/messages/report-notes.ts';
import {
  LEAKAGE_GRADE_1_MAX_PCT, LEAKAGE_GRADE_2_MAX_PCT, type LeakageGrade, type VolumeIntegral, type WaterBalance,
} from './types.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export interface WaterBalanceOptions {
  from: number;
  to: number;
  /** Integration window, ms. Default 15 min. */
  windowMs?: number;
  /** A window counts when every sensor has this share of its expected samples. Default 0.5. */
  minWindowSamples?: number;
  /** Below this input coverage the leakage rate is not given. Default 0.5. */
  minInputCoverage?: number;
  /** How far from a boundary a meter reading may be to interpolate from. Default 45 days (PDA rounds are monthly). */
  maxReadingGapMs?: number;
}

export interface FlowTerm { sensor: string; sign: number; intervalS: number }

/** The flow terms of a DMA's net inflow (a sensor both inlet and outlet cancels out). */
export function netInflowTerms(topology: Topology, dma: string): FlowTerm[] {
  const d = topology.dmas.get(dma);
  if (!d) return [];
  const signs = new Map<string, number>();
  for (const s of d.inlets) signs.set(s, (signs.get(s) ?? 0) + 1);
  for (const s of d.outlets) signs.set(s, (signs.get(s) ?? 0) - 1);
  return [...signs].filter(([, sign]) => sign !== 0)
    .map(([sensor, sign]) => ({ sensor, sign, intervalS: topology.sensors.get(sensor)?.intervalS ?? 60 }));
}

/** Σ sign × flow integrated over [from, to), m³, with its coverage. */
export async function integrateFlow(store: TimeSeriesStore, terms: readonly FlowTerm[], o: WaterBalanceOptions): Promise<VolumeIntegral> {
  const windowMs = o.windowMs ?? 15 * 60_000;
  const minShare = o.minWindowSamples ?? 0.5;
  const periodMs = o.to - o.from;
  if (terms.length === 0 || periodMs <= 0) return { measuredM3: 0, coverage: 0, estimatedM3: null };
  const sensors = terms.map((t) => t.sensor);
  const [means, counts] = await Promise.all([
    store.query({ measurement: 'flow', sensors, from: o.from, to: o.to, windowMs, aggregate: 'mean' }),
    store.query({ measurement: 'flow', sensors, from: o.from, to: o.to, windowMs, aggregate: 'count' }),
  ]);
  // window start → { net flow so far, sensors seen with enough samples }
  const windows = new Map<number, { net: number; ok: number }>();
  for (const t of terms) {
    const countAt = new Map((counts.get(t.sensor) ?? []).map((v) => [v.ts, v.value]));
    for (const v of means.get(t.sensor) ?? []) {
      if (!Number.isFinite(v.value)) continue;
      const overlapMs = Math.min(v.ts + windowMs, o.to) - Math.max(v.ts, o.from);
      const expected = overlapMs / (t.intervalS * 1000);
      if ((countAt.get(v.ts) ?? 0) < Math.max(1, minShare * expected)) continue;
      const w = windows.get(v.ts) ?? { net: 0, ok: 0 };
      w.net += t.sign * v.value;
      w.ok++;
      windows.set(v.ts, w);
    }
  }
  let measured = 0;
  let covered = 0;
  for (const [ts, w] of windows) {
    if (w.ok !== terms.length) continue; // a window missing a sensor is a gap, not a guess
    const overlapMs = Math.min(ts + windowMs, o.to) - Math.max(ts, o.from);
    measured += (w.net * overlapMs) / HOUR_MS;
    covered += overlapMs;
  }
  const coverage = covered / periodMs;
  return { measuredM3: measured, coverage, estimatedM3: covered > 0 ? measured / coverage : null };
}

/**
 * The water a DMA's tanks stored over [from, to), m³ (negative: they gave water), from the mean level
 * in the period's first and last window; undefined, with the tank named, when a level is missing.
 */
export async function storageChange(store: TimeSeriesStore, topology: Topology, dma: string, o: WaterBalanceOptions): Promise<{ m3: number } | { missing: string }> {
  const windowMs = o.windowMs ?? 15 * 60_000;
  let m3 = 0;
  for (const t of topology.dmas.get(dma)?.tanks ?? []) {
    const levelAt = async (from: number, to: number) => (await store.query({ measurement: 'level', sensors: [t.level], from, to, windowMs: to - from, aggregate: 'mean' })).get(t.level)?.[0]?.value;
    const first = await levelAt(o.from, Math.min(o.to, o.from + windowMs));
    const last = await levelAt(Math.max(o.from, o.to - windowMs), o.to);
    if (first === undefined || last === undefined || !Number.isFinite(first) || !Number.isFinite(last)) return { missing: t.level };
    const volume = tankVolume(t);
    m3 += volume(last) - volume(first);
  }
  return { m3 };
}

/** A meter's register at `boundary`, interpolated from the good readings either side. */
export type RegisterAt = { value: number } | { problem: string };

/** Registers of many meters at one instant, widening the search until `maxGapMs`. */
export async function registersAt(store: TimeSeriesStore, meters: readonly string[], boundary: number, maxGapMs: number): Promise<Map<string, RegisterAt>> {
  const out = new Map<string, RegisterAt>();
  let pending = [...meters];
  const steps = [DAY_MS, 7 * DAY_MS, maxGapMs].filter((s, i, a) => s <= maxGapMs && a.indexOf(s) === i);
  for (const [n, reach] of steps.entries()) {
    if (!pending.length) break;
    const found = await store.query({ measurement: 'meter', sensors: pending, from: boundary - reach, to: boundary + reach + 1 });
    const last = n === steps.length - 1;
    const still: string[] = [];
    for (const meter of pending) {
      const r = interpolate((found.get(meter) ?? []).filter((v) => v.quality === undefined || v.quality === 'good'), boundary);
      if ('value' in r || last) out.set(meter, r);
      else still.push(meter);
    }
    pending = still;
  }
  for (const meter of pending) out.set(meter, { problem: 'no reading' });
  return out;
}

function interpolate(values: readonly SeriesValue[], at: number): RegisterAt {
  let before: SeriesValue | undefined;
  let after: SeriesValue | undefined;
  for (const v of values) {
    if (v.ts <= at) before = v;
    if (v.ts >= at && !after) after = v;
  }
  if (before && before.ts === at) return { value: before.value };
  if (!before) return { problem: after ? 'no reading before the boundary' : 'no reading around the boundary' };
  if (!after) return { problem: 'no reading after the boundary' };
  if (after.value < before.value) return { problem: 'register goes backwards around the boundary (unflagged rollback or meter change)' };
  return { value: before.value + ((after.value - before.value) * (at - before.ts)) / (after.ts - before.ts) };
}

/** CJJ 92-2016's grade of a corrected leakage rate (leakage-correction.ts). */
export function leakageGrade(ratePct: number): LeakageGrade {
  if (ratePct <= LEAKAGE_GRADE_1_MAX_PCT) return 1;
  if (ratePct <= LEAKAGE_GRADE_2_MAX_PCT) return 2;
  return 'ungraded';
}

export async function waterBalance(store: TimeSeriesStore, topology: Topology, o: WaterBalanceOptions): Promise<{ dmas: WaterBalance[]; total: WaterBalance; notes: string[] }> {
  const maxGap = o.maxReadingGapMs ?? 45 * DAY_MS;
  const minCoverage = o.minInputCoverage ?? 0.5;
  const metersByDma = new Map<string, string[]>();
  const unassigned: string[] = [];
  for (const m of topology.meters.values()) {
    if (!m.dma) { unassigned.push(m.id); continue; }
    const list = metersByDma.get(m.dma) ?? [];
    list.push(m.id);
    metersByDma.set(m.dma, list);
  }
  const allMeters = [...metersByDma.values()].flat();
  const [atStart, atEnd] = await Promise.all([registersAt(store, allMeters, o.from, maxGap), registersAt(store, allMeters, o.to, maxGap)]);

  const dmas: WaterBalance[] = [];
  for (const d of topology.dmas.values()) {
    const terms = netInflowTerms(topology, d.id);
    const notes: string[] = [];
    let input = await integrateFlow(store, terms, o);
    if (!terms.length) notes.push('no metered inlet: input volume unknown');
    else if (d.tanks?.length) {
      const stored = await storageChange(store, topology, d.id, o);
      if ('missing' in stored) notes.push(`tank level ${stored.missing} missing at the period's start or end: the water its tanks stored is not taken off the input`);
      else {
        input = { ...input, measuredM3: input.measuredM3 - stored.m3, estimatedM3: input.estimatedM3 === null ? null : input.estimatedM3 - stored.m3 };
        notes.push(`input net of ${stored.m3.toFixed(1)} m³ stored in the area's tanks`);
      }
    }
    else if (input.coverage < 1) notes.push(`inflow data cover ${(input.coverage * 100).toFixed(1)} % of the period; gaps filled at the covered mean`);
    const meters = metersByDma.get(d.id) ?? [];
    let billed = 0;
    const missing: { meter: string; problem: string }[] = [];
    for (const m of meters) {
      const a = atStart.get(m)!;
      const b = atEnd.get(m)!;
      if ('problem' in a) missing.push({ meter: m, problem: `start: ${a.problem}` });
      else if ('problem' in b) missing.push({ meter: m, problem: `end: ${b.problem}` });
      else if (b.value < a.value) missing.push({ meter: m, problem: 'negative consumption (meter change or reading error)' });
      else billed += b.value - a.value;
    }
    if (missing.length) notes.push(`${missing.length} of ${meters.length} meters left out of the billed volume`);
    const usable = input.estimatedM3 !== null && input.coverage >= minCoverage && input.estimatedM3 > 0;
    if (terms.length && !usable) notes.push(`input coverage below ${(minCoverage * 100).toFixed(0)} %: no leakage rate`);
    dmas.push(balanceRow(d.id, d.customers, input, usable, billed, meters.length, missing, notes));
  }

  const measured = dmas.filter((b) => b.systemInputM3 !== null);
  const measuredM3 = sum(measured.map((b) => b.input.measuredM3));
  const estimated = sum(measured.map((b) => b.systemInputM3!));
  const totalInput: VolumeIntegral = { measuredM3, coverage: estimated > 0 ? measuredM3 / estimated : 0, estimatedM3: measured.length ? estimated : null };
  const total = balanceRow('total', sum(measured.map((b) => b.customers)), totalInput, measured.length > 0 && estimated > 0,
    sum(measured.map((b) => b.billedM3)), sum(measured.map((b) => b.meters)), measured.flatMap((b) => b.metersMissing),
    measured.length < dmas.length ? [`areas without a usable input left out: ${dmas.filter((b) => b.systemInputM3 === null).map((b) => b.dma).join(', ')}`] : []);
  total.complete = measured.length === dmas.length && measured.every((b) => b.complete);
  const notes = unassigned.length ? [reportNote('meters_without_dma', { n: unassigned.length })] : [];
  return { dmas, total, notes };
}

function balanceRow(dma: string, customers: number, input: VolumeIntegral, usable: boolean, billed: number, meters: number,
  missing: { meter: string; problem: string }[], notes: string[]): WaterBalance {
  const systemInput = usable ? input.estimatedM3 : null;
  const nrw = systemInput === null ? null : systemInput - billed;
  const rate = systemInput === null || nrw === null ? null : (nrw / systemInput) * 100;
  return {
    dma, customers, input, systemInputM3: systemInput, billedM3: billed, meters, metersUsed: meters - missing.length,
    metersMissing: missing, nonRevenueM3: nrw, leakageRatePct: rate,
    complete: usable && input.coverage >= 0.999 && missing.length === 0, notes,
  };
}

function sum(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}
