/**
 * Review F16 against a real InfluxDB 1.x: a reading the store refuses for good (older than the
 * database's retention policy: "partial write: points beyond retention policy dropped") is isolated
 * from its batch and kept as a `store` dead letter; once the operator lengthened the retention,
 * `aquawatch dead-letters replay` sends it through the outbox again and the running ingest writes it.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { silentLogger } from '../../core/log.ts';
import { loadSiteConfig } from '../../bin/site-config.ts';
import { IngestService } from '../../ingest/service.ts';
import { run as deadLetters } from '../../bin/commands/dead-letters.ts';
import { freshDatabaseName, influxAdmin, influxUrlForTests } from '../support/influxd.ts';
import { AedesTestBroker } from '../support/brokers.ts';
import { waitFor } from '../support/ports.ts';

const influx = await influxUrlForTests();
const HOUR = 3_600_000;

describe.skipIf(!influx.available)('F16 dead letters of a store refusal on InfluxDB 1.x', () => {
  const stops: (() => Promise<unknown>)[] = [];
  afterAll(async () => { for (const s of stops.splice(0).reverse()) await s(); await influx.close(); });

  it('F16 a point beyond the retention policy is dead-lettered alone (field store) and replayed into InfluxDB once the retention is longer', async () => {
    const url = influx.available ? influx.url : '';
    const database = freshDatabaseName();
    await influxAdmin(url, `CREATE DATABASE "${database}" WITH DURATION 1h SHARD DURATION 1h NAME "short"`);
    stops.push(() => influxAdmin(url, `DROP DATABASE "${database}"`).catch(() => undefined));
    const broker = new AedesTestBroker();
    await broker.start();
    stops.push(() => broker.stop());
    const dir = mkdtempSync(join(tmpdir(), 'aw-f16-influx-'));
    stops.push(async () => rmSync(dir, { recursive: true, force: true }));
    const configFile = join(dir, 'site.yaml');
    writeFileSync(configFile, toYaml({
      dataDir: join(dir, 'data'),
      broker: { url: broker.url },
      store: { type: 'influxdb1', url, database, createDatabase: false },
      ingest: { batchMaxDelayMs: 5 },
      topology: { sites: [{ id: 'S1' }], dmas: [{ id: 'D1' }], sensors: [{ id: 'f-1', kind: 'flow', unit: 'L/s', site: 'S1', dma: 'D1' }] },
    }));
    const ingest = new IngestService({ config: loadSiteConfig(configFile, {}), log: silentLogger, brokerUrl: broker.url, http: false });
    await ingest.start();
    stops.push(() => ingest.stop());

    const now = Date.now();
    const recent = now - 60_000;
    const beyondRetention = now - 3 * HOUR;
    const submitted = await ingest.sourceContext().submit('test', [
      { sensor: 'f-1', ts: recent, value: 10, quality: 'good' },
      { sensor: 'f-1', ts: beyondRetention, value: 20, quality: 'good' },
    ]);
    expect(submitted).toMatchObject({ accepted: 2, rejected: [] });
    await waitFor(() => ingest.deadLetters.count() === 1 && ingest.outbox.depth === 0, 15_000, 50, 'the refused point dead-lettered');
    const [letter] = ingest.deadLetters.list();
    expect(letter).toMatchObject({ source: 'store', field: 'store', sensor: 'f-1' });
    expect(letter.reason).toMatch(/beyond retention policy/);
    const flow = async () => (await ingest.store.query({ measurement: 'flow', sensors: ['f-1'], from: now - 4 * HOUR, to: now })).get('f-1') ?? [];
    // L/s is converted to the canonical m3/h: 10 L/s = 36 m3/h
    expect(await flow()).toEqual([{ ts: recent, value: 36, quality: 'good' }]);

    const out: string[] = [];
    const replay = () => deadLetters(['replay', '-c', configFile, '--source', 'store'], { stdout: (l) => out.push(l), stderr: (l) => out.push(l) });
    expect(await replay()).toBe(0);
    // replayed into the outbox, refused by InfluxDB again: a new dead letter with the same reason
    await waitFor(() => ingest.deadLetters.count() === 1 && ingest.deadLetters.list()[0].id !== letter.id && ingest.outbox.depth === 0, 15_000, 50, 'refused again');

    await influxAdmin(url, `ALTER RETENTION POLICY "short" ON "${database}" DURATION 30d SHARD DURATION 1d`);
    expect(await replay()).toBe(0);
    expect(out.at(-1)).toBe('replayed 1 of 1 selected dead letters into the outbox (ingest writes them to the store)');
    await waitFor(async () => (await flow()).length === 2, 15_000, 50, 'the replayed point in InfluxDB');
    // its value was kept in the canonical unit, not converted twice (20 L/s = 72 m3/h)
    expect(await flow()).toEqual([{ ts: beyondRetention, value: 72, quality: 'good' }, { ts: recent, value: 36, quality: 'good' }]);
    expect(ingest.deadLetters.count()).toBe(0);
  });
});
