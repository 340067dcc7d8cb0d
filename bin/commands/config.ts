/**
 * `aquawatch config check FILE`: load and validate a site configuration the way the services do
 * (core/config/load.ts with every source's own schema, then the topology and the platform broker's
 * address and TLS files), before deploying it. Prints "ok" and a short summary, or every error with
 * its key path.
 *
 * Exit codes: 0 valid, 1 invalid, 2 usage error.
 */
import { ConfigError, type LoadedConfig } from '../../core/config/load.ts';
import { Topology } from '../../core/topology/topology.ts';
import { BrokerConfigError, mqttConnectOptions } from '../../core/bus/mqtt-client.ts';
import { parseCommandLine, type CommandIo } from '../../core/command-line.ts';
import { loadSiteConfig } from '../site-config.ts';
import { calendarExpiryWarning, describeCalendar, localDateOf } from '../../core/config/calendar.ts';

const USAGE = `usage: aquawatch config check FILE

Loads FILE as the services would (environment variables substituted, topology file read, production
safety rules applied) and prints "ok" with a summary, or each error with its key path (exit 1).

options:
  -h, --help   this text`;

export async function run(argv: string[], io: CommandIo & { env?: NodeJS.ProcessEnv } = {}): Promise<number> {
  const out = io.out ?? ((l: string) => console.log(l));
  const err = io.err ?? ((l: string) => console.error(l));
  const cl = parseCommandLine({ command: 'aquawatch config', usage: USAGE, options: {}, positionals: true }, argv, { out, err });
  if (typeof cl === 'number') return cl;
  const [action, file, ...extra] = cl.positionals;
  if (action !== 'check') return cl.fail(action ? `unknown action '${action}' (check)` : 'an action is required: check');
  if (!file) return cl.fail('FILE is required');
  if (extra.length) return cl.fail(`unexpected argument '${extra[0]}'`);

  const checked = checkConfig(file, io.env ?? process.env);
  if (checked.errors) {
    err(`${file}: invalid`);
    for (const e of checked.errors) err(`  ${e}`);
    return 1;
  }
  for (const line of summary(checked.config)) out(line);
  // valid, but kept one year at a time: say when it runs out
  const expiry = calendarExpiryWarning(checked.config.calendar, localDateOf(Date.now(), checked.config.site.timezone));
  if (expiry) out(`warning: ${expiry}`);
  return 0;
}

/** The loaded configuration, or its errors as `key.path: reason`. */
export function checkConfig(file: string, env: NodeJS.ProcessEnv): { config: LoadedConfig; errors?: undefined } | { errors: string[] } {
  try {
    const config = loadSiteConfig(file, env); // with every source's and detector's own schema, as the services load it
    new Topology(config.topology, config.file); // cross-references: a sensor's DMA, a DMA's inflow sensors
    if (config.broker.url !== 'embedded') mqttConnectOptions(config.broker); // URL scheme, TLS files
    return { config };
  } catch (e) {
    if (e instanceof ConfigError) {
      // a topology file's errors name that file; the main file's need no prefix
      const prefix = e.file === file ? '' : `${e.file}: `;
      return { errors: e.issues.map((i) => `${prefix}${i}`) };
    }
    if (e instanceof BrokerConfigError) return { errors: [e.message] };
    throw e;
  }
}

function summary(c: LoadedConfig): string[] {
  const sources = Object.entries(c.sources).map(([kind, s]) => {
    if (Array.isArray(s)) return `${kind} ${s.length}`;
    return `${kind} ${(s as { enabled?: boolean }).enabled === false ? 'off' : 'on'}`;
  });
  const byKind = new Map<string, number>();
  for (const s of c.topology.sensors) byKind.set(s.kind, (byKind.get(s.kind) ?? 0) + 1);
  const kinds = [...byKind].map(([k, n]) => `${k} ${n}`).join(', ');
  return [
    `ok: ${c.file} (${c.mode} mode, ${c.site.name}, ${c.site.timezone})`,
    `  sources: ${sources.join(', ')}`,
    `  sensors: ${c.topology.sensors.length}${kinds ? ` (${kinds})` : ''}`,
    `  DMAs:    ${c.topology.dmas.length}`,
    `  store:   ${c.store.type}; broker: ${brokerAddress(c.broker.url)}`,
    `  calendar: ${describeCalendar(c.calendar)}`,
  ];
}

/** The broker's scheme, host and port: never credentials written into the URL. */
function brokerAddress(url: string): string {
  if (url === 'embedded') return 'embedded';
  const u = new URL(url); // checked by mqttConnectOptions
  return `${u.protocol}//${u.host}`;
}
