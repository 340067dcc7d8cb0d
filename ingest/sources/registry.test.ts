import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseConfig } from '../../core/config/load.ts';
import { buildConfigSchema } from '../../core/config/sources.ts';
import { SOURCES, checkSourceConfig } from './registry.ts';
import { buildSources } from './index.ts';
import type { SourceDescriptor } from './types.ts';

const dir = mkdtempSync(join(tmpdir(), 'aw-registry-'));
const sensor = (id: string, source: object) => ({ id, kind: 'pressure', site: 'S1', source });

describe('the source registry', () => {
  it('drives the config schema: one sources key and one sensor address per registered source', () => {
    const schema = buildConfigSchema(SOURCES);
    expect(Object.keys(schema.shape.sources.unwrap().shape).sort()).toEqual(['mqtt', 'opcua', 'pda', 'sparkplug']);
    const cfg = parseConfig({}, '(test)', {}, SOURCES);
    expect(cfg.sources).toMatchObject({ opcua: [], mqtt: [], sparkplug: [], pda: { enabled: true, maxAgeDays: 45 } });

    // A source added to the list brings its section and its address, with no edit in core.
    const modbus: SourceDescriptor = {
      type: 'modbus',
      configSchema: z.array(z.object({ name: z.string(), host: z.string() }).strict()).default([]),
      addressSchema: z.object({ type: z.literal('modbus'), unit: z.number().int(), register: z.number().int() }).strict(),
      addressKey: (a) => `${String(a.unit)}|${String(a.register)}`,
    };
    const withModbus = parseConfig({
      sources: { modbus: [{ name: 'pumps', host: '10.0.0.5' }] },
      topology: { sensors: [sensor('P1', { type: 'modbus', unit: 1, register: 40001 })] },
    }, '(test)', {}, [...SOURCES, modbus]);
    expect(withModbus.sources.modbus).toEqual([{ name: 'pumps', host: '10.0.0.5' }]);
    expect(() => parseConfig({ sources: { modbus: [] } }, 'x.yaml', {}, SOURCES)).toThrowError(/sources: Unrecognized key: "modbus"/);
    expect(() => parseConfig({ topology: { sensors: [sensor('P1', { type: 'modbus', unit: 1, register: 1 })] } }, 'x.yaml', {}, SOURCES))
      .toThrowError(/topology\.sensors\[0\]\.source\.type/);
    expect(() => parseConfig({ topology: { sensors: [sensor('P1', { type: 'modbus', unit: 'one', register: 1 })] } }, 'x.yaml', {}, [...SOURCES, modbus]))
      .toThrowError(/topology\.sensors\[0\]\.source\.unit/);
  });

  it('names the file, the key path and the reason of a source section error', () => {
    const p = join(dir, 'bad.yaml');
    writeFileSync(p, 'sources:\n  opcua:\n    - name: plant1\n      endpoint: http://plant1:4840\n');
    expect(() => loadConfig(p, {}, SOURCES)).toThrowError(ConfigError);
    expect(() => loadConfig(p, {}, SOURCES)).toThrowError(/bad\.yaml: sources\.opcua\[0\]\.endpoint: must start with opc\.tcp:\/\//);
  });

  it('refuses two sensors on one address, by the key each source gives', () => {
    const topology = { sensors: [
      sensor('A', { type: 'opcua', server: 'plant', nodeId: 'ns=1;s=x', deadband: 0.1 }),
      sensor('B', { type: 'opcua', server: 'plant', nodeId: 'ns=1;s=x' }),
      sensor('C', { type: 'opcua', server: 'other', nodeId: 'ns=1;s=x' }),
      sensor('D', { type: 'mqtt', topic: 't/1' }),
      sensor('E', { type: 'mqtt', topic: 't/1' }),
      sensor('F', { type: 'pda' }),
      sensor('G', { type: 'pda' }),
    ] };
    let message = '';
    try { parseConfig({ topology }, 'dup.yaml', {}, SOURCES); } catch (e) { message = (e as Error).message; }
    expect(message).toContain('topology.sensors[1] (B).source: address already used by A');
    expect(message).toContain('topology.sensors[4] (E).source: address already used by D');
    expect(message).not.toContain('(C)');
    expect(message).not.toContain('(G)');
  });

  it('checks in ingest what a configuration built without the registry did not', () => {
    const loose = parseConfig({ sources: { mqtt: [{ name: 'm', qos: 2 }] }, topology: { sensors: [sensor('A', { type: 'opcua', server: 'p' })] } }, 'code', {});
    expect(() => checkSourceConfig(loose)).toThrowError(/sources\.mqtt\[0\]\.qos[\s\S]*topology\.sensors\[0\]\.source\.nodeId/);
    expect(() => checkSourceConfig(parseConfig({ sources: { modbus: [] } }, 'code', {}))).toThrowError(/sources\.modbus: no such source type/);
  });

  it('builds one Source per configured instance of a protocol source', async () => {
    const mqtt = (name: string) => ({ name, topics: [{ pattern: `${name}/{sensor}` }] });
    const cfg = parseConfig({ sources: { mqtt: [mqtt('a'), mqtt('b')] } }, '(test)', {}, SOURCES);
    const sources = await buildSources(cfg, { brokerUrl: 'mqtt://127.0.0.1:1' });
    expect(sources.map((s) => [s.type, s.name])).toEqual([['mqtt', 'a'], ['mqtt', 'b']]);
  });
});
