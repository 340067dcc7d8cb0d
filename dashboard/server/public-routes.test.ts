/**
 * The inventory of public routes (issue #11): every route the dashboard server and the ingest HTTP
 * service register outside /api/v1 (authorization-matrix.test.ts covers /api/v1 route by role) must
 * be in the reviewed list below, with why anyone may call it. A new route outside /api/v1 fails this
 * test until someone has looked at it and added it here. Routes are collected with fastify's
 * onRoute hook while the real registration code runs: the dashboard in demo mode (its demo-phone
 * route) with an ingest service (its /status page), the ingest service's own routes, and those
 * `aquawatch server` adds beside the dashboard.
 *
 * The web app's files have no route of their own: the not-found handler serves the files the web
 * build wrote (its stamp lists them). They are collected from a real build (dashboard/web/build.ts),
 * copied with files put in by hand beside them, and each must match a reviewed pattern; the
 * hand-put files must be 404.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify';
import pino from 'pino';
import { startHarness, type Harness } from '../../test/support/dashboard.ts';
import { IngestService } from '../../ingest/service.ts';
import { parseConfig } from '../../core/config/load.ts';
import type { AnalyticsService } from '../../analytics/service.ts';
import { registerServerRoutes } from '../../bin/commands/server.ts';
import { ensureWebBuilt } from '../web/build.ts';
import { servedWebFiles } from './index.ts';

/** Reviewed public routes outside /api/v1 (HEAD comes with each GET), and why each may be public. */
const REVIEWED_PUBLIC: Record<string, string> = {
  'GET /': 'the web app\'s index.html (or the "not built" page); its data comes from /api/v1 behind sign-in',
  'GET /health': 'probes of supervisors and load balancers; the status alone unless the caller is on this machine or presents http.metricsToken (mayReadOperationalDetail, F13)',
  'GET /metrics': 'the scrape of a monitoring agent on this machine or one presenting http.metricsToken; 403 to any other caller (mayReadOperationalDetail, F13)',
  'GET /status': 'the old status page; in production only to someone signed in (the allow check in index.ts)',
  'GET /outages': 'the planned-outage notice page for customers, public by purpose',
  'GET /outages/disclosure/:file': 'a quarter\'s disclosure once published (404 before), public by purpose',
  'GET /ack/*': 'the acknowledgement page a notification links to: the signed, expiring, single-use token in the path is the credential',
  'POST /ack/*': 'acknowledging from that page; the token in the path is the credential',
  'GET /wo/*': 'the work-order page a crew member\'s message links to: the signed, expiring token in the path is the credential',
  'POST /wo/*': 'a crew\'s update from that page; the token in the path is the credential',
  'GET /demo-phone': 'demo mode only (loopback only): the demo\'s phone inbox of sent notifications',
  'GET /docs': 'the OpenAPI UI; it documents the API, every operation of which still checks its session',
  'GET /docs/': 'the same',
  'GET /docs/json': 'the OpenAPI document (authorization-matrix.test.ts reads it)',
  'GET /docs/yaml': 'the same document as YAML',
  'GET /docs/static/*': 'the OpenAPI UI\'s static files',
  'GET /docs/static/index.html': 'the same',
  'GET /docs/static/swagger-initializer.js': 'the same',
};

/**
 * Reviewed patterns of the web app's files (GET; `*` is one path level), and why each may be public:
 * none holds data or a secret, everything the app shows comes from /api/v1 behind sign-in.
 */
const REVIEWED_STATIC: Record<string, string> = {
  '/index.html': 'the web app\'s page (also served at / and for client-side paths); markup and the names of its scripts only',
  '/assets/*.js': 'the web app\'s code, bundled by Vite from dashboard/web/src and the shared catalogs (content hash in the name)',
  '/assets/*.css': 'the web app\'s styles',
};

/** Files put into the copied dist by hand, none written by the build: each must be 404. */
const PUT_BY_HAND = ['/notes.txt', '/backup.sql', '/assets/extra.js', '/.env', '/.built', '/assets/.hidden.css'];

const staticPattern = (pattern: string) => new RegExp(`^${pattern.replace(/[.]/g, '\\.').replace(/\*/g, '[^/]+')}$`);

/** `METHOD url` of each registered route, HEAD folded into its GET. */
function routeNames(route: RouteOptions): string[] {
  return [route.method].flat().map((m) => `${m === 'HEAD' ? 'GET' : m} ${route.url}`);
}

const outsideApi = (name: string) => !name.split(' ')[1].startsWith('/api/v1/');

