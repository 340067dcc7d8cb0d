/**
 * The REST API under /api/v1: sessions from the `aw_session` cookie, the sign-in routes, the role
 * and CSRF checks (on the request's headers, before its body is read, so a refused caller costs no
 * parsing and learns nothing about the body), the
 * error body `{ error: { code, message, field? } }` with the status its code gives (contract
 * ERROR_STATUS), and the routes of each view, all declared in dashboard/contract.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { DEFAULT_SIGN_IN_LIMITS, SignInLimiter } from './sign-in-limiter.ts';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../../core/errors.ts';
import type { Session } from './state/sessions.ts';
import { API, ERROR_STATUS, type ErrorBody, type ErrorCode } from '../contract/index.ts';
import { ApiError, apiUser, type ApiUser, type DashboardContext } from './context.ts';
import { serve, type ServeOptions } from './schemas.ts';
import { registerNetworkRoutes } from './routes/network.ts';
import { registerAlarmRoutes } from './routes/alarms.ts';
import { registerLeakRoutes } from './routes/leaks.ts';
import { registerOutageRoutes } from './routes/outages.ts';
import { registerWorkOrderRoutes } from './routes/work-orders.ts';
import { registerReportRoutes } from './routes/reports.ts';
import { registerAdminRoutes } from './routes/admin.ts';
import { registerIncidentRoutes } from './routes/incidents.ts';
import { registerNoticeRoutes } from './routes/notices.ts';
import { registerCustomerRoutes } from './routes/customers.ts';
import { registerComplaintRoutes } from './routes/complaints.ts';
import { registerCompensationRoutes } from './routes/compensation.ts';
import { registerDisclosureRoutes } from './routes/disclosure.ts';
import { recordAudit } from './audit.ts';
import { ClientGoneError } from './routes/client-gone.ts';

export const SESSION_COOKIE = 'aw_session';
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The session and its (enabled) user for a cookie value. */
export function resolveSession(ctx: DashboardContext, id: string | undefined): { session: Session; user: ApiUser } | undefined {
  const session = ctx.sessions.get(id);
  if (!session) return undefined;
  const u = ctx.users.get(session.username);
  if (!u || u.disabled) return undefined;
  return { session, user: apiUser(u) };
}

const isLoopback = (ip: string) => ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1' || ip.startsWith('127.');

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * `body.dmas[0]: must NOT have fewer than 1 items` style messages from ajv errors, and the path of
 * the first one's field (`body.dmas[0]`).
 */
export function formatValidation(errors: FastifyError['validation'], context: string | undefined): { message: string; field?: string } {
  const problems = (errors ?? []).map((e) => {
    const at = [context ?? 'request', ...e.instancePath.split('/').filter(Boolean)]
      .reduce((p, seg) => (/^\d+$/.test(seg) ? `${p}[${seg}]` : `${p}.${seg}`));
    const params = e.params as Record<string, unknown>;
    if (e.keyword === 'additionalProperties') return { field: `${at}.${String(params.additionalProperty)}`, reason: 'unknown field' };
    if (e.keyword === 'required') return { field: `${at}.${String(params.missingProperty)}`, reason: 'required' };
    return { field: at, reason: e.message ?? 'invalid' };
  });
  return { message: problems.map((p) => `${p.field}: ${p.reason}`).join('; '), field: problems[0]?.field };
}

