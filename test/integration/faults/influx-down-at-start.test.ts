/**
 * Ingest starts while InfluxDB is down: it takes readings into its outbox, creates the database once
 * InfluxDB answers, and writes everything there.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INFLUXD_BIN, InfluxdServer } from '../../support/influxd.ts';
import { freePort, waitFor } from '../../support/ports.ts';
import { parseConfig } from '../../../core/config/load.ts';
import { silentLogger } from '../../../core/log.ts';
import { EmbeddedBroker } from '../../../core/bus/embedded-broker.ts';
import { IngestService } from '../../../ingest/service.ts';
import { InfluxV1Store } from '../../../core/tsdb/influx1.ts';

if (!INFLUXD_BIN && process.env.REQUIRE_INFLUXDB === '1') throw new Error('REQUIRE_INFLUXDB=1 but influxd is not installed');

describe.skipIf(!INFLUXD_BIN)('fault: InfluxDB down when ingest starts', () => {
  const influx = new InfluxdServer();
  const stops: (() => Promise<unknown>)[] = [];
  afterAll(async () => { for (const s of stops.reverse()) await s().catch(() => {}); await influx.dispose(); });

  it('holds the readings and writes them once InfluxDB is up', async () => {
    // ports chosen now, server started later
    influx.port = await freePort();
    influx.rpcPort = await freePort();
    const broker = new EmbeddedBroker({ host: '127.0.0.1', port: await freePort() });
    await broker.start();
    stops.push(() => broker.stop());
    const config = parseConfig({
      dataDir: mkdtempSync(join(tmpdir(), 'aw-downstart-')),
      store: { type: 'influxdb1', url: influx.url, database: 'down_at_start', timeoutMs: 1000 },
      topology: { sites: [{ id: 'S1' }], sensors: [{ id: 'L1', kind: 'level', site: 'S1' }] },
    }, 'down-at-start', {});
    const ingest = new IngestService({ config, log: silentLogger, brokerUrl: broker.url, http: false });
    await ingest.start();
    stops.push(() => ingest.stop());

    const t0 = Date.now() - 3_600_000;
    const r = await ingest.sourceContext().submit('test', Array.from({ length: 500 }, (_, i) => ({ sensor: 'L1', ts: t0 + i * 1000, value: i / 100, quality: 'good' as const })));
    expect(r.accepted).toBe(500);
    await new Promise((res) => setTimeout(res, 1500));
    expect(ingest.outbox.depth).toBe(500);

    await influx.start();
    await waitFor(() => ingest.outbox.depth === 0, 30_000, 100, 'outbox drained into InfluxDB');
    const reader = new InfluxV1Store({ type: 'influxdb1', url: influx.url, database: 'down_at_start', createDatabase: false, timeoutMs: 5000 });
    await reader.init();
    const count = await reader.query({ measurement: 'level', sensors: ['L1'], from: t0, to: t0 + 1_000_000, aggregate: 'count' });
    expect(count.get('L1')).toEqual([{ ts: t0, value: 500 }]);
    await reader.close();
  }, 60_000);
});
