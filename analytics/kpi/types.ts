/**
 * The inputs and the result of the KPI computation (analytics/kpi/index.ts `computeKpis`).
 *
 * The KPI code reads incidents through the small `IncidentSource` interface below, not through the
 * outage register's tables, so any store of incidents (the register, a CSV import, a test's list)
 * can feed it. `incident-source.ts` adapts the register (analytics/outages/register.ts).
 */
import type { Incident } from '../outages/types.ts';

export interface IncidentSource {
  /** Incidents overlapping [from, to), open ones included. */
  incidents(from: number, to: number): Incident[] | Promise<Incident[]>;
}

/**
 * Causes the reliability KPI leaves out by default: the Sanya rule (三亚 item 六) excludes outages caused
 * by equipment maintenance/retrofit, reduced raw water and municipal power failure.
 */
export const SANYA_EXCLUDED_CAUSES: readonly string[] = ['maintenance', 'retrofit', 'raw_water_shortage', 'power_failure'];

/** Minimum service pressure at network ends (domain.md), MPa. */
export const DEFAULT_MIN_PRESSURE_MPA = 0.14;
/** The norm for the share of compliant network-end pressure samples. */
export const PRESSURE_COMPLIANCE_NORM = 0.97;

/** CJJ 92-2016 grades of the leakage rate, %, and the national aim. */
export const LEAKAGE_GRADE_1_MAX_PCT = 10;
export const LEAKAGE_GRADE_2_MAX_PCT = 12;
export const LEAKAGE_NATIONAL_AIM_PCT = 9;

export interface Period {
  /** Inclusive start, ms UTC. */
  from: number;
  /** Exclusive end, ms UTC. */
  to: number;
  /** e.g. `2026-Q3`, or `2026-07-01 – 2026-10-01` for a free period. */
  label: string;
  timezone: string;
}

export interface DurationStats {
  count: number;
  /** Sum of durations inside the period, min. */
  totalMinutes: number;
  meanMinutes: number;
  /** DMAs affected, sorted. */
  areas: string[];
  customerMinutes: number;
  customersAffected: number;
}

export interface CauseStats extends DurationStats {
  cause: string;
  /** Left out of SAIDI/SAIFI by the chosen exclusion. */
  excluded: boolean;
}

/** One incident as the report counts it: clipped to the period. */
export interface IncidentInPeriod extends Incident {
  /** Start and end clipped to the period (an open incident runs to the period's end or `asOf`). */
  clippedStart: number;
  clippedEnd: number;
  minutes: number;
  customerMinutes: number;
  ongoing: boolean;
  excluded: boolean;
}

/** Per-area outage minutes: what compensation for interrupted supply is computed from. */
export interface AreaOutageMinutes {
  dma: string;
  customers: number;
  incidents: number;
  /** Minutes without water of a customer affected by every incident of the area. */
  outageMinutes: number;
  /** The same, excluding the excluded causes. */
  outageMinutesCounted: number;
  customerMinutes: number;
}

export interface OutageKpis {
  planned: DurationStats;
  unplanned: DurationStats;
  all: DurationStats;
  byCause: CauseStats[];
  /** Σ customers affected × minutes, all causes. */
  customerMinutesLost: number;
  customersServed: number;
  excludedCauses: string[];
  /** Average outage time per customer (SAIDI for water), min, with the excluded causes left out. */
  saidiMinutes: number | null;
  /** The same over all causes. */
  saidiMinutesAllCauses: number | null;
  /** Interruptions per customer (SAIFI for water), excluded causes left out. */
  saifi: number | null;
  saifiAllCauses: number | null;
  byArea: AreaOutageMinutes[];
  incidents: IncidentInPeriod[];
}

export interface SensorCompliance {
  sensor: string;
  dma: string;
  samples: number;
  compliant: number;
  /** Bad-quality samples left out. */
  badQuality: number;
  share: number | null;
  minMpa: number | null;
}

