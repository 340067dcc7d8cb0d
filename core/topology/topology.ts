/**
 * The network's static description, indexed for the lookups that run per reading.
 * Built once from the configuration; cross-references are checked so that a typo in a DMA's inlet
 * list fails at start-up, not at the first burst.
 */
import type { DmaConfig, MeterConfig, SensorConfig, SiteConfig, TopologyConfig } from '../config/schema.ts';
import { converterFor, CANONICAL_UNIT, type Converter } from '../model/units.ts';
import { ConfigError } from '../config/load.ts';

/** A sensor with what the pipeline derives from it once: its unit converter and tags. */
export interface SensorInfo extends SensorConfig {
  dma: string;
  canonicalUnit: string;
  /** Converts from the sensor's configured unit to canonical. */
  convert: Converter;
}

/** Site tag of customer meters, which belong to no plant or station. */
export const CUSTOMER_SITE = 'customers';

export class Topology {
  readonly sensors = new Map<string, SensorInfo>();
  readonly dmas = new Map<string, DmaConfig>();
  readonly sites = new Map<string, SiteConfig>();
  readonly meters = new Map<string, MeterConfig>();
  private readonly indexes = new Map<string, ReadonlyMap<string, SensorInfo>>();

  constructor(readonly config: TopologyConfig, file = '(topology)') {
    const problems: string[] = [];
    for (const s of config.sites) this.sites.set(s.id, s);
    for (const d of config.dmas) this.dmas.set(d.id, d);
    for (const m of config.meters) this.meters.set(m.id, m);
    config.sensors.forEach((s, i) => {
      const at = `topology.sensors[${i}] (${s.id})`;
      if (this.sensors.has(s.id)) problems.push(`${at}: duplicate sensor id`);
      if (!this.sites.has(s.site) && config.sites.length > 0) problems.push(`${at}.site: unknown site ${s.site}`);
      if (s.dma && !this.dmas.has(s.dma)) problems.push(`${at}.dma: unknown DMA ${s.dma}`);
      const convert = converterFor(s.kind, s.unit);
      if (!convert) problems.push(`${at}.unit: ${s.unit} is not a unit of ${s.kind}`);
      const info: SensorInfo = { ...s, dma: s.dma ?? '', canonicalUnit: CANONICAL_UNIT[s.kind], convert: convert ?? ((v) => v) };
      this.sensors.set(s.id, info);
    });
    config.dmas.forEach((d, i) => {
      for (const [list, ids] of [['inlets', d.inlets], ['outlets', d.outlets]] as const) {
        ids.forEach((sid, j) => {
          const s = this.sensors.get(sid);
          if (!s) problems.push(`topology.dmas[${i}].${list}[${j}]: unknown sensor ${sid}`);
          else if (s.kind !== 'flow') problems.push(`topology.dmas[${i}].${list}[${j}]: sensor ${sid} is ${s.kind}, not flow`);
        });
      }
      (d.tanks ?? []).forEach((t, j) => {
        const s = this.sensors.get(t.level);
        if (!s) problems.push(`topology.dmas[${i}].tanks[${j}].level: unknown sensor ${t.level}`);
        else if (s.kind !== 'level') problems.push(`topology.dmas[${i}].tanks[${j}].level: sensor ${t.level} is ${s.kind}, not level`);
      });
    });
    config.meters.forEach((m, i) => {
      if (m.dma && !this.dmas.has(m.dma)) problems.push(`topology.meters[${i}].dma: unknown DMA ${m.dma}`);
      // A customer meter is a series like a sensor's (kind `meter`, cumulative m³), so the pipeline
      // and the store treat PDA readings like any other reading.
      if (this.sensors.has(m.id)) problems.push(`topology.meters[${i}] (${m.id}): id already used by a sensor`);
      else this.sensors.set(m.id, {
        id: m.id, name: m.address, kind: 'meter', unit: 'm3', site: CUSTOMER_SITE, dma: m.dma ?? '', place: 'network',
        source: { type: 'pda' }, intervalS: 86_400 * 31, canonicalUnit: 'm3', convert: (v) => v,
      });
    });
    if (problems.length) throw new ConfigError(file, problems);
  }

  /** Sensors whose source address is of this type (`mqtt`, `opcua`, ...). */
  sensorsOfSource(type: string): SensorInfo[] {
    return [...this.sensors.values()].filter((s) => s.source?.type === type);
  }

  /**
   * The sensors of one source type by the key its source gives an address (topic, node id...),
   * built on first use. Two sensors on one address are refused when the configuration is loaded
   * with the source registry (core/config/sources.ts duplicateAddresses); here the first one wins.
   */
  sensorsByAddress(type: string, keyOf: (address: NonNullable<SensorConfig['source']>) => string): ReadonlyMap<string, SensorInfo> {
    let index = this.indexes.get(type);
    if (!index) {
      const built = new Map<string, SensorInfo>();
      for (const s of this.sensorsOfSource(type)) {
        const key = keyOf(s.source!);
        if (!built.has(key)) built.set(key, s);
      }
      this.indexes.set(type, index = built);
    }
    return index;
  }

  /** Real sensors (not customer meters). */
  networkSensors(): SensorInfo[] {
    return [...this.sensors.values()].filter((s) => s.kind !== 'meter' || !this.meters.has(s.id));
  }
  sensorsOfDma(dma: string): SensorInfo[] {
    return [...this.sensors.values()].filter((s) => s.dma === dma);
  }
}
