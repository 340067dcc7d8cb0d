/**
 * The options of `aquawatch simulate` and the pace of a run: `--speed realtime|max|10x`, the
 * scenario or network, the time range, the fleet scale and the seed. Errors name the option.
 */
import { parseArgs } from 'node:util';

export type Speed = 'max' | 'realtime' | number;

/** `max`, `realtime`, `10x` or `10` (×10). */
export function parseSpeed(text: string): Speed {
  const t = text.trim().toLowerCase();
  if (t === 'max' || t === 'realtime') return t;
  const m = /^(\d+(?:\.\d+)?)x?$/.exec(t);
  if (!m || Number(m[1]) <= 0) throw new Error(`--speed: ${text} is not realtime, max or a factor such as 10x`);
  return Number(m[1]);
}

export interface SimulateArgs {
  /** A scenario file; absent with --network alone (a quiet open run from now). */
  scenario?: string;
  /** An .inp file that replaces the scenario's city. */
  network?: string;
  speed: Speed;
  from?: string;
  to?: string;
  scale: number;
  seed?: number;
}

/**
 * The options of `aquawatch simulate`:
 * --scenario FILE and/or --network FILE.inp, --speed realtime|max|10x [--from ISO] [--to ISO] [--scale N] [--seed N].
 * Errors name the option.
 */
export function parseSimulateArgs(argv: string[]): SimulateArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string' }, network: { type: 'string' }, speed: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' },
      scale: { type: 'string' }, seed: { type: 'string' },
    },
    strict: true, allowPositionals: false,
  });
  if (!values.scenario && !values.network) {
    throw new Error('--scenario: a scenario file is required (e.g. simulators/scenarios/suite/demo.yaml), or --network FILE.inp for a quiet run on that network');
  }
  const whole = (name: string, v: string | undefined, min: number): number | undefined => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || Number(v) < min) throw new Error(`--${name}: ${v} is not a whole number ≥ ${min}`);
    return Number(v);
  };
  for (const name of ['from', 'to'] as const) {
    const v = values[name];
    if (v !== undefined && !Number.isFinite(Date.parse(v))) throw new Error(`--${name}: ${v} is not an ISO 8601 time`);
  }
  return {
    scenario: values.scenario,
    network: values.network,
    speed: parseSpeed(values.speed ?? 'realtime'),
    from: values.from,
    to: values.to,
    scale: whole('scale', values.scale, 1) ?? 1,
    seed: whole('seed', values.seed, 0),
  };
}
