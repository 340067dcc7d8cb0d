/**
 * The one writer of the audit log (state/audit-log.ts): after every successful state-changing
 * request of the API (POST, PUT, PATCH, DELETE answered below 400), one entry with the user, the
 * route's action from the contract (`<area>.<route>`), its target (the route's `:id`/`:username`,
 * or what the route names with `auditTarget`) and the request's fields (secrets left out), plus the
 * details a route adds (e.g. an incident's fields before and after). Sign-in and sign-out are
 * sessions, not changes: not logged here. So no route can change state without leaving a row.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { API } from '../contract/index.ts';
import type { DashboardContext } from './context.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** What a route adds to its audit entry. */
    auditNote?: { target?: string; details?: Record<string, unknown> };
  }
}

/** `METHOD url` → `<area>.<route>` of the contract. */
const ACTIONS = new Map<string, string>(Object.entries(API).flatMap(([area, routes]) =>
  Object.entries(routes).map(([name, e]) => [`${e.method} /api/v1${e.url}`, `${area}.${name}`] as const)));

const NOT_AUDITED = new Set(['auth.login', 'auth.logout']);
const CHANGES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Every action the log may hold (the web app names each in both languages). */
export const AUDITED_ACTIONS: string[] = Object.entries(API).flatMap(([area, routes]) =>
  Object.entries(routes).filter(([, e]) => CHANGES.has(e.method)).map(([name]) => `${area}.${name}`).filter((a) => !NOT_AUDITED.has(a)));

/** Names the target and adds details to the audit entry of the request being handled. */
export function auditTarget(req: FastifyRequest, target: string, details: Record<string, unknown> = {}): void {
  req.auditNote = { target, details: { ...req.auditNote?.details, ...details } };
}

/** The onResponse hook: writes the entry of a successful state change. */
export function recordAudit(ctx: Pick<DashboardContext, 'audit' | 'log'>, req: FastifyRequest, reply: FastifyReply): void {
  if (!CHANGES.has(req.method) || reply.statusCode >= 400 || !req.dashUser) return;
  const action = ACTIONS.get(`${req.method} ${req.routeOptions.url}`) ?? `${req.method} ${req.routeOptions.url ?? req.url}`;
  if (NOT_AUDITED.has(action)) return;
  const params = (req.params ?? {}) as Record<string, string>;
  const target = req.auditNote?.target ?? params.id ?? params.username;
  try {
    ctx.audit.record({
      at: Date.now(), username: req.dashUser.username, role: req.dashUser.role, action, ...(target ? { target } : {}),
      details: { ...(req.body && typeof req.body === 'object' ? { request: req.body } : {}), ...req.auditNote?.details },
    });
  } catch (e) {
    // the change is made and answered; a lost audit row is logged loudly rather than hidden
    ctx.log.error({ err: String(e), action, user: req.dashUser.username }, 'audit log entry could not be written');
  }
}
