/**
 * Store-and-forward under a database outage: readings flow over MQTT while InfluxDB is stopped for
 * 30 s and started again; every reading ends up in InfluxDB exactly once, and the outage is
 * reported (condition raised and cleared, health degraded) while it lasts.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { INFLUXD_BIN, InfluxdServer } from '../../support/influxd.ts';
import { freePort, waitFor } from '../../support/ports.ts';
import { parseConfig } from '../../../core/config/load.ts';
import { silentLogger } from '../../../core/log.ts';
import { EmbeddedBroker } from '../../../core/bus/embedded-broker.ts';
import { IngestService } from '../../../ingest/service.ts';
import { InfluxV1Store } from '../../../core/tsdb/influx1.ts';

if (!INFLUXD_BIN && process.env.REQUIRE_INFLUXDB === '1') throw new Error('REQUIRE_INFLUXDB=1 but influxd is not installed');

const SENSORS = 10;
const RATE_PER_S = 200;
const OUTAGE_MS = 30_000;

describe.skipIf(!INFLUXD_BIN)('fault: InfluxDB down for 30 s while readings flow', () => {
  const influx = new InfluxdServer();
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => { for (const c of cleanup.reverse()) await c().catch(() => {}); await influx.dispose(); });

  it('stores every reading exactly once after InfluxDB comes back', async () => {
    await influx.start();
    const broker = new EmbeddedBroker({ host: '127.0.0.1', port: await freePort() });
    await broker.start();
    cleanup.push(() => broker.stop());

    const config = parseConfig({
      dataDir: mkdtempSync(join(tmpdir(), 'aw-outage-')),
      store: { type: 'influxdb1', url: influx.url, database: 'outage_test', timeoutMs: 2000 },
      sources: { mqtt: [{ name: 'loggers', qos: 1, clientId: 'aw-outage-test', topics: [{ pattern: 'loggers/{sensor}', format: 'json', valuePath: 'v', timePath: 't' }] }] },
      topology: {
        sites: [{ id: 'S1' }], dmas: [{ id: 'D1' }],
        sensors: Array.from({ length: SENSORS }, (_, i) => ({ id: `F${i}`, kind: 'flow', site: 'S1', dma: 'D1' })),
      },
    }, 'outage-test', {});
    const ingest = new IngestService({ config, log: silentLogger, brokerUrl: broker.url, http: false });
    await ingest.start();
    cleanup.push(() => ingest.stop());

    const pub = await mqtt.connectAsync(broker.url, { clientId: 'aw-outage-pub' });
    cleanup.push(() => pub.endAsync());
    const t0 = Date.now() - 3_600_000;
    let sent = 0;
    let publishing = true;
    const publisher = (async () => {
      const started = Date.now();
      while (publishing) {
        // keep to RATE_PER_S on average, in small bursts
        const due = Math.floor(((Date.now() - started) / 1000) * RATE_PER_S);
        const batch: Promise<unknown>[] = [];
        while (sent < due) {
          const i = sent++;
          batch.push(pub.publishAsync(`loggers/F${i % SENSORS}`, JSON.stringify({ v: i, t: t0 + Math.floor(i / SENSORS) * 1000 }), { qos: 1 }));
        }
        await Promise.all(batch);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    await waitFor(() => ingest.metrics.readingsStored.get().then((m) => m.values[0]?.value > 500), 20_000, 100, 'readings stored before the outage');
    await influx.stop();
    const outageStart = Date.now();
    await waitFor(() => ingest.activeConditions.has('ingest.store_unavailable'), 20_000, 100, 'store_unavailable condition');
    expect((await ingest.health()).status).toBe('degraded');
    const depthDuringOutage = ingest.outbox.depth;
    expect(depthDuringOutage).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - outageStart))));
    await influx.start();
    await new Promise((r) => setTimeout(r, 3000));
    publishing = false;
    await publisher;

    await waitFor(() => ingest.outbox.depth === 0 && !ingest.activeConditions.has('ingest.store_unavailable'), 30_000, 100, 'outbox drained');
    const reader = new InfluxV1Store({ type: 'influxdb1', url: influx.url, database: 'outage_test', createDatabase: false, timeoutMs: 10_000 });
    await reader.init();
    const ids = Array.from({ length: SENSORS }, (_, i) => `F${i}`);
    const counts = await reader.query({ measurement: 'flow', sensors: ids, from: t0, to: t0 + 86_400_000, aggregate: 'count' });
    const total = ids.reduce((s, id) => s + (counts.get(id)?.[0]?.value ?? 0), 0);
    expect(total).toBe(sent);
    // exactly once, with the right values: reading i of sensor k carries value i
    const raw = await reader.query({ measurement: 'flow', sensors: ['F3'], from: t0, to: t0 + 86_400_000 });
    const values = raw.get('F3')!.map((v) => v.value);
    expect(values).toEqual(Array.from({ length: values.length }, (_, j) => j * SENSORS + 3));
    expect((await ingest.metrics.writeErrors.get()).values[0].value).toBeGreaterThan(0);
    await reader.close();
  }, 120_000);
});
