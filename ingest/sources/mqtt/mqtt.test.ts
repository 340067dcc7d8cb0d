/**
 * The MQTT source against real brokers (aedes and Mosquitto): decoding on the wire, and no data
 * loss: a PUBACK only after submit resolved, redelivery after an abrupt death, backpressure, broker
 * restarts with a persistent session, shared subscriptions.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach, vi } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { Topology } from '../../../core/topology/topology.ts';
import { mqttSourceSchema } from './config.ts';
import type { RawReading } from '../../../core/model/reading.ts';
import { RecordingContext } from '../../../test/support/recording-context.ts';
import { waitFor } from '../../../test/support/ports.ts';
import { BackpressureError, type SubmitResult } from '../../pipeline/contract.ts';
import { MqttSource } from './mqtt-source.ts';
import { mqttConnectedGauge } from '../common/mqtt/durable-subscriber.ts';
import { AedesTestBroker, MosquittoTestBroker, type TestBroker } from '../../../test/support/brokers.ts';

const topology = new Topology({
  sites: [], dmas: [], meters: [],
  sensors: [
    { id: 'cl-1', kind: 'chlorine', unit: 'mg/L', site: 'S1', place: 'network', intervalS: 60 },
    { id: 'cl-2', kind: 'chlorine', unit: 'mg/L', site: 'S1', place: 'network', intervalS: 60 },
    { id: 'p-1', kind: 'pressure', unit: 'MPa', site: 'S1', place: 'network', intervalS: 60, source: { type: 'mqtt', topic: 'loggers/p1/pressure' } },
  ],
});

const T0 = Date.UTC(2026, 2, 1, 0, 0, 0);
let seq = 0;
const uniqueId = (what: string) => `aw-test-${what}-${process.pid}-${++seq}`;

/** A pipeline test double that refuses the first `refusals` submits with BackpressureError (outbox full). */
class RefusingContext extends RecordingContext {
  submits = 0;
  constructor(topology: Topology, private refusals: number) { super(topology); }
  override async submit(source: string, readings: RawReading[]): Promise<SubmitResult> {
    this.submits++;
    if (this.refusals > 0) { this.refusals--; throw new BackpressureError(); }
    return super.submit(source, readings);
  }
}

function sourceConfig(extra: Record<string, unknown> = {}) {
  return mqttSourceSchema.parse({
    name: 'field',
    clientId: uniqueId('src'),
    topics: [
      { pattern: 'wq/{site}/{sensor}', timePath: 'ts' },
      { pattern: 'loggers/+/pressure', format: 'number' },
      { pattern: 'batch/#', sensorPath: 'id', timePath: 't', timeFormat: 's' },
    ],
    ...extra,
  });
}

async function publisher(url: string): Promise<MqttClient> {
  return mqtt.connectAsync(url, { clientId: uniqueId('pub'), reconnectPeriod: 100 });
}

const json = (v: unknown) => JSON.stringify(v);

