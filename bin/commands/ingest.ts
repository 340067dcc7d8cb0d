/**
 * `aquawatch ingest`: the ingest service alone, for a split deployment (one per plant or site).
 * It connects to the configured broker; with `broker.url: embedded` it runs its own.
 */
import { createLogger } from '../../core/log.ts';
import { EmbeddedBroker, ensurePlatformIdentity } from '../../core/bus/embedded-broker.ts';
import { IngestService } from '../../ingest/service.ts';
import { parseCommandLine } from '../../core/command-line.ts';
import { CONFIG_OPTION, loadConfigOrExplain } from './common.ts';
import { httpScheme } from '../../core/http-tls.ts';

const USAGE = `usage: aquawatch ingest [--config FILE]

Serves /health, /metrics and the PDA API on http.host:http.ingestPort.

options:
  -c, --config FILE   configuration (default: $AQUAWATCH_CONFIG, else the built-in defaults)
  -h, --help          this text`;

export async function run(argv: string[]): Promise<number> {
  const cl = parseCommandLine({ command: 'aquawatch ingest', usage: USAGE, options: CONFIG_OPTION }, argv);
  if (typeof cl === 'number') return cl;
  const { values } = cl;
  const config = loadConfigOrExplain(values.config as string | undefined);
  if (!config) return 2;
  const log = createLogger(config.log.level).child({ service: 'ingest' });
  let broker: EmbeddedBroker | undefined;
  let brokerUrl = config.broker.url;
  if (brokerUrl === 'embedded') {
    // Production refuses anonymous clients, so this process's own clients need the platform's identity
    // (generated when the config names none, as `aquawatch start` does). Demo mode keeps the open
    // broker another process (a separate `aquawatch server`) may use without a password.
    if (config.mode === 'production') ensurePlatformIdentity(config.broker);
    broker = EmbeddedBroker.fromConfig(config.broker, log);
    await broker.start();
    brokerUrl = broker.url;
  }
  const ingest = new IngestService({ config, log, brokerUrl, http: { host: config.http.host, port: config.http.ingestPort } });
  await ingest.start();
  const addr = ingest.http?.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.http.ingestPort;
  // A machine-readable line: the fault tests and process supervisors wait for it.
  console.log(JSON.stringify({ ready: true, service: 'ingest', http: `${httpScheme(config.http.tls)}://${config.http.host}:${port}`, broker: brokerUrl, pid: process.pid }));
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await ingest.stop();
    await broker?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  return -1;
}
