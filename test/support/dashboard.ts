/**
 * A dashboard on a real fastify app with a real SQLite store and state database in a temp dir, and
 * the analytics' live composition (alarm manager, outage register, planned-outage suppressions)
 * without the MQTT worker: tests feed the alarm manager conditions directly, as the worker would.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IngestView } from '../../core/ingest-view.ts';
import Fastify, { type FastifyInstance, type LightMyRequestResponse, type RouteOptions } from 'fastify';
import pino from 'pino';
import { parseConfig, type LoadedConfig } from '../../core/config/load.ts';
import { createStore } from '../../core/tsdb/factory.ts';
import type { TimeSeriesStore } from '../../core/tsdb/types.ts';
import { Topology } from '../../core/topology/topology.ts';
import type { AlarmManager } from '../../analytics/alarms/manager.ts';
import type { OutageRegister } from '../../analytics/outages/register.ts';
import { buildAnalytics } from '../../analytics/compose.ts';
import { AnalyticsWorker } from '../../analytics/worker.ts';
import type { AnalyticsService } from '../../analytics/service.ts';
import { stateDbPath } from '../../core/state/state-db.ts';
import { registerDashboard, DEMO_USERS, type DashboardHandle } from '../../dashboard/server/index.ts';

export const T0 = Date.parse('2026-11-30T02:00:00Z');

export const TOPOLOGY = {
  sites: [{ id: 'plant', kind: 'plant' }, { id: 'net' }],
  dmas: [
    { id: 'north', name: '北区 North', inlets: ['F-N'], customers: 1200, x: 10, y: 20 },
    { id: 'south', name: '南区 South', inlets: ['F-S'], customers: 800, x: 30, y: 5 },
  ],
  sensors: [
    { id: 'PLANT.flow', kind: 'flow', unit: 'm3/h', site: 'plant', place: 'plant-outlet', x: 0, y: 0 },
    { id: 'F-N', kind: 'flow', unit: 'm3/h', site: 'net', dma: 'north', place: 'inlet', x: 5, y: 15 },
    { id: 'F-S', kind: 'flow', unit: 'm3/h', site: 'net', dma: 'south', place: 'inlet', x: 25, y: 8 },
    { id: 'P-N1', kind: 'pressure', unit: 'MPa', site: 'net', dma: 'north', x: 12, y: 22, thresholds: { low: 0.14 } },
    { id: 'CL-N', kind: 'chlorine', unit: 'mg/L', site: 'net', dma: 'north', x: 14, y: 25 },
  ],
  meters: [
    { id: 'M-1001', customer: 'ACC-778899', dma: 'north', address: '人民路 12 号 12 Renmin Rd' },
    { id: 'M-2002', customer: 'ACC-112233', dma: 'south', address: '南湖路 8 号 8 Nanhu Rd' },
  ],
};

export interface Harness {
  app: FastifyInstance;
  dash: DashboardHandle;
  config: LoadedConfig;
  store: TimeSeriesStore;
  alarms: AlarmManager;
  register: OutageRegister;
  dir: string;
  /** The wall clock the analysis status measures "behind" against (the watermark stays at T0). */
  analysisClock: { wall: number };
  close(): Promise<void>;
}

/** `env`: where the config's `${ENV}` references are checked (a `notify:` section's secrets); `log`: the
 *  dashboard's logger (silent unless a test reads what is logged); `onRoute`: told of every route as
 *  it is registered, and `ingest`: the service whose /status page the dashboard serves (both for the
 *  public-route inventory). */
export async function startHarness(opts: {
  config?: Record<string, unknown>; webDist?: string; analytics?: boolean; env?: Record<string, string | undefined>; log?: pino.Logger;
  onRoute?: (route: RouteOptions) => void; ingest?: IngestView;
} = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'aw-dash-'));
  writeFileSync(join(dir, 'map.json'), JSON.stringify({ links: [{ dma: 'north', points: [[0, 0], [5, 15], [12, 22]] }, { points: [[5, 15], [25, 8]] }] }));
  const config = parseConfig({
    dataDir: dir, log: { level: 'silent' }, site: { name: '示例水务 Example Water', timezone: 'Asia/Shanghai' },
    topology: { ...TOPOLOGY, map: join(dir, 'map.json') }, ...opts.config,
  }, join(dir, 'config.yaml'), opts.env ?? {});
  const store = await createStore(config.store, config.dataDir, {});
  const topology = new Topology(config.topology);
  const parts = buildAnalytics({ config, topology, statePath: stateDbPath(config), mode: 'live' });
  const { alarms, alarmStore } = parts;
  const register = parts.register!;
  alarms.advanceTo(T0);
  // a real worker (no bus) for the analysis status: its watermark at T0, the wall clock the test's
  const analysisClock = { wall: T0 };
  const worker = new AnalyticsWorker({ topology, detectors: [], alarms, wallClock: () => analysisClock.wall });
  worker.startAt(T0);
  const analytics = {
    topology, alarms, register, alarmStore, leakDecisions: parts.leakDecisions, openAlarms: () => alarms.openAlarms(),
    worker, health: () => ({ ...worker.health(), stats: worker.stats }),
  } as unknown as AnalyticsService;
  const app = Fastify({ logger: false, ajv: { customOptions: { removeAdditional: false } } });
  if (opts.onRoute) app.addHook('onRoute', opts.onRoute);
  const dash = await registerDashboard(app, {
    config, store, log: opts.log ?? pino({ level: 'silent' }), topology, webDist: opts.webDist ?? join(dir, 'no-dist'),
    analytics: opts.analytics === false ? undefined : analytics, ingest: opts.ingest, checkResponses: true,
  });
  await app.ready();
  return {
    app, dash, config, store, alarms, register, dir, analysisClock,
    close: async () => {
      await app.close();
      dash.close();
      parts.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const password = (username: string) => DEMO_USERS.find((u) => u.username === username)!.password;

/** A signed-in client: cookie and CSRF token carried on every request. */
export class Client {
  cookie = '';
  csrf = '';
  constructor(private readonly app: FastifyInstance) {}

  static async signIn(app: FastifyInstance, username: string, pw = password(username)): Promise<Client> {
    const c = new Client(app);
    const r = await c.login(username, pw);
    if (r.statusCode !== 200) throw new Error(`sign-in of ${username}: ${r.statusCode} ${r.body}`);
    return c;
  }

  async login(username: string, pw: string): Promise<LightMyRequestResponse> {
    const r = await this.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password: pw } });
    if (r.statusCode === 200) {
      this.cookie = String(r.headers['set-cookie']).split(';')[0];
      this.csrf = (r.json() as { csrfToken: string }).csrfToken;
    }
    return r;
  }

  get(url: string): Promise<LightMyRequestResponse> {
    return this.app.inject({ method: 'GET', url, headers: { cookie: this.cookie } });
  }

  send(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown, csrf: string | null = this.csrf): Promise<LightMyRequestResponse> {
    return this.app.inject({
      method, url, headers: { cookie: this.cookie, ...(csrf !== null ? { 'x-csrf-token': csrf } : {}) },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
  }
}
