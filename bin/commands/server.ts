/**
 * `aquawatch server`: the server process of a split deployment. It runs the analytics (detectors,
 * alarm manager with its state, planned outage register) against the configured broker and store,
 * and the dashboard (web app, REST API under /api/v1, public outage page) with /health.
 */
import Fastify from 'fastify';
import { createLogger } from '../../core/log.ts';
import { createStore } from '../../core/tsdb/factory.ts';
import { PortInUseError } from '../../core/bus/embedded-broker.ts';
import { AnalyticsService } from '../../analytics/service.ts';
import { registerDashboard } from '../../dashboard/server/index.ts';
import { ensureWebBuilt } from '../../dashboard/web/build.ts';
import { startLive, type LiveWiring } from '../../dashboard/server/live-wiring.ts';
import { mqttConnectOptions } from '../../core/bus/mqtt-client.ts';
import { integerOption, parseCommandLine, PORT } from '../../core/command-line.ts';
import { CONFIG_OPTION, loadConfigOrExplain } from './common.ts';
import { httpScheme } from '../../core/http-tls.ts';
import { httpServerSettings } from '../../core/http-limits.ts';

const USAGE = `usage: aquawatch server --config FILE [--http-port N]

Analytics and alarms against broker.url and the store; the dashboard, its API (/api/v1) and /health
on http.host:http.port.

options:
  -c, --config FILE   configuration (default: $AQUAWATCH_CONFIG); broker.url must name a broker
      --http-port N   HTTP port (default http.port)
  -h, --help          this text`;

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
  const log = createLogger(config.log.level).child({ service: 'server' });
  const store = await createStore(config.store, config.dataDir, { log });
  const analytics = new AnalyticsService({ config, store, brokerUrl: config.broker.url, log });
  await analytics.start();

  // Unknown query or body keys are errors, not silently dropped (fastify's default strips them).
  const app = Fastify({ logger: false, ajv: { customOptions: { removeAdditional: false } }, ...httpServerSettings(config.http.tls) });
  app.get('/health', async (_req, reply) => {
    const storeOk = await store.ping();
    const stats = analytics.worker.stats;
    return reply.code(storeOk ? 200 : 503).send({ status: storeOk ? 'ok' : 'degraded', store: { describe: store.describe, ok: storeOk }, analytics: stats, openAlarms: analytics.openAlarms().length });
  });
  // a fresh build of the web app when dist is missing or older than its sources (a source checkout)
  await ensureWebBuilt().catch((e: unknown) => log.error({ err: String(e) }, 'dashboard web app build failed'));
  const dashboard = await registerDashboard(app, { config, store, log: log.child({ component: 'dashboard' }), analytics });
  let live: LiveWiring | undefined;
  try {
    await app.listen({ host: config.http.host, port: config.http.port });
    live = await startLive(dashboard, {
      httpServer: app.server, brokerUrl: config.broker.url, connect: mqttConnectOptions(config.broker),
      log: log.child({ component: 'live' }), analytics,
    });
  } catch (e) {
    await live?.stop();
    await app.close();
    dashboard.close();
    await analytics.stop();
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError(config.http.host, config.http.port, 'HTTP server', 'set http.port in the config or pass --http-port');
    throw e;
  }
  console.log(JSON.stringify({ ready: true, service: 'server', http: `${httpScheme(config.http.tls)}://${config.http.host}:${config.http.port}`, broker: config.broker.url }));
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await live?.stop();
    await app.close();
    dashboard.close();
    await analytics.stop();
    await store.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  return -1;
}