describe.each([
  ['aedes', () => new AedesTestBroker()],
  ['mosquitto', () => new MosquittoTestBroker()],
] as const)('MqttSource on %s', (_name, makeBroker) => {
  let broker: TestBroker;
  let pub: MqttClient;
  const sources: MqttSource[] = [];
  const platform = () => ({ url: broker.url, host: '127.0.0.1', port: 0 });
  const startSource = async (ctx: RecordingContext, cfg = sourceConfig(), opts = {}) => {
    const s = new MqttSource(cfg, platform(), { reconnectPeriodMs: 100, pauseMinMs: 100, ...opts });
    sources.push(s);
    await s.start(ctx);
    return s;
  };

  beforeAll(async () => {
    broker = makeBroker();
    await broker.start();
    pub = await publisher(broker.url);
  });
  afterEach(async () => {
    for (const s of sources.splice(0)) await s.stop();
  });
  afterAll(async () => {
    await pub?.endAsync();
    await broker?.stop();
  });

  it('decodes JSON, plain numbers and batches, and rejects what it cannot read', async () => {
    const ctx = new RecordingContext(topology);
    ctx.clock = () => T0 + 5000;
    const source = await startSource(ctx);
    expect((await mqttConnectedGauge(ctx.metrics).get()).values).toEqual([{ value: 1, labels: { source: 'field' } }]);
    expect(source.status().state).toBe('connected');

    await pub.publishAsync('wq/north/cl-1', json({ value: 0.45, ts: T0 }), { qos: 1 });
    await pub.publishAsync('loggers/p1/pressure', '0.31', { qos: 1 });
    await pub.publishAsync('batch/x', json([{ id: 'cl-2', value: 0.2, t: T0 / 1000 }, { id: 'cl-1', value: 0.5, t: T0 / 1000 + 1 }]), { qos: 0 });
    await pub.publishAsync('wq/north/cl-1', '{not json', { qos: 1 });
    await pub.publishAsync('wq/north/nobody', json({ value: 1, ts: T0 }), { qos: 1 });
    await pub.publishAsync('wq/north/cl-2', json({ reading: 1, ts: T0 }), { qos: 1 });
    await pub.publishAsync('loggers/p9/pressure', '0.2', { qos: 1 });

    await waitFor(() => ctx.readings.length === 4 && ctx.undecodable.length === 4, 5000, 20, 'readings and rejections');
    expect(ctx.readings).toEqual([
      { sensor: 'cl-1', ts: T0, value: 0.45, quality: 'good' },
      { sensor: 'p-1', ts: T0 + 5000, value: 0.31, quality: 'good' },
      { sensor: 'cl-2', ts: T0, value: 0.2, quality: 'good' },
      { sensor: 'cl-1', ts: T0 + 1000, value: 0.5, quality: 'good' },
    ]);
    expect(ctx.undecodable.map((u) => [u.origin, u.reason.split(':')[0], u.raw])).toEqual([
      ['wq/north/cl-1', 'payload', '{not json'],
      ['wq/north/nobody', 'sensor', json({ value: 1, ts: T0 })],
      ['wq/north/cl-2', 'value', json({ reading: 1, ts: T0 })],
      ['loggers/p9/pressure', 'sensor', '0.2'],
    ]);
    const st = source.status();
    expect(st.lastDataAt).toBe(T0 + 5000);
    expect(st.detail).toMatchObject({ messages: 7, readings: 4, undecodable: 4 });
    await waitFor(() => source.status().detail!.acked === 6, 5000, 20, 'acks of the six QoS 1 messages');
  });

  it('acknowledges only after submit resolved: a subscriber killed before that gets the message again', async () => {
    const clientId = uniqueId('kill');
    const slow = new RecordingContext(topology);
    slow.submitDelayMs = 1500;
    const first = await startSource(slow, sourceConfig({ clientId }));
    await pub.publishAsync('wq/north/cl-1', json({ value: 0.61, ts: T0 }), { qos: 1 });
    await waitFor(() => first.status().detail!.messages === 1, 5000, 20, 'message received');
    // Die abruptly while submit is still running: the socket is destroyed, nothing more is sent.
    first.client!.end(true);
    await waitFor(() => first.client!.connected === false, 2000, 10, 'killed');

    const ctx = new RecordingContext(topology);
    const second = await startSource(ctx, sourceConfig({ clientId }));
    await waitFor(() => ctx.readings.length === 1, 10_000, 20, 'redelivered reading');
    expect(ctx.readings[0]).toEqual({ sensor: 'cl-1', ts: T0, value: 0.61, quality: 'good' });
    expect(first.status().detail!.acked).toBe(0);

    // Acknowledged after that submit: a later session with the same id gets nothing again.
    await waitFor(() => second.status().detail!.acked === 1, 5000, 20, 'ack sent');
    await second.stop();
    const ctx3 = new RecordingContext(topology);
    const third = await startSource(ctx3, sourceConfig({ clientId }));
    await pub.publishAsync('wq/north/cl-1', json({ value: 0.62, ts: T0 + 1000 }), { qos: 1 });
    await waitFor(() => ctx3.readings.length >= 1, 5000, 20, 'marker');
    expect(ctx3.readings.map((r) => r.value)).toEqual([0.62]);
    expect(third.status().detail!.messages).toBe(1);
  });

  it('does not acknowledge refused readings: it drops the connection and gets them again', async () => {
    const ctx = new RefusingContext(topology, 2);
    const source = await startSource(ctx);
    for (let i = 0; i < 3; i++) await pub.publishAsync('wq/north/cl-2', json({ value: 0.1 + i / 10, ts: T0 + i * 1000 }), { qos: 1 });
    await waitFor(() => new Set(ctx.readings.map((r) => r.ts)).size === 3, 15_000, 20, 'all three readings despite two refusals');
    expect([...new Set(ctx.readings.map((r) => r.value))].sort()).toEqual([0.1, 0.2, 0.30000000000000004].sort());
    const detail = source.status().detail!;
    expect(detail.refusedSubmits).toBe(2);
    expect(detail.backpressurePauses).toBeGreaterThanOrEqual(1);
    // A deliberate pause is not a lost connection.
    expect(ctx.conditions).toEqual([]);
    expect(source.status().state).toBe('connected');
  });

  it('F17 reconnects after a refusal\'s pause while the wall clock runs backwards', async () => {
    const ctx = new RefusingContext(topology, 1);
    const source = await startSource(ctx);
    // From the refusal on, the wall clock runs backwards (an NTP step back, seen at every read): a
    // pause measured as a difference of wall times would never end.
    const realNow = Date.now.bind(Date);
    const wall = vi.spyOn(Date, 'now');
    const refused = ctx.submit.bind(ctx);
    ctx.submit = async (src, readings) => {
      if (ctx.submits === 0) { const t0 = realNow(); wall.mockImplementation(() => 2 * t0 - realNow()); }
      return refused(src, readings);
    };
    try {
      await pub.publishAsync('wq/north/cl-2', json({ value: 0.5, ts: T0 }), { qos: 1 });
      await waitFor(() => ctx.readings.length === 1, 10_000, 20, 'the refused reading redelivered after the pause');
      expect(source.status().detail!.refusedSubmits).toBe(1);
    } finally { wall.mockRestore(); }
  });

  it('skips retained values that carry no time of their own', async () => {
    const cfg = sourceConfig({ topics: [{ pattern: 'loggers/{sensor}/pressure', format: 'number' }] });
    await pub.publishAsync('loggers/p-1/pressure', '0.25', { qos: 1, retain: true });
    const ctx = new RecordingContext(topology);
    const source = await startSource(ctx, cfg);
    await waitFor(() => source.status().detail!.retainedSkipped === 1, 5000, 20, 'retained message seen');
    await pub.publishAsync('loggers/p-1/pressure', '0.27', { qos: 1 });
    await waitFor(() => ctx.readings.length === 1, 5000, 20, 'live reading');
    expect(ctx.readings[0].value).toBe(0.27);
    await pub.publishAsync('loggers/p-1/pressure', '', { qos: 1, retain: true }); // clear the retained message
  });

  it('reads at QoS 0 when configured', async () => {
    const ctx = new RecordingContext(topology);
    const source = await startSource(ctx, sourceConfig({ qos: 0 }));
    await pub.publishAsync('wq/north/cl-1', json({ value: 0.7, ts: T0 }), { qos: 1 });
    await waitFor(() => ctx.readings.length === 1, 5000, 20, 'reading');
    expect(source.status().detail).toMatchObject({ qos: 0, acked: 0 });
    expect((await ctx.metrics.sourceConnected.get()).values).toEqual([{ value: 1, labels: { source: 'field', type: 'mqtt' } }]);
    await source.stop();
    expect(source.status().state).toBe('stopped');
    expect((await mqttConnectedGauge(ctx.metrics).get()).values).toEqual([{ value: 0, labels: { source: 'field' } }]);
  });
});

