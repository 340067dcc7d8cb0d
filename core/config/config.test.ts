import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseConfig } from './load.ts';
import { Topology } from '../topology/topology.ts';

const dir = mkdtempSync(join(tmpdir(), 'aw-config-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('configuration', () => {
  it('starts from defaults with no file: embedded broker, SQLite store, demo mode, loopback', () => {
    const c = loadConfig(undefined, {});
    expect(c.mode).toBe('demo');
    expect(c.broker.url).toBe('embedded');
    expect(c.broker.host).toBe('127.0.0.1');
    expect(c.store.type).toBe('sqlite');
    expect(c.http.host).toBe('127.0.0.1');
    expect(c.site.timezone).toBe('Asia/Shanghai');
  });

  it('names the file, the key path and the reason of an error', () => {
    const p = file('bad.yaml', 'store:\n  type: influxdb1\n  url: not a url\n');
    expect(() => loadConfig(p, {})).toThrowError(ConfigError);
    try { loadConfig(p, {}); } catch (e) {
      expect((e as Error).message).toContain('bad.yaml');
      expect((e as Error).message).toMatch(/store\.url: .*URL/);
    }
  });

  it('rejects unknown keys, so a typo does not silently fall back to a default', () => {
    const p = file('typo.yaml', 'ingest:\n  outboxMaxReading: 10\n');
    expect(() => loadConfig(p, {})).toThrowError(/ingest.*outboxMaxReading/);
  });

  it('takes secrets from environment variables and says which one is missing', () => {
    const p = file('secret.yaml', 'store:\n  type: influxdb2\n  url: http://influx:8086\n  token: ${INFLUX_TOKEN}\n');
    expect(loadConfig(p, { INFLUX_TOKEN: 's3cret' }).store).toMatchObject({ type: 'influxdb2', token: 's3cret' });
    expect(() => loadConfig(p, {})).toThrowError(/store\.token: environment variable INFLUX_TOKEN is not set/);
  });

  it('keeps the secrets of notify: as references (the notifier resolves them) but names one that is not set', () => {
    const notify = {
      publicUrl: 'https://scada.example', ackSecret: '${ACK_SECRET}', people: { wang: { name: 'Wang' } },
      channels: [{ type: 'wecom', name: 'ops', key: '${WECOM_KEY}' }],
      routing: { timeZone: 'Asia/Shanghai', rotas: { m: { weekly: [{ days: ['mon'], from: '08:00', to: '18:00', people: ['wang'] }], dutyManager: 'wang' } },
        rules: [{ name: 'all', rota: 'm', channels: ['ops'], escalateAfterMin: 10 }] },
    };
    const c = parseConfig({ notify }, 'site.yaml', { ACK_SECRET: 'a'.repeat(32), WECOM_KEY: 'k' });
    expect(c.notify!.ackSecret).toBe('${ACK_SECRET}');
    expect(c.notify!.channels[0]).toMatchObject({ key: '${WECOM_KEY}' });
    expect(() => parseConfig({ notify }, 'site.yaml', { ACK_SECRET: 'a'.repeat(32) })).toThrowError(/notify\.channels\[0\]\.key: environment variable WECOM_KEY is not set/);
    expect(() => parseConfig({ notify: { ...notify, ackSecret: 'literal-secret' } }, 'site.yaml', { WECOM_KEY: 'k' })).toThrowError(/notify\.ackSecret: a secret must be an \$\{ENV_NAME\} reference/);
  });

  it('takes InfluxDB credentials as one user or token for everything, or as a reader and a writer, not both', () => {
    const v1 = file('influx1-users.yaml', 'store:\n  type: influxdb1\n  derivedDatabase: aw_derived\n  reader: { username: reader, password: r }\n  writer: { username: ingest, password: w }\n');
    expect(loadConfig(v1, {}).store).toMatchObject({ derivedDatabase: 'aw_derived', reader: { username: 'reader' }, writer: { username: 'ingest' } });
    const both = file('influx1-both.yaml', 'store:\n  type: influxdb1\n  username: admin\n  writer: { username: ingest, password: w }\n');
    expect(() => loadConfig(both, {})).toThrowError(/store\.username: give either username\/password .* or reader\/writer/);
    const v2 = file('influx2-tokens.yaml', 'store:\n  type: influxdb2\n  readToken: r\n  writeToken: w\n');
    expect(loadConfig(v2, {}).store).toMatchObject({ readToken: 'r', writeToken: 'w' });
    for (const [name, tokens] of [['none', ''], ['both', '  token: t\n  writeToken: w\n']]) {
      expect(() => loadConfig(file(`influx2-${name}.yaml`, `store:\n  type: influxdb2\n${tokens}`), {})).toThrowError(/store\.token: give either token .* or readToken\/writeToken/);
    }
  });

  it('reports YAML syntax errors with the file name', () => {
    const p = file('syntax.yaml', 'store: [unclosed\n');
    expect(() => loadConfig(p, {})).toThrowError(/syntax\.yaml/);
  });

  it('refuses an embedded broker beyond loopback without a password in production mode', () => {
    expect(() => parseConfig({ mode: 'production', broker: { host: '0.0.0.0' } }, 'prod.yaml', {}))
      .toThrowError(/needs a username and password in production mode/);
    expect(parseConfig({ mode: 'production', broker: { host: '0.0.0.0', username: 'u', password: 'p', tls: { cert: '/tls/broker.crt', key: '/tls/broker.key' } }, auth: { admin: { password: 'a-long-admin-password' } } }, 'prod.yaml', {}).mode).toBe('production');
  });

  it('loads the topology from a separate file relative to the config', () => {
    file('topo.yaml', 'sites: [{id: P1, kind: plant}]\ndmas: [{id: D1, inlets: [F1], customers: 1200}]\nsensors:\n  - {id: F1, kind: flow, unit: L/s, site: P1, dma: D1}\n');
    const p = file('with-topo.yaml', 'topology: topo.yaml\n');
    const c = loadConfig(p, {});
    const t = new Topology(c.topology);
    expect(t.dmas.get('D1')!.customers).toBe(1200);
    expect(t.sensors.get('F1')!.convert(1)).toBeCloseTo(3.6, 10);
  });

  it('substitutes ${VAR} outside the topology only: a topology that names a variable is refused, naming the key (review L7)', () => {
    const env = { INFLUXDB_TOKEN: 'secret-token', TOPOLOGY_FILE: 'topo-env.yaml' };
    // a topology from a third party (GIS export) must not pull a secret into a name every viewer sees
    file('topo-env.yaml', 'sites: [{id: P1, kind: plant}]\ndmas: [{id: D1, name: "North ${INFLUXDB_TOKEN}"}]\n');
    let message = '';
    try { loadConfig(file('env-topo.yaml', 'topology: ${TOPOLOGY_FILE}\n'), env); } catch (e) { message = (e as Error).message; }
    expect(message).toContain('topology.dmas[0].name: ${INFLUXDB_TOKEN} is not substituted in the topology');
    expect(message).not.toContain('secret-token');
    expect(() => parseConfig({ topology: { dmas: [{ id: 'D1', name: 'x ${INFLUXDB_TOKEN}' }] } }, 'x', env))
      .toThrowError(/topology\.dmas\[0\]\.name: \$\{INFLUXDB_TOKEN\} is not substituted/);
    // elsewhere, and for the topology file's path, variables are substituted as before
    expect(parseConfig({ site: { name: 'Water ${INFLUXDB_TOKEN}' } }, 'x', env).site.name).toBe('Water secret-token');
  });
});

