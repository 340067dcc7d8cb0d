/**
 * Review F16 through one running ingest service (a real MQTT source on aedes, the real pipeline,
 * outbox and embedded store): a live reading older than `ingest.maxAgeHours` is rejected with field
 * `ts`, dead-lettered and counted, while `aquawatch import` still loads older history; and
 * `aquawatch dead-letters list|show|replay` works on the running service's ingest database: a
 * reading refused for a wrong unit stays refused while the unit is wrong, and once the topology is
 * fixed it is replayed into the outbox and stored by the running service; the too-old reading
 * stays refused and the undecodable payload is reported as not replayable.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mqtt, { type MqttClient } from 'mqtt';
import { stringify as toYaml } from 'yaml';
import { silentLogger } from '../../core/log.ts';
import { loadSiteConfig } from '../../bin/site-config.ts';
import { IngestService } from '../../ingest/service.ts';
import { run as deadLetters } from '../../bin/commands/dead-letters.ts';
import { run as importCommand } from '../../bin/commands/import.ts';
import { SqliteStore } from '../../core/tsdb/sqlite.ts';
import { AedesTestBroker } from '../support/brokers.ts';
import { waitFor } from '../support/ports.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** p-2's logger sends kPa while the topology says MPa (fixed later in the test). */
function siteConfig(dataDir: string, brokerUrl: string, p2Unit: string) {
  return {
    dataDir,
    broker: { url: brokerUrl },
    ingest: { maxAgeHours: 24, batchMaxDelayMs: 5 },
    sources: { mqtt: [{ name: 'field', clientId: `aw-f16-${process.pid}`, topics: [{ pattern: 'wq/{sensor}', timePath: 'ts' }] }] },
    topology: {
      sites: [{ id: 'S1' }], dmas: [{ id: 'D1' }],
      sensors: [
        { id: 'p-1', kind: 'pressure', unit: 'MPa', site: 'S1', dma: 'D1' },
        { id: 'p-2', kind: 'pressure', unit: p2Unit, site: 'S1', dma: 'D1' },
      ],
    },
  };
}

/** The command's output, line by line. */
async function command(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await deadLetters(args, { stdout: (l) => out.push(l), stderr: (l) => err.push(l) });
  return { code, out, err };
}

