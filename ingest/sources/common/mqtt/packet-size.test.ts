/**
 * A message larger than the platform's packet limit, at the source's side (review F14), against a
 * real Mosquitto with no limit of its own (as a utility's broker may be) and the embedded aedes:
 * - MQTT 5 (`broker.protocolVersion: 5`): the CONNECT announces the maximum packet size, Mosquitto
 *   never sends the big message (it drops it), the messages around it arrive, and the persistent
 *   session keeps what was published while the source was away;
 * - MQTT 3.1.1 (the default): the message arrives and is dead-lettered unread, counted;
 * - aedes answers an MQTT 5 CONNECT "unacceptable protocol version": the source says which key to set.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { parseConfig } from '../../../../core/config/load.ts';
import { Topology } from '../../../../core/topology/topology.ts';
import { MQTT_MAX_PACKET_BYTES } from '../../../../core/bus/embedded-broker.ts';
import { RecordingContext } from '../../../../test/support/recording-context.ts';
import { waitFor } from '../../../../test/support/ports.ts';
import { AedesTestBroker } from '../../../../test/support/brokers.ts';
import { MOSQUITTO_BIN, MosquittoBroker } from '../../../../test/support/mosquitto.ts';
import { MqttSource } from '../../mqtt/mqtt-source.ts';
import { mqttSourceSchema } from '../../mqtt/config.ts';

if (!MOSQUITTO_BIN && process.env.CI) throw new Error('mosquitto is not installed (apt-get install mosquitto)');

const topology = new Topology(parseConfig({ topology: {
  sites: [{ id: 'S1' }],
  sensors: [{ id: 'cl-1', kind: 'chlorine', unit: 'mg/L', site: 'S1' }],
} }, 't', {}).topology);

let seq = 0;
const uniqueId = (what: string) => `aw-size-${what}-${process.pid}-${++seq}`;
const T = Date.now() - 3_600_000;
const small = (i: number) => JSON.stringify([{ id: 'cl-1', value: 0.5, ts: T + i }]);
/** 2 MiB of valid readings: only its size is wrong. */
const huge = JSON.stringify(Array.from({ length: 40_000 }, (_, i) => ({ id: 'cl-1', value: 0.5, ts: T + 1000 + i })));

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => { for (const s of stops.splice(0)) await s(); });

function source(url: string, clientId: string, protocolVersion?: 4 | 5, connectWaitMs = 2000): MqttSource {
  const config = mqttSourceSchema.parse({ name: 'field', clientId, broker: { url, ...(protocolVersion ? { protocolVersion } : {}) }, topics: [{ pattern: 'batch/#', sensorPath: 'id', timePath: 'ts' }] });
  const s = new MqttSource(config, { url }, { reconnectPeriodMs: 50, connectWaitMs });
  stops.push(() => s.stop());
  return s;
}

describe.skipIf(!MOSQUITTO_BIN)('a message over the packet limit, Mosquitto without a limit of its own', () => {
  const broker = new MosquittoBroker();
  let pub: MqttClient;
  beforeAll(async () => {
    await broker.start();
    pub = await mqtt.connectAsync(broker.url, { clientId: uniqueId('pub') });
  });
  afterAll(async () => { await pub?.endAsync(); await broker.stop(); });

  it('MQTT 5: is never sent to ingest; the messages around it arrive, also those queued while ingest was away', async () => {
    expect(huge.length).toBeGreaterThan(MQTT_MAX_PACKET_BYTES);
    const ctx = new RecordingContext(topology);
    const clientId = uniqueId('v5');
    const first = source(broker.url, clientId, 5);
    await first.start(ctx);
    expect(first.client!.options.properties).toMatchObject({ maximumPacketSize: expect.any(Number), sessionExpiryInterval: 0xffff_ffff });
    for (const payload of [small(1), huge, small(2)]) await pub.publishAsync('batch/live', payload, { qos: 1 });
    await waitFor(() => ctx.readings.length === 2, 10_000, 10, 'the two small messages');
    await first.stop();
    // published while the source is away: the session outlives the connection
    for (const payload of [small(3), huge, small(4)]) await pub.publishAsync('batch/queued', payload, { qos: 1 });
    const again = source(broker.url, clientId, 5);
    await again.start(ctx);
    await waitFor(() => ctx.readings.length === 4, 10_000, 10, 'the two small messages queued in the session');
    await pub.publishAsync('batch/after', small(5), { qos: 1 });
    await waitFor(() => ctx.readings.length === 5, 10_000, 10, 'a message after the queue');
    expect(ctx.readings.map((r) => r.ts)).toEqual([1, 2, 3, 4, 5].map((i) => T + i));
    expect(ctx.undecodable).toEqual([]);
    expect(again.status()).toMatchObject({ state: 'connected' });
  });

  it('MQTT 3.1.1: arrives, and is dead-lettered unread and counted while the rest is stored', async () => {
    const ctx = new RecordingContext(topology);
    const s = source(broker.url, uniqueId('v4'));
    await s.start(ctx);
    for (const payload of [small(1), huge, small(2)]) await pub.publishAsync('batch/v4', payload, { qos: 1 });
    await waitFor(() => s.status().detail!.acked === 3, 10_000, 10, 'three messages acknowledged');
    expect(ctx.readings).toHaveLength(2);
    expect(ctx.undecodable).toHaveLength(1);
    expect(ctx.undecodable[0].reason).toBe(`payload: ${huge.length} bytes, more than the ${MQTT_MAX_PACKET_BYTES} a message may have; not decoded`);
  });
});

describe('MQTT 5 against the embedded broker (aedes speaks 3.1.1 only)', () => {
  it('does not connect, and says which key to set', async () => {
    const broker = new AedesTestBroker();
    await broker.start();
    stops.push(() => broker.stop());
    const s = source(broker.url, uniqueId('aedes'), 5, 100);
    await s.start(new RecordingContext(topology));
    await waitFor(() => /does not speak MQTT 5.*sources\.mqtt\[field\]\.broker\.protocolVersion: 4/.test(String(s.status().detail!.lastError)), 10_000, 20, 'the reason');
    expect(s.status().state).not.toBe('connected');
  });
});
