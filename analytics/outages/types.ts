/**
 * The planned outages and outage incidents: what the register (register.ts) stores, the outage
 * detector records and the KPIs (analytics/kpi) count.
 */
/**
 * Cause codes in use. Free text is refused so that the KPI can exclude causes reliably; the list
 * follows 三亚 item 六 (maintenance/retrofit, reduced raw water and power failure can be excluded).
 */
export const CAUSE_CODES = [
  'maintenance', 'retrofit', 'repair', 'burst', 'pump_trip', 'power_failure', 'raw_water_shortage',
  'water_quality', 'third_party_damage', 'unknown',
] as const;
export type CauseCode = (typeof CAUSE_CODES)[number];

export interface PlannedOutage {
  id: string;
  dmas: string[];
  /** ms, UTC. */
  start: number;
  end: number;
  /** When the affected customers were notified, ms. */
  notifiedAt: number;
  cause: CauseCode;
  reason: string;
}

export type PlannedOutageInput = Omit<PlannedOutage, 'id'> & { id?: string };

/** One outage of one area, as the outage detector or a planner recorded it. */
export interface Incident {
  /** Stable: `<dma>:<start ms>`, so recording the same incident again (replay, restart) overwrites. */
  id: string;
  dma: string;
  /** ms, UTC. */
  start: number;
  /** ms, UTC; absent while the outage lasts. */
  end?: number;
  customersAffected: number;
  planned: boolean;
  plannedOutageId?: string;
  cause: CauseCode;
}

/** What the outage detector needs from the register; OutageRegister (register.ts) implements it. */
export interface PlannedOutageLookup {
  /** The planned outage of `dma` whose window (widened by `toleranceMs` on each side) holds `ts`. */
  findPlanned(dma: string, ts: number, toleranceMs?: number): PlannedOutage | undefined;
  /** Planned outages whose window overlaps [from, to). */
  listPlanned(from: number, to: number): PlannedOutage[];
  isShortNotice(outage: PlannedOutage, minNoticeMs?: number): boolean;
}

export interface IncidentSink {
  recordIncident(incident: Incident): void;
}
