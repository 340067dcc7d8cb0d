/**
 * The dashboard's API contract: every route's input and answer schemas (zod), their TypeScript
 * types, the error body and codes, the permissions and the live messages. The server registers its
 * routes from these records (dashboard/server/schemas.ts) and the OpenAPI document at /docs is
 * generated from them; the web app imports the types from here and nothing else of the platform.
 */
import { auth } from './auth.ts';
import { network } from './network.ts';
import { alarms } from './alarms.ts';
import { outages } from './outages.ts';
import { workOrders } from './work-orders.ts';
import { reports } from './reports.ts';
import { admin } from './admin.ts';
import { incidents } from './incidents.ts';
import { notices } from './notices.ts';
import { customers } from './customers.ts';
import { complaints } from './complaints.ts';
import { compensation } from './compensation.ts';
import { disclosures } from './disclosure.ts';
import { leaks } from './leaks.ts';
import type { Endpoint } from './common.ts';

export * from './common.ts';
export * from './auth.ts';
export * from './network.ts';
export * from './alarms.ts';
export * from './outages.ts';
export * from './work-orders.ts';
export * from './reports.ts';
export * from './admin.ts';
export * from './incidents.ts';
export * from './notices.ts';
export * from './customers.ts';
export * from './complaints.ts';
export * from './compensation.ts';
export * from './disclosure.ts';
export * from './live.ts';
export * from './leaks.ts';

/** Every route under /api/v1, by area. */
export const API = { auth, network, alarms, leaks, outages, notices, incidents, customers, complaints, compensation, workOrders, reports, admin, disclosures } satisfies Record<string, Record<string, Endpoint>>;
export const ENDPOINTS: Endpoint[] = Object.values(API).flatMap((area) => Object.values(area));
