/**
 * Incidents people work with (issue #14.1): the records with corrections, history, manual entry,
 * merge and split, emergency supply; and the audit log of every change (#14.5, admins).
 */
import { z } from 'zod';
import {
  INCIDENT_KINDS, type EmergencySupply as ServerEmergencySupply, type IncidentChange as ServerIncidentChange,
  type IncidentRecord as ServerIncidentRecord,
} from '../../analytics/outages/types.ts';
import type { AuditEntry as ServerAuditEntry } from '../server/state/audit-log.ts';
import { endpoint, epochMs, id, idParams, text, type Equal, type Expect } from './common.ts';
import { causeCode } from './outages.ts';

export const incidentKind = z.enum(INCIDENT_KINDS);
export type IncidentKind = z.infer<typeof incidentKind>;

const point = z.tuple([z.number(), z.number()]);
const meterIds = z.array(z.string().min(1).max(128)).max(10_000);
const polygon = z.array(point).min(3).max(500);
/** Meters picked from the area's list, or a polygon drawn on the map (map coordinates), as a person gives it. */
export const affectedPartInput = z.union([
  z.strictObject({ meters: meterIds.min(1) }),
  z.strictObject({ polygon }),
]);
/** The part as stored: a polygon with the meters inside it that the server selected (when meters have positions). */
export const affectedPart = z.union([
  z.strictObject({ meters: meterIds.min(1) }),
  z.strictObject({ polygon, meters: meterIds.optional() }),
]);
export type AffectedPart = z.infer<typeof affectedPart>;

export const incidentRecord = z.strictObject({
  id: z.string(), dma: z.string(), start: epochMs, end: epochMs.optional(), customersAffected: z.number(),
  planned: z.boolean(), plannedOutageId: z.string().optional(), cause: causeCode,
  kind: incidentKind, origin: z.enum(['detected', 'manual']),
  /** What the detector recorded, before people's corrections. */
  detected: z.strictObject({ cause: causeCode, customersAffected: z.number(), end: epochMs.optional() }),
  affectedPart: affectedPart.optional(),
  expectedRestoration: epochMs.optional(), actualRestoration: epochMs.optional(),
  notes: z.string(), mergedInto: z.string().optional(), merged: z.array(z.string()),
  updatedAt: epochMs.optional(), updatedBy: z.string().optional(),
});
export type IncidentRecord = z.infer<typeof incidentRecord>;

export const incidentChange = z.strictObject({
  incidentId: z.string(), at: epochMs, by: z.string(),
  action: z.enum(['create', 'edit', 'merge', 'merged_into', 'split', 'emergency_supply']),
  /** Field → [before, after]. */
  changes: z.record(z.string(), z.tuple([z.unknown(), z.unknown()])),
  note: z.string().optional(),
});
export type IncidentChange = z.infer<typeof incidentChange>;

export const emergencyMeasure = z.strictObject({
  kind: z.enum(['water_truck', 'supply_point']), place: text(200, 1), detail: text(500), from: epochMs, to: epochMs.optional(),
});
export const emergencySupply = z.strictObject({
  id: z.string(), incidentId: z.string(), dma: z.string(), openedAt: epochMs, closedAt: epochMs.optional(),
  measures: z.array(emergencyMeasure), notes: z.string(),
});
export type EmergencySupply = z.infer<typeof emergencySupply>;

export const incidentDetail = z.strictObject({
  incident: incidentRecord, history: z.array(incidentChange), emergencySupply: emergencySupply.optional(),
  /** The area's meters, to pick the part affected or draw around (x, y: map position, when known). */
  meters: z.array(z.strictObject({ id: z.string(), customer: z.string(), address: z.string(), x: z.number().optional(), y: z.number().optional() })),
});
export type IncidentDetail = z.infer<typeof incidentDetail>;

export const auditEntry = z.strictObject({
  seq: z.number(), at: epochMs, username: z.string(), role: z.string(), action: z.string(), target: z.string().optional(),
  details: z.record(z.string(), z.unknown()),
});
export type AuditEntry = z.infer<typeof auditEntry>;

export type IncidentsMatchServer = [
  Expect<Equal<IncidentRecord, ServerIncidentRecord>>,
  Expect<Equal<IncidentChange, ServerIncidentChange>>,
  Expect<Equal<EmergencySupply, ServerEmergencySupply>>,
  Expect<Equal<AuditEntry, ServerAuditEntry>>,
];