describe('MqttSource on Mosquitto: restarts and shared subscriptions', () => {
  const broker = new MosquittoTestBroker();
  let pub: MqttClient;
  const sources: MqttSource[] = [];
  const startSource = async (ctx: RecordingContext, cfg = sourceConfig()) => {
    const s = new MqttSource(cfg, { url: broker.url, host: '127.0.0.1', port: 0 }, { reconnectPeriodMs: 100 });
    sources.push(s);
    await s.start(ctx);
    return s;
  };
  beforeAll(async () => {
    await broker.start();
    pub = await publisher(broker.url);
  });
  afterEach(async () => { for (const s of sources.splice(0)) await s.stop(); });
  afterAll(async () => {
    await pub?.endAsync();
    await broker.stop();
  });

  it('reconnects after a broker restart, and gets what was published while it was away', async () => {
    const clientId = uniqueId('restart');
    const ctx = new RecordingContext(topology);
    const source = await startSource(ctx, sourceConfig({ clientId }));

    await broker.restart();
    await waitFor(() => source.status().detail!.connections === 2 && source.status().state === 'connected', 15_000, 50, 'reconnected');
    expect(ctx.conditions.map((c) => [c.id, c.state])).toEqual([['mqtt.disconnected:field', 'raise'], ['mqtt.disconnected:field', 'clear']]);
    await waitFor(() => pub.connected, 10_000, 50, 'publisher reconnected');
    await pub.publishAsync('wq/north/cl-1', json({ value: 0.8, ts: T0 }), { qos: 1 });
    await waitFor(() => ctx.readings.length === 1, 5000, 20, 'reading after the restart');

    // The source goes away; messages at QoS 1 wait in its persistent session, across a broker restart.
    await source.stop();
    await pub.publishAsync('wq/north/cl-1', json({ value: 0.81, ts: T0 + 1000 }), { qos: 1 });
    await pub.publishAsync('wq/north/cl-2', json({ value: 0.82, ts: T0 + 2000 }), { qos: 1 });
    await broker.restart();
    await waitFor(() => pub.connected, 10_000, 50, 'publisher reconnected');
    const ctx2 = new RecordingContext(topology);
    await startSource(ctx2, sourceConfig({ clientId }));
    await waitFor(() => ctx2.readings.length === 2, 10_000, 20, 'queued readings');
    expect(ctx2.readings.map((r) => [r.sensor, r.value])).toEqual([['cl-1', 0.81], ['cl-2', 0.82]]);
  });

  it('splits the load between instances of a shared subscription', async () => {
    const cfg = (clientId: string) => sourceConfig({ clientId, shareGroup: 'ingest' });
    const a = new RecordingContext(topology);
    const b = new RecordingContext(topology);
    await startSource(a, cfg(uniqueId('shareA')));
    await startSource(b, cfg(uniqueId('shareB')));
    const n = 40;
    for (let i = 0; i < n; i++) await pub.publishAsync('wq/north/cl-1', json({ value: 0.5, ts: T0 + i }), { qos: 1 });
    await waitFor(() => a.readings.length + b.readings.length === n, 5000, 20, 'all readings');
    expect(a.readings.length).toBeGreaterThan(0);
    expect(b.readings.length).toBeGreaterThan(0);
    expect(new Set([...a.readings, ...b.readings].map((r) => r.ts)).size).toBe(n);
  });
});
