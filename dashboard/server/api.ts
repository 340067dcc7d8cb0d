/**
 * The REST API under /api/v1: sessions from the `aw_session` cookie, the sign-in routes, the role
 * and CSRF checks (before validation, so a refused caller learns nothing about the body), the
 * error shape `{ error, message }`, and the routes of each view.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AlarmError } from '../../analytics/alarms/manager.ts';
import { RegisterError } from '../../analytics/outages/register.ts';
import { UserError } from '../../core/state/users.ts';
import { WorkOrderError } from '../../core/state/work-orders.ts';
import type { Session } from '../../core/state/sessions.ts';
import { ApiError, apiUser, type ApiUser, type DashboardContext } from './context.ts';
import { obj, str } from './schemas.ts';
import { registerNetworkRoutes } from './routes/network.ts';
import { registerAlarmRoutes } from './routes/alarms.ts';
import { registerOutageRoutes } from './routes/outages.ts';
import { registerWorkOrderRoutes } from './routes/work-orders.ts';
import { registerReportRoutes } from './routes/reports.ts';
import { registerAdminRoutes } from './routes/admin.ts';

export const SESSION_COOKIE = 'aw_session';
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
export const LOGIN_MAX_FAILURES = 5;
export const LOGIN_WINDOW_MS = 5 * 60_000;

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

/** `body.dmas[0]: must NOT have fewer than 1 items` style messages from ajv errors. */
export function formatValidation(errors: FastifyError['validation'], context: string | undefined): string {
  return (errors ?? []).map((e) => {
    const at = [context ?? 'request', ...e.instancePath.split('/').filter(Boolean)]
      .reduce((p, seg) => (/^\d+$/.test(seg) ? `${p}[${seg}]` : `${p}.${seg}`));
    const params = e.params as Record<string, unknown>;
    if (e.keyword === 'additionalProperties') return `${at}.${String(params.additionalProperty)}: unknown field`;
    if (e.keyword === 'required') return `${at}.${String(params.missingProperty)}: required`;
    return `${at}: ${e.message ?? 'invalid'}`;
  }).join('; ');
}

