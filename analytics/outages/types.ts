/**
 * The planned outages and outage incidents: what the register (register.ts) stores, the outage
 * detector records and the KPIs (analytics/kpi) count.
 */
/**
 * Cause codes in use. Free text is refused so that the KPI can exclude causes reliably; the list
 * follows 三亚 item 六 (maintenance/retrofit, reduced raw water and power failure can be excluded) and
 * the seeds' list for people correcting a cause (maintenance or renovation, reduced raw water,
 * municipal power failure, burst, third-party damage, other).
 */
export const CAUSE_CODES = [
  'maintenance', 'retrofit', 'repair', 'burst', 'pump_trip', 'power_failure', 'raw_water_shortage',
  'water_quality', 'third_party_damage', 'other', 'unknown',
] as const;
export type CauseCode = (typeof CAUSE_CODES)[number];

/** The public page's reason for a planned outage: a template (review F18), in core/messages/public-reasons.ts. */
import type { PublicReason } from '../../core/messages/public-reasons.ts';
export { PUBLIC_REASONS, type PublicReason } from '../../core/messages/public-reasons.ts';

/**
 * A planned outage entered or re-timed by someone without the dispatcher's authority is `pending`:
 * listed, but it suppresses nothing, classes no outage planned and is neither published nor announced
 * until a dispatcher approves it (review F18).
 */
export const PLANNED_STATUSES = ['pending', 'approved'] as const;
export type PlannedStatus = (typeof PLANNED_STATUSES)[number];

export interface PlannedOutage {
  id: string;
  dmas: string[];
  /** ms, UTC. */
  start: number;
  end: number;
  /** When the affected customers were notified, ms. */
  notifiedAt: number;
  cause: CauseCode;
  /** Free text for the staff (dispatchers, customer service); never published. */
  reason: string;
  /** What the public page shows instead of `reason`. */
  publicReason: PublicReason;
  status: PlannedStatus;
  /** Who entered it or last changed its window or areas (the change an approval is about); absent for the platform's own entries. */
  changedBy?: string;
  /** Who approved it and when (ms); absent while pending, and for entries approved by the upgrade that introduced approval. */
  approvedBy?: string;
  approvedAt?: number;
}

/** The platform's own entries (demo, scenarios, replay copies) are approved unless they say otherwise; the dashboard always says. */
export type PlannedOutageInput = Omit<PlannedOutage, 'id' | 'publicReason' | 'status'> & { id?: string; publicReason?: PublicReason; status?: PlannedStatus };

/** What a change may set; the approval follows from it (updatePlanned) or from approvePlanned. */
export type PlannedOutagePatch = Partial<Pick<PlannedOutage, 'dmas' | 'start' | 'end' | 'notifiedAt' | 'cause' | 'reason' | 'publicReason'>>;

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

/**
 * What the outage detector needs from the register; OutageRegister (register.ts) implements it. The
 * analytics see approved planned outages only: a pending one has no effect until approved.
 */
export interface PlannedOutageLookup {
  /** The approved planned outage of `dma` whose window (widened by `toleranceMs` on each side) holds `ts`. */
  findPlanned(dma: string, ts: number, toleranceMs?: number): PlannedOutage | undefined;
  /** Approved planned outages whose window overlaps [from, to). */
  listPlanned(from: number, to: number): PlannedOutage[];
  isShortNotice(outage: PlannedOutage, minNoticeMs?: number): boolean;
}

export interface IncidentSink {
  recordIncident(incident: Incident): void;
}

/**
 * What an incident is: no water (停水) or supply below the minimum service pressure (供水不足). Only
 * outages count in the outage KPIs; low-pressure periods are kept for compensation.
 */
export const INCIDENT_KINDS = ['outage', 'low_pressure'] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];

/** Where an incident came from: the detectors, or a person (a call from the public, a crew). */
export type IncidentOrigin = 'detected' | 'manual';

/**
 * The part of the area really affected, when not all of it: meters picked from the area's list, or
 * a polygon drawn on the map (in the map's coordinates). The customer count follows from it.
 */
export type AffectedPart =
  | { meters: string[] }
  /** `meters`: the meters inside, selected by the server from their map positions (absent when the area's meters have none). */
  | { polygon: [number, number][]; meters?: string[] };

/** The part as a person gives it: meters picked, or a polygon alone (the server selects its meters). */
export type AffectedPartInput =
  | { meters: string[] }
  | { polygon: [number, number][] };

/**
 * An incident as people work with it: the detected record with their corrections applied (cause,
 * customers from a partial area, restoration times), notes, and its place among merged incidents.
 * `start`, `end`, `cause` and `customersAffected` are the values in force (the KPIs count these);
 * `detected` keeps what the detector recorded.
 */
export interface IncidentRecord extends Incident {
  kind: IncidentKind;
  origin: IncidentOrigin;
  detected: { cause: CauseCode; customersAffected: number; end?: number };
  affectedPart?: AffectedPart;
  /** When supply is expected back (ms), as told to customers. */
  expectedRestoration?: number;
  /** When supply was really back (ms): ends the incident, overriding the detected end. */
  actualRestoration?: number;
  notes: string;
  /** The incident this one was merged into (then it is counted only through that one). */
  mergedInto?: string;
  /** Incidents merged into this one. */
  merged: string[];
  updatedAt?: number;
  updatedBy?: string;
}

/** One change a person (or the system) made to an incident: the incident's history. */
export interface IncidentChange {
  incidentId: string;
  at: number;
  by: string;
  action: 'create' | 'edit' | 'merge' | 'merged_into' | 'split' | 'emergency_supply';
  /** Field → [before, after], for edits. */
  changes: Record<string, [unknown, unknown]>;
  note?: string;
}

/** Measures of an emergency supply (应急供水): water trucks or supply points, with their times. */
export interface EmergencyMeasure {
  kind: 'water_truck' | 'supply_point';
  /** Where (an address, a square), and what (plate, capacity). */
  place: string;
  detail: string;
  from: number;
  to?: number;
}

/** The record an outage reaching 24 h opens (昆明 item 14); open until supply is restored. */
export interface EmergencySupply {
  id: string;
  incidentId: string;
  dma: string;
  openedAt: number;
  closedAt?: number;
  measures: EmergencyMeasure[];
  notes: string;
}
