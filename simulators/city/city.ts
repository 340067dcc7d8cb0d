/**
 * A simulated city: a hydraulic network split into DMAs, with the sensors, plant SCADA and customer
 * meters a utility would have on it, each tied to the model element it measures. From it come the
 * platform's topology (the same format `aquawatch start` reads) and a ready configuration, so the
 * platform and the simulator agree on every sensor id, unit and address.
 *
 * A city is built from a spec and the .inp text of its network (generator/, ltown.ts, net1.ts,
 * from-inp.ts): DMAs are given by a seed junction and the links on their border; membership follows
 * by flood fill, so the spec stays a few lines.
 */
import type { ReferenceDataset } from '../../core/reference-data.ts';
import type { DmaConfig, MeterConfig, SensorConfig, SiteConfig, TopologyConfig } from '../../core/config/schema.ts';
import type { Kind } from '../../core/model/units.ts';
import { parseInp, patternMean, type InpNetwork } from '../hydraulics/inp.ts';
import type { QualitySettings } from '../hydraulics/model.ts';
import { hash32 } from '../hydraulics/random.ts';
import { NetworkGraph } from './graph.ts';

/** What a sensor measures in the model. Synthetic quantities (turbidity, pH...) carry a base value. */
export type Quantity =
  | 'pressure' | 'flow' | 'level' | 'chlorine' | 'turbidity' | 'ph' | 'conductivity' | 'temperature'
  | 'pump_state' | 'pump_speed';

export interface Measure {
  quantity: Quantity;
  /** Junction, tank or reservoir for node quantities. */
  node?: string;
  /** Pipe, pump or valve for flows and pump states; flow is positive from its first node to its second. */
  link?: string;
  /** Baseline of a synthetic quantity (turbidity NTU, pH, conductivity µS/cm, temperature offset °C). */
  base?: number;
}

/** A sensor as the topology declares it, plus what it measures. */
export interface CitySensor extends SensorConfig {
  measure: Measure;
}

export interface CityMeter extends MeterConfig {
  /** Junctions whose consumption this meter registers. */
  junctions: string[];
  /** Domestic (follows the DMA's profile) or industrial (flat) use. */
  use: 'domestic' | 'industrial';
  /** Average consumption, m³/h: for initial registers and checks. */
  meanM3h: number;
}

export type Telemetry = 'mqtt' | 'sparkplug';

export interface DmaSpec {
  id: string;
  name: string;
  /** A junction inside the DMA; the DMA is all junctions reachable from it without crossing a boundary link. */
  seed: string;
  /**
   * Links on the DMA's border, each with a flow meter (shared with the DMA on the other side). A link
   * between the DMA and one of its own `tanks` is metered too, as a sub-meter outside the balance.
   */
  boundary: string[];
  /**
   * Tanks inside the DMA: its balance takes their storage change (net demand = Σ inlets − Σ outlets −
   * Σ dV/dt), with the tank's level sensor (a pump station must list the tank) and the .inp's
   * diameter; a pump filling one is then an inlet of the DMA.
   */
  tanks?: string[];
  /** Key of the demand profile (demand-profiles.json) that shapes the DMA's use. */
  profile: string;
  /** How the DMA's loggers report: plain MQTT JSON or Sparkplug B edge nodes. */
  telemetry: Telemetry;
}

export interface CitySpec {
  name: string;
  title: string;
  /** The reference network it is built on (core/reference-data.ts); absent for generated and user cities. */
  network?: ReferenceDataset;
  /** The city's local time zone: demand follows local hours. */
  timezone: string;
  dmas: DmaSpec[];
  plant?: {
    site: string;
    name: string;
    /** Each outlet: the reservoir (clear-water tank) and the main leaving it. */
    outlets: { reservoir: string; main: string }[];
  };
  /** `supplies`: the DMAs the station (and its tanks) feed, for outage warnings and causes. */
  pumpStations?: { site: string; name: string; pumps: string[]; tanks: string[]; supplies?: string[] }[];
  /** Pressure sensors: at junctions whose .inp comment says PRESSURE SENSOR, or at listed junctions. */
  pressureSensors: 'comments' | string[];
  /** Water-quality monitors: one per DMA at its far end ('auto'), or at listed junctions. */
  qualityMonitors: 'auto' | string[];
  /** Chlorine sources and decay, when the model has no quality data of its own. */
  quality?: QualitySettings;
  customers: {
    /** Average household use, m³/day: turns a junction's demand into a number of properties. */
    m3PerPropertyDay: number;
    /** Junctions per customer meter where junctions are grouped (those not marked AMR). */
    junctionsPerMeter: number;
  };
  /** Name of the OPC UA source (the plant SCADA server) in the platform's config. */
  opcuaServer: string;
  /** Root of the MQTT topics of plain JSON sensors. */
  mqttRoot: string;
  /** Sparkplug B group id of the DMA loggers. */
  sparkplugGroup: string;
}

