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
 *   broker-auth  Mosquitto's passwd and ACL files from the config's broker section
 *   bench     benchmarks
 */
import { ConfigError } from '../core/config/load.ts';
import { createLogger } from '../core/log.ts';
import { PortInUseError } from '../core/bus/embedded-broker.ts';

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
  broker-auth  Mosquitto passwd and ACL from the config: aquawatch broker-auth --out DIR
  bench      benchmarks: aquawatch bench [ingest|...]

Run 'aquawatch <command> --help' for a command's options.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  switch (command) {
    case 'start': return (await import('./commands/start.ts')).run(rest);
    case 'ingest': return (await import('./commands/ingest.ts')).run(rest);
    case 'import': return (await import('../ingest/sources/csv/command.ts')).runImportCommand(rest);
    case 'server': return (await import('./commands/server.ts')).run(rest);
    case 'report': return (await import('./commands/report.ts')).run(rest);
    case 'analyze': return (await import('./commands/analyze.ts')).run(rest);
    case 'alarms': return (await import('./commands/alarms.ts')).run(rest);
    case 'simulate': return (await import('./commands/simulate.ts')).run(rest);
    case 'city': return (await import('./commands/city.ts')).run(rest);
    case 'token': return (await import('./commands/token.ts')).run(rest);
    case 'broker-auth': return (await import('./commands/broker-auth.ts')).run(rest);
    case 'bench': return (await import('../bench/run.ts')).run(rest);
    default:
      console.error(`aquawatch: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => { if (code !== -1) process.exitCode = code; },
  (e: unknown) => {
    if (e instanceof PortInUseError || e instanceof ConfigError) console.error(`aquawatch: ${(e as Error).message}`);
    else createLogger().fatal({ err: e }, 'aquawatch failed');
    process.exit(1);
  },
);
