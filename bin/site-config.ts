/**
 * The site configuration as the commands load it: the platform's keys (core/config), each source's
 * section (ingest/sources/registry.ts) and each detector's (analytics/detectors/options.ts). Only bin
 * knows every part, so the whole schema is put together here.
 */
import { loadConfig, type LoadedConfig } from '../core/config/load.ts';
import { buildConfigSchema } from '../core/config/sources.ts';
import { SOURCES } from '../ingest/sources/registry.ts';
import { detectorOptionsSchema } from '../analytics/detectors/options.ts';

export { SOURCES, detectorOptionsSchema };

/** `loadConfig` with every source's and every detector's own schema. */
export function loadSiteConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  return loadConfig(file, env, SOURCES, detectorOptionsSchema);
}

/** The zod schema of the whole site configuration. */
export function siteConfigSchema() {
  return buildConfigSchema(SOURCES, detectorOptionsSchema);
}
