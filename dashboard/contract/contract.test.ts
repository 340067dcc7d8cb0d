/**
 * The contract's own checks: the web app reaches the platform only through this module (and only
 * for types, so no server code or zod ends up in the browser bundle), besides a few pure modules it
 * shares with the server so both say the same thing (message catalogs, public-reason templates, point-in-polygon); and every
 * input schema converts to the JSON Schema fastify validates with.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENDPOINTS } from './index.ts';
import { jsonSchema } from '../server/schemas.ts';

const WEB_SRC = resolve(import.meta.dirname, '../web/src');
const CONTRACT = resolve(import.meta.dirname);
/** Libraries the browser bundle is built from. */
const WEB_PACKAGES = /^(preact|preact\/.*|echarts|echarts\/.*|socket\.io-client)$/;
const CORE = resolve(import.meta.dirname, '../../core');
/**
 * Core modules the browser bundle may include: the alarm, note and ingest text catalogs (so an alarm
 * reads the same in the dashboard as on the crew's phone) and the point-in-polygon the server also
 * counts customers with. Each may import only the others (checked below), never Node or zod.
 */
const SHARED_WITH_BROWSER = new Set(
  ['messages/alarm-texts.ts', 'messages/ingest-texts.ts', 'messages/report-notes.ts', 'messages/incident-notes.ts', 'messages/note-catalog.ts', 'messages/public-reasons.ts', 'topology/polygon.ts'].map((f) => join(CORE, f)),
);

function imports(file: string): { typeOnly: boolean; spec: string }[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => ({ typeOnly: Boolean(m[2]), spec: m[3] }));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    return d.isDirectory() ? sourceFiles(p) : /\.tsx?$/.test(d.name) ? [p] : [];
  });
}

describe('the web app', () => {
  it('imports the platform only through dashboard/contract, and only its types', () => {
    const wrong: string[] = [];
    // Test files are not bundled: they may read the server's tables to check the dictionaries.
    for (const file of sourceFiles(WEB_SRC).filter((f) => !f.endsWith('.test.ts'))) {
      for (const { typeOnly, spec } of imports(file)) {
        const where = `${relative(WEB_SRC, file)}: ${spec}`;
        if (!spec.startsWith('.')) {
          if (!WEB_PACKAGES.test(spec)) wrong.push(`${where} (not a browser library)`);
          continue;
        }
        const target = resolve(dirname(file), spec);
        if (!relative(WEB_SRC, target).startsWith('..')) continue;
        if (SHARED_WITH_BROWSER.has(target)) continue;
        if (relative(CONTRACT, target).startsWith('..')) wrong.push(`${where} (outside the web app and the contract)`);
        else if (!typeOnly) wrong.push(`${where} (the contract is imported for its types only)`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('shares with the server only pure modules that import nothing but each other', () => {
    const wrong: string[] = [];
    for (const file of SHARED_WITH_BROWSER) {
      for (const { spec } of imports(file)) {
        if (!spec.startsWith('.') || !SHARED_WITH_BROWSER.has(resolve(dirname(file), spec))) wrong.push(`${relative(CORE, file)}: ${spec}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe('the contract', () => {
  it('gives every route a unique method and URL and input schemas fastify can validate with', () => {
    const keys = ENDPOINTS.map((e) => `${e.method} ${e.url}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const e of ENDPOINTS) {
      for (const part of [e.params, e.querystring, e.body]) {
        if (!part) continue;
        const schema = jsonSchema(part, 'input');
        // unknown keys are refused everywhere
        expect(schema, `${e.method} ${e.url}`).toMatchObject({ type: 'object', additionalProperties: false });
      }
    }
  });
});
