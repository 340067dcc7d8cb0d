/**
 * The state of each area (DMA), the current outages and the live KPI tiles, derived from the open
 * alarms and the open outage incidents. Pure functions of their inputs, so the REST routes and the
 * live gateway (dashboard/server/live) give the same answer; `AreaStateService` binds them to the
 * running platform (analytics may start late: until then there are no alarms and no incidents).
 *
 * Alarm types (analytics/detectors/*): `outage` (outage detector) and an open incident → outage;
 * `burst` → burst; `pressure_low`, `outage_warning` → low pressure; `quality_*` → quality
 * compliance; `sensor_*` → sensor health. Precedence: outage > burst > low pressure > normal.
 * A low-pressure area counts all its customers as affected (the sensors do not say which streets).
 */
import type { AlarmRecord } from '../../core/state/alarm-store.ts';
import type { Topology } from '../../core/topology/topology.ts';
import type { TimeSeriesStore } from '../../core/tsdb/types.ts';
import type { Incident, PlannedOutage } from '../../analytics/outages/register.ts';
import type { AnalyticsService } from '../../analytics/service.ts';

export type AreaStateName = 'normal' | 'low_pressure' | 'burst' | 'outage';

export interface DmaState {
  dma: string;
  name: string;
  state: AreaStateName;
  /** Open (not closed) alarms in the area. */
  openAlarms: number;
  customers: number;
  customersAffected: number;
  /** Since when the area is in this state (event time, ms). */
  since?: number;
}

export interface CurrentOutage {
  dma: string;
  name: string;
  kind: 'outage' | 'low_pressure';
  since: number;
  planned: boolean;
  cause: string;
  customersAffected: number;
  expectedRestoration?: number;
  plannedOutageId?: string;
  alarmId?: string;
}

export interface KpiSummary {
  alarmsByPriority: { low: number; medium: number; high: number; critical: number };
  areasWithoutWater: number;
  customersWithoutWater: number;
  totalInflowM3h: number;
  qualityCompliancePct: number;
}

export interface AreaInputs {
  topology: Topology;
  /** The alarm manager's open alarms (not closed). */
  openAlarms: readonly AlarmRecord[];
  /** Incidents without an end (outages going on), with the restoration people expect when they said. */
  openIncidents: readonly (Incident & { expectedRestoration?: number })[];
}

export const OUTAGE_TYPES = ['outage'];
export const BURST_TYPES = ['burst'];
export const LOW_PRESSURE_TYPES = ['pressure_low', 'outage_warning'];
export const QUALITY_KINDS = ['chlorine', 'turbidity', 'ph', 'conductivity'] as const;

export const isActive = (a: AlarmRecord) => a.state === 'active-unacknowledged' || a.state === 'active-acknowledged';

const PRECEDENCE: Record<AreaStateName, number> = { normal: 0, low_pressure: 1, burst: 2, outage: 3 };

/** Every DMA of the topology with its state. */
export function dmaStates(input: AreaInputs): DmaState[] {
  const out: DmaState[] = [];
  for (const d of input.topology.dmas.values()) {
    const alarms = input.openAlarms.filter((a) => a.dma === d.id);
    let state = 'normal' as AreaStateName;
    let since: number | undefined;
    const consider = (s: AreaStateName, at: number) => {
      if (PRECEDENCE[s] > PRECEDENCE[state]) { state = s; since = at; }
      else if (s === state && s !== 'normal') since = Math.min(since ?? at, at);
    };
    for (const inc of input.openIncidents) if (inc.dma === d.id && inc.end === undefined) consider('outage', inc.start);
    for (const a of alarms) {
      if (!isActive(a)) continue;
      if (OUTAGE_TYPES.includes(a.type)) consider('outage', a.conditionSince);
      else if (BURST_TYPES.includes(a.type)) consider('burst', a.conditionSince);
      else if (LOW_PRESSURE_TYPES.includes(a.type)) consider('low_pressure', a.conditionSince);
      // a burst's pressure drops below the minimum are its secondaries: the area still has low pressure
      for (const s of a.secondaries) if (s.active && LOW_PRESSURE_TYPES.includes(s.type) && (s.dma ?? a.dma) === d.id) consider('low_pressure', s.firstTs);
    }
    const incident = input.openIncidents.find((i) => i.dma === d.id && i.end === undefined);
    const customersAffected = state === 'outage' ? incident?.customersAffected ?? d.customers : state === 'low_pressure' ? d.customers : 0;
    out.push({
      dma: d.id, name: d.name ?? d.id, state, openAlarms: alarms.length, customers: d.customers, customersAffected,
      ...(since !== undefined ? { since } : {}),
    });
  }
  return out;
}

