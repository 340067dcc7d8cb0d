/**
 * The MQTT sensor fleet against real brokers, aedes (the embedded broker's engine) and Mosquitto:
 * plain JSON sensors, and Sparkplug B edge nodes decoded with sparkplug-payload by a real subscriber
 * (birth → data by alias → rebirth after NCMD → death on an abrupt disconnect, through the will).
 */
import { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach } from 'vitest';
import { chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import type { TopologyConfig } from '../../core/config/schema.ts';
import { MosquittoBroker } from '../../test/support/mosquitto.ts';
import type { SimStep } from '../types.ts';
import { JsonSensorFleet, jsonTopicPatterns, type JsonSensorMessage } from './json-sensors.ts';
import { SparkplugFleet, decodeSparkplug, encodeSparkplug, REBIRTH_METRIC, QUALITY_PROPERTY } from './sparkplug.ts';
import { RecordingSubscriber, type Received } from './test-subscriber.ts';

const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);
const MIN = 60_000;

const sensor = (id: string, kind: 'pressure' | 'flow' | 'chlorine' | 'turbidity', unit: string | undefined, source: NonNullable<TopologyConfig['sensors'][number]['source']>, intervalS = 60) =>
  ({ id, kind, unit, site: 'net', dma: 'dma1', place: 'network' as const, intervalS, source });

const topology: TopologyConfig = {
  sites: [{ id: 'net', kind: 'network' }],
  dmas: [{ id: 'dma1', inlets: [], outlets: [], customers: 0, nightUseLPerPropertyH: 1.7 }],
  meters: [],
  sensors: [
    sensor('wq1', 'chlorine', 'mg/L', { type: 'mqtt', topic: 'wq/net/wq1' }),
    sensor('wq2', 'turbidity', undefined, { type: 'mqtt', topic: 'wq/net/wq2' }, 120),
    sensor('f1', 'flow', 'L/s', { type: 'mqtt', topic: 'loggers/dma1/f1' }),
    sensor('gw1.inflow', 'flow', 'm3/h', { type: 'sparkplug', group: 'aquawatch', node: 'gw1', metric: 'inlet/flow' }),
    sensor('lg1.p', 'pressure', 'MPa', { type: 'sparkplug', group: 'aquawatch', node: 'gw1', device: 'logger1', metric: 'pressure' }),
    sensor('lg1.f', 'flow', 'm3/h', { type: 'sparkplug', group: 'aquawatch', node: 'gw1', device: 'logger1', metric: 'flow' }),
    sensor('lg2.p', 'pressure', 'MPa', { type: 'sparkplug', group: 'aquawatch', node: 'gw1', device: 'logger2', metric: 'pressure' }),
    sensor('gw2.cl', 'chlorine', 'mg/L', { type: 'sparkplug', group: 'aquawatch', node: 'gw2', device: 'wq3', metric: 'chlorine' }),
  ],
};

const ALL = topology.sensors.map((s) => s.id);

/** A step at minute i where every sensor reads `base + i/100` (sensor k adds k). */
function step(i: number, opts: { silent?: string[]; quality?: Record<string, 'good' | 'uncertain' | 'bad'>; only?: string[] } = {}): SimStep {
  const ts = T0 + i * MIN;
  const ids = opts.only ?? ALL;
  return {
    ts,
    samples: ids.map((id) => ({ sensor: id, ts, value: ALL.indexOf(id) + i / 100, quality: opts.quality?.[id] ?? 'good' })),
    meters: [],
    silent: opts.silent ?? [],
  };
}

const num = (v: unknown): number => (typeof v === 'number' ? v : (v as { toNumber(): number }).toNumber());
const decode = (m: Received) => decodeSparkplug(m.payload);

interface BrokerUnderTest { url: string; stop(): Promise<void> }

