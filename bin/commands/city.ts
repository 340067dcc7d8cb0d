/**
 * `aquawatch city generate --seed N --dmas N --junctions N --out DIR`: a generated city
 * (simulators/city/generator) written as files: the EPANET network (`<name>.inp`), the platform's
 * topology (`topology.yaml`, the file a configuration names with `topology: topology.yaml`, its map
 * named) and the pipes for the dashboard's map (`network-map.json`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { buildCity, cityTopology } from '../../simulators/city/city.ts';
import { DEMO_TOWN, generateCity, GeneratorError } from '../../simulators/city/generator/index.ts';
import { writeCityMap } from '../../simulators/city/map.ts';
import { parseCommandLine } from '../../core/command-line.ts';

const USAGE = `usage: aquawatch city generate [--seed N] [--dmas N] [--junctions N] [--name NAME] --out DIR

  --seed N        random seed, 0 … 2^32-1 (default ${DEMO_TOWN.seed}); the same seed gives the same city
  --dmas N        district metered areas, ≥ 3 (default ${DEMO_TOWN.dmas}: the demo town's hill, west, central, east, south)
  --junctions N   junctions in the network (default ${DEMO_TOWN.junctions})
  --name NAME     city name for MQTT topics and the Sparkplug group (default: from the parameters)
  --out DIR       folder for <name>.inp, topology.yaml and network-map.json (created if missing)
  -h, --help      this text`;

interface Io {
  stdout?: (line: string) => void;
  stderr?: (line: string) => void;
}

export async function run(argv: string[], io: Io = {}): Promise<number> {
  const out = io.stdout ?? ((l: string) => console.log(l));
  const err = io.stderr ?? ((l: string) => console.error(l));
  const cl = parseCommandLine({
    command: 'aquawatch city', usage: USAGE, positionals: true,
    options: { seed: { type: 'string' }, dmas: { type: 'string' }, junctions: { type: 'string' }, name: { type: 'string' }, out: { type: 'string' } },
  }, argv, { out, err });
  if (typeof cl === 'number') return cl;
  const { values, positionals } = cl;
  if (positionals.length !== 1 || positionals[0] !== 'generate') {
    return cl.fail(positionals.length ? `unknown action '${positionals.join(' ')}'` : 'an action is required');
  }
  const whole = (option: 'seed' | 'dmas' | 'junctions', fallback: number): number | string => {
    const text = values[option];
    if (text === undefined) return fallback;
    return /^\d+$/.test(text) ? Number(text) : `--${option}: must be a whole number (got ${text})`;
  };
  const seed = whole('seed', DEMO_TOWN.seed);
  const dmas = whole('dmas', DEMO_TOWN.dmas);
  const junctions = whole('junctions', DEMO_TOWN.junctions);
  for (const v of [seed, dmas, junctions]) if (typeof v === 'string') return cl.fail(v);
  if (!values.out) return cl.fail('--out is required');
  const isDemo = seed === DEMO_TOWN.seed && dmas === DEMO_TOWN.dmas && junctions === DEMO_TOWN.junctions;
  const name = (values.name as string | undefined) ?? (isDemo ? DEMO_TOWN.name : undefined);
  let generated;
  try {
    generated = generateCity({ seed: seed as number, dmas: dmas as number, junctions: junctions as number, name, ...(isDemo ? { title: DEMO_TOWN.title } : {}) });
  } catch (e) {
    if (e instanceof GeneratorError) { err(`aquawatch city: ${e.message}`); return 2; }
    throw e;
  }
  const dir = resolve(values.out as string);
  mkdirSync(dir, { recursive: true });
  const city = buildCity(generated.spec, generated.inpText);
  const inpFile = join(dir, `${city.name}.inp`);
  writeFileSync(inpFile, generated.inpText);
  const mapFile = writeCityMap(city, join(dir, 'network-map.json'));
  const topologyFile = join(dir, 'topology.yaml');
  // the map is named relative to the topology file's folder, so the folder can be moved
  writeFileSync(topologyFile, stringify({ ...cityTopology(city), map: 'network-map.json' }));
  const sensors = city.sensors.length;
  out(`city ${city.name}: ${city.network.junctions.size} junctions, ${city.dmas.length} DMAs, ${sensors} sensors, ${city.meters.length} customer meters`);
  for (const f of [inpFile, topologyFile, mapFile]) out(`  wrote ${f}`);
  return 0;
}
