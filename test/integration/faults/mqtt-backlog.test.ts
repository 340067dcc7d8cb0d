/**
 * A broker's backlog of QoS 1 messages, far larger than ingest's outbox, drained through the real
 * pipeline and outbox into a store slower than the broker (Mosquitto, and the embedded aedes).
 * Before, the MQTT source read the whole backlog, the outbox took one batch and refused the rest,
 * the source dropped the connection and the broker sent the whole backlog again, once per
 * outbox-full, with pauses doubling to 30 s (the stall the README's fault figures describe: 30,000
 * messages received 300,000 times and 87 s to drain on Mosquitto). Now the source reads no more than
 * the outbox has room for: every message is received once, with no back-pressure pause. At this
 * test's size only the aedes case failed before the change (8 pauses, 3,835 messages received for
 * 3,000); Mosquitto, which hands out a session's queue more slowly, needed the README's larger backlog.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { parseConfig } from '../../../core/config/load.ts';
import { silentLogger } from '../../../core/log.ts';
import { SqliteStore } from '../../../core/tsdb/sqlite.ts';
import type { Point } from '../../../core/model/reading.ts';
import { IngestService } from '../../../ingest/service.ts';
import { MOSQUITTO_BIN, MosquittoBroker } from '../../support/mosquitto.ts';
import { AedesTestBroker } from '../../support/brokers.ts';
import { waitFor } from '../../support/ports.ts';

if (!MOSQUITTO_BIN && process.env.CI) throw new Error('mosquitto is not installed (apt-get install mosquitto)');

const BACKLOG = 3000;
const OUTBOX = 200;

/** A real SQLite store that takes 20 ms a write, as a busy InfluxDB does: the outbox fills. */
class SlowStore extends SqliteStore {
  override async write(points: readonly Point[]): Promise<void> {
    await new Promise((r) => setTimeout(r, 20));
    return super.write(points);
  }
}

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => { for (const s of stops.splice(0).reverse()) await s(); });

async function drainBacklog(broker: { url: string; start(): Promise<void>; stop(): Promise<void> }) {
  await broker.start();
  stops.push(() => broker.stop());
  const dataDir = mkdtempSync(join(tmpdir(), 'aw-backlog-'));
  stops.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  const store = new SlowStore(join(dataDir, 'tsdb.sqlite'));
  await store.init();
  const config = parseConfig({
    dataDir, ingest: { outboxMaxReadings: OUTBOX, batchMaxDelayMs: 5 },
    sources: { mqtt: [{ name: 'loggers', qos: 1, clientId: `aw-backlog-${process.pid}`, topics: [{ pattern: 'loggers/{sensor}', valuePath: 'v', timePath: 't' }] }] },
    topology: { sites: [{ id: 'S1' }], dmas: [{ id: 'D1' }], sensors: [{ id: 'F1', kind: 'flow', unit: 'L/s', site: 'S1', dma: 'D1' }] },
  }, 'backlog-test', {});
  const ingest = () => new IngestService({ config, log: silentLogger, brokerUrl: broker.url, http: false, store });
  // a first start makes the persistent session; the backlog builds while ingest is away
  const first = ingest();
  await first.start();
  await first.stop();
  const device = await mqtt.connectAsync(broker.url, { clientId: `aw-backlog-device-${process.pid}` });
  stops.push(() => device.endAsync());
  const t0 = Date.now() - 3 * 86_400_000;
  await Promise.all(Array.from({ length: BACKLOG }, (_, i) => device.publishAsync('loggers/F1', JSON.stringify({ v: 1, t: t0 + i * 1000 }), { qos: 1 })));

  const service = ingest();
  await service.start();
  stops.push(() => service.stop());
  const stored = async () => (await store.query({ measurement: 'flow', sensors: ['F1'], from: t0, to: Date.now() })).get('F1')!.length;
  await waitFor(async () => (await stored()) === BACKLOG, 20_000, 50, `the backlog of ${BACKLOG} in the store`);
  return service.sources[0].status().detail!;
}

describe('an MQTT backlog larger than the outbox', () => {
  it.skipIf(!MOSQUITTO_BIN)('Mosquitto: drains with every message received once and no back-pressure pause', async () => {
    const detail = await drainBacklog(new MosquittoBroker());
    expect(detail).toMatchObject({ messages: BACKLOG, backpressurePauses: 0, refusedSubmits: 0, paused: false });
  });

  it('aedes (embedded broker): the same', async () => {
    const detail = await drainBacklog(new AedesTestBroker());
    expect(detail).toMatchObject({ messages: BACKLOG, backpressurePauses: 0, refusedSubmits: 0, paused: false });
  });
});
