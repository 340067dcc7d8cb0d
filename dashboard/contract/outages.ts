/** Outages for customer service: current outages, incidents, planned outages, meter lookup, public feed. */
import { z } from 'zod';
import {
  CAUSE_CODES, PLANNED_STATUSES, PUBLIC_REASONS, type Incident as ServerIncident, type PlannedOutage as ServerPlannedOutage,
} from '../../analytics/outages/register.ts';
import type { CurrentOutage as ServerCurrentOutage } from '../server/area-state.ts';
import type { Notice as ServerNotice } from '../server/notice.ts';
import { endpoint, epochMs, idParams, ok, text, type Equal, type Expect } from './common.ts';
import { dmaStateName } from './network.ts';

export const causeCode = z.enum(CAUSE_CODES);
export type CauseCode = z.infer<typeof causeCode>;

export const currentOutage = z.strictObject({
  dma: z.string(), name: z.string(), kind: z.enum(['outage', 'low_pressure']), since: epochMs, planned: z.boolean(),
  cause: z.string(), customersAffected: z.number(), expectedRestoration: epochMs.optional(),
  plannedOutageId: z.string().optional(), alarmId: z.string().optional(),
});
export type CurrentOutage = z.infer<typeof currentOutage>;

export const incident = z.strictObject({
  /** `<dma>:<start ms>`. */
  id: z.string(), dma: z.string(), start: epochMs, end: epochMs.optional(), customersAffected: z.number(),
  planned: z.boolean(), plannedOutageId: z.string().optional(), cause: causeCode,
});
export type Incident = z.infer<typeof incident>;

/** The public page's reason: a template (core/messages/public-reasons.ts), never the free text (review F18). */
export const publicReason = z.enum(PUBLIC_REASONS);
/** `pending`: entered or re-timed without the dispatcher's authority; suppresses nothing, published and announced only once approved. */
export const plannedStatus = z.enum(PLANNED_STATUSES);

export const plannedOutage = z.strictObject({
  id: z.string(), dmas: z.array(z.string()), start: epochMs, end: epochMs,
  /** When the affected customers were told. */
  notifiedAt: epochMs, cause: causeCode,
  /** Internal description (staff only). */
  reason: z.string(),
  publicReason, status: plannedStatus,
  /** Who entered it or last changed its window or areas. */
  changedBy: z.string().optional(),
  approvedBy: z.string().optional(), approvedAt: epochMs.optional(),
});
export type PlannedOutage = z.infer<typeof plannedOutage>;
export const plannedOutageRow = plannedOutage.extend({ shortNotice: z.boolean() });
export type PlannedOutageRow = z.infer<typeof plannedOutageRow>;

const plannedFields = z.strictObject({
  dmas: z.array(z.string().min(1).max(128)).min(1).max(100), start: epochMs, end: epochMs,
  /** When customers were told by other means. Default: not yet (the start), until the platform's notice is sent (POST /notices). */
  notifiedAt: epochMs.optional(), cause: causeCode, reason: text(500),
  /** What the public page says (default `planned_works`). */
  publicReason: publicReason.optional(),
});
export const plannedOutageInput = plannedFields;
export type PlannedOutageInput = z.infer<typeof plannedOutageInput>;

/** The customer notice texts (Chinese); an SMS segment holds 70 characters. */
export const notice = z.strictObject({ sms: z.string(), web: z.string(), smsSegments: z.number() });
export const plannedOutageSaved = z.strictObject({ outage: plannedOutage, shortNotice: z.boolean(), notice });
export type PlannedOutageSaved = z.infer<typeof plannedOutageSaved>;

export const lookupRow = z.strictObject({
  meter: z.string(), customer: z.string(), address: z.string(), dma: z.string(), dmaName: z.string(), dmaState: dmaStateName,
});
export type LookupRow = z.infer<typeof lookupRow>;

/** What the public may see: area names, times, causes; no customer counts or ids. */
export const publicOutages = z.strictObject({
  site: z.string(), timezone: z.string(), updatedAt: epochMs,
  current: z.array(z.strictObject({ dmaName: z.string(), kind: z.enum(['outage', 'low_pressure']), since: epochMs, expectedRestoration: epochMs.optional(), cause: z.string() })),
  /** Approved planned outages only; the reason is the chosen template in both languages, never the staff's free text. */
  planned: z.array(z.strictObject({
    dmaNames: z.array(z.string()), start: epochMs, end: epochMs, cause: causeCode, publicReason,
    reasonText: z.strictObject({ 'zh-CN': z.string(), en: z.string() }),
  })),
});
export type PublicOutages = z.infer<typeof publicOutages>;

export type OutagesMatchServer = [
  Expect<Equal<CurrentOutage, ServerCurrentOutage>>,
  Expect<Equal<Incident, ServerIncident>>,
  Expect<Equal<PlannedOutage, ServerPlannedOutage>>,
  Expect<Equal<z.infer<typeof notice>, ServerNotice>>,
];

const period = z.strictObject({ from: epochMs.optional(), to: epochMs.optional() });

export const outages = {
  current: endpoint({ method: 'GET', url: '/outages/current', tags: ['outages'], summary: 'Areas without water or with low pressure now', response: z.array(currentOutage) }),
  incidents: endpoint({
    method: 'GET', url: '/incidents', tags: ['outages'], summary: 'Outage incidents (default: the last 30 days)',
    querystring: period, response: z.array(incident),
  }),
  listPlanned: endpoint({
    method: 'GET', url: '/planned-outages', tags: ['outages'], summary: 'Planned outages with the short-notice flag (default: from 7 days ago)',
    querystring: period, response: z.array(plannedOutageRow),
  }),
  createPlanned: endpoint({
    method: 'POST', url: '/planned-outages', tags: ['outages'], summary: 'Enter a planned outage (notice texts in Chinese)', permission: 'outages.edit',
    body: plannedFields, status: 201, response: plannedOutageSaved,
  }),
  updatePlanned: endpoint({
    method: 'PUT', url: '/planned-outages/:id', tags: ['outages'], summary: 'Change a planned outage', permission: 'outages.edit',
    params: idParams, body: plannedFields.partial(), response: plannedOutageSaved,
  }),
  approvePlanned: endpoint({
    method: 'POST', url: '/planned-outages/:id/approve', tags: ['outages'], permission: 'outages.approve',
    summary: 'Approve a pending planned outage: from now on it suppresses its areas\' pressure alarms and is published (not by whoever made the pending change, unless admin)',
    /** The window and areas the approver saw: a change made since is not approved unseen (409). */
    params: idParams, body: z.strictObject({ dmas: z.array(z.string().min(1).max(128)).min(1).max(100), start: epochMs, end: epochMs }),
    response: plannedOutageSaved,
  }),
  deletePlanned: endpoint({
    method: 'DELETE', url: '/planned-outages/:id', tags: ['outages'], summary: 'Delete a planned outage', permission: 'outages.edit',
    params: idParams, response: ok,
  }),
  lookup: endpoint({
    method: 'GET', url: '/lookup', tags: ['outages'], summary: 'Find a meter by id, account or part of an address (at most 50)',
    permission: 'customers.read', querystring: z.strictObject({ q: text(200, 2) }), response: z.array(lookupRow),
  }),
  publicFeed: endpoint({
    method: 'GET', url: '/public/outages', tags: ['public'], summary: 'Public outage feed (no customer data)', public: true,
    response: publicOutages,
  }),
};
