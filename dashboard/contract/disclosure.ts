/** The quarterly disclosure (季度公示, issue #14.4): prepared, approved and published by an admin. */
import { z } from 'zod';
import type { Disclosure as ServerDisclosure } from '../server/state/disclosures.ts';
import { DISCLOSURE_STATUSES } from '../server/state/disclosures.ts';
import { endpoint, epochMs, text, type Equal, type Expect } from './common.ts';
import { leakageAssessment } from './reports.ts';

/** `2026-Q3`: a calendar quarter in the site's time zone. */
export const quarter = z.string().regex(/^\d{4}-Q[1-4]$/, 'a quarter such as 2026-Q3');
const quarterParams = z.strictObject({ quarter });

const outageFigure = z.strictObject({ count: z.number(), hours: z.number(), customerHours: z.number() });
const complaintCounts = z.strictObject({
  total: z.number(), closed: z.number(), unresolved: z.number(),
  byChannel: z.record(z.string(), z.number()), byCategory: z.record(z.string(), z.number()),
});

export const disclosureFigures = z.strictObject({
  quarter: z.string(),
  period: z.strictObject({ from: epochMs, to: epochMs, timezone: z.string() }),
  computedAt: epochMs, asOf: epochMs,
  plannedOutages: outageFigure, suddenOutages: outageFigure,
  averageOutageMinutesPerCustomer: z.number().nullable(), averageOutageMinutesAllCauses: z.number().nullable(),
  excludedCauses: z.array(z.string()), customersServed: z.number(),
  leakage: leakageAssessment,
  pressureCompliance: z.strictObject({ share: z.number().nullable(), norm: z.number(), meetsNorm: z.boolean().nullable(), thresholdMpa: z.number() }),
  complaints: complaintCounts.nullable(),
  coverage: z.strictObject({ inflow: z.number(), metersUsed: z.number(), meters: z.number(), pressureSamples: z.number(), pressureSensors: z.number() }),
  notes: z.array(z.string()),
});
export type DisclosureFigures = z.infer<typeof disclosureFigures>;

export const disclosure = z.strictObject({
  quarter: z.string(), status: z.enum(DISCLOSURE_STATUSES), figures: disclosureFigures, remark: z.string().optional(),
  preparedBy: z.string(), preparedAt: epochMs,
  approvedBy: z.string().optional(), approvedAt: epochMs.optional(),
  publishedBy: z.string().optional(), publishedAt: epochMs.optional(),
  pdfSha256: z.string().optional(), jsonSha256: z.string().optional(),
});
export type Disclosure = z.infer<typeof disclosure>;

export type DisclosureMatchesServer = Expect<Equal<Disclosure, ServerDisclosure>>;

export const disclosures = {
  list: endpoint({
    method: 'GET', url: '/disclosures', tags: ['disclosure'], summary: 'Quarterly disclosures, newest quarter first (drafts, approved, published)',
    permission: 'disclosure.manage', response: z.array(disclosure),
  }),
  get: endpoint({
    method: 'GET', url: '/disclosures/:quarter', tags: ['disclosure'], summary: 'One quarter\'s disclosure', permission: 'disclosure.manage',
    params: quarterParams, response: disclosure,
  }),
  prepare: endpoint({
    method: 'POST', url: '/disclosures', tags: ['disclosure'], summary: 'Prepare (or prepare again) a quarter\'s draft: the figures are computed now',
    permission: 'disclosure.manage', body: z.strictObject({ quarter, remark: text(2000).optional() }), response: disclosure,
  }),
  setRemark: endpoint({
    method: 'PATCH', url: '/disclosures/:quarter', tags: ['disclosure'], summary: 'Change the remark of a draft', permission: 'disclosure.manage',
    params: quarterParams, body: z.strictObject({ remark: text(2000) }), response: disclosure,
  }),
  approve: endpoint({
    method: 'POST', url: '/disclosures/:quarter/approve', tags: ['disclosure'], summary: 'Approve a draft for publication', permission: 'disclosure.manage',
    params: quarterParams, response: disclosure,
  }),
  publish: endpoint({
    method: 'POST', url: '/disclosures/:quarter/publish', tags: ['disclosure'],
    summary: 'Publish an approved disclosure of an ended quarter: stored as JSON, HTML and PDF with SHA-256 and time, never changed after',
    permission: 'disclosure.manage', params: quarterParams, response: disclosure,
  }),
};