/** Areas without water or with low pressure now, and planned outages whose window holds `now`. */
export function currentOutages(input: AreaInputs & { planned: readonly PlannedOutage[]; now: number }): CurrentOutage[] {
  const states = dmaStates(input);
  const out: CurrentOutage[] = [];
  const plannedFor = (dma: string, ts: number) => input.planned.find((p) => p.dmas.includes(dma) && p.start <= ts + 3_600_000 && p.end >= ts);
  for (const s of states) {
    if (s.state !== 'outage' && s.state !== 'low_pressure') continue;
    const since = s.since ?? input.now;
    const incident = input.openIncidents.find((i) => i.dma === s.dma && i.end === undefined);
    const alarm = input.openAlarms.find((a) => a.dma === s.dma && isActive(a)
      && (s.state === 'outage' ? OUTAGE_TYPES.includes(a.type) : LOW_PRESSURE_TYPES.includes(a.type)));
    const planned = incident?.plannedOutageId ? input.planned.find((p) => p.id === incident.plannedOutageId) : plannedFor(s.dma, since);
    const evidenceCause = typeof alarm?.evidence?.cause === 'string' ? alarm.evidence.cause : undefined;
    out.push({
      dma: s.dma, name: s.name, kind: s.state === 'outage' ? 'outage' : 'low_pressure', since,
      planned: !!planned && (incident ? incident.planned : true),
      cause: incident?.cause ?? planned?.cause ?? evidenceCause ?? (s.state === 'low_pressure' ? 'low_pressure' : 'unknown'),
      customersAffected: s.customersAffected,
      ...(planned ? { expectedRestoration: planned.end, plannedOutageId: planned.id } : {}),
      // what the dispatcher or customer service told customers wins over the planned window
      ...(incident?.expectedRestoration !== undefined ? { expectedRestoration: incident.expectedRestoration } : {}),
      ...(alarm ? { alarmId: alarm.id } : {}),
    });
  }
  // planned works going on where no outage has been detected (yet): customer service still says so
  for (const p of input.planned) {
    if (!(p.start <= input.now && input.now < p.end)) continue;
    for (const dma of p.dmas) {
      if (out.some((o) => o.dma === dma)) continue;
      const d = input.topology.dmas.get(dma);
      out.push({
        dma, name: d?.name ?? dma, kind: 'outage', since: p.start, planned: true, cause: p.cause,
        customersAffected: d?.customers ?? 0, expectedRestoration: p.end, plannedOutageId: p.id,
      });
    }
  }
  return out.sort((a, b) => a.since - b.since || a.dma.localeCompare(b.dma));
}

/** Sensors whose flow is the water put into the network: plant outlets, else the DMAs' net inflows. */
export function inflowTerms(topology: Topology): { sensor: string; sign: number }[] {
  const outlets = [...topology.sensors.values()].filter((s) => s.kind === 'flow' && s.place === 'plant-outlet');
  if (outlets.length) return outlets.map((s) => ({ sensor: s.id, sign: 1 }));
  const terms = new Map<string, number>();
  for (const d of topology.dmas.values()) {
    for (const s of d.inlets) terms.set(s, (terms.get(s) ?? 0) + 1);
    for (const s of d.outlets) terms.set(s, (terms.get(s) ?? 0) - 1);
  }
  return [...terms].filter(([, sign]) => sign !== 0).map(([sensor, sign]) => ({ sensor, sign }));
}

/** The live tiles. `latestFlows`: the latest value of each inflow term's sensor (m³/h). */
export function kpiSummary(input: AreaInputs & { latestFlows: ReadonlyMap<string, number> }): KpiSummary {
  const alarmsByPriority = { low: 0, medium: 0, high: 0, critical: 0 };
  for (const a of input.openAlarms) {
    if (isActive(a) && !a.shelved && !a.suppressed && !a.parentAlarmId) alarmsByPriority[a.priority]++;
  }
  const states = dmaStates(input);
  const without = states.filter((s) => s.state === 'outage');
  let totalInflowM3h = 0;
  for (const t of inflowTerms(input.topology)) totalInflowM3h += t.sign * (input.latestFlows.get(t.sensor) ?? 0);
  const qualitySensors = [...input.topology.sensors.values()].filter((s) => (QUALITY_KINDS as readonly string[]).includes(s.kind));
  const failing = new Set(input.openAlarms.filter((a) => isActive(a) && a.type.startsWith('quality_') && a.sensor).map((a) => a.sensor!));
  const compliant = qualitySensors.filter((s) => !failing.has(s.id)).length;
  return {
    alarmsByPriority,
    areasWithoutWater: without.length,
    customersWithoutWater: without.reduce((n, s) => n + s.customersAffected, 0),
    totalInflowM3h: Math.round(totalInflowM3h * 10) / 10,
    qualityCompliancePct: qualitySensors.length ? Math.round((1000 * compliant) / qualitySensors.length) / 10 : 100,
  };
}

/** The derivations bound to a running platform; analytics may be absent or not started yet. */
export class AreaStateService {
  constructor(private readonly o: { topology: Topology; store: TimeSeriesStore; analytics: () => AnalyticsService | undefined }) {}

  /** Event time: the alarm manager's clock once it runs, else the wall clock. */
  now(): number {
    const t = this.o.analytics()?.alarms?.eventTime;
    return t !== undefined && Number.isFinite(t) ? t : Date.now();
  }

  inputs(): AreaInputs {
    const a = this.o.analytics();
    const openAlarms = a?.alarms ? a.alarms.openAlarms() : [];
    const openIncidents = a?.register ? a.register.book.list(this.now(), Infinity, { kind: 'outage' }).filter((i) => i.end === undefined) : [];
    return { topology: this.o.topology, openAlarms, openIncidents };
  }

  dmaStates(): DmaState[] {
    return dmaStates(this.inputs());
  }

  currentOutages(planned?: readonly PlannedOutage[]): CurrentOutage[] {
    const now = this.now();
    const list = planned ?? this.o.analytics()?.register?.listPlanned(now - 86_400_000, now + 86_400_000) ?? [];
    return currentOutages({ ...this.inputs(), planned: list, now });
  }

  async kpiSummary(): Promise<KpiSummary> {
    const terms = inflowTerms(this.o.topology);
    const latest = terms.length ? await this.o.store.latest('flow', terms.map((t) => t.sensor)).catch(() => []) : [];
    return kpiSummary({ ...this.inputs(), latestFlows: new Map(latest.map((l) => [l.sensor, l.value])) });
  }
}
