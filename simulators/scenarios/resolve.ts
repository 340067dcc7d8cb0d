/**
 * Turns a parsed scenario into a run: absolute times, junctions picked for DMA-wide events, the links a
 * DMA closure shuts, and the ground truth of every event (what the platform should detect, where,
 * from when). Names are checked against the city here; an unknown one is an error on its line.
 */
import type { GroundTruth } from '../types.ts';
import type { City } from '../city/city.ts';
import { cityName } from '../city/index.ts';
import { Rng } from '../hydraulics/random.ts';
import { parseDuration, type ParsedScenario, type PathKey } from './load.ts';
import type { ScenarioEvent } from './schema.ts';

const HOUR = 3_600_000;

export type SimEvent = {
  id: string;
  start: number;
  /** Absent: lasts until the run ends. */
  end?: number;
} & (
  /** A burst (growthMs 0) or an incipient leak: outflow at a junction. */
  | { kind: 'leak'; type: 'burst' | 'leak'; junction: string; flowM3h: number; growthMs: number }
  | { kind: 'pump_trip'; pump: string }
  | { kind: 'close_links'; links: string[] }
  | { kind: 'tank_drain'; tank: string; rateMPerH: number; floorM?: number }
  | { kind: 'source_chlorine'; node: string; level: number }
  | { kind: 'dma_decay'; dma: string; junctions: string[]; factor: number }
  | { kind: 'turbidity'; sensors: string[]; ntu: number; rampMs: number }
  | { kind: 'fault'; fault: 'stale' | 'flatline' | 'spike' | 'drift'; sensor: string; factor?: number; value?: number; count?: number; ratePerDay?: number }
  /** Comms loss: the sensors that go quiet; `withCopies` extends it to a scaled fleet's copies. */
  | { kind: 'silence'; sensors: string[]; withCopies: boolean }
);

export interface ScenarioRun {
  file: string;
  name?: string;
  description?: string;
  city: string;
  /** First sample time, ms (a whole number of intervals since the epoch). */
  start: number;
  /** Samples are taken while ts < end; undefined for an open run. */
  end?: number;
  intervalMs: number;
  seed: number;
  timezone: string;
  noise: number;
  meterIntervalMs: number;
  warmupMs: number;
  events: SimEvent[];
  groundTruth: GroundTruth[];
}

export interface ResolveOptions {
  /** The moment `now` in start times stands for; default the wall clock. */
  now?: number;
  /** Overrides the scenario's seed. */
  seed?: number;
  /** Overrides the start and end (--from/--to); event times stay where the scenario put them. */
  from?: number;
  to?: number;
  /** The simulation runs on another city than the scenario names (`--network FILE`). */
  otherCity?: boolean;
}

export function resolveScenario(parsed: ParsedScenario, city: City, options: ResolveOptions = {}): ScenarioRun {
  const s = parsed.scenario;
  const problems: { path: PathKey[]; message: string }[] = [];
  const problem = (path: PathKey[], message: string) => problems.push({ path, message });
  if (!options.otherCity && cityName(s.city) !== city.name) problem(['city'], `names city ${cityName(s.city)}, but the simulation was given ${city.name}`);

  const intervalMs = parseDuration(s.interval);
  if (intervalMs < 1000 || intervalMs % 1000 !== 0) problem(['interval'], 'must be whole seconds, at least 1s');
  const interval = Math.max(1000, Math.round(intervalMs / 1000) * 1000);
  const now = options.now ?? Date.now();
  let start = parseStart(s.start, now);
  if (!Number.isFinite(start)) problem(['start'], `${s.start} is not a valid time`);
  start = Math.floor(start / interval) * interval;
  let end = s.duration === 'open' ? undefined : start + parseDuration(s.duration);
  if (end !== undefined && end <= start) problem(['duration'], 'must be longer than zero');
  const scenarioStart = start;
  if (options.from !== undefined) start = Math.floor(options.from / interval) * interval;
  if (options.to !== undefined) end = options.to;
  if (end !== undefined && end <= start) problem(['duration'], `the run would end (${new Date(end).toISOString()}) before it starts (${new Date(start).toISOString()})`);
  const warmup = Math.ceil(parseDuration(s.warmup ?? '24h') / interval) * interval;
  const seed = options.seed ?? s.seed;
  const timezone = s.timezone ?? city.spec.timezone;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    problem(['timezone'], `${timezone} is not an IANA time zone`);
  }

  const events: SimEvent[] = [];
  const truth: GroundTruth[] = [];
  const ids = new Set<string>();
  s.events.forEach((e, i) => {
    const at = (key: string): PathKey[] => ['events', i, key];
    const id = e.id ?? `${e.type}-${i + 1}`;
    if (ids.has(id)) problem(at('id'), `event id ${id} is used twice`);
    ids.add(id);
    const eventStart = parseAt(e.at, scenarioStart);
    if (!Number.isFinite(eventStart)) problem(at('at'), `${e.at} is not a valid time`);
    if (eventStart < scenarioStart) problem(at('at'), 'is before the scenario starts');
    if (end !== undefined && eventStart >= end && options.to === undefined) problem(at('at'), 'is after the scenario ends');
    const eventEnd = e.duration !== undefined ? eventStart + parseDuration(e.duration) : undefined;
    const before = problems.length;
    // a spike with no duration is over after its spiked samples
    const end2 = eventEnd ?? (e.type === 'sensor_spike' ? eventStart + (e.count ?? 1) * interval : undefined);
    const resolved = resolveEvent(e, id, eventStart, end2, city, seed, (key, message) => problem(at(key), message));
    if (problems.length === before && resolved) {
      events.push(resolved.event);
      truth.push(resolved.truth);
    }
  });
  if (problems.length) throw parsed.error(problems);
  return {
    file: parsed.file, name: s.name, description: s.description, city: city.name,
    start, end, intervalMs: interval, seed, timezone, noise: s.noise ?? 1,
    meterIntervalMs: Math.max(interval, Math.round(parseDuration(s.meterInterval ?? '15m') / interval) * interval),
    warmupMs: warmup, events, groundTruth: truth,
  };
}

