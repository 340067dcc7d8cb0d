/**
 * The platform's parts put together in one place, for `aquawatch start` (everything in one process:
 * `startPlatform`) and `aquawatch server` (analytics and the dashboard against a broker and a store
 * elsewhere). The order is always: broker, ingest (it owns the store in `start`), the analytics
 * service (analytics/compose.ts inside, started: the dashboard and the live channel get it at
 * construction), then the HTTP server with the dashboard and its live channel. `aquawatch analyze`
 * builds the same analytics composition for replay (analytics/compose.ts) and needs none of the rest.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from '../../core/log.ts';
import type { LoadedConfig } from '../../core/config/load.ts';
import type { TimeSeriesStore } from '../../core/tsdb/types.ts';
import { createStore, keepsDerivedApart } from '../../core/tsdb/factory.ts';
import { EmbeddedBroker, PortInUseError, ensurePlatformIdentity } from '../../core/bus/embedded-broker.ts';
import { IngestService } from '../../ingest/service.ts';
import { AnalyticsService } from '../../analytics/service.ts';
import { registerDashboard, type DashboardHandle } from '../../dashboard/server/index.ts';
import { startLive } from '../../dashboard/server/live-wiring.ts';
import type { LiveGateway } from '../../dashboard/server/live/index.ts';
import { ensureWebBuilt } from '../../dashboard/web/build.ts';
import { httpScheme } from '../../core/http-tls.ts';
import { httpServerSettings } from '../../core/http-limits.ts';

/** The analytics service, started: warmed up from the store (or from `startAt`) and subscribed to the bus. */
export async function startAnalytics(o: { config: LoadedConfig; store: TimeSeriesStore; brokerUrl: string; log: Logger; startAt?: number }): Promise<AnalyticsService> {
  const analytics = new AnalyticsService(o);
  try {
    await analytics.start();
  } catch (e) {
    await analytics.stop();
    throw e;
  }
  return analytics;
}

export interface DashboardServer {
  app: FastifyInstance;
  dashboard: DashboardHandle;
  /** The live channel (socket.io); none without analytics, whose telemetry feed it reads. */
  live?: LiveGateway;
  /** http(s)://host:port, with a loopback host when the server listens on every address. */
  httpBase: string;
  stop(): Promise<void>;
}

/**
 * The HTTP server: `routes` (ingest's, or the server's /health), the dashboard and, with analytics,
 * its live channel on the same server. A port in use is a PortInUseError naming the fix.
 */
export async function serveDashboard(o: {
  config: LoadedConfig; store: TimeSeriesStore; log: Logger; analytics?: AnalyticsService; ingest?: IngestService;
  routes?: (app: FastifyInstance) => Promise<void> | void;
}): Promise<DashboardServer> {
  const { config, log } = o;
  // Unknown query or body keys are errors, not silently dropped (fastify's default strips them).
  const app = Fastify({ logger: false, ajv: { customOptions: { removeAdditional: false } }, ...httpServerSettings(config.http.tls) });
  let dashboard: DashboardHandle | undefined;
  let live: LiveGateway | undefined;
  const stop = async () => { await live?.stop(); await app.close(); dashboard?.close(); };
  try {
    await o.routes?.(app);
    // a fresh build of the web app when dist is missing or older than its sources (a fresh clone);
    // a failed build leaves the dashboard's "not built" page, not a platform that will not start
    await ensureWebBuilt().catch((e: unknown) => log.error({ err: String(e) }, 'dashboard web app build failed'));
    // the dashboard at `/` (API, web app, public outage page); the old status page at /status
    dashboard = await registerDashboard(app, { config, store: o.store, log: log.child({ service: 'dashboard' }), analytics: o.analytics, ingest: o.ingest });
    await app.listen({ host: config.http.host, port: config.http.port });
    // socket.io on the same HTTP server: live values, alarms, incidents, area states, KPI tiles
    if (o.analytics) live = await startLive(dashboard, { httpServer: app.server, analytics: o.analytics, log: log.child({ service: 'live' }) });
  } catch (e) {
    await stop();
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new PortInUseError(config.http.host, config.http.port, 'HTTP server', 'set http.port in the config or pass --http-port');
    }
    throw e;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.http.port;
  const host = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
  return { app, dashboard, live, httpBase: `${httpScheme(config.http.tls)}://${host}:${port}`, stop };
}

export interface RunningPlatform {
  broker?: EmbeddedBroker;
  dashboard: DashboardHandle;
  brokerUrl: string;
  ingest: IngestService;
  analytics?: AnalyticsService;
  httpBase: string;
  /** Resolve once every source is connected (and subscribed), or after `timeoutMs`; says which. */
  waitForSources(timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * Broker (embedded unless configured), ingest, analytics and the HTTP server, as one platform.
 * `analytics: false`: ingest and the dashboard alone (tests and benchmarks of ingest), with no
 * alarms and no live channel.
 */
export async function startPlatform(config: LoadedConfig, log: Logger, opts: { analytics?: boolean; analyticsStartAt?: number } = {}): Promise<RunningPlatform> {
  let broker: EmbeddedBroker | undefined;
  let brokerUrl = config.broker.url;
  if (config.broker.url === 'embedded') {
    ensurePlatformIdentity(config.broker);
    broker = EmbeddedBroker.fromConfig(config.broker, log);
    await broker.start();
    brokerUrl = broker.url;
  }
  const ingest = new IngestService({ config, log: log.child({ service: 'ingest' }), brokerUrl, http: false });
  let analytics: AnalyticsService | undefined;
  let analyticsStore: TimeSeriesStore | undefined;
  await ingest.start();
  let server: DashboardServer;
  try {
    if (opts.analytics !== false) {
      // derived series kept apart (store.derivedDatabase) are written by a store of their own
      if (keepsDerivedApart(config.store)) analyticsStore = await createStore(config.store, config.dataDir, { log, writes: 'derived' });
      analytics = await startAnalytics({ config, store: analyticsStore ?? ingest.store, brokerUrl, log: log.child({ service: 'analytics' }), startAt: opts.analyticsStartAt });
    }
    // one /metrics and one /health for the process: analytics' beside ingest's
    analytics?.registerMetrics(ingest.metrics.registry);
    const running = analytics;
    server = await serveDashboard({
      config, store: ingest.store, log, analytics, ingest,
      routes: (app) => ingest.registerRoutes(app, running && { name: 'analytics', health: () => running.health() }),
    });
  } catch (e) {
    await analytics?.stop();
    await analyticsStore?.close();
    await ingest.stop();
    await broker?.stop();
    throw e;
  }
  return {
    broker, brokerUrl, ingest, analytics, dashboard: server.dashboard, httpBase: server.httpBase,
    waitForSources: async (timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (ingest.sources.every((s) => s.status().state === 'connected')) return true;
        await new Promise((r) => setTimeout(r, 50));
      }
      return false;
    },
    stop: async () => { await server.stop(); await analytics?.stop(); await analyticsStore?.close(); await ingest.stop(); await broker?.stop(); },
  };
}
