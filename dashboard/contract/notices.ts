/** Customer notices of outages (停水通知): drafted, approved by a dispatcher, sent by SMS, with a delivery log per customer. */
import { z } from 'zod';
import type { CustomerNotice as ServerNotice, NoticeDelivery as ServerDelivery } from '../server/customer-notices.ts';
import { endpoint, epochMs, id, idParams, type Equal, type Expect } from './common.ts';

const noticeText = z.strictObject({ sms: z.string(), web: z.string() });

export const noticeDelivery = z.strictObject({
  meter: z.string(), customer: z.string(), phone: z.string(),
  state: z.enum(['queued', 'sent', 'failed']), attempts: z.number(), updatedAt: epochMs,
  /** The SMS channel's answer (vendor response body or error), verbatim. */
  answer: z.string().optional(),
});
export type NoticeDelivery = z.infer<typeof noticeDelivery>;

export const customerNotice = z.strictObject({
  id: z.string(),
  /** planned: a planned outage's notice (≥ 24 h ahead); sudden: an unplanned outage's, during the repair. */
  kind: z.enum(['planned', 'sudden']),
  plannedOutageId: z.string().optional(), incidentId: z.string().optional(),
  dmas: z.array(z.string()),
  texts: z.strictObject({ 'zh-CN': noticeText, en: noticeText }),
  createdAt: epochMs, createdBy: z.string(),
  approvedAt: epochMs.optional(), approvedBy: z.string().optional(),
  /** When it was first sent: the 24 h rule counts from here. */
  sentAt: epochMs.optional(), sentBy: z.string().optional(),
  /** Customers of the areas without a phone number (not texted). */
  withoutPhone: z.number(),
  deliveries: z.array(noticeDelivery),
});
export type CustomerNotice = z.infer<typeof customerNotice>;

export type NoticesMatchServer = [
  Expect<Equal<CustomerNotice, ServerNotice>>,
  Expect<Equal<NoticeDelivery, ServerDelivery>>,
];

export const notices = {
  list: endpoint({
    method: 'GET', url: '/notices', tags: ['outages'], summary: 'Customer notices of a planned outage or an incident, with their delivery logs',
    querystring: z.strictObject({ plannedOutageId: id.optional(), incidentId: id.optional() }), response: z.array(customerNotice),
  }),
  create: endpoint({
    method: 'POST', url: '/notices', tags: ['outages'], summary: 'Draft the notice of a planned outage or of a sudden outage under repair (zh-CN and en texts)',
    permission: 'outages.edit', body: z.strictObject({ plannedOutageId: id.optional(), incidentId: id.optional() }), status: 201, response: customerNotice,
  }),
  approve: endpoint({
    method: 'POST', url: '/notices/:id/approve', tags: ['outages'], summary: 'Approve a notice (dispatcher)',
    permission: 'notices.approve', params: idParams, response: customerNotice,
  }),
  send: endpoint({
    method: 'POST', url: '/notices/:id/send', tags: ['outages'], summary: 'Send an approved notice by SMS to the customers with a phone number (again: only to those not reached)',
    permission: 'notices.approve', params: idParams, response: customerNotice,
  }),
};
