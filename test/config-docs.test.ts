/**
 * Configuration examples in the READMEs cannot drift from the schema: every ```yaml block of the
 * sources' and the detectors' READMEs, the alarm manager's and the top README is validated (a
 * site-config block against the schema built from the sources' registry and the detectors' option
 * schemas, a CSV mapping against the mapping schema), and the published JSON Schema is what the
 * generator writes today.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../core/config/load.ts';
import { parseMapping } from '../ingest/sources/csv/mapping.ts';
import { SOURCES, detectorOptionsSchema } from '../bin/site-config.ts';
import { CONFIG_SCHEMA_FILE, configSchemaText } from '../bin/generate-config-schema.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SOURCES_DIR = join(ROOT, 'ingest/sources/');
const DETECTORS_DIR = join(ROOT, 'analytics/detectors/');

/** The READMEs of the folders under `dir` (one per source, one per detector). */
function folderReadmes(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'README.md')))
    .map((d) => join(dir, d.name, 'README.md'));
}

function yamlBlocks(file: string): { line: number; text: string }[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks: { line: number; text: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```yaml') continue;
    const start = i + 1;
    while (++i < lines.length && lines[i].trim() !== '```');
    blocks.push({ line: start + 1, text: lines.slice(start, i).join('\n') });
  }
  return blocks;
}

/** Any ${NAME} resolves, so a block is judged on its shape, not on this machine's environment. */
const anyEnv = new Proxy({}, { get: (_, name) => (typeof name === 'string' ? `env-${name}` : undefined) }) as NodeJS.ProcessEnv;

const readmes = [
  join(ROOT, 'README.md'),
  join(ROOT, 'analytics/alarms/README.md'),
  ...folderReadmes(SOURCES_DIR),
  ...folderReadmes(DETECTORS_DIR),
];
const cases = readmes.flatMap((file) => yamlBlocks(file).map((b) => ({ ...b, file: relative(ROOT, file) })));

describe('configuration examples in the READMEs', () => {
  it('finds the blocks (every source and every configurable detector README has at least one)', () => {
    // A detector folder outside the options registry cannot be configured, so its README has no block to show.
    const configurable = new Set(Object.keys(detectorOptionsSchema.shape));
    const isConfigurableDetector = (f: string) => f.startsWith(DETECTORS_DIR) && configurable.has(relative(DETECTORS_DIR, f).split('/')[0]);
    for (const file of readmes.filter((f) => f.startsWith(SOURCES_DIR) || isConfigurableDetector(f))) {
      expect(cases.some((c) => c.file === relative(ROOT, file)), file).toBe(true);
    }
  });

  it.each(cases.map((c) => [`${c.file}:${c.line}`, c] as const))('%s is valid', (_, c) => {
    const raw = parseYaml(c.text) as Record<string, unknown>;
    // A topology given as a file name names a file the README does not hold.
    if (typeof raw.topology === 'string') delete raw.topology;
    if (c.file.startsWith('ingest/sources/csv/')) parseMapping(raw, `${c.file}:${c.line}`);
    else parseConfig(raw, `${c.file}:${c.line}`, anyEnv, SOURCES, detectorOptionsSchema);
  });
});

describe('the published JSON Schema of the site configuration', () => {
  it('is up to date (regenerate with npx tsx bin/generate-config-schema.ts)', () => {
    expect(readFileSync(CONFIG_SCHEMA_FILE, 'utf8')).toBe(configSchemaText());
  });
});
