/**
 * `aquawatch start`: the whole platform in one process.
 *
 * With no configuration it is the demo: the simulators' demo city (the generated demo town) with a plant OPC UA
 * server, MQTT and Sparkplug B sensors and PDA readers, an embedded aedes broker, the SQLite store
 * under ./data, and the HTTP server on 127.0.0.1:8080. The simulation backfills the last 7 days at
 * full speed and then goes on in real time. Components talk over MQTT, OPC UA and HTTP exactly as
 * in a split deployment.
 *
 * With --config it runs that configuration, without simulators.
 */
import { resolve, join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { createLogger, type Logger } from '../../core/log.ts';
import { parseConfig, type LoadedConfig } from '../../core/config/load.ts';
import { SOURCES } from '../../ingest/sources/registry.ts';
import type { CauseCode } from '../../analytics/outages/register.ts';
import { CONFIG_OPTION, loadConfigOrExplain } from './common.ts';
import { BackfillProgress } from './backfill-progress.ts';
import { demoNotifyConfig, withDemoPhones } from './demo-notify.ts';
import { DEMO_COMPENSATION } from '../../analytics/kpi/compensation.ts';
import { DEMO_PHONE_PATH } from '../../dashboard/server/demo-phone.ts';
import { notifyConfigSchema } from '../../core/config/notify.ts';
import { startPlatform, type RunningPlatform } from './platform.ts';
import { integerOption, parseCommandLine, PORT } from '../../core/command-line.ts';
import { runInBackground } from '../process-failures.ts';

const DEMO_SCENARIO = 'simulators/scenarios/suite/demo.yaml';

const USAGE = `usage: aquawatch start [--config FILE] [--http-port N] [--mqtt-port N]
                       [--scenario FILE] [--data-dir DIR] [--no-simulators]

Without --config: the demo city with simulators (scenario ${DEMO_SCENARIO}),
embedded broker, SQLite store under ./data, demo mode, everything on loopback.

options:
  -c, --config FILE     configuration (default: $AQUAWATCH_CONFIG, else the demo); no simulators
      --http-port N     HTTP port of the dashboard and API (default http.port, 8080)
      --mqtt-port N     port of the embedded MQTT broker (default broker.port, 1883)
      --scenario FILE   the demo's simulation scenario (default ${DEMO_SCENARIO})
      --data-dir DIR    where the demo keeps its data (default ./data)
      --no-simulators   the platform alone, without the demo's simulators
  -h, --help            this text`;

export async function run(argv: string[]): Promise<number> {
  const cl = parseCommandLine({
    command: 'aquawatch start', usage: USAGE,
    options: {
      ...CONFIG_OPTION, 'http-port': { type: 'string' }, 'mqtt-port': { type: 'string' }, scenario: { type: 'string' },
      'data-dir': { type: 'string' }, 'no-simulators': { type: 'boolean' },
    },
  }, argv);
  if (typeof cl === 'number') return cl;
  const { values } = cl;
  const httpPort = integerOption('http-port', values['http-port'], ...PORT);
  const mqttPort = integerOption('mqtt-port', values['mqtt-port'], ...PORT);
  for (const p of [httpPort, mqttPort]) if (typeof p === 'object') return cl.fail(p.error);
  const configFile = (values.config as string | undefined) ?? process.env.AQUAWATCH_CONFIG;
  const withSimulators = !configFile && !values['no-simulators'];
  const log = createLogger(process.env.AQUAWATCH_LOG_LEVEL ?? 'info');

  let rig: import('../../simulators/rig.ts').SimulatorRig | undefined;
  let config: LoadedConfig | undefined;
  if (withSimulators) {
    const { SimulatorRig } = await import('../../simulators/rig.ts');
    const dataDir = resolve((values['data-dir'] as string | undefined) ?? './data');
    rig = new SimulatorRig({ scenario: (values.scenario as string | undefined) ?? DEMO_SCENARIO, dataDir, log: log.child({ service: 'simulators' }) });
    await rig.startPlant();
    const demoConfig = { ...rig.platformConfig({ dataDir }), compensation: DEMO_COMPENSATION };
    config = parseConfig(demoConfig, '(demo)', process.env, SOURCES);
    // The demo's effective configuration, for the commands that read it: analyze, alarms, report, import.
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'demo-config.yaml'), `# Written by aquawatch start (demo): the configuration of the running demo.\n${stringify(demoConfig)}`);
  } else {
    config = loadConfigOrExplain(configFile);
    if (!config) return 2;
    if (values['data-dir']) config.dataDir = resolve(values['data-dir'] as string);
  }
  if (typeof httpPort === 'number') config.http.port = httpPort;
  if (typeof mqttPort === 'number') config.broker.port = mqttPort;
  log.level = config.log.level;
  // the demo notifies its own phone inbox, on the dashboard's port (so only once that is known)
  if (rig) {
    config.notify = notifyConfigSchema.parse(demoNotifyConfig(`http://127.0.0.1:${config.http.port}`, config.site.timezone));
    config.topology.meters = withDemoPhones(config.topology.meters);
  }

  // With simulators, analytics starts with the platform at the simulation's first step and follows
  // the backfill as it arrives (its watermark follows each sensor, so the sources' different paces during
  // the backfill neither drop readings nor make sensors look stale).
  const platform = await startPlatform(config, log, { analyticsStartAt: rig?.sim.scenario.start });
  console.log(`aquawatch is running (${config.mode} mode)`);
  console.log(`  dashboard: ${platform.httpBase}/`);
  console.log(`  health:    ${platform.httpBase}/health   metrics: ${platform.httpBase}/metrics   status: ${platform.httpBase}/status`);
  if (config.mode === 'demo') console.log('  sign in:   demo users admin, dispatcher, maintenance, service, viewer (passwords on the sign-in page)');
  console.log(`  MQTT:      ${platform.brokerUrl}${platform.broker ? ' (embedded)' : ''}`);
  console.log(`  store:     ${platform.ingest.store.describe}`);
  if (rig) console.log(`  config:    ${join(config.dataDir, 'demo-config.yaml')} (for aquawatch analyze|alarms|report --config)`);
  if (rig) console.log(`  phone:     ${platform.httpBase}${DEMO_PHONE_PATH} (the WeCom messages the on-call crew get; ack links work)`);

  if (rig) {
    await rig.connect({ brokerUrl: platform.brokerUrl, brokerUsername: config.broker.username, brokerPassword: config.broker.password, httpBase: platform.httpBase });
    if (!await platform.waitForSources(30_000)) log.warn('not every source connected within 30 s; the simulation starts anyway');
    console.log(`  simulators: ${rig.plant.endpointUrl} (plant OPC UA), MQTT JSON and Sparkplug B sensors, ${rig.readers.length} PDA readers`);
    registerAnnouncedOutages(rig, platform, log);
    console.log('  backfilling the last 7 days at full speed, then live; watch the dashboard (or /status) fill up');
    const backfill = new BackfillProgress({ log });
    // a simulator failure stops the simulation, not the demo: the dashboard keeps serving what arrived
    runInBackground(rig.run('realtime', (step) => backfill.onStep(step)), log, 'the simulation',
      (s) => log.info({ steps: s.steps }, 'simulation scenario ended'));
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    // the simulation's clock first, then the platform, then the simulated devices: stopped the other
    // way round, the platform logged the devices' goodbyes as field faults (NDEATH, a lost OPC UA session)
    await rig?.stopSimulation();
    await platform.stop();
    await rig?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  return -1; // keep running
}