export interface CityDma extends Omit<DmaSpec, 'tanks'> {
  junctions: string[];
  /** Flow sensor ids whose positive flow enters / leaves the DMA. */
  inletSensors: string[];
  outletSensors: string[];
  /** The DMA's tanks: level sensor and diameter (m), for the storage term of its balance. */
  tanks: { tank: string; level: string; diameterM: number }[];
  /** Meters inside the DMA kept as a check on its balance (a tank's outlet), not in it. */
  subMeters: string[];
  customers: number;
  x: number;
  y: number;
}

export interface City {
  spec: CitySpec;
  name: string;
  inpText: string;
  network: InpNetwork;
  graph: NetworkGraph;
  sites: SiteConfig[];
  dmas: CityDma[];
  sensors: CitySensor[];
  meters: CityMeter[];
  /** Junction → DMA id (junctions outside every DMA, e.g. at the plant, are absent). */
  junctionDma: Map<string, string>;
  /** Junction → customers (properties, plus one per industrial user). */
  junctionCustomers: Map<string, number>;
  /** Site id of network sensors (loggers and monitors). */
  networkSite: string;
}

export class CityError extends Error {
  constructor(city: string, message: string) {
    super(`city ${city}: ${message}`);
    this.name = 'CityError';
  }
}

const PRESSURE_UNIT: Record<Telemetry, string> = { mqtt: 'bar', sparkplug: 'mH2O' };
const FLOW_UNIT: Record<Telemetry, string> = { mqtt: 'L/s', sparkplug: 'm3/h' };