export interface PressureCompliance {
  thresholdMpa: number;
  norm: number;
  /** Which sensors were used: the network-end ones, or every network pressure sensor when none is. */
  basis: 'network-end' | 'network';
  samples: number;
  compliant: number;
  /** Compliant ÷ samples, null without samples. */
  share: number | null;
  meetsNorm: boolean | null;
  sensors: SensorCompliance[];
}

export interface VolumeIntegral {
  /** Volume over the covered time, m³. */
  measuredM3: number;
  /** Share of the period with data from every flow sensor of the area, 0–1. */
  coverage: number;
  /** measured ÷ coverage: the period's volume with gaps filled at the covered mean, m³; null without data. */
  estimatedM3: number | null;
}

export interface MeterConsumption {
  meter: string;
  startReading: number | null;
  endReading: number | null;
  consumptionM3: number | null;
  /** Why the meter was left out of the billed volume. */
  problem?: string;
}

export type LeakageGrade = 1 | 2 | 'ungraded';

export interface WaterBalance {
  dma: string;
  customers: number;
  input: VolumeIntegral;
  /** System input volume the balance uses: the coverage-estimated volume, m³. */
  systemInputM3: number | null;
  billedM3: number;
  meters: number;
  metersUsed: number;
  /** Meters left out (no reading around a boundary, consumption negative): with the reason. */
  metersMissing: { meter: string; problem: string }[];
  nonRevenueM3: number | null;
  /**
   * CJJ 92-2016's basic rate (综合漏损率): (input − registered use) ÷ input × 100. The standard grades
   * the corrected rate of the whole utility (KpiReport.leakage), so an area's row carries no grade.
   */
  leakageRatePct: number | null;
  /** False when the input coverage is below the minimum or a meter is missing. */
  complete: boolean;
  notes: string[];
}

/** One of CJJ 92-2016's corrections (analytics/kpi/leakage-correction.ts). */
export interface LeakageCorrection {
  /** R1 household metering, R2 pipe length per supply, R3 outlet pressure, R4 frozen soil. */
  key: 'R1' | 'R2' | 'R3' | 'R4';
  /** The input it is computed from (share, km, MPa, m), null when missing. */
  input: number | null;
  unit: string;
  /** The correction, percentage points; null when its input is missing. */
  pct: number | null;
  /** Where the input came from (the configuration key, or the sensors and days measured). */
  source: string | null;
  /** What is missing (a configuration key), when it is. */
  missing?: string;
}

/** The utility's leakage rate by CJJ 92-2016: basic, the corrections, corrected and graded. */
export interface LeakageAssessment {
  /** R_WL of the whole system (the water balance's total), %. */
  basicRatePct: number | null;
  /** The period's system input scaled to a year, m³ (for the pipe-length correction). */
  annualisedInputM3: number | null;
  corrections: LeakageCorrection[];
  /** R_n = R1 + R2 + R3 + R4; null while an input is missing. */
  totalCorrectionPct: number | null;
  /** R_BL = R_WL − R_n, the rate the grade applies to. */
  correctedRatePct: number | null;
  grade: LeakageGrade | null;
  /** Corrected rate ≤ the national aim (9 %). */
  meetsNationalAim: boolean | null;
  /** Every missing input, named. */
  missing: string[];
}

export interface NightFlowTrend {
  dma: string;
  nights: { ts: number; nightFlowM3h: number | null; leakageM3h: number | null }[];
  firstM3h: number | null;
  lastM3h: number | null;
  meanM3h: number | null;
  /** Least-squares slope of night flow, m³/h per 30 days; null with fewer than two nights. */
  slopeM3hPer30d: number | null;
  meanLeakageM3h: number | null;
}

export interface KpiReport {
  period: Period;
  /** ms: the instant open incidents are counted up to. */
  asOf: number;
  outages: OutageKpis;
  pressure: PressureCompliance;
  waterBalance: {
    dmas: WaterBalance[];
    /** Σ of the DMAs' figures (areas with a measured input only). */
    total: WaterBalance;
  };
  /** The total's leakage rate, basic and corrected (CJJ 92-2016), graded. */
  leakage: LeakageAssessment;
  nightFlow: NightFlowTrend[];
  notes: string[];
}