export async function registerApi(app: FastifyInstance, ctx: DashboardContext, opts: Pick<ServeOptions, 'checkResponses'> = {}): Promise<void> {
  // answers as JSON.stringify gives them: the response schemas describe them (and the tests check them)
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.decorateRequest('dashUser', undefined);
  app.decorateRequest('dashSession', undefined);

  app.addHook('onRequest', async (req) => {
    const found = resolveSession(ctx, req.cookies[SESSION_COOKIE]);
    if (found) { req.dashUser = found.user; req.dashSession = found.session; }
    const cfg = req.routeOptions.config;
    // (an unknown route is not public either: not signed in comes first, the route inventory stays private)
    if (cfg.public) return;
    if (!req.dashUser || !req.dashSession) throw new ApiError('unauthorized', 'not signed in (POST /api/v1/auth/login)');
    if (STATE_CHANGING.has(req.method) && !cfg.noCsrf) {
      const token = req.headers['x-csrf-token'];
      if (typeof token !== 'string' || !sameText(token, req.dashSession.csrfToken)) {
        throw new ApiError('csrf', 'x-csrf-token: missing or wrong (use the csrfToken from sign-in or GET /auth/me)', 'headers.x-csrf-token');
      }
    }
    if (cfg.permission && !req.dashUser.permissions.includes(cfg.permission)) {
      throw new ApiError('forbidden', `role ${req.dashUser.role} lacks permission ${cfg.permission}`);
    }
  });
  app.decorateRequest('auditNote', undefined);
  app.addHook('onResponse', async (req, reply) => recordAudit(ctx, req, reply));
  app.addHook('preValidation', async (req) => {
    // a POST without a body (ack, unshelve) is an empty object, so its schema can name what is missing
    if (req.body === undefined && STATE_CHANGING.has(req.method)) req.body = {};
  });

  // every refusal is mapped by its code, never by its message
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const send = (code: ErrorCode, message: string, field?: string, status: number = ERROR_STATUS[code], rule?: string) =>
      reply.code(status).send({ error: { code, message, ...(field ? { field } : {}), ...(rule ? { rule } : {}) } } satisfies ErrorBody);
    if (err instanceof DomainError) return send(err.code, err.message, err.field, undefined, err.rule);
    if (err instanceof ApiError) return send(err.code, err.message, err.field, undefined, err.rule);
    if (err instanceof ClientGoneError) {
      // nobody reads this answer; 499 (a client closed request, as proxies log it) keeps it out of the errors
      ctx.log.info({ url: req.url, user: req.dashUser?.username }, 'request abandoned: the client went away');
      return send('bad_request', err.message, undefined, 499);
    }
    if (err.validation) {
      const { message, field } = formatValidation(err.validation, err.validationContext);
      return send('validation', message, field);
    }
    // fastify's own refusals (a body that is not JSON, too large, a wrong content type) keep their status
    if (err.statusCode && err.statusCode < 500) return send('bad_request', err.message, undefined, err.statusCode);
    ctx.log.error({ err: String(err), stack: err.stack, url: req.url }, 'dashboard API error');
    return send('internal', 'internal error (see the server log)');
  });
  app.setNotFoundHandler(async (req, reply) => reply.code(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` } } satisfies ErrorBody));

  const routeOpts = { checkResponses: opts.checkResponses };
  registerAuthRoutes(app, ctx, routeOpts);
  registerNetworkRoutes(app, ctx, routeOpts);
  registerAlarmRoutes(app, ctx, routeOpts);
  registerLeakRoutes(app, ctx, routeOpts);
  registerOutageRoutes(app, ctx, routeOpts);
  registerWorkOrderRoutes(app, ctx, routeOpts);
  registerReportRoutes(app, ctx, routeOpts);
  registerAdminRoutes(app, ctx, routeOpts);
  registerIncidentRoutes(app, ctx, routeOpts);
  const notices = registerNoticeRoutes(app, ctx, routeOpts);
  registerCustomerRoutes(app, ctx, notices, routeOpts);
  registerComplaintRoutes(app, ctx, routeOpts);
  registerCompensationRoutes(app, ctx, routeOpts);
  registerDisclosureRoutes(app, ctx, routeOpts);
}

function registerAuthRoutes(app: FastifyInstance, ctx: DashboardContext, opts: ServeOptions): void {
  const limiter = new SignInLimiter(DEFAULT_SIGN_IN_LIMITS);
  // A failed sign-in's username is often a password typed into the wrong field: the log keeps a short
  // keyed hash (repeated failures for one name still match within a run; a leaked log gives no dictionary
  // attack, the key never leaves the process).
  const usernameHashKey = randomBytes(32);
  const usernameHash = (username: string) => createHmac('sha256', usernameHashKey).update(username).digest('hex').slice(0, 12);
  const setCookie = (req: FastifyRequest, reply: FastifyReply, value: string, clear = false) => {
    const secure = !(ctx.config.mode === 'demo' && req.protocol === 'http' && isLoopback(req.ip));
    const opts = { httpOnly: true, sameSite: 'strict' as const, path: '/', secure };
    if (clear) reply.clearCookie(SESSION_COOKIE, opts);
    else reply.setCookie(SESSION_COOKIE, value, opts);
  };

  serve(app, API.auth.login, async (req, reply) => {
    const { username, password } = req.body;
    const place = limiter.reserve(username, req.ip);
    if (!place.ok) {
      reply.header('retry-after', String(place.retryAfterS));
      const why = place.reason === 'user' ? `too many failed sign-ins for ${username} from this address`
        : place.reason === 'address' ? 'too many failed sign-ins from this address' : 'too many sign-ins at once';
      throw new ApiError('rate_limited', `username: ${why}; try again in ${place.retryAfterS} s`, 'body.username');
    }
    let user: Awaited<ReturnType<typeof ctx.users.verify>>;
    try {
      user = await ctx.users.verify(username, password);
    } catch (e) {
      place.done(false);
      throw e;
    }
    place.done(user !== undefined && user !== null);
    if (!user) {
      ctx.log.warn({ usernameHash: usernameHash(username), ip: req.ip }, 'dashboard sign-in failed');
      throw new ApiError('bad_credentials', 'username or password: wrong, or the account is disabled');
    }
    const { id, session } = ctx.sessions.create(user.username);
    setCookie(req, reply, id);
    ctx.log.info({ username: user.username, role: user.role }, 'dashboard sign-in');
    return { user: apiUser(user), csrfToken: session.csrfToken };
  }, { ...opts, noCsrf: true });

  serve(app, API.auth.logout, async (req, reply) => {
    ctx.sessions.delete(req.cookies[SESSION_COOKIE]);
    setCookie(req, reply, '', true);
    return { ok: true } as const;
  }, opts);

  serve(app, API.auth.me, async (req) => ({ user: req.dashUser!, csrfToken: req.dashSession!.csrfToken }), opts);

  serve(app, API.auth.info, async () => ({
    mode: ctx.config.mode,
    site: { name: ctx.config.site.name, timezone: ctx.config.site.timezone },
    ...(ctx.config.mode === 'demo' ? { demoUsers: ctx.demoUsers } : {}),
  }), opts);
}
