/**
 * Customer service's workspace (issue #14.2): the meter anomalies with their customer, evidence and
 * case (called the customer, field visit requested, closed with a reason), and a page per customer
 * (consumption, anomalies, the outages and low-pressure periods that reached them with their
 * minutes, the notices they were sent).
 */
import { z } from 'zod';
import type { CustomerCase as ServerCase, CaseEvent as ServerCaseEvent } from '../server/state/customer-cases.ts';
import { endpoint, epochMs, id, text, type Equal, type Expect } from './common.ts';
import { alarmRecord } from './alarms.ts';
import { incidentRecord } from './incidents.ts';

/** The alarm types of the meter-anomaly detector (analytics/detectors/meters). */
export const METER_ANOMALY_TYPES = ['meter_backwards', 'meter_zero_use', 'meter_high_use', 'meter_continuous_use'] as const;
/** A case's states, in the order they are usually reached (state/customer-cases.ts has the machine). */
export const CASE_STATES = ['open', 'contacted', 'visit_requested', 'closed'] as const;
export const CASE_ACTIONS = ['call', 'field_visit', 'close'] as const;
/** Why a case was closed: the use was real, a leak behind the meter was fixed, the meter replaced, a misread, an empty property, other (say what). */
export const CLOSE_REASONS = ['legitimate_use', 'leak_fixed', 'meter_replaced', 'misread', 'vacant', 'other'] as const;

export const caseState = z.enum(CASE_STATES);
export const caseAction = z.enum(CASE_ACTIONS);
export const closeReason = z.enum(CLOSE_REASONS);
export type CaseState = z.infer<typeof caseState>;
export type CaseAction = z.infer<typeof caseAction>;
export type CloseReason = z.infer<typeof closeReason>;

export const caseEvent = z.strictObject({
  at: epochMs, by: z.string(), action: caseAction, note: z.string(), reason: closeReason.optional(),
  /** The case's state after the action. */
  state: caseState,
});
export type CaseEvent = z.infer<typeof caseEvent>;

export const customerCase = z.strictObject({
  alarmId: z.string(), meter: z.string(), state: caseState, closeReason: closeReason.optional(),
  updatedAt: epochMs, updatedBy: z.string(), history: z.array(caseEvent),
});
export type CustomerCase = z.infer<typeof customerCase>;

export type CustomersMatchServer = [
  Expect<Equal<CustomerCase, ServerCase>>,
  Expect<Equal<CaseEvent, ServerCaseEvent>>,
];

/** Who a meter belongs to, and where. */
export const customerRef = z.strictObject({
  account: z.string(), meter: z.string(), address: z.string(), dma: z.string(), dmaName: z.string(),
  /** For the call (E.164); absent when the customer gave none. */
  phone: z.string().optional(),
});
export type CustomerRef = z.infer<typeof customerRef>;

export const meterAnomaly = z.strictObject({
  alarm: alarmRecord,
  customer: customerRef,
  /** `open` until the first action. */
  state: caseState,
  case: customerCase.optional(),
});
export type MeterAnomaly = z.infer<typeof meterAnomaly>;

export const meterAnomalyDetail = z.strictObject({
  anomaly: meterAnomaly,
  /** The meter's register (m³) around the anomaly, from the store: [ms, m³]. */
  readings: z.array(z.tuple([epochMs, z.number()])),
  window: z.strictObject({ from: epochMs, to: epochMs }),
});
export type MeterAnomalyDetail = z.infer<typeof meterAnomalyDetail>;

/** Use between two readings, or over a day of the site's calendar. `m3` is null over the interval where the register was reset or replaced. */
export const consumptionRow = z.strictObject({ from: epochMs, to: epochMs, m3: z.number().nullable(), m3PerDay: z.number().nullable() });
export type ConsumptionRow = z.infer<typeof consumptionRow>;

export const customerIncident = z.strictObject({
  incident: incidentRecord,
  /** The customer's meters it reached. */
  meters: z.array(z.string()),
  /** Clipped to the page's period. */
  from: epochMs, to: epochMs, minutes: z.number(),
  /** False when a drawn polygon limited the incident and the meter has no position to place it by (counted as reached). */
  placed: z.boolean(),
});
export type CustomerIncident = z.infer<typeof customerIncident>;

export const customerNoticeRow = z.strictObject({
  id: z.string(), kind: z.enum(['planned', 'sudden']), plannedOutageId: z.string().optional(), incidentId: z.string().optional(),
  createdAt: epochMs, sentAt: epochMs.optional(),
  sms: z.strictObject({ 'zh-CN': z.string(), en: z.string() }),
  /** The SMS to this customer; absent when they have no phone number (told by the website and community notice). */
  delivery: z.strictObject({ meter: z.string(), state: z.enum(['queued', 'sent', 'failed']), updatedAt: epochMs }).optional(),
});
export type CustomerNoticeRow = z.infer<typeof customerNoticeRow>;

export const customerPage = z.strictObject({
  account: z.string(),
  meters: z.array(customerRef.extend({ active: z.boolean(), large: z.boolean() })),
  from: epochMs, to: epochMs,
  consumption: z.strictObject({
    /** Per day of the site's calendar when the meter is read daily or more often, else per reading interval. */
    step: z.enum(['day', 'reading']),
    /** Per meter. */
    series: z.array(z.strictObject({ meter: z.string(), rows: z.array(consumptionRow) })),
    totalM3: z.number(),
  }),
  anomalies: z.array(meterAnomaly),
  incidents: z.array(customerIncident),
  /** Minutes without water and on low pressure in the period, overlapping incidents counted once. */
  minutes: z.strictObject({ outage: z.number(), low_pressure: z.number() }),
  notices: z.array(customerNoticeRow),
});
export type CustomerPage = z.infer<typeof customerPage>;

export const customers = {
  anomalies: endpoint({
    method: 'GET', url: '/meter-anomalies', tags: ['customers'], summary: 'Meter anomalies with their customer and case (status: to_handle, the cases not closed, by default; closed; all)',
    permission: 'customers.read', querystring: z.strictObject({ status: z.enum(['to_handle', 'closed', 'all']).optional() }), response: z.array(meterAnomaly),
  }),
  anomaly: endpoint({
    method: 'GET', url: '/meter-anomalies/:id', tags: ['customers'], summary: 'One meter anomaly with its case history and the meter\'s readings around it',
    permission: 'customers.read', params: z.strictObject({ id }), response: meterAnomalyDetail,
  }),
  act: endpoint({
    method: 'POST', url: '/meter-anomalies/:id/actions', tags: ['customers'], summary: 'Record a call (with a note), request a field visit, or close the case with a reason',
    permission: 'customers.act', params: z.strictObject({ id }),
    body: z.strictObject({ action: caseAction, note: text(2000).optional(), reason: closeReason.optional() }), response: meterAnomalyDetail,
  }),
  page: endpoint({
    method: 'GET', url: '/customers/:account', tags: ['customers'], summary: 'A customer\'s page: consumption, anomalies, outage and low-pressure minutes, notices (default: the last 90 days)',
    permission: 'customers.read', params: z.strictObject({ account: id }), querystring: z.strictObject({ from: epochMs.optional(), to: epochMs.optional() }), response: customerPage,
  }),
};