/**
 * The demo utility announced its scenario's planned outages (notice given days before): enter them
 * in the planned-outage register as a dispatcher would (approved), so the outage is classed planned and
 * its pressure alarms are suppressed. Ids carry the start, so a restart on the same data adds none twice.
 */
function registerAnnouncedOutages(rig: import('../../simulators/rig.ts').SimulatorRig, platform: RunningPlatform, log: Logger): void {
  const { ctx } = platform.dashboard;
  for (const g of rig.sim.groundTruth) {
    if (g.type !== 'planned_outage') continue;
    const id = `${g.id}:${g.start}`;
    if (ctx.register().getPlanned(id)) continue;
    const dmas = (g.expect.dmas as string[] | undefined) ?? (g.dma ? [g.dma] : []);
    const end = g.end ?? g.start + 24 * 3_600_000;
    try {
      ctx.register().createPlanned({
        id, dmas, start: g.start, end, notifiedAt: (g.expect.noticeAt as number | undefined) ?? g.start,
        cause: (g.expect.cause as CauseCode | undefined) ?? 'maintenance', reason: `管网计划检修 planned works${g.element ? ` (${g.element})` : ''}`,
      });
      log.info({ id, dmas }, 'demo: the scenario\'s announced outage entered in the planned-outage register');
    } catch (e) {
      log.error({ id, err: String(e) }, 'demo: could not enter the scenario\'s announced outage');
    }
  }
}
