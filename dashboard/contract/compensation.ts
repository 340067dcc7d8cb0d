/**
 * Compensation statements (issue #14.3): per customer or per area for a period, under the config's
 * `compensation:` rules (analytics/kpi/compensation.ts explains the counting); as JSON, CSV or a
 * printable HTML page.
 */
import { z } from 'zod';
import type { CompensationLine as ServerLine, CompensationTotals as ServerTotals } from '../../analytics/kpi/compensation.ts';
import type { AreaStatement as ServerAreaStatement, CustomerStatement as ServerCustomerStatement } from '../server/compensation-statements.ts';
import { endpoint, epochMs, text, type Equal, type Expect } from './common.ts';
import { incidentKind } from './incidents.ts';

const rate = z.strictObject({ amount: z.number(), per: z.enum(['minute', 'hour']) });
export const compensationRules = z.strictObject({
  currency: z.string(),
  outage: z.strictObject({ rate, minimumMinutes: z.number() }),
  lowPressure: z.strictObject({ rate, minimumMinutes: z.number() }),
  plannedWithNotice: z.strictObject({ noticeHours: z.number(), rate }).optional(),
  excludeCauses: z.array(z.string()),
});
export type CompensationRules = z.infer<typeof compensationRules>;

export const compensationLine = z.strictObject({
  incidentId: z.string(), dma: z.string(), kind: incidentKind, start: epochMs, end: epochMs.optional(), cause: z.string(), planned: z.boolean(),
  partial: z.enum(['meters', 'polygon']).optional(), basis: z.enum(['outage', 'low_pressure', 'planned_notice']), ratePerHour: z.number(),
  minutes: z.number(), excluded: z.boolean(), minimumMinutes: z.number(), overlapMinutes: z.number(), paidMinutes: z.number(), amount: z.number(),
});
export type CompensationLine = z.infer<typeof compensationLine>;

export const compensationTotals = z.strictObject({
  affectedMinutes: z.number(), paidOutageMinutes: z.number(), paidLowPressureMinutes: z.number(), excludedMinutes: z.number(), amount: z.number(),
});
export type CompensationTotals = z.infer<typeof compensationTotals>;

export const customerStatement = z.strictObject({
  customer: z.string(), address: z.string().optional(),
  meters: z.array(z.strictObject({ id: z.string(), dma: z.string().optional(), address: z.string().optional() })),
  from: epochMs, to: epochMs, asOf: epochMs, currency: z.string(), lines: z.array(compensationLine), totals: compensationTotals,
});
export type CustomerStatement = z.infer<typeof customerStatement>;

export const areaStatement = z.strictObject({
  dma: z.string(), from: epochMs, to: epochMs, asOf: epochMs, currency: z.string(), statements: z.array(customerStatement),
  totals: z.strictObject({ customers: z.number(), affectedCustomers: z.number(), amount: z.number() }),
});
export type AreaStatement = z.infer<typeof areaStatement>;

export type CompensationMatchesServer = [
  Expect<Equal<CompensationLine, ServerLine>>,
  Expect<Equal<CompensationTotals, ServerTotals>>,
  Expect<Equal<CustomerStatement, ServerCustomerStatement>>,
  Expect<Equal<AreaStatement, ServerAreaStatement>>,
];

/** A period (default: the current quarter in the site's time zone) and a customer or an area. */
const statementQuery = z.strictObject({
  from: epochMs.optional(), to: epochMs.optional(), customer: text(128, 1).optional(), dma: text(128, 1).optional(),
});
const customerQuery = z.strictObject({ from: epochMs.optional(), to: epochMs.optional(), customer: text(128, 1) });
const areaQuery = z.strictObject({ from: epochMs.optional(), to: epochMs.optional(), dma: text(128, 1) });

export const compensation = {
  rules: endpoint({
    method: 'GET', url: '/compensation/rules', tags: ['compensation'], summary: 'The compensation rules in force (config compensation:)', permission: 'compensation.read',
    response: compensationRules,
  }),
  customer: endpoint({
    method: 'GET', url: '/compensation/customer', tags: ['compensation'], summary: 'A customer\'s compensation statement for a period', permission: 'compensation.read',
    querystring: customerQuery, response: customerStatement,
  }),
  area: endpoint({
    method: 'GET', url: '/compensation/area', tags: ['compensation'], summary: 'The statements of every customer of an area for a period', permission: 'compensation.read',
    querystring: areaQuery, response: areaStatement,
  }),
  csv: endpoint({
    method: 'GET', url: '/compensation/statement.csv', tags: ['compensation'], summary: 'A customer\'s or an area\'s statements as CSV (UTF-8 with BOM, cells formula-neutralised)',
    permission: 'compensation.read', querystring: statementQuery, response: z.string(), contentType: 'text/csv; charset=utf-8',
  }),
  html: endpoint({
    method: 'GET', url: '/compensation/statement.html', tags: ['compensation'], summary: 'A customer\'s or an area\'s statements as a printable page',
    permission: 'compensation.read', querystring: statementQuery, response: z.string(), contentType: 'text/html; charset=utf-8',
  }),
};