describe('topology cross-references', () => {
  it('names every broken reference at start-up', () => {
    const c = parseConfig({ topology: {
      sites: [{ id: 'P1' }],
      dmas: [{ id: 'D1', inlets: ['F9', 'P_1'] }],
      sensors: [
        { id: 'P_1', kind: 'pressure', site: 'P1', dma: 'D1' },
        { id: 'P_1', kind: 'pressure', site: 'P1' },
        { id: 'X', kind: 'pressure', unit: 'L/s', site: 'P2', dma: 'D7' },
      ],
    } }, 'topo', {});
    let msg = '';
    try { new Topology(c.topology, 'topo.yaml'); } catch (e) { msg = (e as Error).message; }
    expect(msg).toContain('sensors[1] (P_1): duplicate sensor id');
    expect(msg).toContain('sensors[2] (X).site: unknown site P2');
    expect(msg).toContain('sensors[2] (X).dma: unknown DMA D7');
    expect(msg).toContain('sensors[2] (X).unit: L/s is not a unit of pressure');
    expect(msg).toContain('dmas[0].inlets[0]: unknown sensor F9');
    expect(msg).toContain('dmas[0].inlets[1]: sensor P_1 is pressure, not flow');
  });

  it('registers customer meters as meter series of their DMA', () => {
    const c = parseConfig({ topology: { dmas: [{ id: 'D1' }], meters: [{ id: 'M1', customer: 'C1', dma: 'D1' }] } }, 'x', {});
    const t = new Topology(c.topology);
    expect(t.sensors.get('M1')).toMatchObject({ kind: 'meter', dma: 'D1', site: 'customers' });
    expect(t.networkSensors().map((s) => s.id)).toEqual([]);
  });
});
