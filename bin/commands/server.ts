/**
 * `aquawatch server`: the server process of a split deployment. It runs the analytics (detectors,
 * alarm manager with its state, planned outage register) against the configured broker and store,
 * and the dashboard (web app, REST API under /api/v1, public outage page) with /health.
 */
import { createLogger } from '../../core/log.ts';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { mayReadOperationalDetail, METRICS_REFUSED } from '../../core/http-access.ts';
import { createStore } from '../../core/tsdb/factory.ts';
import { integerOption, parseCommandLine, PORT } from '../../core/command-line.ts';
import type { FastifyInstance } from 'fastify';
import type { AnalyticsService } from '../../analytics/service.ts';
import type { LoadedConfig } from '../../core/config/load.ts';
import type { TimeSeriesStore } from '../../core/tsdb/types.ts';
import { CONFIG_OPTION, loadConfigOrExplain } from './common.ts';
import { httpScheme } from '../../core/http-tls.ts';
import { serveDashboard, startAnalytics, type DashboardServer } from './platform.ts';

const USAGE = `usage: aquawatch server --config FILE [--http-port N]

Analytics and alarms against broker.url and the store; the dashboard, its API (/api/v1) and /health
on http.host:http.port.

options:
  -c, --config FILE   configuration (default: $AQUAWATCH_CONFIG); broker.url must name a broker
      --http-port N   HTTP port (default http.port)
  -h, --help          this text`;

/**
 * The routes `aquawatch server` adds beside the dashboard: /health, with the store and analytics
 * detail to callers on this machine or presenting http.metricsToken (F13, core/http-access.ts),
 * and /metrics (the process's and analytics' metrics, analytics/metrics.ts) to those callers alone.
 * Exported for the public-route inventory test.
 */
export function registerServerRoutes(app: FastifyInstance, o: {
  config: LoadedConfig; store: TimeSeriesStore; analytics: Pick<AnalyticsService, 'openAlarms' | 'health' | 'registerMetrics'>;
}): void {
  const { config, store, analytics } = o;
  const access = config.http;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'aquawatch_' });
  analytics.registerMetrics(registry);
  app.get('/health', async (req, reply) => {
    const storeOk = await store.ping();
    const worker = analytics.health();
    // the store down: nothing is read or kept (503); analytics behind or off the bus: degraded, the dashboard still serves
    const status = !storeOk ? 'down' : worker.status;
    const detail = mayReadOperationalDetail(req, access)
      ? { store: { describe: store.describe, ok: storeOk }, analytics: worker, openAlarms: analytics.openAlarms().length } : {};
    return reply.code(storeOk ? 200 : 503).send({ status, ...detail });
  });
  app.get('/metrics', async (req, reply) => {
    if (!mayReadOperationalDetail(req, access)) return reply.code(403).send(METRICS_REFUSED);
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}

export async function run(argv: string[]): Promise<number> {
  const cl = parseCommandLine({ command: 'aquawatch server', usage: USAGE, options: { ...CONFIG_OPTION, 'http-port': { type: 'string' } } }, argv);
  if (typeof cl === 'number') return cl;
  const { values } = cl;
  const httpPort = integerOption('http-port', values['http-port'], ...PORT);
  if (typeof httpPort === 'object') return cl.fail(httpPort.error);
  const config = loadConfigOrExplain(values.config as string | undefined);
  if (!config) return 2;
  if (config.broker.url === 'embedded') {
    console.error('aquawatch server: broker.url must name the broker ingest publishes to (mqtt://…); for everything in one process use aquawatch start');
    return 2;
  }
  if (typeof httpPort === 'number') config.http.port = httpPort;
  const rootLog = createLogger(config.log.level);
  const log = rootLog.child({ service: 'server' });
  // analytics writes its derived series: into store.derivedDatabase when they are kept apart
  const store = await createStore(config.store, config.dataDir, { log, writes: 'derived' });
  let analytics: AnalyticsService | undefined;
  let server: DashboardServer;
  try {
    analytics = await startAnalytics({ config, store, brokerUrl: config.broker.url, log });
    const running = analytics;
    server = await serveDashboard({
      config, store, log: rootLog, analytics,
      routes: (app) => registerServerRoutes(app, { config, store, analytics: running }),
    });
  } catch (e) {
    await analytics?.stop();
    await store.close();
    throw e;
  }
  console.log(JSON.stringify({ ready: true, service: 'server', http: `${httpScheme(config.http.tls)}://${config.http.host}:${config.http.port}`, broker: config.broker.url }));
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await server.stop();
    await analytics.stop();
    await store.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  return -1;
}
