/**
 * Review F16 through one running ingest service (a real MQTT source on aedes, the real pipeline,
 * outbox and embedded store): a live reading older than `ingest.maxAgeHours` is rejected with field
 * `ts`, dead-lettered and counted, while `aquawatch import` still loads older history; and
 * `aquawatch dead-letters list|show|replay` works on the running service's ingest database: a
 * reading refused for a wrong unit and a message for a sensor missing from the topology stay refused
 * while that holds, and once the topology is fixed they are replayed into the outbox and stored by
 * the running service; the too-old reading and the broken JSON stay refused with their reasons, and
 * a payload cut at 4 kB is reported as not replayable.
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

/** Before the fix p-2's logger sends kPa while the topology says MPa, and p-3 is missing. */
function siteConfig(dataDir: string, brokerUrl: string, fixed: boolean) {
  return {
    dataDir,
    broker: { url: brokerUrl },
    ingest: { maxAgeHours: 24, batchMaxDelayMs: 5 },
    sources: { mqtt: [{ name: 'field', clientId: `aw-f16-${process.pid}`, topics: [{ pattern: 'wq/{sensor}', timePath: 'ts' }] }] },
    topology: {
      sites: [{ id: 'S1' }], dmas: [{ id: 'D1' }],
      sensors: [
        { id: 'p-1', kind: 'pressure', unit: 'MPa', site: 'S1', dma: 'D1' },
        { id: 'p-2', kind: 'pressure', unit: fixed ? 'kPa' : 'MPa', site: 'S1', dma: 'D1' },
        ...(fixed ? [{ id: 'p-3', kind: 'pressure', unit: 'MPa', site: 'S1', dma: 'D1' }] : []),
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
  const missingSensor = now - 180_000;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aw-f16-'));
    stops.push(async () => rmSync(dir, { recursive: true, force: true }));
    broker = new AedesTestBroker();
    await broker.start();
    stops.push(() => broker.stop());
    configFile = join(dir, 'site.yaml');
    writeFileSync(configFile, toYaml(siteConfig(join(dir, 'data'), broker.url, false)));
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
    await device.publishAsync('wq/p-3', JSON.stringify({ value: 0.28, ts: missingSensor }), { qos: 1 });
    await device.publishAsync('wq/p-1', '{"value": 0.3, "ts":', { qos: 1 });
    await device.publishAsync('wq/p-1', 'x'.repeat(5000), { qos: 1 });
    const rejected = async () => (await ingest.metrics.readingsRejected.get()).values;
    await waitFor(async () => (await rejected()).reduce((a, v) => a + v.value, 0) === 5, 10_000, 20, 'five rejections');
    expect(Object.fromEntries((await rejected()).map((v) => [`${v.labels.source}/${v.labels.reason}`, v.value])))
      .toEqual({ 'field/ts': 1, 'field/value': 1, 'field/payload': 3 });
    const tooOld = ingest.deadLetters.list({ field: 'ts' });
    expect(tooOld).toHaveLength(1);
    expect(tooOld[0]).toMatchObject({ source: 'field', sensor: 'p-1' });
    expect(tooOld[0].reason).toBe(`${new Date(now - 3 * DAY).toISOString()} is 72 h old, older than live sources may send (ingest.maxAgeHours 24); load history with aquawatch import`);
    await waitFor(() => ingest.outbox.depth === 0, 5000, 20, 'the outbox drained');
    const stored = await ingest.store.query({ measurement: 'pressure', sensors: ['p-1', 'p-2', 'p-3'], from: now - 4 * DAY, to: now });
    expect(stored.get('p-1')).toEqual([{ ts: fresh, value: 0.31, quality: 'good' }]);
    expect([...stored.values()].flat()).toHaveLength(1);
  });

  it('F16 dead-letters list counts by source, field and reason; show prints one with its raw input and whether it can be replayed', async () => {
    const list = await command(['list', '-c', configFile, '--json']);
    expect(list.code).toBe(0);
    const listed = JSON.parse(list.out[0]);
    expect(listed.total).toBe(5);
    expect(listed.groups.map((g: { source: string; field: string; reason: string; count: number }) => `${g.source}/${g.field} ${g.count} ${g.reason}`).sort()).toEqual([
      'field/payload 1 payload: not JSON (Unexpected end of JSON input)',
      expect.stringMatching(/^field\/payload 1 payload: not JSON \(Unexpected token/),
      'field/payload 1 sensor: unknown sensor "p-3" (from topic)',
      expect.stringMatching(/^field\/ts 1 .* is 72 h old/),
      'field/value 1 320 MPa is outside the physical range of pressure [-0.1, 10]',
    ]);
    const newest = listed.newest as { id: number; sensor?: string; reason: string; replayable: unknown }[];
    expect(newest.filter((d) => d.replayable !== true)).toEqual([expect.objectContaining({ replayable: 'raw input cut at 4096 characters when it was kept' })]);
    const onlyTs = await command(['list', '-c', configFile, '--field', 'ts', '--since', '1h']);
    expect(onlyTs.out[0]).toMatch(/^1 dead letters in .*outbox\.sqlite \(field ts, since .*\)$/);
    // the origin is the reading's index in the submitted batch (the source may batch several messages)
    expect(onlyTs.out.at(-1)).toMatch(/^#\d+ .* field \(item \d+\) sensor p-1 ts: .* is 72 h old/);

    const brokenId = newest.find((d) => d.reason.includes('end of JSON input'))!.id;
    const shown = await command(['show', String(brokenId), '-c', configFile]);
    expect(shown.code).toBe(0);
    expect(shown.out).toContain('  source     field (wq/p-1)');
    expect(shown.out).toContain('  replayable yes');
    expect(shown.out).toContain('  raw        {"value": 0.3, "ts":');
    const missing = await command(['show', '999999', '-c', configFile]);
    expect(missing.code).toBe(1);
    expect(missing.err[0]).toMatch(/no dead letter 999999/);
  });

  it('F16 replay: refused while the unit is wrong and the sensor missing; after the topology fix replayed through the outbox into the store by the running ingest, the rest kept', async () => {
    const before = await command(['replay', '-c', configFile]);
    expect(before.code).toBe(0);
    expect(before.out[0]).toBe('replayed 0 of 5 selected dead letters into the outbox (ingest writes them to the store)');
    expect(before.out).toContain('rejected again, kept with the new reason: 4');
    expect(before.out).toContain('       1  sensor: unknown sensor "p-3" (from topic)');
    expect(before.out).toContain('cannot be replayed: 1');
    const stillWrong = ingest.deadLetters.list({ field: 'value' });
    expect(stillWrong).toHaveLength(1);
    expect(stillWrong[0].reason).toBe('320 MPa is outside the physical range of pressure [-0.1, 10]');
    expect(stillWrong[0].replayedAt).toBeGreaterThanOrEqual(now);

    // the operator corrects p-2's unit and adds p-3 to the topology
    writeFileSync(configFile, toYaml(siteConfig(join(dir, 'data'), broker.url, true)));
    const dry = await command(['replay', '-c', configFile, '--dry-run']);
    expect(dry.out[0]).toBe('dry run: 2 of 5 selected dead letters would be replayed');
    expect(ingest.deadLetters.count()).toBe(5);

    const after = await command(['replay', '-c', configFile, '--json']);
    expect(after.code).toBe(0);
    const report = JSON.parse(after.out[0]);
    expect(report).toMatchObject({ selected: 5, replayed: 2, stoppedOutboxFull: false, dryRun: false });
    expect(Object.keys(report.rejectedAgain).sort()).toEqual([
      'payload: not JSON (Unexpected end of JSON input)', expect.stringMatching(/^ts: .* is 72 h old/),
    ]);
    expect(Object.values(report.notReplayable)).toEqual([1]);
    expect(ingest.deadLetters.list().map((d) => d.field).sort()).toEqual(['payload', 'payload', 'ts']);
    // the running service's store writer finds the row the command added to the outbox
    const stored = async () => (await ingest.store.query({ measurement: 'pressure', sensors: ['p-2', 'p-3'], from: now - DAY, to: now }));
    await waitFor(async () => [...(await stored()).values()].flat().length === 2, 10_000, 50, 'the replayed readings stored');
    expect(Object.fromEntries(await stored())).toEqual({
      'p-2': [{ ts: wrongUnit, value: 0.32, quality: 'good' }],
      'p-3': [{ ts: missingSensor, value: 0.28, quality: 'good' }],
    });

    // once more: nothing left that passes
    expect((await command(['replay', '-c', configFile, '--field', 'value'])).out[0]).toBe('replayed 0 of 0 selected dead letters into the outbox (ingest writes them to the store)');
  });

  it('F16 dead-letters says so when there is no ingest database, and refuses options that do not fit the action', async () => {
    writeFileSync(join(dir, 'elsewhere.yaml'), toYaml({ ...siteConfig(join(dir, 'never-ran'), broker.url, false), sources: {} }));
    const none = await command(['list', '-c', join(dir, 'elsewhere.yaml')]);
    expect(none.code).toBe(1);
    expect(none.err[0]).toMatch(/no ingest database at .*never-ran\/outbox\.sqlite .*has ingest run with this configuration\?$/);
    expect((await command(['list', '--dry-run', '-c', configFile])).code).toBe(2);
    const badSince = await command(['replay', '--since', 'yesterday', '-c', configFile]);
    expect(badSince.code).toBe(2);
    expect(badSince.err[0]).toMatch(/^aquawatch dead-letters: --since: .*\(or a duration such as 24h or 7d\)/);
  });

  it('F16 aquawatch import is not limited by ingest.maxAgeHours: it loads history', async () => {
    const importDir = join(dir, 'import');
    const config = { ...siteConfig(join(importDir, 'data'), broker.url, false), sources: {} };
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
