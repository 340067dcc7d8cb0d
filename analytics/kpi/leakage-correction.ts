/**
 * CJJ 92-2016 (城镇供水管网漏损控制及评定标准, as revised in 2018) grades a utility on its corrected
 * leakage rate, not on the basic one:
 *
 *   综合漏损率 R_WL = (Q_s − Q_a) ÷ Q_s × 100 %     (Q_s system input, Q_a registered consumption)
 *   漏损率     R_BL = R_WL − R_n,  R_n = R_1 + R_2 + R_3 + R_4
 *
 * - R_1 = 0.08 · r × 100 %: r is residential consumption metered at the household (抄表到户) as a
 *   share of the total supply; 0.08 is the standard's difference between bulk and household meters;
 * - R_2 = 0.99 · (A − 0.0693) × 100 %, limited to ±3 %: A = L ÷ Q_s is the length of DN75+ mains per
 *   supply, km per 10⁴ m³ of the year (0.0693 is the standard's reference length per supply);
 * - R_3 = 0.5 % / 1 % / 2 % when the annual mean plant outlet pressure is above 0.35 / 0.55 / 0.75 MPa;
 * - R_4 = 1 % when the maximum frozen-soil depth is above 1.4 m.
 * Grades: R_BL ≤ 10 % grade 1, ≤ 12 % grade 2 (types.ts).
 *
 * The standard counts a year. A shorter period (a quarter) is annualised for A only (Q_s × 365 ÷
 * days), since a quarter's supply against the whole network's length would read as four times the
 * pipe per supply; the rates themselves are ratios and need no scaling.
 * An input the configuration does not give leaves its correction, and so R_BL and the grade,
 * unknown, with the configuration key named: never a silent 0.
 */
import type { TimeSeriesStore } from '../../core/tsdb/types.ts';
import type { LeakageConfig } from '../../core/config/schema.ts';
import { leakageGrade } from './water-balance.ts';
import { LEAKAGE_NATIONAL_AIM_PCT, type LeakageAssessment, type LeakageCorrection } from './types.ts';

const DAY_MS = 86_400_000;
const DAYS_PER_YEAR = 365;

/** R_1: the standard's bulk-to-household meter difference of residential supply. */
export const RESIDENTIAL_METER_DIFFERENCE = 0.08;
/** R_2: the effect of pipe length per supply on the leakage rate, and its reference, km per 10⁴ m³. */
export const PIPE_LENGTH_COEFFICIENT = 0.99;
export const PIPE_LENGTH_REFERENCE_KM_PER_10K_M3 = 0.0693;
export const PIPE_LENGTH_CORRECTION_LIMIT_PCT = 3;
/** R_3: above each outlet pressure (MPa, exclusive), its correction (%), highest first. */
export const OUTLET_PRESSURE_BANDS: readonly { aboveMpa: number; pct: number }[] = [
  { aboveMpa: 0.75, pct: 2 }, { aboveMpa: 0.55, pct: 1 }, { aboveMpa: 0.35, pct: 0.5 },
];
/** R_4: above this frozen-soil depth (m) the correction applies. */
export const FROZEN_SOIL_DEPTH_LIMIT_M = 1.4;
export const FROZEN_SOIL_CORRECTION_PCT = 1;

/** The annual mean outlet pressure, from the configuration or measured, with where it came from. */
export type OutletPressure = { mpa: number; source: string } | { missing: string };

export interface LeakageBasis {
  /** R_WL, %; null when the water balance gives none. */
  basicRatePct: number | null;
  /** Q_s over the period, m³. */
  systemInputM3: number | null;
  /** Length of the period, ms (the supply is annualised from it for R_2). */
  periodMs: number;
}

function correction(key: LeakageCorrection['key'], configKey: string, unit: string, input: number | undefined,
  pct: (input: number) => number, source = `leakage.${configKey}`): LeakageCorrection {
  if (input === undefined) return { key, input: null, unit, pct: null, source: null, missing: `leakage.${configKey}` };
  return { key, input, unit, pct: pct(input), source };
}

export function outletPressureCorrectionPct(mpa: number): number {
  return OUTLET_PRESSURE_BANDS.find((b) => mpa > b.aboveMpa)?.pct ?? 0;
}

