/**
 * What MQTT-borne input costs when it is bad, against a real broker (aedes) and, where it matters,
 * the real pipeline and outbox: a message whose decoder throws is kept in the dead letters before it
 * is acknowledged (review L9); one message with many bad elements is one dead-letter commit, not
 * one per element (F10); a payload larger than the platform's packet limit is not decoded (F14).
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { parseConfig } from '../../../../core/config/load.ts';
import { Topology } from '../../../../core/topology/topology.ts';
import { silentLogger } from '../../../../core/log.ts';
import { RecordingContext } from '../../../../test/support/recording-context.ts';
import { waitFor } from '../../../../test/support/ports.ts';
import { AedesTestBroker } from '../../../../test/support/brokers.ts';
import { Metrics } from '../../../metrics.ts';
import { Outbox } from '../../../pipeline/outbox.ts';
import { DeadLetterStore } from '../../../pipeline/dead-letters.ts';
import { Pipeline } from '../../../pipeline/pipeline.ts';
import type { UndecodableInput } from '../../../pipeline/contract.ts';
import { MqttSource } from '../../mqtt/mqtt-source.ts';
import { mqttSourceSchema } from '../../mqtt/config.ts';
import { DurableSubscriber } from './durable-subscriber.ts';
import { MQTT_MAX_PACKET_BYTES } from '../../../../core/bus/embedded-broker.ts';

const topology = new Topology(parseConfig({ topology: {
  sites: [{ id: 'S1' }],
  sensors: [{ id: 'cl-1', kind: 'chlorine', unit: 'mg/L', site: 'S1' }],
} }, 't', {}).topology);

let seq = 0;
const uniqueId = (what: string) => `aw-dl-${what}-${process.pid}-${++seq}`;

let broker: AedesTestBroker;
let pub: MqttClient;
const stops: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  broker = new AedesTestBroker();
  await broker.start();
  pub = await mqtt.connectAsync(broker.url, { clientId: uniqueId('pub') });
});
afterEach(async () => { for (const s of stops.splice(0)) await s(); });
afterAll(async () => { await pub?.endAsync(); await broker?.stop(); });

function subscriber(ctx: RecordingContext, clientId: string, decode: () => never): DurableSubscriber {
  const s = new DurableSubscriber({
    name: 'field', type: 'mqtt', broker: { url: broker.url, host: '127.0.0.1', port: broker.port }, brokerField: 'broker',
    clientId, qos: 1, filters: ['dev/#'], decode, ctx, log: silentLogger, reconnectPeriodMs: 50, pauseMinMs: 50,
  });
  stops.push(() => s.stop());
  return s;
}

describe('a message whose decoder throws', () => {
  it('is dead-lettered with its raw payload, then acknowledged', async () => {
    const ctx = new RecordingContext(topology);
    const s = subscriber(ctx, uniqueId('throws'), () => { throw new TypeError('decoder bug: cannot read properties of undefined'); });
    await s.start();
    await pub.publishAsync('dev/a', 'payload the decoder chokes on', { qos: 1 });
    await waitFor(() => s.ackStats()!.acked === 1, 5000, 10, 'the message acknowledged');
    expect(ctx.undecodable).toEqual([{ origin: 'dev/a', reason: 'decoder failed: decoder bug: cannot read properties of undefined', raw: 'payload the decoder chokes on' }]);
  });

  it('is not acknowledged while its dead letter cannot be written: the broker redelivers it', async () => {
    class FullDiskContext extends RecordingContext {
      failures = 1;
      override reject(source: string, input: UndecodableInput | readonly UndecodableInput[]): void {
        if (this.failures-- > 0) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
        super.reject(source, input);
      }
    }
    const ctx = new FullDiskContext(topology);
    const s = subscriber(ctx, uniqueId('full'), () => { throw new Error('decoder bug'); });
    await s.start();
    await pub.publishAsync('dev/b', 'kept for later', { qos: 1 });
    await waitFor(() => ctx.undecodable.length === 1, 10_000, 10, 'the redelivered message dead-lettered');
    expect(ctx.undecodable[0]).toMatchObject({ origin: 'dev/b', raw: 'kept for later' });
    expect(s.ackStats()).toMatchObject({ messages: 2, refusedSubmits: 1 });
  });
});

describe('one message with many bad elements', () => {
  it('costs one dead-letter commit, not one per element', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aw-dl-')), 'outbox.sqlite');
    const outbox = new Outbox({ path, maxReadings: 1000, batchMaxSize: 1000, batchMaxDelayMs: 0 });
    stops.push(async () => outbox.close());
    // No automatic checkpoint: every commit adds at least one frame to the WAL, which is counted.
    outbox.db.pragma('wal_autocheckpoint = 0');
    const walFrames = () => (outbox.db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[])[0].log;
    const pipeline = new Pipeline({
      topology, outbox, deadLetters: new DeadLetterStore(outbox.db), metrics: new Metrics(), log: silentLogger,
      maxFutureMs: 300_000, dedupeWindow: 16, now: Date.now,
    });
    const ctx = new RecordingContext(topology);
    ctx.reject = (source, input) => pipeline.reject(source, input);
    const config = mqttSourceSchema.parse({ name: 'field', clientId: uniqueId('many'), topics: [{ pattern: 'batch/#', sensorPath: 'id' }] });
    const source = new MqttSource(config, { url: broker.url, host: '127.0.0.1', port: broker.port }, { reconnectPeriodMs: 50 });
    stops.push(() => source.stop());
    await source.start(ctx);
    walFrames();
    const elements = 300;
    await pub.publishAsync('batch/x', JSON.stringify(Array.from({ length: elements }, () => ({ id: 'cl-1', value: 'not a number' }))), { qos: 1 });
    await waitFor(() => source.status().detail!.acked === 1, 10_000, 10, 'the message acknowledged');
    expect(source.status().detail).toMatchObject({ undecodable: elements });
    expect(walFrames()).toBeLessThan(10);
    const letters = new DeadLetterStore(outbox.db).list({ source: 'field' });
    expect(letters).toHaveLength(1);
    expect(letters[0].reason).toMatch(/^300 problems: \[0\] value: .*; \[19\] value: .*; and 280 more$/);
  });
});

describe('a payload larger than the packet limit', () => {
  it('is dead-lettered unread (its head kept), even from a broker that lets it through', async () => {
    const ctx = new RecordingContext(topology);
    const config = mqttSourceSchema.parse({ name: 'field', clientId: uniqueId('huge'), topics: [{ pattern: 'batch/#', sensorPath: 'id' }] });
    const source = new MqttSource(config, { url: broker.url, host: '127.0.0.1', port: broker.port }, { reconnectPeriodMs: 50 });
    stops.push(() => source.stop());
    await source.start(ctx);
    // valid readings, but 2 MiB of them: the test broker (plain aedes) has no packet limit
    const t = Date.now() - 60_000;
    const huge = JSON.stringify(Array.from({ length: 40_000 }, (_, i) => ({ id: 'cl-1', value: 0.5, ts: t + i })));
    expect(huge.length).toBeGreaterThan(MQTT_MAX_PACKET_BYTES);
    await pub.publishAsync('batch/big', huge, { qos: 1 });
    await waitFor(() => source.status().detail!.acked === 1, 10_000, 10, 'the message acknowledged');
    expect(ctx.readings).toEqual([]);
    expect(ctx.undecodable).toHaveLength(1);
    expect(ctx.undecodable[0]).toMatchObject({ origin: 'batch/big', reason: `payload: ${huge.length} bytes, more than the ${MQTT_MAX_PACKET_BYTES} a message may have; not decoded` });
    expect(ctx.undecodable[0].raw.startsWith(huge.slice(0, 100))).toBe(true);
  });
});