function parseStart(text: string, now: number): number {
  const m = /^now(?:([+-])(.+))?$/.exec(text);
  if (m) return m[1] ? now + (m[1] === '-' ? -1 : 1) * parseDuration(m[2]) : now;
  return Date.parse(text);
}

function parseAt(text: string, start: number): number {
  return /^\d{4}-/.test(text) ? Date.parse(text) : start + parseDuration(text);
}

type Report = (key: string, message: string) => void;

function resolveEvent(
  e: ScenarioEvent, id: string, start: number, end: number | undefined, city: City, seed: number, report: Report,
): { event: SimEvent; truth: GroundTruth } | undefined {
  const net = city.network;
  const dmaOf = (junction: string) => city.junctionDma.get(junction);
  const hasDma = (key: string, dma: string | undefined) => {
    if (dma !== undefined && !city.dmas.some((d) => d.id === dma)) {
      report(key, `unknown DMA ${dma} (${city.name} has ${city.dmas.map((d) => d.id).join(', ')})`);
      return false;
    }
    return true;
  };
  const sensorIds = new Set(city.sensors.map((x) => x.id));
  const hasSensor = (key: string, sensor: string) => {
    if (!sensorIds.has(sensor)) {
      report(key, `unknown sensor ${sensor} in city ${city.name}`);
      return false;
    }
    return true;
  };
  const pressureSensorsOf = (dma: string | undefined) => city.sensors.filter((x) => x.kind === 'pressure' && x.dma === dma && x.measure.node);
  const nearestPressureSensor = (junction: string) => {
    const candidates = pressureSensorsOf(dmaOf(junction));
    const pool = candidates.length ? candidates : city.sensors.filter((x) => x.kind === 'pressure' && x.measure.node);
    const node = city.graph.nearest(junction, pool.map((x) => x.measure.node!));
    return pool.find((x) => x.measure.node === node)?.id;
  };
  const base = { id, start, ...(end !== undefined ? { end } : {}) };

  switch (e.type) {
    case 'burst':
    case 'leak': {
      let junction = e.junction;
      if (junction !== undefined && !net.junctions.has(junction)) return void report('junction', `unknown junction ${junction} in city ${city.name}`);
      if (!hasDma('dma', e.dma)) return undefined;
      if (junction === undefined) {
        // a junction of the DMA with customers, picked with the seed so the same seed picks the same one
        const pool = city.dmas.find((d) => d.id === e.dma)!.junctions.filter((j) => city.junctionCustomers.has(j)).sort();
        junction = pool[new Rng(seed, `pick:${id}`).int(pool.length)];
      }
      const dma = dmaOf(junction);
      const growthMs = e.type === 'leak' ? parseDuration(e.growth ?? '3d') : 0;
      return {
        event: { ...base, kind: 'leak', type: e.type, junction, flowM3h: e.flow, growthMs },
        truth: {
          ...base, type: e.type, dma, element: junction, magnitude: e.flow,
          expect: e.type === 'burst'
            ? { alarm: 'burst', dma, nearestSensor: nearestPressureSensor(junction), inflowRiseM3h: e.flow }
            : { alarm: 'leak', dma, nightFlowRiseM3h: e.flow, fullSizeFrom: start + growthMs },
        },
      };
    }
    case 'pump_trip': {
      const link = net.links.get(e.pump);
      if (!link || link.type !== 'pump') return void report('pump', `${e.pump} is not a pump of city ${city.name}`);
      // what the pump feeds: the DMAs entered from its delivery side (through a tank, if it fills one)
      const fed = city.dmas.filter((d) => d.boundary.some((l) => {
        const b = net.links.get(l)!;
        return b.from === link.to || b.to === link.to;
      }) || d.junctions.includes(link.to)).map((d) => d.id);
      const station = city.sensors.find((x) => x.measure.quantity === 'pump_state' && x.measure.link === e.pump);
      const tankLevel = city.sensors.find((x) => x.measure.quantity === 'level' && x.measure.node === link.to);
      return {
        event: { ...base, kind: 'pump_trip', pump: e.pump },
        truth: {
          ...base, type: 'pump_trip', element: e.pump, dma: fed[0], sensor: station?.id,
          expect: { alarm: 'pump_trip', site: station?.site, sensor: station?.id, then: { tankLow: tankLevel?.id, lowPressureDmas: fed } },
        },
      };
    }
    case 'valve_closure': {
      let links = e.links ?? [];
      if (!hasDma('dma', e.dma)) return undefined;
      if (e.dma) links = city.dmas.find((d) => d.id === e.dma)!.boundary;
      for (const [k, l] of links.entries()) {
        const link = net.links.get(l);
        if (!link) return void report(e.links ? `links` : 'dma', `unknown link ${l} in city ${city.name}${e.links ? ` (links[${k}])` : ''}`);
        if (link.type === 'pump') return void report('links', `${l} is a pump: use a pump_trip event`);
      }
      const cutOff = [...city.graph.cutOff(new Set(links))];
      const dmas = [...new Set(cutOff.map((j) => dmaOf(j)).filter((d): d is string => !!d))];
      const customers = cutOff.reduce((s, j) => s + (city.junctionCustomers.get(j) ?? 0), 0);
      const notice = e.notice !== undefined ? parseDuration(e.notice) : undefined;
      const pressureSensors = city.sensors.filter((x) => x.kind === 'pressure' && x.measure.node && cutOff.includes(x.measure.node)).map((x) => x.id);
      return {
        event: { ...base, kind: 'close_links', links },
        truth: {
          ...base, type: notice !== undefined ? 'planned_outage' : 'valve_closure', dma: dmas[0], element: links.join(','),
          expect: {
            alarm: 'outage', dmas, customers, junctions: cutOff.length, pressureSensors, planned: notice !== undefined,
            ...(notice !== undefined ? { noticeAt: start - notice, noticeH: notice / HOUR, shortNotice: notice < 24 * HOUR } : {}),
            ...(e.cause ? { cause: e.cause } : {}),
          },
        },
      };
    }
    case 'tank_drain': {
      if (!net.tanks.has(e.tank)) return void report('tank', `${e.tank} is not a tank of city ${city.name}`);
      const level = city.sensors.find((x) => x.measure.quantity === 'level' && x.measure.node === e.tank);
      return {
        event: { ...base, kind: 'tank_drain', tank: e.tank, rateMPerH: e.rate, floorM: e.floor },
        truth: { ...base, type: 'tank_drain', element: e.tank, sensor: level?.id, magnitude: e.rate, expect: { alarm: 'tank_low', sensor: level?.id } },
      };
    }
    case 'quality_chlorine_low': {
      if (e.source !== undefined) {
        if (!net.reservoirs.has(e.source) && !net.tanks.has(e.source)) return void report('source', `${e.source} is not a reservoir or tank of city ${city.name}`);
        // plant outlet sensors are named <site>.<reservoir>.<quantity>
        const outlet = city.sensors.filter((x) => x.kind === 'chlorine' && x.place === 'plant-outlet' && x.id.split('.')[1] === e.source)
          .map((x) => x.id);
        return {
          event: { ...base, kind: 'source_chlorine', node: e.source, level: e.level! },
          truth: { ...base, type: 'quality_chlorine_low', element: e.source, magnitude: e.level, sensor: outlet[0], expect: { alarm: 'chlorine_low', sensors: outlet, place: 'plant-outlet' } },
        };
      }
      if (!hasDma('dma', e.dma)) return undefined;
      const dma = city.dmas.find((d) => d.id === e.dma)!;
      const monitors = city.sensors.filter((x) => x.kind === 'chlorine' && x.dma === dma.id).map((x) => x.id);
      return {
        event: { ...base, kind: 'dma_decay', dma: dma.id, junctions: dma.junctions, factor: e.decayFactor ?? 40 },
        truth: { ...base, type: 'quality_chlorine_low', dma: dma.id, sensor: monitors[0], expect: { alarm: 'chlorine_low', dma: dma.id, sensors: monitors, place: 'network' } },
      };
    }
    case 'quality_turbidity_high': {
      let sensors: string[] = [];
      if (e.site !== undefined) {
        if (!city.sites.some((x) => x.id === e.site)) return void report('site', `unknown site ${e.site} in city ${city.name}`);
        sensors = city.sensors.filter((x) => x.kind === 'turbidity' && x.site === e.site).map((x) => x.id);
      } else if (e.dma !== undefined) {
        if (!hasDma('dma', e.dma)) return undefined;
        sensors = city.sensors.filter((x) => x.kind === 'turbidity' && x.dma === e.dma).map((x) => x.id);
      } else if (e.sensor !== undefined) {
        if (!hasSensor('sensor', e.sensor)) return undefined;
        if (city.sensors.find((x) => x.id === e.sensor)!.kind !== 'turbidity') return void report('sensor', `${e.sensor} is not a turbidity sensor`);
        sensors = [e.sensor];
      }
      if (sensors.length === 0) return void report(e.site ? 'site' : 'dma', 'has no turbidity sensor');
      return {
        event: { ...base, kind: 'turbidity', sensors, ntu: e.ntu, rampMs: parseDuration(e.ramp ?? '10m') },
        truth: { ...base, type: 'quality_turbidity_high', dma: e.dma, sensor: sensors[0], magnitude: e.ntu, expect: { alarm: 'turbidity_high', sensors } },
      };
    }
    case 'sensor_stale':
    case 'sensor_flatline':
    case 'sensor_spike':
    case 'sensor_drift': {
      if (!hasSensor('sensor', e.sensor)) return undefined;
      const fault = e.type.slice('sensor_'.length) as 'stale' | 'flatline' | 'spike' | 'drift';
      const sensor = city.sensors.find((x) => x.id === e.sensor)!;
      const extra = e.type === 'sensor_spike' ? { factor: e.value === undefined ? (e.factor ?? 3) : undefined, value: e.value, count: e.count ?? 1 }
        : e.type === 'sensor_drift' ? { ratePerDay: e.ratePerDay } : {};
      return {
        event: { ...base, kind: 'fault', fault, sensor: e.sensor, ...extra },
        truth: { ...base, type: e.type, sensor: e.sensor, dma: sensor.dma, expect: { alarm: fault === 'stale' ? 'stale' : 'sensor_fault', fault, sensor: e.sensor } },
      };
    }
    case 'comms_loss': {
      let sensors: string[] = [];
      let withCopies = true;
      let scope: Record<string, unknown> = {};
      if (e.site !== undefined) {
        if (!city.sites.some((x) => x.id === e.site)) return void report('site', `unknown site ${e.site} in city ${city.name}`);
        sensors = city.sensors.filter((x) => x.site === e.site).map((x) => x.id);
        scope = { site: e.site };
      } else if (e.dma !== undefined) {
        if (!hasDma('dma', e.dma)) return undefined;
        sensors = city.sensors.filter((x) => x.dma === e.dma && x.site === city.networkSite).map((x) => x.id);
        scope = { dma: e.dma };
      } else if (e.sensors !== undefined) {
        for (const [k, x] of e.sensors.entries()) if (!sensorIds.has(x)) return void report('sensors', `unknown sensor ${x} (sensors[${k}])`);
        sensors = e.sensors;
        withCopies = false;
      } else if (e.edgeNode !== undefined) {
        sensors = city.sensors.filter((x) => x.source?.type === 'sparkplug' && x.source.node === e.edgeNode).map((x) => x.id);
        if (sensors.length === 0) return void report('edgeNode', `no Sparkplug edge node ${e.edgeNode} in city ${city.name}`);
        scope = { group: city.spec.sparkplugGroup, edgeNode: e.edgeNode };
      }
      if (sensors.length === 0) return void report(e.site ? 'site' : 'dma', 'has no sensors');
      return {
        event: { ...base, kind: 'silence', sensors, withCopies },
        truth: {
          ...base, type: 'comms_loss', dma: e.dma, sensor: sensors.length === 1 ? sensors[0] : undefined,
          expect: { alarm: 'comms_loss', ...scope, sensors },
        },
      };
    }
  }
}
