/**
 * The sensor fleet of a generated city run for scale: every SCADA sensor the city builder places
 * (plant and pump-station tags on OPC UA, DMA flow meters and pressure loggers on MQTT JSON or
 * Sparkplug B, water-quality monitors on MQTT JSON) and one AMR customer meter per junction (read
 * by the AMR head-end and uploaded over the PDA HTTP API), each at the interval such a device
 * reports at in a utility. For the large city (300 DMAs, 100,000 junctions) that is about 106,000
 * sensors and meters.
 */
import { buildCity, type City, type CitySensor } from '../city/city.ts';
import { platformConfig, type PlatformConfigOptions } from '../city/config.ts';
import { generateCity, LARGE_CITY, type GeneratorParams } from '../city/generator/index.ts';
import type { TopologyConfig } from '../../core/config/schema.ts';

/** Reporting intervals, s: what the devices of each class send at (overridable per run). */
export interface ReportingIntervals {
  /** Plant and pump-station tags (tank level, pump state and speed, plant outlets) on OPC UA. */
  plantS: number;
  /** DMA inlet and boundary flow meters (telemetered district meters). */
  flowS: number;
  /** Pressure loggers in the network. */
  pressureS: number;
  /** Water-quality monitors (chlorine, turbidity, pH, conductivity, temperature). */
  qualityS: number;
  /** AMR customer meters (cumulative register). */
  meterS: number;
}

/**
 * SCADA tags every minute; district flow meters every 5 minutes (the minimum the burst detector
 * works at, issue #12); loggers, quality monitors and AMR registers every 15 minutes, as battery
 * loggers and AMR networks report.
 */
export const DEFAULT_INTERVALS: ReportingIntervals = { plantS: 60, flowS: 300, pressureS: 900, qualityS: 900, meterS: 900 };

const QUALITY_KINDS = new Set(['chlorine', 'turbidity', 'ph', 'conductivity', 'temperature']);

/** The interval of one city sensor under `intervals`. */
export function intervalOf(sensor: CitySensor, intervals: ReportingIntervals): number {
  if (sensor.source?.type === 'opcua') return intervals.plantS;
  if (sensor.kind === 'flow') return intervals.flowS;
  if (sensor.kind === 'pressure') return intervals.pressureS;
  if (QUALITY_KINDS.has(sensor.kind)) return intervals.qualityS;
  return intervals.plantS;
}

export interface FleetPlan {
  city: City;
  intervals: ReportingIntervals;
  /** Interval of each sensor of city.sensors, s (same order). */
  sensorIntervalS: Float64Array;
  /** Sensors plus meters. */
  size: number;
  /** Readings per second the whole fleet sends on average. */
  readingsPerS: number;
}

const built = new Map<string, City>();

/**
 * The city with one AMR meter per junction: the generator's spec with `junctionsPerMeter: 1` (a city
 * metered through AMR, each junction's customers behind one meter), built once per process.
 */
export function amrCity(params: GeneratorParams = LARGE_CITY): City {
  const key = `${params.name ?? ''}:${params.seed}:${params.dmas}:${params.junctions}`;
  let city = built.get(key);
  if (!city) {
    const g = generateCity(params);
    city = buildCity({ ...g.spec, customers: { ...g.spec.customers, junctionsPerMeter: 1 } }, g.inpText);
    built.set(key, city);
  }
  return city;
}

export function planFleet(city: City, intervals: ReportingIntervals = DEFAULT_INTERVALS): FleetPlan {
  for (const [k, v] of Object.entries(intervals)) {
    if (!(Number.isFinite(v) && v >= 1)) throw new Error(`reporting interval ${k}: ${v} is not a number of seconds ≥ 1`);
  }
  const sensorIntervalS = Float64Array.from(city.sensors, (s) => intervalOf(s, intervals));
  let readingsPerS = city.meters.length / intervals.meterS;
  for (const i of sensorIntervalS) readingsPerS += 1 / i;
  return { city, intervals, sensorIntervalS, size: city.sensors.length + city.meters.length, readingsPerS };
}

/** The platform configuration that reads the fleet: the city's, with each sensor's own interval (stale = 3 intervals). */
export function fleetPlatformConfig(plan: FleetPlan, options: PlatformConfigOptions = {}): Record<string, unknown> & { topology: TopologyConfig } {
  const base = platformConfig(plan.city, options);
  const sensors = base.topology.sensors.map((s, i) => ({ ...s, intervalS: plan.sensorIntervalS[i] }));
  return { ...base, topology: { ...base.topology, sensors } };
}
