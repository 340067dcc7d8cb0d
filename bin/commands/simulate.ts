/**
 * `aquawatch simulate`: the simulators against a running platform (split deployment, or a platform
 * started with the config this command emits). Devices speak OPC UA (a plant server this command
 * runs), MQTT (JSON and Sparkplug B, to the broker) and HTTP (PDA uploads to the platform).
 *
 *   aquawatch simulate --scenario simulators/scenarios/suite/burst.yaml --speed max \
 *     --broker mqtt://127.0.0.1:1883 --http http://127.0.0.1:8081 --emit-config sim-platform.yaml
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { stringify } from 'yaml';
import { createLogger } from '../../core/log.ts';
import { parseSimulateArgs } from '../../simulators/simulate-args.ts';
import { integerOption, parseCommandLine, PORT } from '../../core/command-line.ts';

const USAGE = `usage: aquawatch simulate --scenario FILE [--network FILE.inp] [--speed realtime|10x|max] [--from ISO] [--to ISO]
                          [--scale N] [--seed N] [--broker URL] [--http URL] [--opcua-port N]
                          [--data-dir DIR] [--emit-config FILE]
       aquawatch simulate --city large|demo|SEED,DMAS,JUNCTIONS [--intervals KIND=S,...] [--speed ...]
                          [--from ISO] [--to ISO] [--seed N] [--broker URL] [--http URL] [--opcua-port N]
                          [--data-dir DIR] [--emit-config FILE]

Runs the scenario's devices against a platform: a plant OPC UA server (default port 4840), MQTT
sensors publishing to --broker (default mqtt://127.0.0.1:1883), PDA readers uploading to --http
(default http://127.0.0.1:8081). --emit-config writes the platform config that reads them.
--network runs on an EPANET .inp file (e.g. the L-Town network from the reference data folder)
instead of the scenario's city, as one DMA; without --scenario, a quiet run from now.
--city runs a generated city's whole fleet for scale (simulators/large-city): every sensor and one
AMR meter per junction (AMR registers go through the PDA upload API) at their own reporting
intervals (--intervals plant=60,flow=300,pressure=900,quality=900,meter=900 by default, seconds),
quiet, on a 15-min hydraulic step; from now (or --from) until stopped (or --to).
-h, --help prints this text.`;

export async function run(argv: string[]): Promise<number> {
  const own = { broker: { type: 'string' }, http: { type: 'string' }, 'opcua-port': { type: 'string' }, 'data-dir': { type: 'string' }, 'emit-config': { type: 'string' } } as const;
  const cl = parseCommandLine({
    command: 'aquawatch simulate', usage: USAGE,
    options: {
      ...own, scenario: { type: 'string' }, network: { type: 'string' }, speed: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' },
      scale: { type: 'string' }, seed: { type: 'string' }, city: { type: 'string' }, intervals: { type: 'string' },
    },
  }, argv);
  if (typeof cl === 'number') return cl;
  const { values } = cl;
  const opcuaPort = integerOption('opcua-port', values['opcua-port'], ...PORT);
  if (typeof opcuaPort === 'object') return cl.fail(opcuaPort.error);
  if (values.city !== undefined || values.intervals !== undefined) {
    if (values.city === undefined) return cl.fail('--intervals goes with --city');
    for (const k of ['scenario', 'network', 'scale'] as const) if (values[k] !== undefined) return cl.fail(`--${k} does not go with --city (a generated city's whole fleet, quiet)`);
    const { runLargeCity } = await import('../../simulators/large-city/command.ts');
    return runLargeCity(values, opcuaPort ?? 4840, cl.fail);
  }
  let args;
  try {
    // the engine's own parser checks the scenario options and names the one at fault
    const simArgv = (['scenario', 'network', 'speed', 'from', 'to', 'scale', 'seed'] as const)
      .flatMap((k) => (values[k] === undefined ? [] : [`--${k}`, String(values[k])]));
    args = parseSimulateArgs(simArgv);
  } catch (e) {
    return cl.fail((e as Error).message);
  }
  const log = createLogger(process.env.AQUAWATCH_LOG_LEVEL ?? 'info').child({ service: 'simulators' });
  const dataDir = resolve((values['data-dir'] as string | undefined) ?? './data-sim');
  mkdirSync(dataDir, { recursive: true });
  const { SimulatorRig } = await import('../../simulators/rig.ts');
  const rig = new SimulatorRig({
    scenario: args.scenario, network: args.network, scale: args.scale, seed: args.seed, from: args.from, to: args.to, dataDir,
    opcuaPort: opcuaPort ?? 4840, log,
    tokenFile: join(dataDir, 'pda-tokens.json'),
  });
  await rig.startPlant();
  if (values['emit-config']) {
    writeFileSync(values['emit-config'] as string, `# Platform config for scenario ${args.scenario ?? `(quiet run on ${args.network})`} (written by aquawatch simulate)\n${stringify(rig.platformConfig())}`);
    console.log(`platform config written to ${values['emit-config']}`);
  }
  await rig.connect({ brokerUrl: (values.broker as string | undefined) ?? 'mqtt://127.0.0.1:1883', httpBase: (values.http as string | undefined) ?? 'http://127.0.0.1:8081' });
  console.log(`simulating ${args.scenario ?? 'a quiet run'} on ${rig.sim.city.name} at ${args.speed} speed: plant OPC UA ${rig.plant.endpointUrl}`);
  const ctrl = { stopping: false };
  const stop = async () => { if (ctrl.stopping) return; ctrl.stopping = true; await rig.stop(); process.exit(0); };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  const summary = await rig.run(args.speed);
  console.log(JSON.stringify({ done: true, steps: summary.steps, from: summary.firstTs, to: summary.lastTs }));
  await rig.stop();
  return 0;
}
