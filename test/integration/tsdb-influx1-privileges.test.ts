/**
 * Least privilege on a real InfluxDB 1.6 with authentication on, with the users and grants
 * deploy/influxdb/service-users.sh makes: ingest writes readings and cannot read them, the reader
 * reads readings and derived series and cannot write, analytics writes derived series and cannot
 * write a reading; the stores of ingest and server, configured as deploy/aquawatch/config.yaml
 * configures them, write and read through those users; each database keeps data as long as the
 * script's retention policy says (F24).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { INFLUXD_BIN, InfluxdServer, runServiceUsersScript } from '../support/influxd.ts';
import { InfluxV1Store, type InfluxV1Config } from '../../core/tsdb/influx1.ts';
import { storeSchema } from '../../core/config/schema.ts';
import { createStore } from '../../core/tsdb/factory.ts';
import type { Point } from '../../core/model/reading.ts';

if (!INFLUXD_BIN && process.env.REQUIRE_INFLUXDB === '1') throw new Error('REQUIRE_INFLUXDB=1 but influxd is not installed');

const ROOT = join(import.meta.dirname, '..', '..');
const PASSWORDS = { ingest: 'ingest-secret-1', analytics: 'analytics-secret-2', reader: 'reader-secret-3' };
/** Yesterday, midnight UTC: within the retention service-users.sh gives the databases. */
const T0 = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000;
const reading = (sensor: string, ts: number, value: number): Point =>
  ({ measurement: 'pressure', sensor, ts, value, quality: 'good', site: 'S1', dma: 'D1' });

describe.skipIf(!INFLUXD_BIN)('InfluxDB 1.x users of least privilege (real InfluxDB 1.6, auth on; F21: no service holds the admin credentials)', () => {
  const influx = new InfluxdServer({ auth: true });
  const user = (username: keyof typeof PASSWORDS) => ({ username, password: PASSWORDS[username] });
  /** A store config as deploy/aquawatch/config.yaml makes it, or with one user for everything. */
  const config = (extra: Record<string, unknown>): InfluxV1Config => storeSchema.parse({
    type: 'influxdb1', url: influx.url, database: 'aquawatch', derivedDatabase: 'aquawatch_derived', createDatabase: false, ...extra,
  }) as InfluxV1Config;

  beforeAll(async () => {
    await influx.start();
    runServiceUsersScript(influx, { admin: { user: 'admin', password: 'admin-secret-0' }, database: 'aquawatch', passwords: PASSWORDS, cwd: ROOT });
  }, 60_000);
  afterAll(() => influx.dispose());

  it('ingest writes readings and cannot read them; the reader reads and cannot write; analytics cannot write a reading', async () => {
    const ingestOnly = new InfluxV1Store(config({ username: 'ingest', password: PASSWORDS.ingest }));
    await ingestOnly.write([reading('P1', T0, 1.5)]);
    await expect(ingestOnly.query({ measurement: 'pressure', sensors: ['P1'], from: 0, to: T0 + 1 })).rejects.toThrow(/not authorized.*requires READ/);

    const readerOnly = new InfluxV1Store(config({ username: 'reader', password: PASSWORDS.reader }));
    expect((await readerOnly.latest('pressure', ['P1'])).map((l) => l.value)).toEqual([1.5]);
    await expect(readerOnly.write([reading('P1', T0 + 60_000, 9)])).rejects.toThrow(/not authorized to write/);

    const analyticsOnReadings = new InfluxV1Store(config({ username: 'analytics', password: PASSWORDS.analytics }));
    await expect(analyticsOnReadings.write([reading('P1', T0, 99)])).rejects.toThrow(/not authorized to write to database "aquawatch"/);
    expect((await readerOnly.latest('pressure', ['P1'])).map((l) => l.value)).toEqual([1.5]);
  });

  it('F24 keeps readings 400 days and derived series 800 days (the default retention policy of each database)', async () => {
    const policies = async (database: string) => {
      const res = await fetch(`${influx.url}/query?${new URLSearchParams({ q: `SHOW RETENTION POLICIES ON "${database}"`, u: 'admin', p: 'admin-secret-0' })}`);
      const rows = (await res.json()).results[0].series[0].values as [string, string, string, number, boolean][];
      return rows.filter((r) => r[4]).map((r) => [r[0], r[1]]);
    };
    expect(await policies('aquawatch')).toEqual([['autogen', '9600h0m0s']]);
    expect(await policies('aquawatch_derived')).toEqual([['autogen', '19200h0m0s']]);
  });

  it('ingest (writer ingest) and server (writer analytics, derived series) start, write their own and read everything as reader', async () => {
    const ingest = await createStore(config({ writer: user('ingest'), reader: user('reader') }), '/nonexistent');
    const server = await createStore(config({ writer: user('analytics'), reader: user('reader') }), '/nonexistent', { writes: 'derived' });
    await ingest.write([reading('P2', T0, 2), { ...reading('M-1', T0, 12.5), measurement: 'meter' }]);
    await server.write([{ measurement: 'dma_inflow', sensor: 'D1', ts: T0, value: 30, quality: 'good', site: 'S1', dma: 'D1' }]);
    // the derived point went to its own database, where ingest's user cannot write
    const derivedOnly = new InfluxV1Store(config({ reader: user('reader'), derivedDatabase: undefined, database: 'aquawatch_derived' }));
    expect((await derivedOnly.latest('dma_inflow')).map((l) => l.value)).toEqual([30]);
    expect(await derivedOnly.latest('pressure')).toEqual([]);
    // both services read readings and derived series, merged per sensor
    for (const store of [ingest, server]) {
      expect((await store.latest('dma_inflow', ['D1'])).map((l) => l.value)).toEqual([30]);
      expect((await store.query({ measurement: 'pressure', sensors: ['P2'], from: T0, to: T0 + 1 })).get('P2')!.map((v) => v.value)).toEqual([2]);
      expect((await store.query({ measurement: 'meter', sensors: ['M-1'], from: T0, to: T0 + 1, aggregate: 'last' })).get('M-1')!.map((v) => v.value)).toEqual([12.5]);
    }
  });

  it('refuses to start when a user lacks its grant, naming the key and the user', async () => {
    await expect(createStore(config({ writer: user('ingest'), reader: user('reader') }), '/nonexistent', { writes: 'derived' }))
      .rejects.toThrow(/database aquawatch_derived does not exist .*, or store\.writer ingest has no rights on it/);
    await expect(createStore(config({ writer: user('analytics'), reader: user('ingest') }), '/nonexistent', { writes: 'derived' }))
      .rejects.toThrow(/database aquawatch_derived does not exist .*, or store\.reader ingest has no rights on it/);
  });
});
