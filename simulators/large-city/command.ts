/**
 * `aquawatch simulate --city ...` (bin/commands/simulate.ts hands over here): a generated city's
 * whole fleet against a platform. Prints `simulating ...` when the devices are connected, then a
 * JSON status line every minute (readings sent, simulated time, lag behind real time).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { createLogger } from '../../core/log.ts';
import { DEMO_TOWN, LARGE_CITY, type GeneratorParams } from '../city/generator/index.ts';
import { parseSpeed } from '../simulate-args.ts';
import { amrCity, DEFAULT_INTERVALS, type ReportingIntervals } from './plan.ts';
import { LargeCitySimulator } from './simulator.ts';

const NAMED: Record<string, GeneratorParams> = { large: LARGE_CITY, demo: DEMO_TOWN };

/** `large`, `demo`, or `SEED,DMAS,JUNCTIONS` (the generator's parameters). */
export function parseCityOption(text: string): GeneratorParams {
  if (NAMED[text]) return NAMED[text];
  const m = /^(\d+),(\d+),(\d+)$/.exec(text);
  if (!m) throw new Error(`--city: ${text} is not large, demo or SEED,DMAS,JUNCTIONS (e.g. 7,12,3000)`);
  return { seed: Number(m[1]), dmas: Number(m[2]), junctions: Number(m[3]) };
}

/** `meter=900,pressure=300`: overrides of the default reporting intervals, seconds. */
export function parseIntervalsOption(text: string | undefined): ReportingIntervals {
  const out = { ...DEFAULT_INTERVALS };
  if (text === undefined) return out;
  const keys: Record<string, keyof ReportingIntervals> = { plant: 'plantS', flow: 'flowS', pressure: 'pressureS', quality: 'qualityS', meter: 'meterS' };
  for (const part of text.split(',')) {
    const [k, v] = part.split('=');
    const key = keys[k?.trim() ?? ''];
    if (!key) throw new Error(`--intervals: ${part} does not name plant, flow, pressure, quality or meter (KIND=SECONDS)`);
    if (!/^\d+$/.test(v?.trim() ?? '') || Number(v) < 1) throw new Error(`--intervals: ${part}: the interval is a whole number of seconds ≥ 1`);
    out[key] = Number(v);
  }
  return out;
}

type Values = Partial<Record<'city' | 'intervals' | 'speed' | 'from' | 'to' | 'seed' | 'broker' | 'http' | 'data-dir' | 'emit-config', string | boolean>>;

export async function runLargeCity(values: Values, opcuaPort: number, fail: (reason: string) => number): Promise<number> {
  const str = (k: keyof Values) => values[k] as string | undefined;
  let params: GeneratorParams;
  let intervals: ReportingIntervals;
  let speed;
  const times: Partial<Record<'from' | 'to', number>> = {};
  try {
    params = parseCityOption(str('city')!);
    intervals = parseIntervalsOption(str('intervals'));
    speed = parseSpeed(str('speed') ?? 'realtime');
    for (const k of ['from', 'to'] as const) {
      const v = str(k);
      if (v === undefined) continue;
      times[k] = Date.parse(v);
      if (!Number.isFinite(times[k])) throw new Error(`--${k}: ${v} is not an ISO 8601 time`);
    }
  } catch (e) {
    return fail((e as Error).message);
  }
  const seedText = str('seed');
  if (seedText !== undefined && !/^\d+$/.test(seedText)) return fail(`--seed: ${seedText} is not a whole number`);
  const log = createLogger(process.env.AQUAWATCH_LOG_LEVEL ?? 'info').child({ service: 'simulators' });
  const dataDir = resolve(str('data-dir') ?? './data-sim');
  mkdirSync(dataDir, { recursive: true });
  const city = amrCity(params);
  const sim = new LargeCitySimulator({
    city, intervals, seed: seedText === undefined ? 1 : Number(seedText), from: times.from, to: times.to,
    dataDir, opcuaPort, tokenFile: join(dataDir, 'amr-tokens.json'), log,
  });
  await sim.open();
  const emit = str('emit-config');
  if (emit) {
    writeFileSync(emit, `# Platform config for the ${city.name} fleet (written by aquawatch simulate --city)\n${stringify(sim.platformConfig())}`);
    console.log(`platform config written to ${emit}`);
  }
  await sim.connect({ brokerUrl: str('broker') ?? 'mqtt://127.0.0.1:1883', httpBase: str('http') ?? 'http://127.0.0.1:8081' });
  console.log(`simulating ${city.name}: ${city.sensors.length} sensors and ${city.meters.length} AMR meters, `
    + `${sim.plan.readingsPerS.toFixed(1)} readings/s at ${speed === 'realtime' ? 'real time' : `${speed} speed`}; plant OPC UA ${sim.plant.endpointUrl}`);
  const status = setInterval(() => console.log(JSON.stringify({ status: true, ...sim.stats })), 60_000);
  let stopping = false;
  const stop = async () => { if (stopping) return; stopping = true; clearInterval(status); await sim.stop(); process.exit(0); };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  const stats = await sim.run(speed);
  clearInterval(status);
  console.log(JSON.stringify({ done: true, ...stats }));
  await sim.stop();
  return 0;
}
