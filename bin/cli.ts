/**
 * aquawatch <command> [options]
 *
 *   start     the whole platform in one process: embedded broker (unless configured), ingest,
 *             server; prints the dashboard's address
 *   ingest    the ingest service alone (sources → outbox → store and bus)
 *   server    the server alone (analytics and dashboard)
 *   simulate  the simulators (hydraulic model → OPC UA, MQTT, PDA)
 *   city      generate a city: EPANET network, topology and map from a seed
 *   import    a CSV file of history from a legacy SCADA
 *   analyze   replay the detectors over stored history
 *   alarms    export alarms for a period
 *   report    KPIs for a period
 *   token     device tokens for PDA uploads (create, list, revoke)
 *   dead-letters  rejected input: list, show, replay once the cause is fixed
 *   broker-auth  Mosquitto's passwd and ACL files from the config's broker section
 *   backup    copy the state database while the services run; restore puts a copy back
 *   config    check a site configuration file
 *   bench     benchmarks
 */
import { readFileSync } from 'node:fs';
import { logFormat } from '../core/log.ts';
import { USAGE_EXIT } from '../core/command-line.ts';
import { logProcessFailures } from './process-failures.ts';

const USAGE = `usage: aquawatch <command> [--config FILE] [options]

commands:
  start      whole platform in one process (embedded broker and store by default)
  ingest     ingest service only
  server     analytics and alarms (the dashboard follows) against the configured broker and store
  simulate   simulators
  city       generate a city: aquawatch city generate --seed N --dmas N --junctions N --out DIR
  import     import a CSV file: aquawatch import FILE --map MAPPING.yaml
  analyze    replay detectors over stored history: aquawatch analyze --from T --to T
  alarms     export alarms: aquawatch alarms --from T --to T --format csv|json
  report     KPIs for a period: aquawatch report --quarter 2026-Q3 --format json|csv|html
  token      PDA device tokens: aquawatch token create|list|revoke --device ID
  dead-letters  rejected input: aquawatch dead-letters list|show ID|replay [--source S --field F --since T]
  broker-auth  Mosquitto passwd and ACL from the config: aquawatch broker-auth --out DIR
  backup     copy the state database while running: aquawatch backup --out FILE
  restore    put a state database copy back: aquawatch restore FILE
  config     check a site configuration: aquawatch config check FILE
  bench      benchmarks: aquawatch bench [ingest|...]

options:
  -h, --help       this text ('aquawatch help COMMAND' or 'aquawatch COMMAND --help': a command's options)
  -V, --version    the version

Logs are JSON lines, or readable text when standard output is a terminal; AQUAWATCH_LOG_FORMAT=json|pretty
chooses, AQUAWATCH_LOG_LEVEL sets the level.

Exit codes: 0 done; 1 failed (also a configuration problem found while starting, e.g. a port in use,
or an invalid file for 'config check'); 2 usage error (unknown or malformed option, missing argument)
or a configuration that does not load.`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command) {
    console.error(USAGE);
    return USAGE_EXIT;
  }
  if (command === '--help' || command === '-h' || (command === 'help' && !rest.length)) {
    console.log(USAGE);
    return 0;
  }
  if (command === 'help') return main([rest[0], '--help']);
  if (command === '--version' || command === '-V') {
    console.log(version());
    return 0;
  }
  try {
    logFormat(process.env);
  } catch (e) {
    console.error(`aquawatch: ${(e as Error).message}`);
    return USAGE_EXIT;
  }
  switch (command) {
    case 'start': return (await import('./commands/start.ts')).run(rest);
    case 'ingest': return (await import('./commands/ingest.ts')).run(rest);
    case 'import': return (await import('./commands/import.ts')).run(rest);
    case 'server': return (await import('./commands/server.ts')).run(rest);
    case 'report': return (await import('./commands/report.ts')).run(rest);
    case 'analyze': return (await import('./commands/analyze.ts')).run(rest);
    case 'alarms': return (await import('./commands/alarms.ts')).run(rest);
    case 'simulate': return (await import('./commands/simulate.ts')).run(rest);
    case 'city': return (await import('./commands/city.ts')).run(rest);
    case 'token': return (await import('./commands/token.ts')).run(rest);
    case 'dead-letters': return (await import('./commands/dead-letters.ts')).run(rest);
    case 'broker-auth': return (await import('./commands/broker-auth.ts')).run(rest);
    case 'backup': return (await import('./commands/backup.ts')).runBackup(rest);
    case 'restore': return (await import('./commands/backup.ts')).runRestore(rest);
    case 'config': return (await import('./commands/config.ts')).run(rest);
    case 'bench': return (await import('../bench/run.ts')).run(rest);
    default:
      console.error(`aquawatch: unknown ${command.startsWith('-') ? 'option' : 'command'} '${command}'\n\n${USAGE}`);
      return USAGE_EXIT;
  }
}

/** A failure a command did not handle: a clear line for a configuration problem or a damaged database file, else the logged error. */
async function reportFailure(e: unknown): Promise<void> {
  // loaded here, not at the top: `--help`, `--version` and usage errors stay quick
  const [{ ConfigError }, { PortInUseError }, { DatabaseFileError }, { createLogger }] = await Promise.all([
    import('../core/config/load.ts'), import('../core/bus/embedded-broker.ts'), import('../core/sqlite-file-check.ts'), import('../core/log.ts'),
  ]);
  if (e instanceof PortInUseError || e instanceof ConfigError || e instanceof DatabaseFileError) console.error(`aquawatch: ${(e as Error).message}`);
  else createLogger().fatal({ err: e }, 'aquawatch failed');
}

logProcessFailures(process.argv[2] ?? '(none)');
main(process.argv.slice(2)).then(
  (code) => { if (code !== -1) process.exitCode = code; },
  (e: unknown) => reportFailure(e).finally(() => process.exit(1)),
);
