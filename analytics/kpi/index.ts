/**
 * KPIs for a period (a quarter by default), for `aquawatch report` and the dashboard API:
 * outages (planned/unplanned, per cause, customer-minutes, SAIDI/SAIFI for water with causes
 * excluded), pressure compliance at network ends, the water balance and leakage rate per DMA
 * (CJJ 92-2016), and the night-flow trend. See README.md.
 */
import type { Topology } from '../../core/topology/topology.ts';
import type { TimeSeriesStore } from '../../core/tsdb/types.ts';
import { abortableReads } from '../../core/tsdb/abortable.ts';
import { nightFlowTrends } from './night-flow.ts';
import { outageKpis } from './outages.ts';
import { explicitPeriod } from './period.ts';
import { pressureCompliance } from './pressure.ts';
import { SANYA_EXCLUDED_CAUSES, type IncidentSource, type KpiReport } from './types.ts';
import type { Incident } from '../outages/types.ts';
import { waterBalance, type WaterBalanceOptions } from './water-balance.ts';
import { correctedLeakage, outletPressure } from './leakage-correction.ts';
import type { LeakageConfig } from '../../core/config/schema.ts';
import { reportNote } from '../../core/messages/report-notes.ts';

export * from './types.ts';
export { quarterPeriod, quarterOf, previousQuarter, isoPeriod, explicitPeriod, PeriodError } from './period.ts';
export { ListIncidentSource, registerIncidentSource, openRegisterReadOnly, KNOWN_CAUSE_CODES } from './incident-source.ts';
export { customerOutageMinutes } from './outages.ts';
export { leakageGrade } from './water-balance.ts';
export { correctedLeakage } from './leakage-correction.ts';

export interface ComputeKpisInput {
  store: TimeSeriesStore;
  topology: Topology;
  /** Where incidents come from; a list is accepted too. Omit when there is no register (no outage figures). */
  incidents?: IncidentSource | readonly Incident[];
  from: number;
  to: number;
  timezone: string;
  /** Cause codes left out of SAIDI/SAIFI. Default the Sanya rule (maintenance, retrofit, raw water, power). */
  excludeCauses?: readonly string[];
  /** Open incidents count up to this instant when it is before `to` (e.g. now, for the current quarter). */
  asOf?: number;
  /** Label of the period, e.g. `2026-Q3`. */
  label?: string;
  /** Customers served; default Σ customers of the DMAs. */
  customersServed?: number;
  /** Minimum service pressure, MPa. Default 0.14. */
  minPressureMpa?: number;
  balance?: Omit<WaterBalanceOptions, 'from' | 'to'>;
  /** CJJ 92-2016 correction inputs (the configuration's `leakage:`); without them the corrected rate names each one missing. */
  leakage?: LeakageConfig;
  /** Stops the computation at its next store read (the dashboard's client went away); it then rejects with the signal's reason. */
  signal?: AbortSignal;
}

export async function computeKpis(input: ComputeKpisInput): Promise<KpiReport> {
  const { topology, from, to, timezone } = input;
  // pressure compliance reads the store once per day of the period: each read checks the signal first
  const store = abortableReads(input.store, input.signal);
  const period = explicitPeriod(from, to, timezone, input.label);
  const asOf = Math.min(to, input.asOf ?? to);
  const notes: string[] = [];
  let incidents: Incident[] = [];
  if (input.incidents === undefined) notes.push(reportNote('no_incident_register'));
  else incidents = Array.isArray(input.incidents) ? [...input.incidents] : await (input.incidents as IncidentSource).incidents(from, to);

  const customersOf = (dma: string) => topology.dmas.get(dma)?.customers ?? 0;
  const customersServed = input.customersServed ?? [...topology.dmas.values()].reduce((a, d) => a + d.customers, 0);
  if (customersServed <= 0) notes.push(reportNote('no_customers'));
  const outages = outageKpis(incidents, {
    from, to, asOf, excludeCauses: input.excludeCauses ?? SANYA_EXCLUDED_CAUSES, customersServed, customersOf,
  });
  const leakageInputs = input.leakage ?? {};
  const [pressure, balance, nightFlow, outlet] = await Promise.all([
    pressureCompliance(store, topology, { from, to, thresholdMpa: input.minPressureMpa }),
    waterBalance(store, topology, { ...input.balance, from, to }),
    nightFlowTrends(store, topology, from, to),
    outletPressure(store, leakageInputs, to),
  ]);
  const leakage = correctedLeakage(
    { basicRatePct: balance.total.leakageRatePct, systemInputM3: balance.total.systemInputM3, periodMs: to - from }, leakageInputs, outlet);
  if (leakage.missing.length) notes.push(reportNote('leakage_inputs_missing', { missing: leakage.missing.join('; ') }));
  if (pressure.sensors.length === 0) notes.push(reportNote('no_pressure_sensors'));
  notes.push(...balance.notes);
  if (nightFlow.every((t) => t.nights.length === 0)) notes.push(reportNote('no_night_flow'));
  return { period, asOf, outages, pressure, waterBalance: { dmas: balance.dmas, total: balance.total }, leakage, nightFlow, notes };
}
