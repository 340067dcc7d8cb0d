/**
 * The site configuration's schema with the sources' own parts put in. Core does not know the
 * sources (it imports no other part): each one describes itself (ingest/sources/<name>/index.ts),
 * ingest/sources/registry.ts lists them, and the entry points pass that list here. Adding a source
 * therefore touches its folder and the registry, not core.
 */
import { z } from 'zod';
import { analyticsSchema, configSchema, derivedAddressSchema, sensorSchema, topologySchema, type SourceAddress, type TopologyConfig } from './schema.ts';

/** What the configuration needs to know about a source type. */
export interface SourceConfigDescriptor {
  /** The key under `sources:` and the `type` of its sensor addresses. */
  readonly type: string;
  /** The value of `sources.<type>`, with its default (a list of instances, or one object). */
  readonly configSchema?: z.ZodType;
  /** A sensor address this source reads (`topology.sensors[].source` with this type). */
  readonly addressSchema: z.ZodObject<{ type: z.ZodLiteral<string> }>;
  /**
   * What makes two addresses the same point (two sensors must not read it): e.g. the server and node
   * id of an OPC UA address, but not its deadband. None for sources whose address names no point.
   */
  addressKey?(address: SourceAddress): string;
  /**
   * In production mode: what this source's section asks for that production refuses, each problem
   * starting with its key path (`sources.<type>...`). E.g. OPC UA without security.
   */
  productionProblems?(section: unknown): string[];
}

/** The topology with every sensor address checked by its source's schema. */
export function buildTopologySchema(sources: readonly SourceConfigDescriptor[]) {
  const addresses = [derivedAddressSchema, ...sources.map((s) => s.addressSchema)];
  const address = z.discriminatedUnion('type', addresses as [typeof derivedAddressSchema, ...typeof addresses]);
  return topologySchema.extend({ sensors: z.array(sensorSchema.extend({ source: address.optional() })).default([]) });
}

/**
 * The whole site configuration: the platform's keys (schema.ts), each source's section, and, when
 * given, the schema of `analytics.detectors` (analytics/detectors/options.ts: each detector's own).
 */
export function buildConfigSchema(sources: readonly SourceConfigDescriptor[], detectors?: z.ZodType<Record<string, unknown>>) {
  const sections: Record<string, z.ZodType> = {};
  for (const s of sources) if (s.configSchema) sections[s.type] = s.configSchema;
  const analytics = detectors
    ? analyticsSchema.extend({ detectors: detectors.prefault({}) }).prefault({})
    : configSchema.shape.analytics;
  return configSchema.extend({
    sources: z.object(sections).strict().default(z.object(sections).parse({}) as never),
    analytics,
    topology: z.union([z.string(), buildTopologySchema(sources)]).default(topologySchema.parse({}) as never),
  });
}

/** Sensors that read the same point of a source (same address key), named by index and id. */
export function duplicateAddresses(topology: TopologyConfig, sources: readonly SourceConfigDescriptor[]): string[] {
  const byType = new Map(sources.map((s) => [s.type, s]));
  const seen = new Map<string, string>();
  const problems: string[] = [];
  topology.sensors.forEach((sensor, i) => {
    const address = sensor.source;
    const keyOf = address && byType.get(address.type)?.addressKey;
    if (!address || !keyOf) return;
    const key = `${address.type}|${keyOf(address)}`;
    const other = seen.get(key);
    if (other) problems.push(`topology.sensors[${i}] (${sensor.id}).source: address already used by ${other}`);
    else seen.set(key, sensor.id);
  });
  return problems;
}
