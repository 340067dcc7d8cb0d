/**
 * The contract's own checks: the web app reaches the platform only through this module (and only
 * for types, so no server code or zod ends up in the browser bundle), and every input schema
 * converts to the JSON Schema fastify validates with.
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

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    return d.isDirectory() ? sourceFiles(p) : /\.tsx?$/.test(d.name) ? [p] : [];
  });
}

describe('the web app', () => {
  it('imports the platform only through dashboard/contract, and only its types', () => {
    const wrong: string[] = [];
    for (const file of sourceFiles(WEB_SRC)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
        const [, , typeOnly, spec] = m;
        const where = `${relative(WEB_SRC, file)}: ${spec}`;
        if (!spec.startsWith('.')) {
          if (!WEB_PACKAGES.test(spec)) wrong.push(`${where} (not a browser library)`);
          continue;
        }
        const target = resolve(dirname(file), spec);
        if (!relative(WEB_SRC, target).startsWith('..')) continue;
        if (relative(CONTRACT, target).startsWith('..')) wrong.push(`${where} (outside the web app and the contract)`);
        else if (!typeOnly) wrong.push(`${where} (the contract is imported for its types only)`);
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
