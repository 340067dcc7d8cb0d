/**
 * Every source type, each described by its own folder (config schema, sensor address, module).
 * Adding a source is a folder and one line here: the config schema, the sensor address union and
 * buildSources follow from this list.
 */
import { buildTopologySchema, duplicateAddresses } from '../../core/config/sources.ts';
import { ConfigError, formatZodIssues, type LoadedConfig } from '../../core/config/load.ts';
import type { z } from 'zod';
import type { SourceDescriptor } from './types.ts';
import { opcua } from './opcua/index.ts';
import { mqtt } from './mqtt/index.ts';
import { sparkplug } from './sparkplug/index.ts';
import { pda } from './pda/index.ts';
import { csv } from './csv/index.ts';

export const SOURCES: readonly SourceDescriptor[] = [opcua, mqtt, sparkplug, pda, csv];

/**
 * One source type's section of a loaded configuration, validated by its own schema (defaults
 * applied). The entry points validate it already when they load the file with SOURCES; ingest
 * checks again so that a configuration built in code without them is held to the same rules.
 */
export function sourceSection<C>(config: LoadedConfig, source: { type: string; configSchema: z.ZodType<C> }): C {
  const r = source.configSchema.safeParse(config.sources[source.type]);
  if (!r.success) throw new ConfigError(config.file, formatZodIssues(r.error).map((m) => `sources.${source.type}${m.startsWith('(root)') ? m.slice(6) : m.startsWith('[') ? m : `.${m}`}`));
  return r.data;
}

/** Check what ingest owns in a loaded configuration: every source section and sensor address. */
export function checkSourceConfig(config: LoadedConfig, sources: readonly SourceDescriptor[] = SOURCES): void {
  const known = new Set(sources.map((s) => s.type));
  const problems = Object.keys(config.sources).filter((k) => !known.has(k)).map((k) => `sources.${k}: no such source type (known: ${[...known].join(', ')})`);
  for (const s of sources) {
    if (!s.configSchema) continue;
    try { sourceSection(config, { type: s.type, configSchema: s.configSchema }); } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(...e.issues);
    }
  }
  const topology = buildTopologySchema(sources).safeParse(config.topology);
  if (!topology.success) problems.push(...formatZodIssues(topology.error).map((m) => `topology.${m}`));
  else problems.push(...duplicateAddresses(config.topology, sources));
  if (problems.length) throw new ConfigError(config.file, problems);
}