/** aedes as the embedded broker runs it, on a free loopback port. */
async function startAedes(): Promise<BrokerUnderTest> {
  const aedes = await Aedes.createBroker({ queueLimit: 100_000 });
  const server = createServer(aedes.handle as never);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    async stop() {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function startMosquitto(): Promise<BrokerUnderTest> {
  const b = new MosquittoBroker();
  chmodSync(b.dir, 0o777); // mosquitto drops to its own user, which must write its persistence folder
  await b.start();
  return { url: b.url, stop: () => b.stop() };
}

describe.each([
  ['aedes', startAedes],
  ['mosquitto', startMosquitto],
] as const)('MQTT fleet on %s', (_name, startBroker) => {
  let broker: BrokerUnderTest;
  beforeAll(async () => { broker = await startBroker(); });
  afterAll(async () => { await broker?.stop(); });

  describe('plain JSON sensors', () => {
    let sub: RecordingSubscriber;
    let fleet: JsonSensorFleet;
    beforeEach(async () => {
      sub = new RecordingSubscriber(broker.url, ['wq/#', 'loggers/#']);
      await sub.start();
    });
    afterEach(async () => {
      await fleet?.stop();
      await sub?.stop();
    });

    it('publishes {v, t, u, q} per sensor and step on the sensor topic at QoS 1, skipping silent sensors', async () => {
      fleet = new JsonSensorFleet({ topology, broker: { url: broker.url } });
      await fleet.start();
      const steps = 20;
      for (let i = 0; i < steps; i++) {
        await fleet.onStep(step(i, { silent: i === 7 ? ['f1'] : [], quality: i === 3 ? { wq1: 'bad' } : {} }));
      }
      const expected = 3 * steps - 1;
      expect(fleet.published).toBe(expected);
      await sub.until(() => sub.messages.length >= expected, `${expected} JSON messages`);
      expect(sub.messages).toHaveLength(expected);

      const wq1 = sub.on('wq/net/wq1').map((m) => JSON.parse(m.payload.toString()) as JsonSensorMessage);
      expect(wq1).toHaveLength(steps);
      expect(wq1.map((m) => m.t)).toEqual(Array.from({ length: steps }, (_, i) => T0 + i * MIN));
      expect(wq1[5]).toEqual({ v: 0 + 5 / 100, t: T0 + 5 * MIN, u: 'mg/L', q: 'good' });
      expect(wq1[3].q).toBe('bad');
      // no unit configured: the kind's canonical unit
      expect(JSON.parse(sub.on('wq/net/wq2')[0].payload.toString()).u).toBe('NTU');
      const f1 = sub.on('loggers/dma1/f1').map((m) => JSON.parse(m.payload.toString()) as JsonSensorMessage);
      expect(f1).toHaveLength(steps - 1);
      expect(f1.map((m) => m.t)).not.toContain(T0 + 7 * MIN);
      expect(f1[0].u).toBe('L/s');
      expect(sub.messages.every((m) => m.qos === 1 && !m.retain)).toBe(true);
    });

    it("publishes at each sensor's own interval when asked ('sensor')", async () => {
      fleet = new JsonSensorFleet({ topology, broker: { url: broker.url }, interval: 'sensor', clientId: 'aw-test-json-rate' });
      await fleet.start();
      for (let i = 0; i < 10; i++) await fleet.onStep(step(i));
      await sub.until(() => sub.messages.length >= 25, '25 messages');
      // wq1 and f1 every 60 s step, wq2 every 120 s
      expect(sub.on('wq/net/wq1')).toHaveLength(10);
      expect(sub.on('wq/net/wq2').map((m) => JSON.parse(m.payload.toString()).t)).toEqual([0, 2, 4, 6, 8].map((i) => T0 + i * MIN));
    });
  });

  describe('Sparkplug B edge nodes', () => {
    let sub: RecordingSubscriber;
    let fleet: SparkplugFleet;
    beforeEach(async () => {
      sub = new RecordingSubscriber(broker.url, ['spBv1.0/#']);
      await sub.start();
    });
    afterEach(async () => {
      await fleet?.stop();
      await sub?.stop();
    });

    it('births with bdSeq and every metric, then sends data by alias with per-metric timestamps and seq', async () => {
      fleet = new SparkplugFleet({ topology, broker: { url: broker.url }, clientIdPrefix: 'aw-test-spb-a' });
      expect([...fleet.nodes.keys()].sort()).toEqual(['aquawatch/gw1', 'aquawatch/gw2']);
      await fleet.start();
      await sub.until(() => sub.on(/DBIRTH/).length >= 3, 'three DBIRTHs');

      const nbirth = decode(sub.on('spBv1.0/aquawatch/NBIRTH/gw1')[0]);
      expect(num(nbirth.seq)).toBe(0);
      const byName = new Map((nbirth.metrics ?? []).map((m) => [m.name, m]));
      expect(byName.get('bdSeq')!.type).toBe('Int64');
      expect(num(byName.get('bdSeq')!.value)).toBe(0);
      expect(byName.get(REBIRTH_METRIC)).toMatchObject({ type: 'Boolean', value: false });
      const inflow = byName.get('inlet/flow')!;
      expect(inflow).toMatchObject({ type: 'Double', value: null }); // no step yet: no value
      const inflowAlias = num(inflow.alias);

      const dbirth1 = decode(sub.on('spBv1.0/aquawatch/DBIRTH/gw1/logger1')[0]);
      const dbirth2 = decode(sub.on('spBv1.0/aquawatch/DBIRTH/gw1/logger2')[0]);
      expect([num(dbirth1.seq), num(dbirth2.seq)]).toEqual([1, 2]);
      expect((dbirth1.metrics ?? []).map((m) => [m.name, m.type])).toEqual([['pressure', 'Double'], ['flow', 'Double']]);
      const alias = new Map<string, number>([
        ['gw1.inflow', inflowAlias],
        ['lg1.p', num(dbirth1.metrics![0].alias)], ['lg1.f', num(dbirth1.metrics![1].alias)], ['lg2.p', num(dbirth2.metrics![0].alias)],
      ]);
      expect(new Set(alias.values()).size).toBe(4); // unique per edge node
      expect(fleet.node('aquawatch', 'gw1').aliasOf('lg1.f')).toBe(alias.get('lg1.f'));
      expect(sub.on('spBv1.0/aquawatch/NBIRTH/gw2')).toHaveLength(1);

      // 100 steps × 3 messages from gw1 take seq past 255, where it wraps to 0.
      const steps = 100;
      for (let i = 0; i < steps; i++) await fleet.onStep(step(i, { quality: i === 4 ? { 'lg1.p': 'bad' } : {} }));
      await sub.until(() => sub.on(/\/gw1/).filter((m) => /DATA/.test(m.topic)).length >= 3 * steps, 'all gw1 data');

      const gw1 = sub.on(/^spBv1\.0\/aquawatch\/[ND](BIRTH|DATA)\/gw1/);
      const seqs = gw1.map((m) => num(decode(m).seq));
      expect(seqs).toEqual(Array.from({ length: 3 + 3 * steps }, (_, k) => k % 256));

      const ndata = sub.on('spBv1.0/aquawatch/NDATA/gw1').map(decode);
      expect(ndata).toHaveLength(steps);
      expect(num(ndata[10].timestamp)).toBe(T0 + 10 * MIN);
      const m = ndata[10].metrics![0];
      expect(m.name).toBeUndefined(); // by alias only
      expect(num(m.alias)).toBe(inflowAlias);
      expect(m.type).toBe('Double');
      expect(m.value).toBeCloseTo(ALL.indexOf('gw1.inflow') + 0.1, 12);
      expect(num(m.timestamp)).toBe(T0 + 10 * MIN);

      const ddata1 = sub.on('spBv1.0/aquawatch/DDATA/gw1/logger1').map(decode);
      expect(ddata1).toHaveLength(steps);
      expect(ddata1[4].metrics!.map((x) => num(x.alias))).toEqual([alias.get('lg1.p'), alias.get('lg1.f')]);
      expect(ddata1[4].metrics![0].properties?.[QUALITY_PROPERTY]).toMatchObject({ type: 'Int32', value: 0 });
      expect(ddata1[5].metrics![0].properties).toBeUndefined();
    });

    it('answers NCMD Node Control/Rebirth with NBIRTH (same bdSeq, seq 0) and DBIRTHs carrying the current values', async () => {
      fleet = new SparkplugFleet({ topology, broker: { url: broker.url }, clientIdPrefix: 'aw-test-spb-b' });
      await fleet.start();
      for (let i = 0; i < 3; i++) await fleet.onStep(step(i));
      await sub.until(() => sub.on('spBv1.0/aquawatch/DDATA/gw1/logger2').length >= 3, 'data');
      const firstBdSeq = num(decode(sub.on('spBv1.0/aquawatch/NBIRTH/gw1')[0]).metrics!.find((m) => m.name === 'bdSeq')!.value);

      await sub.publish('spBv1.0/aquawatch/NCMD/gw1', encodeSparkplug({ timestamp: Date.now(), metrics: [{ name: REBIRTH_METRIC, type: 'Boolean', value: true }] }));
      await sub.until(() => sub.on('spBv1.0/aquawatch/DBIRTH/gw1/logger2').length >= 2, 'rebirth');
      const births = sub.on('spBv1.0/aquawatch/NBIRTH/gw1');
      expect(births).toHaveLength(2);
      const rebirth = decode(births[1]);
      expect(num(rebirth.seq)).toBe(0);
      expect(num(rebirth.metrics!.find((m) => m.name === 'bdSeq')!.value)).toBe(firstBdSeq);
      const inflow = rebirth.metrics!.find((m) => m.name === 'inlet/flow')!;
      expect(inflow.value).toBeCloseTo(ALL.indexOf('gw1.inflow') + 0.02, 12);
      expect(num(inflow.timestamp)).toBe(T0 + 2 * MIN);
      const dbirth = decode(sub.on('spBv1.0/aquawatch/DBIRTH/gw1/logger1')[1]);
      expect(num(dbirth.seq)).toBe(1);
      expect(dbirth.metrics!.map((x) => x.name)).toEqual(['pressure', 'flow']);
      // gw2 was not asked
      expect(sub.on('spBv1.0/aquawatch/NBIRTH/gw2')).toHaveLength(1);
      expect(fleet.node('aquawatch', 'gw1').stats.rebirthRequests).toBe(1);

      // data continues after the rebirth's births
      await fleet.onStep(step(3));
      await sub.until(() => sub.on('spBv1.0/aquawatch/NDATA/gw1').length >= 4, 'data after rebirth');
      expect(num(decode(sub.on('spBv1.0/aquawatch/NDATA/gw1')[3]).seq)).toBe(3);
    });

    it('dies through its will (NDEATH with the birth bdSeq) on an abrupt disconnect, and is reborn with the next bdSeq', async () => {
      fleet = new SparkplugFleet({ topology, broker: { url: broker.url }, clientIdPrefix: 'aw-test-spb-c' });
      await fleet.start();
      await fleet.onStep(step(0));
      await sub.until(() => sub.on('spBv1.0/aquawatch/NDATA/gw1').length >= 1, 'data');
      const gw1 = fleet.node('aquawatch', 'gw1');

      gw1.dropConnection();
      const death = await sub.until(() => sub.on('spBv1.0/aquawatch/NDEATH/gw1')[0], 'NDEATH from the will');
      const deathPayload = decode(death);
      expect(deathPayload.seq).toBeUndefined();
      expect(deathPayload.metrics!.map((m) => [m.name, m.type, num(m.value)])).toEqual([['bdSeq', 'Int64', 0]]);
      expect(gw1.online).toBe(false);

      // Offline: steps send nothing for gw1, gw2 goes on.
      await fleet.onStep(step(1));
      await sub.until(() => sub.on('spBv1.0/aquawatch/DDATA/gw2/wq3').length >= 2, 'gw2 data');
      expect(sub.on('spBv1.0/aquawatch/NDATA/gw1')).toHaveLength(1);

      await gw1.reconnect();
      const rebirth = await sub.until(() => sub.on('spBv1.0/aquawatch/NBIRTH/gw1')[1], 'NBIRTH of the new session');
      expect(num(decode(rebirth).metrics!.find((m) => m.name === 'bdSeq')!.value)).toBe(1);
      expect(num(decode(rebirth).seq)).toBe(0);

      // An orderly stop publishes NDEATH itself with the current bdSeq.
      await fleet.stop();
      const orderly = await sub.until(() => sub.on('spBv1.0/aquawatch/NDEATH/gw1')[1], 'NDEATH on stop');
      expect(num(decode(orderly).metrics![0].value)).toBe(1);
    });

    it("in 'death' mode, a silent device gets DDEATH and DBIRTH on return; a silent node drops off (will) and comes back", async () => {
      fleet = new SparkplugFleet({ topology, broker: { url: broker.url }, clientIdPrefix: 'aw-test-spb-d', silence: 'death' });
      await fleet.start();
      await fleet.onStep(step(0));
      await fleet.onStep(step(1, { silent: ['lg2.p'] }));
      await sub.until(() => sub.on('spBv1.0/aquawatch/DDEATH/gw1/logger2').length >= 1, 'DDEATH');
      await fleet.onStep(step(2, { silent: ['lg2.p'] }));
      await fleet.onStep(step(3));
      await sub.until(() => sub.on('spBv1.0/aquawatch/DDATA/gw1/logger2').length >= 2, 'logger2 data again');
      const logger2 = sub.on(/\/gw1\/logger2$/).map((m) => m.topic.split('/')[2]);
      expect(logger2).toEqual(['DBIRTH', 'DDATA', 'DDEATH', 'DBIRTH', 'DDATA']);
      expect(fleet.node('aquawatch', 'gw1').stats.deviceDeaths).toBe(1);
      // seq stays one sequence across DDEATH and DBIRTH
      const gw1Seqs = sub.on(/^spBv1\.0\/aquawatch\/(NBIRTH|DBIRTH|NDATA|DDATA|DDEATH)\/gw1/).map((m) => num(decode(m).seq));
      expect(gw1Seqs).toEqual(gw1Seqs.map((_, k) => k));

      // Every sensor of gw1 silent: the node drops its connection and the broker sends the will.
      await fleet.onStep(step(4, { silent: ['gw1.inflow', 'lg1.p', 'lg1.f', 'lg2.p'] }));
      await sub.until(() => sub.on('spBv1.0/aquawatch/NDEATH/gw1').length >= 1, 'NDEATH');
      await fleet.onStep(step(5));
      await sub.until(() => sub.on('spBv1.0/aquawatch/NDATA/gw1').length >= 5, 'gw1 back');
      expect(sub.on('spBv1.0/aquawatch/NDATA/gw1').map((m) => num(decode(m).timestamp))).toEqual([0, 1, 2, 3, 5].map((i) => T0 + i * MIN));
      const births = sub.on('spBv1.0/aquawatch/NBIRTH/gw1').map(decode);
      expect(births.map((b) => num(b.metrics!.find((m) => m.name === 'bdSeq')!.value))).toEqual([0, 1]);
      expect(num(decode(sub.on('spBv1.0/aquawatch/NDEATH/gw1')[0]).metrics![0].value)).toBe(0);
    });
  });
});

describe('MQTT fleet configuration', () => {
  it('gives the platform topic patterns that read the JSON fleet', () => {
    expect(jsonTopicPatterns(topology)).toEqual([
      { pattern: 'wq/#', format: 'json', valuePath: 'v', timePath: 't', unitPath: 'u', qualityPath: 'q', timeFormat: 'ms' },
      { pattern: 'loggers/#', format: 'json', valuePath: 'v', timePath: 't', unitPath: 'u', qualityPath: 'q', timeFormat: 'ms' },
    ]);
  });

  it('names the field of a bad option or topology entry', () => {
    expect(() => new JsonSensorFleet({ topology, broker: { url: 'mqtt://127.0.0.1:1' }, interval: -5 })).toThrow(/option interval: -5/);
    expect(() => new JsonSensorFleet({ topology, broker: { url: 'mqtt://127.0.0.1:1' }, sensors: ['gw1.inflow'] })).toThrow(/option sensors: gw1\.inflow is not an MQTT sensor/);
    const bad: TopologyConfig = { ...topology, sensors: [sensor('x', 'flow', 'm3/h', { type: 'sparkplug', group: 'a/b', node: 'n', metric: 'bdSeq' })] };
    expect(() => new SparkplugFleet({ topology: bad, broker: { url: 'mqtt://127.0.0.1:1' } })).toThrow(/\(x\)\.source\.group: a\/b may not contain[\s\S]*\.metric: bdSeq is reserved/);
  });

  it('fails to start with a clear error when the broker is not there', async () => {
    const fleet = new JsonSensorFleet({ topology, broker: { url: 'mqtt://127.0.0.1:1' } });
    await expect(fleet.start()).rejects.toThrow(/MQTT connect to mqtt:\/\/127\.0\.0\.1:1 failed: .*ECONNREFUSED/);
  });
});