/**
 * `null` or the value, null first: fastify's ajv coerces types, and with the value first it would
 * turn a null into 0 (a time at 1970) before trying the null branch.
 */
const nullable = <T extends z.ZodType>(s: T) => z.union([z.null(), s]).optional();

export const incidentPatch = z.strictObject({
  /** `null` takes a correction back (the detected value again). */
  cause: nullable(causeCode),
  /** The part of the area affected; the customer count is recomputed from it. */
  affected: nullable(affectedPartInput),
  customersAffected: nullable(z.number().int().min(0).max(10_000_000)),
  expectedRestoration: nullable(epochMs),
  actualRestoration: nullable(epochMs),
  notes: text(2000).optional(),
});

export const manualIncidentInput = z.strictObject({
  dma: z.string().min(1).max(128), kind: incidentKind.optional(), start: epochMs, end: epochMs.optional(),
  cause: causeCode, customersAffected: z.number().int().min(0).max(10_000_000).optional(),
  expectedRestoration: epochMs.optional(), notes: text(2000).optional(),
});
export type ManualIncidentInput = z.infer<typeof manualIncidentInput>;

const range = z.strictObject({ from: epochMs.optional(), to: epochMs.optional(), kind: incidentKind.optional() });
const auditQuery = z.strictObject({
  from: epochMs.optional(), to: epochMs.optional(), username: text(64).optional(), action: text(100).optional(),
  target: text(256).optional(), limit: z.coerce.number().int().min(1).max(10_000).optional(),
});

export const incidents = {
  records: endpoint({
    method: 'GET', url: '/incidents/records', tags: ['incidents'], summary: 'Incidents with corrections, outages and low pressure (default: the last 30 days)',
    querystring: range, response: z.array(incidentRecord),
  }),
  get: endpoint({
    method: 'GET', url: '/incidents/:id', tags: ['incidents'], summary: 'One incident with its history, emergency supply and the area\'s meters',
    params: idParams, response: incidentDetail,
  }),
  update: endpoint({
    method: 'PATCH', url: '/incidents/:id', tags: ['incidents'], summary: 'Correct an incident (cause, part of the area, restoration, notes)', permission: 'outages.edit',
    params: idParams, body: incidentPatch, response: incidentDetail,
  }),
  create: endpoint({
    method: 'POST', url: '/incidents', tags: ['incidents'], summary: 'Enter an incident by hand (a call from an area without sensors)', permission: 'outages.edit',
    body: manualIncidentInput, status: 201, response: incidentDetail,
  }),
  merge: endpoint({
    method: 'POST', url: '/incidents/:id/merge', tags: ['incidents'], summary: 'Merge other incidents into this one', permission: 'outages.edit',
    params: idParams, body: z.strictObject({ incidents: z.array(id).min(1).max(100) }), response: incidentDetail,
  }),
  split: endpoint({
    method: 'POST', url: '/incidents/:id/split', tags: ['incidents'], summary: 'Split an incident at a time (supply back to part of the area)', permission: 'outages.edit',
    params: idParams, body: z.strictObject({ at: epochMs, customersAfter: z.number().int().min(0).max(10_000_000).optional() }),
    response: z.strictObject({ first: incidentRecord, second: incidentRecord }),
  }),
  emergencySupplies: endpoint({
    method: 'GET', url: '/emergency-supplies', tags: ['incidents'], summary: 'Emergency-supply records (outages of 24 h and more)',
    querystring: z.strictObject({ open: z.enum(['true', 'false']).optional() }), response: z.array(emergencySupply),
  }),
  updateEmergencySupply: endpoint({
    method: 'PATCH', url: '/emergency-supplies/:id', tags: ['incidents'], summary: 'Record the emergency-supply measures (water trucks, supply points)', permission: 'outages.edit',
    params: idParams, body: z.strictObject({ measures: z.array(emergencyMeasure).max(100).optional(), notes: text(2000).optional() }),
    response: emergencySupply,
  }),
  audit: endpoint({
    method: 'GET', url: '/audit', tags: ['admin'], summary: 'Audit log of every change people made (newest first)', permission: 'audit.read',
    querystring: auditQuery, response: z.array(auditEntry),
  }),
  auditCsv: endpoint({
    method: 'GET', url: '/audit.csv', tags: ['admin'], summary: 'Audit log as CSV (UTF-8 with BOM, cells formula-neutralised)', permission: 'audit.read',
    querystring: auditQuery, response: z.string(), contentType: 'text/csv; charset=utf-8',
  }),
};
