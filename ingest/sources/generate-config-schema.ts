/**
 * Writes docs/site-config.schema.json, the JSON Schema of the site configuration (the platform's
 * keys from core/config/schema.ts with every registered source's section and sensor address), for
 * editors and for checking a file without running aquawatch. Run after changing a schema:
 *
 *   npx tsx ingest/sources/generate-config-schema.ts
 *
 * It lives here, not in core, because it needs the source registry. A test fails when the committed
 * file differs from what this would write.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { buildConfigSchema } from '../../core/config/sources.ts';
import { SOURCES } from './registry.ts';

export const CONFIG_SCHEMA_FILE = fileURLToPath(new URL('../../docs/site-config.schema.json', import.meta.url));

export function configSchemaText(): string {
  const schema = z.toJSONSchema(buildConfigSchema(SOURCES), { io: 'input' }) as Record<string, unknown>;
  const published = {
    $schema: schema.$schema,
    title: 'aquawatch site configuration',
    description: 'The YAML file aquawatch reads (--config). Generated from core/config/schema.ts and '
      + 'ingest/sources/*/config.ts by ingest/sources/generate-config-schema.ts; do not edit by hand. '
      + 'Strings may contain ${ENV_VAR}, replaced from the environment before validation.',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  };
  return `${JSON.stringify(published, null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(CONFIG_SCHEMA_FILE, configSchemaText());
  console.log(`wrote ${CONFIG_SCHEMA_FILE}`);
}
