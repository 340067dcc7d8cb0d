/**
 * The dashboard's server side: `registerDashboard(app, deps)` adds to a fastify app
 * - security headers (helmet, with a CSP that allows the app's own scripts and styles and the inline
 *   styles ECharts sets), cookies, sign-in with rate limiting, sessions, roles and CSRF checks;
 * - the REST API under /api/v1 (dashboard/API.md), every route with a JSON schema (unknown keys
 *   refused: the app must be built with `ajv: { customOptions: { removeAdditional: false } }`),
 *   its OpenAPI document at /docs (JSON at /docs/json);
 * - the public outage page `/outages` (no sign-in, no customer data);
 * - the acknowledgement page of a notification's link `/ack/<token>` (the token is the credential);
 * - a work order's phone page for its crew `/wo/<token>` (work-order-page.ts);
 * - demo mode: the demo's phone inbox `/demo-phone`, the WeCom robot its notifier sends to (demo-phone.ts);
 * - the built web app from dashboard/web/dist with SPA fallback: only the files its build wrote (a 503
 *   page saying how to build it when there are none), and the old status page at /status.
 * The analytics composition comes at construction, started (bin/commands/platform.ts starts it
 * first); without it (a process that runs no analytics) the alarm, outage and work-order routes
 * answer 503 `unavailable` and areas read as normal.
 */
import { statSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyStatic from '@fastify/static';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../../core/config/load.ts';
import { Topology } from '../../core/topology/topology.ts';
import type { TimeSeriesStore } from '../../core/tsdb/types.ts';
import { closeStateDb, openStateDb, stateDbPath } from '../../core/state/state-db.ts';
import { UserStore, type Role } from './state/users.ts';
import { PasswordPolicy } from './state/password-policy.ts';
import { SessionStore } from './state/sessions.ts';
import { applyConfiguredAdmin } from './configured-admin.ts';
import { WorkOrderStore } from './state/work-orders.ts';
import { AuditLog } from './state/audit-log.ts';
import { ComplaintLedger } from './state/complaints.ts';
import { checkCompensationRules } from '../../analytics/kpi/compensation.ts';
import { DisclosureStore } from './state/disclosures.ts';
import { DeviceTokenStore } from '../../core/state/device-tokens.ts';
import type { AnalyticsService } from '../../analytics/service.ts';
import type { IngestView } from '../../core/ingest-view.ts';
import { AreaStateService } from './area-state.ts';
import { apiUser, requireAnalytics, type ApiUser, type DashboardContext } from './context.ts';
import { registerApi, resolveSession, SESSION_COOKIE } from './api.ts';
import { registerPublicOutagePage } from './public-page.ts';
import { registerAckPage } from './ack-page.ts';
import { registerDemoPhone } from './demo-phone.ts';
import { registerWorkOrderPage } from './work-order-page.ts';
import { registerStatusPage } from './status-page.ts';
import { WorkOrderService } from './work-order-service.ts';
import { LeakRepairLinker } from './leak-repairs.ts';
import { LeakRepairStore } from './state/leak-repairs.ts';
import { IncidentService } from './incident-service.ts';
import { builtWebFiles, WEB_BUILD_STAMP } from '../web/build.ts';

export interface DashboardDeps {
  config: LoadedConfig;
  store: TimeSeriesStore;
  log: Logger;
  /** The analytics service, started; absent when this process runs none. */
  analytics?: AnalyticsService;
  /** Ingest in this process: its health for the sensors view and the status page at /status. */
  ingest?: IngestView;
  topology?: Topology;
  /** Built web app; default dashboard/web/dist. */
  webDist?: string;
  /** Check every API answer against the contract's schema (tests). */
  checkResponses?: boolean;
}

export interface DashboardHandle {
  /** The signed-in user of a `Cookie` header and when that session would expire, for the live gateway. */
  authenticate(cookieHeader: string | undefined): (ApiUser & { sessionExpiresAt: number }) | undefined;
  area: AreaStateService;
  ctx: DashboardContext;
  /** Leak alarms' clears as repairs with their work orders: the live gateway sends each with its clear. */
  leakRepairs: LeakRepairLinker;
  close(): void;
}

/**
 * A data directory that ran the demo and now runs in production keeps the demo's accounts, whose
 * passwords are published: every one that still has its demo password is deleted, with its
 * sessions (one whose password was changed was taken over by someone, and stays).
 */
async function removeDemoAccounts(users: UserStore, sessions: SessionStore, configuredAdmin: string | undefined, log: Logger): Promise<void> {
  for (const u of DEMO_USERS) {
    if (u.username === configuredAdmin || !await users.hasPassword(u.username, u.password)) continue;
    users.remove(u.username);
    const ended = sessions.deleteForUser(u.username);
    log.warn({ username: u.username, sessionsEnded: ended }, 'demo account with its published password deleted (production mode)');
  }
}

/** Demo users, one per role; their passwords are shown on the sign-in page (demo mode only). */
export const DEMO_USERS: { username: string; displayName: string; role: Role; password: string }[] = [
  { username: 'admin', displayName: '系统管理员 Admin', role: 'admin', password: 'demo-admin-2026' },
  { username: 'dispatcher', displayName: '调度员 Dispatcher', role: 'dispatcher', password: 'demo-dispatcher-2026' },
  { username: 'maintenance', displayName: '维修班 Maintenance', role: 'maintenance', password: 'demo-maintenance-2026' },
  { username: 'service', displayName: '客服 Customer service', role: 'customer_service', password: 'demo-service-2026' },
  { username: 'viewer', displayName: '访客 Viewer', role: 'viewer', password: 'demo-viewer-2026' },
];

export const DEFAULT_WEB_DIST = resolve(dirname(fileURLToPath(import.meta.url)), '../web/dist');

export async function registerDashboard(app: FastifyInstance, deps: DashboardDeps): Promise<DashboardHandle> {
  const { config, store, log } = deps;
  const topology = deps.topology ?? deps.analytics?.topology ?? deps.ingest?.topology ?? new Topology(config.topology, config.file);
  const statePath = stateDbPath(config);
  const db = openStateDb(statePath);
  const breachedFile = config.auth.breachedPasswordFile;
  const passwordPolicy = await PasswordPolicy.open({
    contextNames: [config.site.name],
    // relative to the config file, as the topology file is
    breachedFile: breachedFile && resolve(config.file.startsWith('(') ? process.cwd() : dirname(resolve(config.file)), breachedFile),
  });
  const users = new UserStore(db, Date.now, passwordPolicy);
  const sessions = new SessionStore(db, { idleMs: config.auth.sessionIdleMinutes * 60_000, maxAgeMs: config.auth.sessionMaxHours * 3_600_000 });
  const workOrders = new WorkOrderStore(db);
  const leakRepairStore = new LeakRepairStore(db);
  const tokens = new DeviceTokenStore(db);
  const audit = new AuditLog(db);
  const complaints = new ComplaintLedger(db, config.complaints.channels.map((c) => c.id));
  const compensationRules = checkCompensationRules(config.compensation);
  const disclosures = new DisclosureStore(db);
  if (deps.analytics && !deps.analytics.alarms) throw new Error('registerDashboard: start the analytics service before the dashboard');
  const analytics = () => deps.analytics;
  const register = () => requireAnalytics({ analytics }).register;
  const area = new AreaStateService({ topology, store, analytics });

  // Users: the configured admin (its password applied at creation), and in demo mode one user per role.
  const demoUsers: DashboardContext['demoUsers'] = [];
  if (config.auth.admin) {
    const published = DEMO_USERS.find((u) => u.username === config.auth.admin!.username)?.password;
    await applyConfiguredAdmin(config.auth.admin, users, sessions, log, published);
  }
  if (config.mode === 'demo') {
    for (const u of DEMO_USERS) {
      if (config.auth.admin && u.username === config.auth.admin.username) continue;
      await users.ensure(u);
      demoUsers.push({ username: u.username, password: u.password, role: u.role });
    }
  } else {
    await removeDemoAccounts(users, sessions, config.auth.admin?.username, log);
  }

  const ctx: DashboardContext = {
    config, topology, store, log, db, users, sessions, workOrders, leakRepairs: leakRepairStore, tokens, audit, complaints, compensationRules, disclosures, analytics, register, area,
    now: () => area.now(),
    ingestHealth: deps.ingest ? () => deps.ingest!.health() : undefined,
    demoUsers,
  };
  const workOrderService = new WorkOrderService(ctx);
  const incidentService = new IncidentService(ctx);
  const leakRepairs = new LeakRepairLinker(ctx);

  await app.register(fastifyCookie);
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // ECharts and Preact set style attributes on elements
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        fontSrc: ["'self'", 'data:'],
        // 'self' covers the same origin's ws:/wss: (socket.io) in current browsers
        connectSrc: ["'self'"],
        workerSrc: ["'self'", 'blob:'],
        mediaSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    // plain http on loopback in the demo: HSTS would only confuse the next https site on localhost
    hsts: config.mode === 'production',
    crossOriginEmbedderPolicy: false,
  });
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'aquawatch dashboard API', version: '1', description: 'REST API of the aquawatch dashboard (dashboard/API.md). Sign in with POST /api/v1/auth/login; state changes need the x-csrf-token header.' },
      components: { securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE } } },
      security: [{ session: [] }],
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', staticCSP: false });

  await app.register(async (api) => { await registerApi(api, ctx, { checkResponses: deps.checkResponses }); }, { prefix: '/api/v1' });
  registerPublicOutagePage(app, ctx);
  registerAckPage(app, ctx);
  registerWorkOrderPage(app, ctx);
  if (config.mode === 'demo') registerDemoPhone(app, config.notify, config.site.timezone);

  const signedIn = (req: FastifyRequest) => resolveSession(ctx, req.cookies[SESSION_COOKIE])?.user;
  if (deps.ingest) {
    registerStatusPage(app, {
      config, ingest: deps.ingest, analytics: deps.analytics, path: '/status',
      // production: the status page shows live values and alarms, so only to someone signed in
      allow: config.mode === 'production' ? (req) => !!signedIn(req) : undefined,
    });
  }
  registerWebApp(app, deps.webDist ?? DEFAULT_WEB_DIST);

  if (deps.analytics) { workOrderService.attach(deps.analytics); incidentService.attach(deps.analytics); leakRepairs.attach(deps.analytics); }

  return {
    authenticate: (cookieHeader) => {
      const found = resolveSession(ctx, parseCookieHeader(cookieHeader)[SESSION_COOKIE]);
      return found && { ...found.user, sessionExpiresAt: sessions.expiresAt(found.session) };
    },
    area,
    ctx,
    leakRepairs,
    close: () => {
      workOrderService.detach();
      incidentService.detach();
      leakRepairs.detach();
      closeStateDb(db);
    },
  };
}

