/**
 * The complaint ledger (issue #14.2): complaints from the hotline 12345, the utility's own line and
 * the channels the config names, linked to an area and an incident, followed to closure; and the
 * counts per channel and category for a period (the quarterly disclosure's figures).
 */
import { z } from 'zod';
import {
  COMPLAINT_CATEGORIES, COMPLAINT_STATUSES, type Complaint as ServerComplaint, type ComplaintChange as ServerComplaintChange,
  type ComplaintCounts as ServerComplaintCounts,
} from '../server/state/complaints.ts';
import { endpoint, epochMs, idParams, text, type Equal, type Expect } from './common.ts';

export const complaintCategory = z.enum(COMPLAINT_CATEGORIES);
export type ComplaintCategory = z.infer<typeof complaintCategory>;
export const complaintStatus = z.enum(COMPLAINT_STATUSES);
export type ComplaintStatus = z.infer<typeof complaintStatus>;
const channelId = z.string().regex(/^[a-z0-9_]{1,32}$/);

export const complaint = z.strictObject({
  id: z.string(), channel: z.string(), receivedAt: epochMs,
  customer: z.string().optional(), address: z.string().optional(), contact: z.string().optional(),
  category: complaintCategory, text: z.string(), dma: z.string().optional(), incidentId: z.string().optional(),
  assignee: z.string().optional(), status: complaintStatus, resolution: z.string().optional(), closedAt: epochMs.optional(),
  createdAt: epochMs, createdBy: z.string(), updatedAt: epochMs, updatedBy: z.string(),
});
export type Complaint = z.infer<typeof complaint>;

export const complaintChange = z.strictObject({
  complaintId: z.string(), at: epochMs, by: z.string(), action: z.enum(['create', 'edit', 'start', 'close', 'reopen']),
  /** Field → [before, after]. */
  changes: z.record(z.string(), z.tuple([z.unknown(), z.unknown()])),
  note: z.string().optional(),
});
export type ComplaintChange = z.infer<typeof complaintChange>;

export const complaintDetail = z.strictObject({ complaint, history: z.array(complaintChange) });
export type ComplaintDetail = z.infer<typeof complaintDetail>;

export const complaintCounts = z.strictObject({
  from: epochMs, to: epochMs, total: z.number(), closed: z.number(), unresolved: z.number(),
  byChannel: z.record(z.string(), z.number()),
  byCategory: z.strictObject(Object.fromEntries(COMPLAINT_CATEGORIES.map((c) => [c, z.number()])) as Record<ComplaintCategory, z.ZodNumber>),
});
export type ComplaintCounts = z.infer<typeof complaintCounts>;

export type ComplaintsMatchServer = [
  Expect<Equal<Complaint, ServerComplaint>>,
  Expect<Equal<ComplaintChange, ServerComplaintChange>>,
  Expect<Equal<ComplaintCounts, ServerComplaintCounts>>,
];

/** The ledger's channels (built-in ones have no name: the web app names them in the user's language). */
export const complaintChannels = z.array(z.strictObject({ id: z.string(), name: z.string().optional() }));

const optionalText = (max: number) => text(max).optional();
/** `null` or the value, null first (fastify's ajv coerces: with the value first a null would become ''). */
const clearable = (max: number) => z.union([z.null(), text(max)]).optional();

export const newComplaint = z.strictObject({
  channel: channelId, receivedAt: epochMs, category: complaintCategory, text: text(4000, 1),
  customer: optionalText(128), address: optionalText(300), contact: optionalText(200),
  dma: optionalText(128), incidentId: optionalText(256), assignee: optionalText(128),
});

export const complaintPatch = z.strictObject({
  channel: channelId.optional(), receivedAt: epochMs.optional(), category: complaintCategory.optional(), text: text(4000, 1).optional(),
  customer: clearable(128), address: clearable(300), contact: clearable(200), dma: clearable(128), incidentId: clearable(256), assignee: clearable(128),
});

const listQuery = z.strictObject({
  from: epochMs.optional(), to: epochMs.optional(), status: complaintStatus.optional(), channel: channelId.optional(),
  category: complaintCategory.optional(), customer: text(128).optional(), incidentId: text(256).optional(), dma: text(128).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});

export const complaints = {
  list: endpoint({
    method: 'GET', url: '/complaints', tags: ['complaints'], summary: 'Complaints, newest received first (filter by period, status, channel, category, customer, incident, area)',
    permission: 'customers.read', querystring: listQuery, response: z.array(complaint),
  }),
  channels: endpoint({
    method: 'GET', url: '/complaints/channels', tags: ['complaints'], summary: 'The channels a complaint may come from',
    response: complaintChannels,
  }),
  counts: endpoint({
    method: 'GET', url: '/complaints/counts', tags: ['complaints'], summary: 'Counts per channel and category of the complaints received in a period (default: the current quarter)',
    querystring: z.strictObject({ from: epochMs.optional(), to: epochMs.optional() }), response: complaintCounts,
  }),
  get: endpoint({
    method: 'GET', url: '/complaints/:id', tags: ['complaints'], summary: 'One complaint with its history',
    permission: 'customers.read', params: idParams, response: complaintDetail,
  }),
  create: endpoint({
    method: 'POST', url: '/complaints', tags: ['complaints'], summary: 'Record a complaint', permission: 'complaints.edit',
    body: newComplaint, status: 201, response: complaintDetail,
  }),
  update: endpoint({
    method: 'PATCH', url: '/complaints/:id', tags: ['complaints'], summary: 'Correct a complaint, link it to an area or incident, assign it', permission: 'complaints.edit',
    params: idParams, body: complaintPatch, response: complaintDetail,
  }),
  setStatus: endpoint({
    method: 'POST', url: '/complaints/:id/status', tags: ['complaints'], summary: 'Start, close (with a resolution) or reopen (with a reason) a complaint', permission: 'complaints.edit',
    params: idParams, body: z.strictObject({ status: complaintStatus, resolution: text(2000).optional(), note: text(2000).optional() }),
    response: complaintDetail,
  }),
};
