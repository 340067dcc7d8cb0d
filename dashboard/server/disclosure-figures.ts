/**
 * The figures of a quarterly disclosure (季度公示, seeds: 昆明 item 14, 三亚 item 六; issue #14.4),
 * taken from the quarter's KPI report (analytics/kpi) and the complaint counts: planned and sudden
 * outages (count, hours, customer-hours), the average outage time per customer with the causes it
 * leaves out named, the leakage rate basic and corrected (CJJ 92-2016) with the correction inputs,
 * pressure compliance, and complaints; with the coverage of the data behind them, so that whoever
 * approves the draft sees what the figures rest on.
 */
import type { KpiReport, LeakageAssessment } from '../../analytics/kpi/types.ts';
import { reportNote } from '../../core/messages/report-notes.ts';

/** Complaint counts of a period (the complaint ledger's, dashboard/server/state/complaints.ts). */
export interface DisclosureComplaints {
  total: number;
  closed: number;
  unresolved: number;
  byChannel: Record<string, number>;
  byCategory: Record<string, number>;
}

export interface OutageFigure {
  count: number;
  /** Σ durations in the quarter, h. */
  hours: number;
  /** Σ customers × hours. */
  customerHours: number;
}

export interface DisclosureFigures {
  quarter: string;
  period: { from: number; to: number; timezone: string };
  /** When the figures were computed (wall clock), and the event time open incidents were counted to. */
  computedAt: number;
  asOf: number;
  plannedOutages: OutageFigure;
  suddenOutages: OutageFigure;
  /** 用户平均停水时间: Σ customers × minutes ÷ customers served, the named causes left out. */
  averageOutageMinutesPerCustomer: number | null;
  averageOutageMinutesAllCauses: number | null;
  excludedCauses: string[];
  customersServed: number;
  leakage: LeakageAssessment;
  pressureCompliance: { share: number | null; norm: number; meetsNorm: boolean | null; thresholdMpa: number };
  complaints: DisclosureComplaints | null;
  coverage: {
    /** Share of the quarter the inflow data cover (the water balance's total). */
    inflow: number;
    metersUsed: number;
    meters: number;
    pressureSamples: number;
    pressureSensors: number;
  };
  notes: string[];
}

const outageFigure = (s: KpiReport['outages']['planned']): OutageFigure =>
  ({ count: s.count, hours: s.totalMinutes / 60, customerHours: s.customerMinutes / 60 });

export function disclosureFigures(quarter: string, report: KpiReport, complaints: DisclosureComplaints | undefined, computedAt: number): DisclosureFigures {
  const o = report.outages;
  const total = report.waterBalance.total;
  const notes = [...report.notes];
  if (!complaints) notes.push(reportNote('no_complaint_ledger'));
  if (report.asOf < report.period.to) notes.push(reportNote('quarter_not_ended'));
  return {
    quarter, period: { from: report.period.from, to: report.period.to, timezone: report.period.timezone }, computedAt, asOf: report.asOf,
    plannedOutages: outageFigure(o.planned), suddenOutages: outageFigure(o.unplanned),
    averageOutageMinutesPerCustomer: o.saidiMinutes, averageOutageMinutesAllCauses: o.saidiMinutesAllCauses,
    excludedCauses: o.excludedCauses, customersServed: o.customersServed,
    leakage: report.leakage,
    pressureCompliance: { share: report.pressure.share, norm: report.pressure.norm, meetsNorm: report.pressure.meetsNorm, thresholdMpa: report.pressure.thresholdMpa },
    complaints: complaints ?? null,
    coverage: {
      inflow: total.input.coverage, metersUsed: total.metersUsed, meters: total.meters,
      pressureSamples: report.pressure.samples, pressureSensors: report.pressure.sensors.length,
    },
    notes,
  };
}