export function pipeLengthCorrectionPct(lengthKm: number, annualInputM3: number): number {
  const perSupply = lengthKm / (annualInputM3 / 10_000);
  const pct = PIPE_LENGTH_COEFFICIENT * (perSupply - PIPE_LENGTH_REFERENCE_KM_PER_10K_M3) * 100;
  return Math.max(-PIPE_LENGTH_CORRECTION_LIMIT_PCT, Math.min(PIPE_LENGTH_CORRECTION_LIMIT_PCT, pct));
}

/** The corrected rate R_BL from the basic rate and the correction inputs. */
export function correctedLeakage(basis: LeakageBasis, config: LeakageConfig, pressure: OutletPressure): LeakageAssessment {
  const days = basis.periodMs / DAY_MS;
  const annualInputM3 = basis.systemInputM3 !== null && basis.systemInputM3 > 0 && days > 0 ? (basis.systemInputM3 * DAYS_PER_YEAR) / days : null;
  const r1 = correction('R1', 'residentialMeteredShare', 'share', config.residentialMeteredShare, (r) => RESIDENTIAL_METER_DIFFERENCE * r * 100);
  let r2 = correction('R2', 'dn75PipeLengthKm', 'km', config.dn75PipeLengthKm, (l) => pipeLengthCorrectionPct(l, annualInputM3 ?? NaN));
  if (r2.pct !== null && annualInputM3 === null) r2 = { ...r2, pct: null, missing: 'system input volume (the water balance gives none)' };
  const r3 = 'missing' in pressure
    ? { key: 'R3' as const, input: null, unit: 'MPa', pct: null, source: null, missing: pressure.missing }
    : correction('R3', 'annualMeanOutletPressureMpa', 'MPa', pressure.mpa, outletPressureCorrectionPct, pressure.source);
  const r4 = correction('R4', 'maxFrozenSoilDepthM', 'm', config.maxFrozenSoilDepthM, (d) => (d > FROZEN_SOIL_DEPTH_LIMIT_M ? FROZEN_SOIL_CORRECTION_PCT : 0));
  const corrections = [r1, r2, r3, r4];
  const missing = corrections.flatMap((c) => (c.missing ? [c.missing] : []));
  const totalCorrectionPct = missing.length ? null : corrections.reduce((a, c) => a + c.pct!, 0);
  const correctedRatePct = basis.basicRatePct === null || totalCorrectionPct === null ? null : basis.basicRatePct - totalCorrectionPct;
  return {
    basicRatePct: basis.basicRatePct, annualisedInputM3: annualInputM3, corrections, totalCorrectionPct, correctedRatePct,
    grade: correctedRatePct === null ? null : leakageGrade(correctedRatePct),
    meetsNationalAim: correctedRatePct === null ? null : correctedRatePct <= LEAKAGE_NATIONAL_AIM_PCT,
    missing,
  };
}

/**
 * The annual mean outlet pressure: the configured figure, else the mean of the outlet sensors over
 * the 365 days ending at `to` (daily mean × count, so a day with fewer samples weighs less), with
 * the days it rests on named in `source`.
 */
export async function outletPressure(store: TimeSeriesStore, config: LeakageConfig, to: number): Promise<OutletPressure> {
  if (config.annualMeanOutletPressureMpa !== undefined) return { mpa: config.annualMeanOutletPressureMpa, source: 'leakage.annualMeanOutletPressureMpa' };
  const sensors = config.outletPressureSensors;
  if (!sensors?.length) return { missing: 'leakage.annualMeanOutletPressureMpa (or leakage.outletPressureSensors)' };
  const from = to - DAYS_PER_YEAR * DAY_MS;
  const query = { measurement: 'pressure', sensors, from, to, windowMs: DAY_MS } as const;
  const [means, counts] = await Promise.all([store.query({ ...query, aggregate: 'mean' }), store.query({ ...query, aggregate: 'count' })]);
  let weighted = 0;
  let samples = 0;
  const days = new Set<number>();
  for (const sensor of sensors) {
    const countAt = new Map((counts.get(sensor) ?? []).map((v) => [v.ts, v.value]));
    for (const v of means.get(sensor) ?? []) {
      const n = countAt.get(v.ts) ?? 0;
      if (!Number.isFinite(v.value) || n <= 0) continue;
      weighted += v.value * n;
      samples += n;
      days.add(v.ts);
    }
  }
  if (samples === 0) return { missing: `leakage.outletPressureSensors: no pressure stored for ${sensors.join(', ')} in the 365 days before the period's end` };
  return { mpa: weighted / samples, source: `mean of ${sensors.join(', ')} over ${days.size} of the last ${DAYS_PER_YEAR} days` };
}