describe('F16 live sources: maximum age, and dead letters listed and replayed', () => {
  const stops: (() => Promise<unknown>)[] = [];
  let dir: string;
  let configFile: string;
  let broker: AedesTestBroker;
  let ingest: IngestService;
  let device: MqttClient;
  const now = Date.now();
  const fresh = now - 60_000;
  const wrongUnit = now - 120_000;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aw-f16-'));
    stops.push(async () => rmSync(dir, { recursive: true, force: true }));
    broker = new AedesTestBroker();
    await broker.start();
    stops.push(() => broker.stop());
    configFile = join(dir, 'site.yaml');
    writeFileSync(configFile, toYaml(siteConfig(join(dir, 'data'), broker.url, 'MPa')));
    ingest = new IngestService({ config: loadSiteConfig(configFile, {}), log: silentLogger, brokerUrl: broker.url, http: false });
    await ingest.start();
    stops.push(() => ingest.stop());
    device = await mqtt.connectAsync(broker.url, { clientId: `aw-f16-device-${process.pid}` });
    stops.push(() => device.endAsync());
  });
  afterAll(async () => { for (const s of stops.splice(0).reverse()) await s(); });

  it('F16 an MQTT JSON reading older than ingest.maxAgeHours is rejected with field ts, dead-lettered and counted; the fresh one is stored', async () => {
    await waitFor(() => ingest.sources[0].status().state === 'connected', 10_000, 20, 'the MQTT source connected');
    await device.publishAsync('wq/p-1', JSON.stringify({ value: 0.31, ts: fresh }), { qos: 1 });
    await device.publishAsync('wq/p-1', JSON.stringify({ value: 0.3, ts: now - 3 * DAY }), { qos: 1 });
    await device.publishAsync('wq/p-2', JSON.stringify({ value: 320, ts: wrongUnit }), { qos: 1 });
    await device.publishAsync('wq/p-1', '{"value": 0.3, "ts":', { qos: 1 });
    const rejected = async () => (await ingest.metrics.readingsRejected.get()).values;
    await waitFor(async () => (await rejected()).reduce((a, v) => a + v.value, 0) === 3, 10_000, 20, 'three rejections');
    expect(Object.fromEntries((await rejected()).map((v) => [`${v.labels.source}/${v.labels.reason}`, v.value])))
      .toEqual({ 'field/ts': 1, 'field/value': 1, 'field/payload': 1 });
    const tooOld = ingest.deadLetters.list({ field: 'ts' });
    expect(tooOld).toHaveLength(1);
    expect(tooOld[0]).toMatchObject({ source: 'field', sensor: 'p-1' });
    expect(tooOld[0].reason).toBe(`${new Date(now - 3 * DAY).toISOString()} is 72 h old, older than live sources may send (ingest.maxAgeHours 24); load history with aquawatch import`);
    await waitFor(() => ingest.outbox.depth === 0, 5000, 20, 'the outbox drained');
    const stored = await ingest.store.query({ measurement: 'pressure', sensors: ['p-1', 'p-2'], from: now - 4 * DAY, to: now });
    expect(stored.get('p-1')).toEqual([{ ts: fresh, value: 0.31, quality: 'good' }]);
    expect(stored.get('p-2') ?? []).toEqual([]);
  });

  it('F16 dead-letters list counts by source, field and reason; show prints one with its raw input and whether it can be replayed', async () => {
    const list = await command(['list', '-c', configFile, '--json']);
    expect(list.code).toBe(0);
    const listed = JSON.parse(list.out[0]);
    expect(listed.total).toBe(3);
    expect(listed.groups.map((g: { source: string; field: string; count: number }) => `${g.source}/${g.field} ${g.count}`).sort())
      .toEqual(['field/payload 1', 'field/ts 1', 'field/value 1']);
    const newest = listed.newest as { id: number; field: string; replayable: unknown }[];
    expect(Object.fromEntries(newest.map((d) => [d.field, d.replayable === true]))).toEqual({ payload: false, value: true, ts: true });
    const onlyTs = await command(['list', '-c', configFile, '--field', 'ts', '--since', '1h']);
    expect(onlyTs.out[0]).toMatch(/^1 dead letters in .*outbox\.sqlite \(field ts, since .*\)$/);
    expect(onlyTs.out.at(-1)).toMatch(/^#\d+ .* field \(item 0\) sensor p-1 ts: .* is 72 h old/);

    const payloadId = newest.find((d) => d.field === 'payload')!.id;
    const shown = await command(['show', String(payloadId), '-c', configFile]);
    expect(shown.code).toBe(0);
    expect(shown.out).toContain('  replayable no: never a reading (undecodable payload, or refused by its source before validation): the sender must send it again');
    expect(shown.out).toContain('  raw        {"value": 0.3, "ts":');
    const missing = await command(['show', '999999', '-c', configFile]);
    expect(missing.code).toBe(1);
    expect(missing.err[0]).toMatch(/no dead letter 999999/);
  });

  it('F16 replay: refused while the unit is wrong; after the fix replayed through the outbox into the store by the running ingest, the rest kept', async () => {
    const before = await command(['replay', '-c', configFile]);
    expect(before.code).toBe(0);
    expect(before.out[0]).toBe('replayed 0 of 3 selected dead letters into the outbox (ingest writes them to the store)');
    expect(before.out).toContain('cannot be replayed: 1');
    const stillWrong = ingest.deadLetters.list({ field: 'value' });
    expect(stillWrong).toHaveLength(1);
    expect(stillWrong[0].reason).toBe('320 MPa is outside the physical range of pressure [-0.1, 10]');
    expect(stillWrong[0].replayedAt).toBeGreaterThanOrEqual(now);

    // the operator corrects the sensor's unit in the topology
    writeFileSync(configFile, toYaml(siteConfig(join(dir, 'data'), broker.url, 'kPa')));
    const dry = await command(['replay', '-c', configFile, '--dry-run']);
    expect(dry.out[0]).toBe('dry run: 1 of 3 selected dead letters would be replayed');
    expect(ingest.deadLetters.count()).toBe(3);

    const after = await command(['replay', '-c', configFile, '--json']);
    expect(after.code).toBe(0);
    const report = JSON.parse(after.out[0]);
    expect(report).toMatchObject({ selected: 3, replayed: 1, stoppedOutboxFull: false, dryRun: false });
    expect(Object.keys(report.rejectedAgain)).toEqual([expect.stringMatching(/^ts: .* is 72 h old/)]);
    expect(Object.values(report.notReplayable)).toEqual([1]);
    expect(ingest.deadLetters.list().map((d) => d.field).sort()).toEqual(['payload', 'ts']);
    // the running service's store writer finds the row the command added to the outbox
    const p2 = async () => (await ingest.store.query({ measurement: 'pressure', sensors: ['p-2'], from: now - DAY, to: now })).get('p-2') ?? [];
    await waitFor(async () => (await p2()).length === 1, 10_000, 50, 'the replayed reading stored');
    expect(await p2()).toEqual([{ ts: wrongUnit, value: 0.32, quality: 'good' }]);

    // once more: nothing left that passes
    expect((await command(['replay', '-c', configFile, '--field', 'value'])).out[0]).toBe('replayed 0 of 0 selected dead letters into the outbox (ingest writes them to the store)');
  });

  it('F16 aquawatch import is not limited by ingest.maxAgeHours: it loads history', async () => {
    const importDir = join(dir, 'import');
    const config = { ...siteConfig(join(importDir, 'data'), broker.url, 'MPa'), sources: {} };
    writeFileSync(join(dir, 'import.yaml'), toYaml(config));
    writeFileSync(join(dir, 'map.yaml'), toYaml({ timestamp: { column: 'time', format: 'iso' }, columns: { p1: { sensor: 'p-1', unit: 'MPa' } } }));
    const start = Date.UTC(2025, 0, 1);
    writeFileSync(join(dir, 'history.csv'), ['time,p1', ...Array.from({ length: 24 }, (_, h) => `${new Date(start + h * HOUR).toISOString()},0.3`)].join('\n'));
    const out: string[] = [];
    const quiet = new Writable({ write(_c, _e, cb) { cb(); } });
    const code = await importCommand([join(dir, 'history.csv'), '--map', join(dir, 'map.yaml'), '--config', join(dir, 'import.yaml'), '--json', '--quiet'],
      { stdout: (l) => out.push(l), stderr: quiet, env: {} });
    expect(code).toBe(0);
    expect(JSON.parse(out[0])).toMatchObject({ readings: 24, rejected: 0 });
    const store = new SqliteStore(join(importDir, 'data', 'tsdb.sqlite'));
    await store.init();
    stops.push(() => store.close());
    const count = await store.query({ measurement: 'pressure', sensors: ['p-1'], from: start, to: start + DAY, aggregate: 'count' });
    expect(count.get('p-1')).toEqual([{ ts: start, value: 24 }]);
  });
});