export function parseCookieHeader(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    if (!k || k in out) continue;
    try { out[k] = decodeURIComponent(part.slice(i + 1).trim()); } catch { /* malformed: skip */ }
  }
  return out;
}

export { apiUser };

const NOT_APP = /^\/(api|docs|socket\.io|health|metrics|status|outages)(\/|$)/;

/**
 * The URL paths of the web app's files: those its build wrote (listed in dist's stamp by
 * dashboard/web/build.ts), nothing else, so a file put into dist by hand is not public. An entry
 * that could leave dist or names a dotfile is dropped. Empty when dist has no such list.
 */
export function servedWebFiles(dist: string): string[] {
  const safe = (f: string) => !f.includes('\0') && !f.includes('\\') && f.split('/').every((part) => part !== '' && !part.startsWith('.'));
  return (builtWebFiles(dist) ?? []).filter(safe).map((f) => `/${f}`);
}

/**
 * The built web app: the files its build wrote, and index.html for any other GET that is not an
 * API path (client-side routes). The list is read again when the build's stamp changes, so
 * building the app needs no restart.
 */
function registerWebApp(app: FastifyInstance, dist: string): void {
  void app.register(fastifyStatic, { root: dist, serve: false });
  let built: { stamp: string; paths: ReadonlySet<string> } | undefined;
  const servedPaths = (): ReadonlySet<string> => {
    let stamp: string;
    try {
      const s = statSync(join(dist, WEB_BUILD_STAMP));
      stamp = `${s.ino}:${s.mtimeMs}`;
    } catch { return new Set(); }
    if (built?.stamp !== stamp) built = { stamp, paths: new Set(servedWebFiles(dist)) };
    return built.paths;
  };
  const serveIndex = (reply: FastifyReply) => {
    if (!servedPaths().has('/index.html')) {
      return reply.code(503).type('text/html; charset=utf-8').send(`<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>aquawatch</title></head>
<body style="font:15px system-ui,sans-serif;margin:3em;max-width:46em">
<h1>仪表盘尚未构建 · The dashboard is not built</h1>
<p>The web app's files (<code>${dist}</code>) are missing, or were not written by its build (whose
<code>${WEB_BUILD_STAMP}</code> lists them). Build it once with <code>npm run build:web</code>
and reload this page; no restart is needed.</p>
<p>请先构建前端，然后刷新本页。 Meanwhile: <a href="/status">status page 状态页</a> · <a href="/outages">停水公告 outages</a> · <a href="/docs">API docs</a> · <a href="/health">/health</a></p>
</body></html>`);
    }
    return reply.header('cache-control', 'no-cache').sendFile('index.html', dist, { cacheControl: false });
  };
  app.get('/', { schema: { hide: true } }, async (_req, reply) => serveIndex(reply));
  app.setNotFoundHandler(async (req, reply) => {
    const path = req.url.split('?')[0];
    if ((req.method === 'GET' || req.method === 'HEAD') && !NOT_APP.test(path)) {
      const file = builtFile(dist, path, servedPaths());
      if (file) {
        // Vite's assets carry a content hash in their names: cached for good; anything else revalidated
        return path.startsWith('/assets/')
          ? reply.sendFile(file, dist, { maxAge: 365 * 86_400_000, immutable: true })
          : reply.header('cache-control', 'no-cache').sendFile(file, dist, { cacheControl: false });
      }
      if (!/\.[a-z0-9]+$/i.test(path)) return serveIndex(reply);
    }
    return reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${path}` });
  });
}

/** The dist-relative file a URL path names when the build wrote it and it is still there, or undefined. */
function builtFile(dist: string, urlPath: string, served: ReadonlySet<string>): string | undefined {
  let decoded: string;
  try { decoded = decodeURIComponent(urlPath); } catch { return undefined; }
  if (!served.has(decoded)) return undefined;
  const rel = decoded.slice(1);
  try { return statSync(join(dist, rel)).isFile() ? rel : undefined; } catch { return undefined; }
}