export async function registerApi(app: FastifyInstance, ctx: DashboardContext): Promise<void> {
  app.decorateRequest('dashUser', undefined);
  app.decorateRequest('dashSession', undefined);

  app.addHook('onRequest', async (req) => {
    const found = resolveSession(ctx, req.cookies[SESSION_COOKIE]);
    if (found) { req.dashUser = found.user; req.dashSession = found.session; }
  });
  app.addHook('preValidation', async (req) => {
    // a POST without a body (ack, unshelve) is an empty object, so its schema can name what is missing
    if (req.body === undefined && STATE_CHANGING.has(req.method)) req.body = {};
    const cfg = req.routeOptions.config;
    if (cfg.public) return;
    if (!req.dashUser || !req.dashSession) throw new ApiError(401, 'unauthorized', 'not signed in (POST /api/v1/auth/login)');
    if (STATE_CHANGING.has(req.method) && !cfg.noCsrf) {
      const token = req.headers['x-csrf-token'];
      if (typeof token !== 'string' || !sameText(token, req.dashSession.csrfToken)) {
        throw new ApiError(403, 'csrf', 'x-csrf-token: missing or wrong (use the csrfToken from sign-in or GET /auth/me)');
      }
    }
    if (cfg.permission && !req.dashUser.permissions.includes(cfg.permission)) {
      throw new ApiError(403, 'forbidden', `role ${req.dashUser.role} lacks permission ${cfg.permission}`);
    }
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const send = (status: number, error: string, message: string) => reply.code(status).send({ error, message });
    if (err instanceof ApiError) return send(err.status, err.code, err.message);
    if (err.validation) return send(400, 'validation', formatValidation(err.validation, err.validationContext));
    if (err instanceof AlarmError) return /: no alarm /.test(err.message) ? send(404, 'not_found', err.message) : send(409, 'conflict', err.message);
    if (err instanceof RegisterError) return /^id: no planned outage/.test(err.message) ? send(404, 'not_found', err.message) : send(400, 'validation', err.message);
    if (err instanceof UserError || err instanceof WorkOrderError) {
      return err.code === 'exists' ? send(409, 'conflict', err.message) : err.code === 'not_found' ? send(404, 'not_found', err.message) : send(400, 'validation', err.message);
    }
    if (err.statusCode && err.statusCode < 500) return send(err.statusCode, err.code ?? 'bad_request', err.message);
    ctx.log.error({ err: String(err), stack: err.stack, url: req.url }, 'dashboard API error');
    return send(500, 'internal', 'internal error (see the server log)');
  });
  app.setNotFoundHandler(async (req, reply) => reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` }));

  registerAuthRoutes(app, ctx);
  registerNetworkRoutes(app, ctx);
  registerAlarmRoutes(app, ctx);
  registerOutageRoutes(app, ctx);
  registerWorkOrderRoutes(app, ctx);
  registerReportRoutes(app, ctx);
  registerAdminRoutes(app, ctx);
}

function registerAuthRoutes(app: FastifyInstance, ctx: DashboardContext): void {
  const limiter = app.createRateLimit({
    max: LOGIN_MAX_FAILURES,
    timeWindow: LOGIN_WINDOW_MS,
    keyGenerator: (req: FastifyRequest) => `login|${String((req.body as { username?: unknown } | undefined)?.username ?? '').toLowerCase()}|${req.ip}`,
  });
  const setCookie = (req: FastifyRequest, reply: FastifyReply, value: string, clear = false) => {
    const secure = !(ctx.config.mode === 'demo' && req.protocol === 'http' && isLoopback(req.ip));
    const opts = { httpOnly: true, sameSite: 'strict' as const, path: '/', secure };
    if (clear) reply.clearCookie(SESSION_COOKIE, opts);
    else reply.setCookie(SESSION_COOKIE, value, opts);
  };

  app.post('/auth/login', {
    config: { public: true, noCsrf: true },
    schema: {
      tags: ['auth'], summary: 'Sign in',
      body: obj({ username: str(64, 1), password: str(1024, 1) }, ['username', 'password']),
    },
  }, async (req, reply) => {
    const { username, password } = req.body as { username: string; password: string };
    const before = await limiter(req, { increment: false });
    if (!before.isAllowed && before.remaining <= 0) {
      return reply.code(429).header('retry-after', String(before.ttlInSeconds)).send({
        error: 'rate_limited', message: `username: too many failed sign-ins for ${username} from this address; try again in ${before.ttlInSeconds} s`,
      });
    }
    const user = await ctx.users.verify(username, password);
    if (!user) {
      await limiter(req);
      ctx.log.warn({ username, ip: req.ip }, 'dashboard sign-in failed');
      throw new ApiError(401, 'bad_credentials', 'username or password: wrong, or the account is disabled');
    }
    const { id, session } = ctx.sessions.create(user.username);
    setCookie(req, reply, id);
    ctx.log.info({ username: user.username, role: user.role }, 'dashboard sign-in');
    return { user: apiUser(user), csrfToken: session.csrfToken };
  });

  app.post('/auth/logout', { schema: { tags: ['auth'], summary: 'Sign out' } }, async (req, reply) => {
    ctx.sessions.delete(req.cookies[SESSION_COOKIE]);
    setCookie(req, reply, '', true);
    return { ok: true };
  });

  app.get('/auth/me', { schema: { tags: ['auth'], summary: 'The signed-in user and the CSRF token' } }, async (req) => ({ user: req.dashUser, csrfToken: req.dashSession!.csrfToken }));

  app.get('/auth/info', { config: { public: true }, schema: { tags: ['auth'], summary: 'Mode, site and (demo mode) the demo users' } }, async () => ({
    mode: ctx.config.mode,
    site: { name: ctx.config.site.name, timezone: ctx.config.site.timezone },
    ...(ctx.config.mode === 'demo' ? { demoUsers: ctx.demoUsers } : {}),
  }));
}