/** Build a city from its spec: DMAs, sensors with addresses, customers and meters. */
export function buildCity(spec: CitySpec, inpText: string): City {
  const fail = (message: string) => new CityError(spec.name, message);
  const net = parseInp(inpText);
  const graph = new NetworkGraph(net);
  const coord = (node: string) => net.coordinates.get(node) ?? { x: 0, y: 0 };
  const linkCoord = (link: string) => {
    const l = net.links.get(link)!;
    const a = coord(l.from);
    const b = coord(l.to);
    return { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
  };

  // --- DMAs by flood fill from their seeds, not crossing any boundary link ---------------------
  const cut = new Set<string>();
  for (const d of spec.dmas) {
    if (!net.junctions.has(d.seed)) throw fail(`DMA ${d.id}: seed ${d.seed} is not a junction`);
    for (const l of d.boundary) {
      if (!net.links.has(l)) throw fail(`DMA ${d.id}: boundary link ${l} does not exist`);
      cut.add(l);
    }
  }
  const junctionDma = new Map<string, string>();
  const members = new Map<string, string[]>();
  for (const d of spec.dmas) {
    const inside = [...graph.enclosed(d.seed, cut)];
    for (const j of inside) {
      const other = junctionDma.get(j);
      if (other) throw fail(`junction ${j} is in both ${other} and ${d.id}: their boundary is not closed`);
      junctionDma.set(j, d.id);
    }
    members.set(d.id, inside);
  }

  // --- tanks inside DMAs: their level sensor comes from the pump station that lists them ---------
  const levelSensorOf = new Map<string, string>();
  for (const ps of spec.pumpStations ?? []) for (const tank of ps.tanks) levelSensorOf.set(tank, `${ps.site}.${tank}.level`);
  const tankDma = new Map<string, string>();
  const dmaTanks = new Map<string, CityDma['tanks']>(spec.dmas.map((d) => [d.id, []]));
  for (const d of spec.dmas) {
    for (const tank of d.tanks ?? []) {
      const t = net.tanks.get(tank);
      if (!t) throw fail(`DMA ${d.id}: ${tank} is not a tank`);
      if (tankDma.has(tank)) throw fail(`tank ${tank} is in both ${tankDma.get(tank)} and ${d.id}`);
      const level = levelSensorOf.get(tank);
      if (!level) throw fail(`DMA ${d.id}: tank ${tank} has no level sensor (list it in a pump station's tanks)`);
      tankDma.set(tank, d.id);
      dmaTanks.get(d.id)!.push({ tank, level, diameterM: round(net.si ? t.diameter : t.diameter * FT_TO_M, 3) });
    }
  }
  /** The DMA a junction, or a tank inside a DMA, belongs to. */
  const dmaOfNode = (node: string) => junctionDma.get(node) ?? tankDma.get(node);

  const sites: SiteConfig[] = [];
  const sensors: CitySensor[] = [];
  const networkSite = 'network';
  sites.push({ id: networkSite, name: `${spec.title} distribution network`, kind: 'network', timezone: spec.timezone });
  const dmaSpec = new Map(spec.dmas.map((d) => [d.id, d]));

  const address = (telemetry: Telemetry, dma: string, sensorId: string, device: string, metric: string): SensorConfig['source'] =>
    telemetry === 'sparkplug'
      ? { type: 'sparkplug', group: spec.sparkplugGroup, node: dma, device, metric }
      : { type: 'mqtt', topic: `${spec.mqttRoot}/${dma}/${sensorId}` };

  const sensor = (s: Omit<CitySensor, 'place' | 'intervalS'> & Partial<Pick<CitySensor, 'place' | 'intervalS'>>) => {
    sensors.push({ place: 'network', intervalS: 60, ...s });
  };

  // --- boundary flow meters: inlet of the DMA the link's direction enters ----------------------
  const inlets = new Map<string, string[]>(spec.dmas.map((d) => [d.id, []]));
  const outlets = new Map<string, string[]>(spec.dmas.map((d) => [d.id, []]));
  const subMeters = new Map<string, string[]>(spec.dmas.map((d) => [d.id, []]));
  for (const linkId of cut) {
    const link = net.links.get(linkId)!;
    const into = dmaOfNode(link.to);
    const from = dmaOfNode(link.from);
    const owner = into ?? from;
    if (!owner) throw fail(`boundary link ${linkId} touches no DMA`);
    // between a DMA and its own tank: water stays inside, the meter only checks the balance
    const inside = into === from;
    const id = `F-${linkId}`;
    const telemetry = dmaSpec.get(owner)!.telemetry;
    sensor({
      id, name: `Flow ${linkId}${from && into ? (inside ? ` (${owner} tank outlet, sub-meter)` : ` (${from} → ${into})`) : ''}`, kind: 'flow', unit: FLOW_UNIT[telemetry],
      site: networkSite, dma: owner, node: linkId, ...linkCoord(linkId), place: inside ? 'network' : 'inlet',
      source: address(telemetry, owner, id, `logger-${linkId}`, 'flow'),
      measure: { quantity: 'flow', link: linkId },
    });
    if (inside) subMeters.get(owner)!.push(id);
    else {
      if (into) inlets.get(into)!.push(id);
      if (from) outlets.get(from)!.push(id);
    }
  }

  // --- pressure sensors --------------------------------------------------------------------------
  const pressureNodes = spec.pressureSensors === 'comments'
    ? [...net.junctions.values()].filter((j) => /PRESSURE SENSOR/i.test(j.comment)).map((j) => j.id)
    : spec.pressureSensors;
  const farthest = new Map<string, string>();
  for (const d of spec.dmas) {
    const inside = new Set(members.get(d.id));
    const entry = d.boundary.map((l) => net.links.get(l)!).flatMap((l) => [l.from, l.to]).filter((n) => inside.has(n));
    const dist = graph.distances(entry, inside);
    let best: string | undefined;
    for (const n of pressureNodes) {
      if (!inside.has(n)) continue;
      if (!best || (dist.get(n) ?? 0) > (dist.get(best) ?? 0)) best = n;
    }
    if (best) farthest.set(d.id, best);
  }
  const networkEnds = new Set(farthest.values());
  for (const node of pressureNodes) {
    if (!net.junctions.has(node)) throw fail(`pressure sensor at ${node}: no such junction`);
    const dma = junctionDma.get(node);
    const telemetry = dma ? dmaSpec.get(dma)!.telemetry : 'mqtt';
    const id = `P-${node}`;
    sensor({
      id, name: `Pressure ${node}`, kind: 'pressure', unit: PRESSURE_UNIT[telemetry], site: networkSite, dma, node, ...coord(node),
      place: networkEnds.has(node) ? 'network-end' : 'network',
      source: address(telemetry, dma ?? 'network', id, `logger-${node}`, 'pressure'),
      measure: { quantity: 'pressure', node },
    });
  }

  // --- water-quality monitors (plain MQTT JSON) --------------------------------------------------
  const monitorNodes = spec.qualityMonitors === 'auto' ? spec.dmas.map((d) => farthest.get(d.id)).filter((n): n is string => !!n) : spec.qualityMonitors;
  for (const node of monitorNodes) {
    if (!net.junctions.has(node)) throw fail(`quality monitor at ${node}: no such junction`);
    const dma = junctionDma.get(node);
    const monitor = `WQ-${node}`;
    // each monitor has its own baselines, fixed per city (not per run)
    const h = (k: string) => (hash32(`${monitor}:${k}`) / 4294967296) - 0.5;
    const channels: { q: Quantity; kind: Kind; unit: string; base?: number }[] = [
      { q: 'chlorine', kind: 'chlorine', unit: 'mg/L' },
      { q: 'turbidity', kind: 'turbidity', unit: 'NTU', base: round(0.15 + 0.1 * h('turbidity'), 3) },
      { q: 'ph', kind: 'ph', unit: 'pH', base: round(7.45 + 0.3 * h('ph'), 2) },
      { q: 'conductivity', kind: 'conductivity', unit: 'uS/cm', base: round(430 + 120 * h('conductivity'), 0) },
      { q: 'temperature', kind: 'temperature', unit: 'degC', base: round(0.6 * h('temperature'), 2) },
    ];
    for (const c of channels) {
      const id = `${monitor}.${c.q}`;
      sensor({
        id, name: `${monitor} ${c.q}`, kind: c.kind, unit: c.unit, site: networkSite, dma, node, ...coord(node),
        place: networkEnds.has(node) ? 'network-end' : 'network',
        source: { type: 'mqtt', topic: `${spec.mqttRoot}/wq/${monitor}/${c.q}` },
        measure: { quantity: c.q, node, base: c.base },
      });
    }
  }

  // --- plant SCADA (OPC UA): outlets, pump stations ---------------------------------------------
  const opcua = (id: string): SensorConfig['source'] => ({ type: 'opcua', server: spec.opcuaServer, nodeId: `ns=1;s=${id}` });
  if (spec.plant) {
    const p = spec.plant;
    sites.push({ id: p.site, name: p.name, kind: 'plant', timezone: spec.timezone });
    for (const o of p.outlets) {
      const main = net.links.get(o.main);
      if (!main) throw fail(`plant outlet main ${o.main} does not exist`);
      if (!net.reservoirs.has(o.reservoir) && !net.tanks.has(o.reservoir)) throw fail(`plant outlet ${o.reservoir} is not a reservoir or tank`);
      const downstream = main.from === o.reservoir ? main.to : main.from;
      const at = coord(o.reservoir);
      const base = `${p.site}.${o.reservoir}`;
      const turbidityBase = round(0.1 + 0.06 * (hash32(`${base}:turbidity`) / 4294967296), 3);
      const outlet: [string, Kind, string, Measure][] = [
        ['flow', 'flow', 'm3/h', { quantity: 'flow', link: o.main }],
        ['pressure', 'pressure', 'MPa', { quantity: 'pressure', node: downstream }],
        ['chlorine', 'chlorine', 'mg/L', { quantity: 'chlorine', node: downstream }],
        ['turbidity', 'turbidity', 'NTU', { quantity: 'turbidity', node: downstream, base: turbidityBase }],
      ];
      for (const [q, kind, unit, measure] of outlet) {
        const id = `${base}.${q}`;
        sensor({
          id, name: `${p.name} outlet ${o.reservoir} ${q}`, kind, unit, site: p.site, node: measure.link ?? measure.node, ...at,
          place: 'plant-outlet', source: opcua(id), measure,
        });
      }
    }
  }
  for (const ps of spec.pumpStations ?? []) {
    sites.push({ id: ps.site, name: ps.name, kind: 'pump-station', timezone: spec.timezone, ...(ps.supplies ? { supplies: ps.supplies } : {}) });
    for (const pump of ps.pumps) {
      const link = net.links.get(pump);
      if (!link || link.type !== 'pump') throw fail(`pump station ${ps.site}: ${pump} is not a pump`);
      const at = coord(link.from);
      const items: [string, Kind, string, Measure][] = [
        ['state', 'pump', 'state', { quantity: 'pump_state', link: pump }],
        ['speed', 'speed', '%', { quantity: 'pump_speed', link: pump }],
        ['flow', 'flow', 'm3/h', { quantity: 'flow', link: pump }],
      ];
      for (const [q, kind, unit, measure] of items) {
        const id = `${ps.site}.${pump}.${q}`;
        sensor({ id, name: `${ps.name} ${pump} ${q}`, kind, unit, site: ps.site, node: pump, ...at, place: 'pump-station', source: opcua(id), measure });
      }
      // a pump that draws from one DMA and delivers elsewhere is part of that DMA's water balance
      const suction = dmaOfNode(link.from);
      const delivery = dmaOfNode(link.to);
      if (suction !== delivery) {
        if (suction) outlets.get(suction)!.push(`${ps.site}.${pump}.flow`);
        if (delivery) inlets.get(delivery)!.push(`${ps.site}.${pump}.flow`);
      }
    }
    for (const tank of ps.tanks) {
      if (!net.tanks.has(tank)) throw fail(`pump station ${ps.site}: ${tank} is not a tank`);
      const id = `${ps.site}.${tank}.level`;
      sensor({
        id, name: `${ps.name} tank ${tank} level`, kind: 'level', unit: 'm', site: ps.site, node: tank, ...coord(tank),
        place: 'tank', source: opcua(id), measure: { quantity: 'level', node: tank },
      });
    }
  }

  // --- customers and meters ----------------------------------------------------------------------
  const flowToM3h = FLOW_TO_M3H_BY_NAME[net.flowUnits] ?? 1;
  const junctionCustomers = new Map<string, number>();
  const domesticM3h = new Map<string, number>();
  const industrialM3h = new Map<string, number>();
  for (const j of net.junctions.values()) {
    let domestic = 0;
    let industrial = 0;
    for (const d of j.demands) {
      const pattern = net.patterns.get(d.pattern ?? net.defaultPattern ?? '');
      const flat = pattern !== undefined && pattern.every((v) => v === pattern[0]);
      const mean = d.base * patternMean(net, d.pattern) * flowToM3h;
      if (flat && d.pattern) industrial += mean;
      else domestic += mean;
    }
    const properties = domestic > 0 ? Math.max(1, Math.round((domestic * 24) / spec.customers.m3PerPropertyDay)) : 0;
    const customers = properties + (industrial > 0 ? 1 : 0);
    if (customers > 0) junctionCustomers.set(j.id, customers);
    if (domestic > 0) domesticM3h.set(j.id, domestic);
    if (industrial > 0) industrialM3h.set(j.id, industrial);
  }

  const meters: CityMeter[] = [];
  const addMeter = (junctions: string[], use: CityMeter['use'], dma: string | undefined, dmaName: string) => {
    const first = junctions[0];
    const suffix = use === 'industrial' ? '-ind' : '';
    const meanM3h = junctions.reduce((s, j) => s + ((use === 'industrial' ? industrialM3h : domesticM3h).get(j) ?? 0), 0);
    // on the map where its junctions are, so that a polygon drawn around streets selects their meters
    const at = centroid(junctions.map((j) => coord(j)));
    meters.push({
      id: `M-${first}${suffix}`, customer: `C-${first}${suffix}`, dma,
      address: `${dmaName}, ${use === 'industrial' ? 'works at ' : ''}${junctions.length > 1 ? `junctions ${junctions.join(' ')}` : `junction ${first}`}`,
      ...at,
      active: true, large: use === 'industrial', junctions, use, meanM3h: round(meanM3h, 4),
    });
  };
  const ordered = (list: string[], seed: string) => {
    // breadth-first from the seed, so that consecutive junctions (grouped on one meter) are neighbours
    const set = new Set(list);
    const dist = graph.distances([seed], set);
    return [...list].sort((a, b) => (dist.get(a) ?? Infinity) - (dist.get(b) ?? Infinity) || a.localeCompare(b));
  };
  const groups: { dma?: string; name: string; junctions: string[]; seed: string }[] = spec.dmas.map((d) => ({
    dma: d.id, name: d.name, junctions: members.get(d.id)!, seed: d.seed,
  }));
  const outside = [...net.junctions.keys()].filter((j) => !junctionDma.has(j));
  if (outside.length) groups.push({ name: 'outside DMAs', junctions: outside, seed: outside[0] });
  for (const g of groups) {
    let pending: string[] = [];
    for (const j of ordered(g.junctions, g.seed)) {
      if (industrialM3h.has(j)) addMeter([j], 'industrial', g.dma, g.name);
      if (!domesticM3h.has(j)) continue;
      if (/\bAMR\b/.test(net.junctions.get(j)!.comment)) {
        addMeter([j], 'domestic', g.dma, g.name);
        continue;
      }
      pending.push(j);
      if (pending.length >= spec.customers.junctionsPerMeter) {
        addMeter(pending, 'domestic', g.dma, g.name);
        pending = [];
      }
    }
    if (pending.length) addMeter(pending, 'domestic', g.dma, g.name);
  }

  const dmas: CityDma[] = spec.dmas.map((d) => {
    const junctions = members.get(d.id)!;
    return {
      ...d, junctions,
      inletSensors: inlets.get(d.id)!, outletSensors: outlets.get(d.id)!, tanks: dmaTanks.get(d.id)!, subMeters: subMeters.get(d.id)!,
      customers: junctions.reduce((s, j) => s + (junctionCustomers.get(j) ?? 0), 0),
      ...centroid(junctions.map((j) => coord(j))),
    };
  });
  return { spec, name: spec.name, inpText, network: net, graph, sites, dmas, sensors, meters, junctionDma, junctionCustomers, networkSite };
}

/** The mean of map points, to 2 decimals. */
function centroid(points: { x: number; y: number }[]): { x: number; y: number } {
  return {
    x: round(points.reduce((s, c) => s + c.x, 0) / points.length, 2),
    y: round(points.reduce((s, c) => s + c.y, 0) / points.length, 2),
  };
}

/** Flow units of .inp files to m³/h (as the model uses; here for the customer estimate). */
const FLOW_TO_M3H_BY_NAME: Record<string, number> = {
  CFS: 101.9406477, GPM: 0.2271247, MGD: 157.725491, IMGD: 189.4204167, AFD: 51.3950926,
  LPS: 3.6, LPM: 0.06, MLD: 41.6666667, CMH: 1, CMD: 1 / 24, CMS: 3600,
};

const FT_TO_M = 0.3048;

function round(v: number, digits: number): number {
  return Number(v.toFixed(digits));
}

export interface TopologyOptions {
  /** Seconds between a sensor's readings (the scenario's sample interval). */
  intervalS?: number;
  /** N copies of the sensor fleet for load tests (1 = the city as it is). */
  scale?: number;
}

/** Suffix of the k-th copy (k ≥ 1) of a sensor when the fleet is scaled. */
export function copySuffix(k: number): string {
  return k === 0 ? '' : `-x${k}`;
}

/** A sensor's k-th copy: same model element, suffixed id and address. */
export function sensorCopy(s: CitySensor, k: number): CitySensor {
  if (k === 0) return s;
  const sfx = copySuffix(k);
  let source = s.source;
  if (source?.type === 'opcua') source = { ...source, nodeId: `${source.nodeId}${sfx}` };
  else if (source?.type === 'mqtt') source = { ...source, topic: `${source.topic}${sfx}` };
  else if (source?.type === 'sparkplug') source = { ...source, device: `${source.device ?? 'logger'}${sfx}` };
  return { ...s, id: `${s.id}${sfx}`, name: s.name ? `${s.name} (copy ${k})` : undefined, source };
}

/** All sensors of the city, scaled. */
export function citySensors(city: City, scale = 1): CitySensor[] {
  if (!Number.isInteger(scale) || scale < 1) throw new CityError(city.name, `scale must be a whole number ≥ 1 (got ${scale})`);
  const out: CitySensor[] = [];
  for (let k = 0; k < scale; k++) for (const s of city.sensors) out.push(sensorCopy(s, k));
  return out;
}

/** The city in the platform's topology format (core/config/schema.ts topologySchema). */
export function cityTopology(city: City, options: TopologyOptions = {}): TopologyConfig {
  const intervalS = options.intervalS ?? 60;
  const sensors: SensorConfig[] = citySensors(city, options.scale ?? 1).map(({ measure: _measure, ...s }) => ({ ...s, intervalS }));
  // copies of a scaled fleet are extra load, not extra water: only the originals make a DMA's inflow
  const dmas: DmaConfig[] = city.dmas.map((d) => ({
    id: d.id, name: d.name, inlets: d.inletSensors, outlets: d.outletSensors,
    ...(d.tanks.length ? { tanks: d.tanks.map((t) => ({ level: t.level, diameterM: t.diameterM })), } : {}),
    customers: d.customers, nightUseLPerPropertyH: 1.7, x: d.x, y: d.y,
  }));
  const meters: MeterConfig[] = city.meters.map(({ junctions: _j, use: _u, meanM3h: _m, ...m }) => m);
  return { sites: city.sites, dmas, sensors, meters };
}
