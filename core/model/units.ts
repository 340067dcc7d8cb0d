/**
 * Quantity kinds, their canonical units (domain.md) and the conversions collectors apply.
 * A conversion is a pair of (factor, offset): canonical = value * factor + offset.
 */

export const KINDS = [
  'pressure', 'flow', 'level', 'chlorine', 'turbidity', 'ph', 'conductivity',
  'temperature', 'pump', 'speed', 'valve', 'meter', 'volume',
] as const;
export type Kind = (typeof KINDS)[number];

export const CANONICAL_UNIT: Record<Kind, string> = {
  pressure: 'MPa',
  flow: 'm3/h',
  level: 'm',
  chlorine: 'mg/L',
  turbidity: 'NTU',
  ph: 'pH',
  conductivity: 'uS/cm',
  temperature: 'degC',
  pump: 'state',
  speed: '%',
  valve: '%',
  meter: 'm3',
  volume: 'm3',
};

/**
 * Physical range of each kind in its canonical unit: a value outside it cannot be a real
 * measurement (a broken sensor, a wrong scaling), so the pipeline rejects it.
 * Deliberately wide; the analytics apply the service thresholds.
 */
export const PHYSICAL_RANGE: Record<Kind, readonly [number, number]> = {
  pressure: [-0.1, 10],          // vacuum to 100 bar
  flow: [-100_000, 100_000],     // reverse flow is real on some inlets
  level: [-1, 200],
  chlorine: [0, 20],
  turbidity: [0, 4000],
  ph: [0, 14],
  conductivity: [0, 200_000],
  temperature: [-20, 80],
  pump: [0, 1],
  speed: [0, 120],
  valve: [0, 100],
  meter: [0, 1e9],
  volume: [0, 1e12],
};

interface Conversion { kind: Kind; factor: number; offset?: number }

/** Accepted spellings of units, keyed by a normalised form (lower case, no spaces, ³→3, µ→u). */
const UNITS: Record<string, Conversion> = {
  // pressure
  mpa: { kind: 'pressure', factor: 1 },
  kpa: { kind: 'pressure', factor: 0.001 },
  pa: { kind: 'pressure', factor: 1e-6 },
  bar: { kind: 'pressure', factor: 0.1 },
  mbar: { kind: 'pressure', factor: 0.0001 },
  psi: { kind: 'pressure', factor: 0.006894757 },
  // metres of water column: 1 m H2O = 9.80665 kPa
  mh2o: { kind: 'pressure', factor: 0.00980665 },
  mwc: { kind: 'pressure', factor: 0.00980665 },
  // flow
  'm3/h': { kind: 'flow', factor: 1 },
  'l/s': { kind: 'flow', factor: 3.6 },
  'l/min': { kind: 'flow', factor: 0.06 },
  'm3/s': { kind: 'flow', factor: 3600 },
  'm3/d': { kind: 'flow', factor: 1 / 24 },
  'gpm': { kind: 'flow', factor: 0.2271247 },
  // level
  m: { kind: 'level', factor: 1 },
  cm: { kind: 'level', factor: 0.01 },
  mm: { kind: 'level', factor: 0.001 },
  // quality
  'mg/l': { kind: 'chlorine', factor: 1 },
  ppm: { kind: 'chlorine', factor: 1 },
  'ug/l': { kind: 'chlorine', factor: 0.001 },
  ntu: { kind: 'turbidity', factor: 1 },
  ftu: { kind: 'turbidity', factor: 1 },
  ph: { kind: 'ph', factor: 1 },
  'us/cm': { kind: 'conductivity', factor: 1 },
  'ms/cm': { kind: 'conductivity', factor: 1000 },
  'ms/m': { kind: 'conductivity', factor: 10 },
  degc: { kind: 'temperature', factor: 1 },
  c: { kind: 'temperature', factor: 1 },
  '°c': { kind: 'temperature', factor: 1 },
  degf: { kind: 'temperature', factor: 5 / 9, offset: -32 * 5 / 9 },
  '°f': { kind: 'temperature', factor: 5 / 9, offset: -32 * 5 / 9 },
  k: { kind: 'temperature', factor: 1, offset: -273.15 },
  // states and positions
  state: { kind: 'pump', factor: 1 },
  '%': { kind: 'speed', factor: 1 },
  percent: { kind: 'speed', factor: 1 },
  // volume
  m3: { kind: 'meter', factor: 1 },
  l: { kind: 'meter', factor: 0.001 },
};

/** Kinds that share a unit family with another kind (a valve position is a % like speed). */
const SAME_FAMILY: Partial<Record<Kind, Kind>> = { valve: 'speed', volume: 'meter' };

export function normaliseUnit(unit: string): string {
  return unit.trim().toLowerCase().replace(/\s+/g, '').replace(/³/g, '3').replace(/[µμ]/g, 'u')
    .replace(/^m\^3/, 'm3');
}

/** Whether `unit` is a unit this platform can convert from for `kind`. */
export function isKnownUnit(kind: Kind, unit: string): boolean {
  return converterFor(kind, unit) !== undefined;
}

export type Converter = (value: number) => number;
const IDENTITY: Converter = (v) => v;

/**
 * A function that converts a value of `kind` from `unit` to the canonical unit, or undefined when
 * the unit does not belong to that kind. Converters are built once per sensor, not per reading.
 */
export function converterFor(kind: Kind, unit: string | undefined): Converter | undefined {
  if (unit === undefined || unit === '') return IDENTITY;
  const u = normaliseUnit(unit);
  if (u === normaliseUnit(CANONICAL_UNIT[kind])) return IDENTITY;
  // a pressure given in metres is metres of water column (head), the usual unit of network models
  const c = kind === 'pressure' && u === 'm' ? UNITS.mh2o : UNITS[u];
  if (!c) return undefined;
  const family = SAME_FAMILY[kind] ?? kind;
  const unitFamily = SAME_FAMILY[c.kind] ?? c.kind;
  if (c.kind !== kind && family !== unitFamily) return undefined;
  const { factor, offset = 0 } = c;
  if (factor === 1 && offset === 0) return IDENTITY;
  // Round to 12 significant digits so that 3.5 bar is 0.35 MPa, not 0.35000000000000003.
  return (v) => roundSignificant(v * factor + offset);
}

export function isKind(s: string): s is Kind {
  return (KINDS as readonly string[]).includes(s);
}

function roundSignificant(v: number): number {
  return v === 0 ? 0 : Number(v.toPrecision(12));
}
