/**
 * Writes docs/site-config.schema.json, the JSON Schema of the site configuration (the platform's
 * keys from core/config/schema.ts with every registered source's section and sensor address, and
 * every detector's options), for editors and for checking a file without running aquawatch. Run
 * after changing a schema:
 *
 *   npx tsx bin/generate-config-schema.ts
 *
 * It lives in bin because it needs the parts' schemas (bin/site-config.ts). A test
 * (test/config-docs.test.ts) fails when the committed file differs from what this would write.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { siteConfigSchema } from './site-config.ts';

export const CONFIG_SCHEMA_FILE = fileURLToPath(new URL('../docs/site-config.schema.json', import.meta.url));

export function configSchemaText(): string {
  const schema = z.toJSONSchema(siteConfigSchema(), { io: 'input' }) as Record<string, unknown>;
  const published = {
    $schema: schema.$schema,
    title: 'aquawatch site configuration',
    description: 'The YAML file aquawatch reads (--config). Generated from core/config/schema.ts, '
      + 'ingest/sources/*/config.ts and analytics/detectors/*/options.ts by bin/generate-config-schema.ts; do not edit by hand. '
      + 'Strings may contain ${ENV_VAR}, replaced from the environment before validation.',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  };
  return `${JSON.stringify(published, null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(CONFIG_SCHEMA_FILE, configSchemaText());
  console.log(`wrote ${CONFIG_SCHEMA_FILE}`);
}