let h: Harness;
let dist: string;
let staticFiles: string[];
let ingestApp: FastifyInstance;
let serverApp: FastifyInstance;
const dashboardRoutes = new Set<string>();
const ingestRoutes = new Set<string>();
const serverRoutes = new Set<string>();
beforeAll(async () => {
  const log = pino({ level: 'silent' });
  // Not started: its routes depend only on the configuration, and nothing is called here.
  const ingestFor = (config: Harness['config']) => new IngestService({ config, log, brokerUrl: 'mqtt://127.0.0.1:1', http: false });
  const defaultConfig = parseConfig({}, '(inline)', {});
  // a real web build, copied so that the files put in by hand never reach the dist other tests serve
  dist = mkdtempSync(join(tmpdir(), 'aw-dist-'));
  cpSync((await ensureWebBuilt({ log: () => {} })).dist, dist, { recursive: true });
  for (const f of PUT_BY_HAND.filter((p) => p !== '/.built')) writeFileSync(join(dist, f), 'not built\n');
  staticFiles = servedWebFiles(dist);
  // the dashboard of `aquawatch start` (an ingest service beside it gives /status), in demo mode
  h = await startHarness({ onRoute: (r) => routeNames(r).forEach((n) => dashboardRoutes.add(n)), ingest: ingestFor(defaultConfig), webDist: dist });
  ingestApp = Fastify({ logger: false });
  ingestApp.addHook('onRoute', (r) => routeNames(r).forEach((n) => ingestRoutes.add(n)));
  serverApp = Fastify({ logger: false });
  serverApp.addHook('onRoute', (r) => routeNames(r).forEach((n) => serverRoutes.add(n)));
  await ingestFor(h.config).registerRoutes(ingestApp);
  // A fake analytics service, named as one: registering the routes only asks it for its metrics.
  const analyticsNotCalled = { registerMetrics: () => {} } as unknown as Pick<AnalyticsService, 'openAlarms' | 'health' | 'registerMetrics'>;
  registerServerRoutes(serverApp, { config: h.config, store: h.store, analytics: analyticsNotCalled });
  await Promise.all([ingestApp.ready(), serverApp.ready()]);
}, 120_000);
afterAll(async () => {
  await ingestApp?.close(); await serverApp?.close(); await h?.close();
  if (dist) rmSync(dist, { recursive: true, force: true });
});

describe('public route inventory', () => {
  it('every dashboard, ingest and server route outside /api/v1 is a reviewed public route', () => {
    const unreviewed = [...dashboardRoutes, ...ingestRoutes, ...serverRoutes].filter(outsideApi).filter((n) => !(n in REVIEWED_PUBLIC));
    expect(unreviewed).toEqual([]);
  });

  it('the list has no route that is no longer registered (a stale entry would hide a future one)', () => {
    const registered = new Set([...dashboardRoutes, ...ingestRoutes, ...serverRoutes]);
    expect(Object.keys(REVIEWED_PUBLIC).filter((n) => !registered.has(n))).toEqual([]);
  });

  it('the collection sees the routes it must: /api/v1 of both services and the known public ones', () => {
    expect(ingestRoutes).toContain('POST /api/v1/pda/readings');
    expect(dashboardRoutes).toContain('POST /api/v1/auth/login');
    expect([...ingestRoutes].filter(outsideApi).sort()).toEqual(['GET /health', 'GET /metrics']);
    expect([...serverRoutes].sort()).toEqual(['GET /health', 'GET /metrics']);
    expect(dashboardRoutes).toContain('GET /status');
  });

  it('route inventory: the web app serves the files its build wrote, each a reviewed static pattern, and nothing put into dist by hand', async () => {
    const unreviewed = staticFiles.filter((f) => Object.keys(REVIEWED_STATIC).filter((p) => staticPattern(p).test(f)).length !== 1);
    expect(unreviewed).toEqual([]);
    const unused = Object.keys(REVIEWED_STATIC).filter((p) => !staticFiles.some((f) => staticPattern(p).test(f)));
    expect(unused).toEqual([]); // a stale pattern would let a future file through unreviewed
    for (const f of staticFiles) expect((await h.app.inject({ method: 'GET', url: f })).statusCode, f).toBe(200);
    for (const f of PUT_BY_HAND) {
      expect(staticFiles).not.toContain(f);
      const res = await h.app.inject({ method: 'GET', url: f });
      expect(res.statusCode, f).toBe(404);
      expect(res.body, f).not.toContain('not built');
    }
    expect((await h.app.inject({ method: 'GET', url: '/assets/..%2f.env' })).statusCode).toBe(404);
    const page = await h.app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/<script type="module"[^>]* src="\/assets\/[^"]+\.js"/);
  });
});
