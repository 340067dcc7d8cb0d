/**
 * What every endpoint of the contract is built from: the endpoint record, the small schemas the
 * routes share (ids, event times), the error body and its codes with their HTTP status.
 */
import { z } from 'zod';
import type { DomainErrorCode } from '../../core/errors.ts';
import type { Role } from '../server/state/users.ts';

/** Epoch milliseconds (UTC); the browser formats them in the site's time zone. */
export const epochMs = z.number().int().min(0).max(8_640_000_000_000_000);
export const id = z.string().min(1).max(256);
export const text = (maxLength = 200, minLength = 0) => z.string().min(minLength).max(maxLength);
/** `{ id }` path parameters. */
export const idParams = z.strictObject({ id });
export const ok = z.strictObject({ ok: z.literal(true) });

/** Who may do what: the one table the server's role checks and the web app's buttons come from. */
export const PERMISSIONS = {
  'alarms.ack': ['admin', 'dispatcher'],
  'alarms.shelve': ['admin', 'dispatcher'],
  /** Accepting a raised leak (slow, abrupt, night-flow's new leak) as a real change of use: the detector re-bases on it (issue #12.4). */
  'leaks.accept': ['admin', 'dispatcher'],
  'outages.edit': ['admin', 'dispatcher', 'customer_service'],
  /** Approving a planned outage, which then suppresses the dispatchers' pressure alarms in its areas
   *  and is published (review F18); an entry by a role with it is approved as it is made. */
  'outages.approve': ['admin', 'dispatcher'],
  /** Approving and sending customer notices (the seeds: a planned stop needs approval). */
  'notices.approve': ['admin', 'dispatcher'],
  /** Reading customers' names, accounts and addresses: the lookup, a customer's page, meter-anomaly
   *  cases, complaints (review L5: the viewer role sees the network, not the people). */
  'customers.read': ['admin', 'dispatcher', 'customer_service'],
  /** Handling meter-anomaly cases (calls, field visits, closing). */
  'customers.act': ['admin', 'customer_service'],
  'workorders.edit': ['admin', 'dispatcher', 'maintenance'],
  /** Recording and handling complaints in the ledger. */
  'complaints.edit': ['admin', 'customer_service'],
  /** Customers' compensation statements (amounts owed to named accounts). */
  'compensation.read': ['admin', 'customer_service'],
  'users.manage': ['admin'],
  'tokens.manage': ['admin'],
  'audit.read': ['admin'],
  /** Preparing, approving and publishing the quarterly disclosure. */
  'disclosure.manage': ['admin'],
} as const satisfies Record<string, readonly Role[]>;
export type Permission = keyof typeof PERMISSIONS;
export const PERMISSION_NAMES = Object.keys(PERMISSIONS) as [Permission, ...Permission[]];

/**
 * Error codes and their HTTP status. The server maps every refusal to one of these by its code
 * (domain errors carry one, see core/errors.ts), never by the text of its message.
 */
export const ERROR_STATUS = {
  validation: 400,
  bad_request: 400,
  unauthorized: 401,
  bad_credentials: 401,
  csrf: 403,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  internal: 500,
  /** A part of the platform (analytics) does not run in this server process. */
  unavailable: 503,
} as const satisfies Record<DomainErrorCode, number> & Record<string, number>;
export type ErrorCode = keyof typeof ERROR_STATUS;
export const errorCode = z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]);

/**
 * Every refused request: the message names the field and the reason; `field` is that field's path;
 * `rule`, when the refusal is by a rule the dashboard explains in the user's language (PASSWORD_RULES,
 * LIMIT_RULES).
 */
export const errorBody = z.strictObject({
  error: z.strictObject({ code: errorCode, message: z.string(), field: z.string().optional(), rule: z.string().optional() }),
});
export type ErrorBody = z.infer<typeof errorBody>;

/** The rules of a 429 `rate_limited` refusal other than sign-in's: `reports_at_once`, a user's reports being computed at once (dashboard/server/routes/report-slots.ts). */
export const LIMIT_RULES = ['reports_at_once'] as const;

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One route under /api/v1: its input and answer schemas, and who may call it. */
export interface Endpoint {
  method: HttpMethod;
  /** Under /api/v1, with `:name` path parameters. */
  url: string;
  tags: string[];
  summary: string;
  params?: z.ZodType;
  querystring?: z.ZodType;
  body?: z.ZodType;
  /** Status of the successful answer (200 unless said). */
  status?: 200 | 201;
  /** The successful answer's body. */
  response: z.ZodType;
  /** Its content type when it is not JSON (the schema then describes text). */
  contentType?: string;
  /** The permission needed besides being signed in. */
  permission?: Permission;
  /** Reachable without signing in. */
  public?: boolean;
}

export const endpoint = <const E extends Endpoint>(e: E): E => e;

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;
export type ParamsOf<E extends Endpoint> = Out<E['params']>;
export type QueryOf<E extends Endpoint> = Out<E['querystring']>;
export type BodyOf<E extends Endpoint> = Out<E['body']>;
export type ResponseOf<E extends Endpoint> = z.output<E['response']>;

/** Compile-time check that a schema's type is exactly a server type, so neither drifts from the other. */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
export type Expect<T extends true> = T;
