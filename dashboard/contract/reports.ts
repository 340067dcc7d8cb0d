/** Reports: the KPIs of a period (analytics/kpi), as JSON or CSV. */
import { z } from 'zod';
import type { KpiReport as ServerKpiReport } from '../../analytics/kpi/types.ts';
import { endpoint, epochMs, text, type Equal, type Expect } from './common.ts';
import { causeCode } from './outages.ts';

const nullableNumber = z.number().nullable();
const durationStats = z.strictObject({
  count: z.number(), totalMinutes: z.number(), meanMinutes: z.number(), areas: z.array(z.string()),
  customerMinutes: z.number(), customersAffected: z.number(),
});
const waterBalance = z.strictObject({
  dma: z.string(), customers: z.number(),
  input: z.strictObject({ measuredM3: z.number(), coverage: z.number(), estimatedM3: nullableNumber }),
  systemInputM3: nullableNumber, billedM3: z.number(), meters: z.number(), metersUsed: z.number(),
  metersMissing: z.array(z.strictObject({ meter: z.string(), problem: z.string() })),
  /** leakageRatePct: CJJ 92-2016's basic rate (综合漏损率) of the area, ungraded. */
  nonRevenueM3: nullableNumber, leakageRatePct: nullableNumber,
  complete: z.boolean(), notes: z.array(z.string()),
});
const leakageGrade = z.union([z.literal(1), z.literal(2), z.literal('ungraded')]);
/** The utility's leakage rate by CJJ 92-2016: basic, the four corrections, corrected (graded). */
export const leakageAssessment = z.strictObject({
  basicRatePct: nullableNumber, annualisedInputM3: nullableNumber,
  corrections: z.array(z.strictObject({
    key: z.enum(['R1', 'R2', 'R3', 'R4']), input: nullableNumber, unit: z.string(), pct: nullableNumber,
    source: z.string().nullable(), missing: z.string().optional(),
  })),
  totalCorrectionPct: nullableNumber, correctedRatePct: nullableNumber, grade: leakageGrade.nullable(),
  meetsNationalAim: z.boolean().nullable(), missing: z.array(z.string()),
});
export type LeakageAssessment = z.infer<typeof leakageAssessment>;

/** The KPI report (analytics/kpi/types.ts explains each figure). */
export const kpiReport = z.strictObject({
  period: z.strictObject({ from: epochMs, to: epochMs, label: z.string(), timezone: z.string() }),
  asOf: epochMs,
  outages: z.strictObject({
    planned: durationStats, unplanned: durationStats, all: durationStats,
    byCause: z.array(durationStats.extend({ cause: z.string(), excluded: z.boolean() })),
    customerMinutesLost: z.number(), customersServed: z.number(), excludedCauses: z.array(z.string()),
    saidiMinutes: nullableNumber, saidiMinutesAllCauses: nullableNumber, saifi: nullableNumber, saifiAllCauses: nullableNumber,
    byArea: z.array(z.strictObject({
      dma: z.string(), customers: z.number(), incidents: z.number(), outageMinutes: z.number(), outageMinutesCounted: z.number(), customerMinutes: z.number(),
    })),
    incidents: z.array(z.strictObject({
      id: z.string(), dma: z.string(), start: epochMs, end: epochMs.optional(), customersAffected: z.number(), planned: z.boolean(),
      plannedOutageId: z.string().optional(), cause: causeCode,
      clippedStart: epochMs, clippedEnd: epochMs, minutes: z.number(), customerMinutes: z.number(), ongoing: z.boolean(), excluded: z.boolean(),
    })),
  }),
  pressure: z.strictObject({
    thresholdMpa: z.number(), norm: z.number(), basis: z.enum(['network-end', 'network']), samples: z.number(), compliant: z.number(),
    share: nullableNumber, meetsNorm: z.boolean().nullable(),
    sensors: z.array(z.strictObject({
      sensor: z.string(), dma: z.string(), samples: z.number(), compliant: z.number(), badQuality: z.number(), share: nullableNumber, minMpa: nullableNumber,
    })),
  }),
  waterBalance: z.strictObject({ dmas: z.array(waterBalance), total: waterBalance }),
  leakage: leakageAssessment,
  nightFlow: z.array(z.strictObject({
    dma: z.string(),
    nights: z.array(z.strictObject({ ts: epochMs, nightFlowM3h: nullableNumber, leakageM3h: nullableNumber })),
    firstM3h: nullableNumber, lastM3h: nullableNumber, meanM3h: nullableNumber, slopeM3hPer30d: nullableNumber, meanLeakageM3h: nullableNumber,
  })),
  notes: z.array(z.string()),
});
export type KpiReport = z.infer<typeof kpiReport>;

export type ReportsMatchServer = Expect<Equal<KpiReport, ServerKpiReport>>;

export const kpiQuery = z.strictObject({
  /** Both or neither (default: the current quarter). */
  from: epochMs.optional(), to: epochMs.optional(),
  /** Cause codes left out of SAIDI/SAIFI, comma-separated (`none` for none; default: the Sanya rule's). */
  exclude: text(500).optional(),
});

export const reports = {
  kpis: endpoint({
    method: 'GET', url: '/kpis', tags: ['reports'], summary: 'KPIs for a period (default: the current quarter)',
    querystring: kpiQuery, response: kpiReport,
  }),
  kpisCsv: endpoint({
    method: 'GET', url: '/kpis.csv', tags: ['reports'], summary: 'KPIs as CSV (UTF-8 with BOM, for Excel)',
    querystring: kpiQuery, response: z.string(), contentType: 'text/csv; charset=utf-8',
  }),
};
