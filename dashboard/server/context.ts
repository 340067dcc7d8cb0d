/**
 * What the dashboard's routes share: the platform's parts, the state stores, the signed-in user with
 * the permissions of its role (the table is in the contract), and `ApiError`, a refusal with a code
 * of the contract (the message names the field and the reason).
 */
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../../core/config/load.ts';
import type { Topology } from '../../core/topology/topology.ts';
import type { TimeSeriesStore } from '../../core/tsdb/types.ts';
import type { UserStore, Role, User } from './state/users.ts';
import type { SessionStore, Session } from './state/sessions.ts';
import type { WorkOrderStore } from './state/work-orders.ts';
import type { LeakRepairStore } from './state/leak-repairs.ts';
import type { AuditLog } from './state/audit-log.ts';
import type { ComplaintLedger } from './state/complaints.ts';
import type { CompensationRules } from '../../analytics/kpi/compensation.ts';
import type { DisclosureStore } from './state/disclosures.ts';
import type { DeviceTokenStore } from '../../core/state/device-tokens.ts';
import type { AnalyticsService } from '../../analytics/service.ts';
import type { OutageRegister } from '../../analytics/outages/register.ts';
import type { AreaStateService } from './area-state.ts';
import { ERROR_STATUS, PERMISSIONS, type ErrorCode, type Permission, type User as ContractUser } from '../contract/index.ts';

export function permissionsOf(role: Role): Permission[] {
  return (Object.keys(PERMISSIONS) as Permission[]).filter((p) => (PERMISSIONS[p] as readonly Role[]).includes(role));
}

export type ApiUser = ContractUser;

export function apiUser(u: User): ApiUser {
  return { username: u.username, displayName: u.displayName, role: u.role, permissions: permissionsOf(u.role) };
}

declare module 'fastify' {
  interface FastifyRequest {
    dashUser?: ApiUser;
    dashSession?: Session;
  }
  interface FastifyContextConfig {
    /** The permission a route needs (besides being signed in). */
    permission?: Permission;
    /** Reachable without signing in. */
    public?: boolean;
    /** State change without the CSRF header (sign-in only). */
    noCsrf?: boolean;
  }
}

/** A refused request; its HTTP status follows from the code (contract ERROR_STATUS). */
export class ApiError extends Error {
  readonly status: number;
  /** `field` is the path of the input the refusal is about, e.g. `querystring.to`; `rule` as in the contract's error body. */
  constructor(readonly code: ErrorCode, message: string, readonly field?: string, readonly rule?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = ERROR_STATUS[code];
  }
}

export interface DashboardContext {
  config: LoadedConfig;
  topology: Topology;
  store: TimeSeriesStore;
  log: Logger;
  db: Database.Database;
  users: UserStore;
  sessions: SessionStore;
  workOrders: WorkOrderStore;
  /** Leak repairs the night flow confirmed, with their work orders (leak-repairs.ts, issue #12.4). */
  leakRepairs: LeakRepairStore;
  tokens: DeviceTokenStore;
  /** Every change people make (written by audit.ts after each state-changing request). */
  audit: AuditLog;
  complaints: ComplaintLedger;
  /** The config's `compensation:` rules, cause codes checked. */
  compensationRules: CompensationRules;
  /** Quarterly disclosures: drafts and what was published (routes/disclosure.ts, the public page). */
  disclosures: DisclosureStore;
  /** The analytics (alarms, register), or undefined when this process runs none. */
  analytics(): AnalyticsService | undefined;
  /** The analytics' planned-outage register (503 `unavailable` without analytics). */
  register(): OutageRegister;
  area: AreaStateService;
  /** Event time: the alarm manager's clock once it runs, else the wall clock. */
  now(): number;
  /** Health of ingest (sources), when ingest runs in this process. */
  ingestHealth?: () => Promise<{ sources: { name: string; state: string }[] }>;
  demoUsers: { username: string; password: string; role: Role }[];
}

/** The analytics, or a 503 naming why not. */
export function requireAnalytics(ctx: Pick<DashboardContext, 'analytics'>): AnalyticsService {
  const a = ctx.analytics();
  if (!a) throw new ApiError('unavailable', 'analytics (alarms, outages) does not run in this server process');
  return a;
}
