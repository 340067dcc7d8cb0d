/**
 * The Sparkplug B source against real brokers (aedes and Mosquitto), driven by a small test edge
 * node: births and aliases, sequence gaps and rebirth requests, deaths (current and stale), the
 * host's STATE, and acknowledgement only after the readings are durable.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { Topology } from '../../../core/topology/topology.ts';
import { sparkplugSourceSchema } from './config.ts';
import { RecordingContext } from '../../../test/support/recording-context.ts';
import { waitFor } from '../../../test/support/ports.ts';
import { AedesTestBroker, MosquittoTestBroker, type TestBroker } from '../../../test/support/brokers.ts';
import { SparkplugSource, longToNumber, parseTopic } from './sparkplug-source.ts';
import { TestEdgeNode } from '../../../test/support/sparkplug-edge-node.ts';

const spb = (group: string, node: string, metric: string, device?: string) => ({ type: 'sparkplug' as const, group, node, metric, ...(device ? { device } : {}) });
const topology = new Topology({
  sites: [], dmas: [], meters: [],
  sensors: [
    { id: 'n1-pressure', kind: 'pressure', unit: 'MPa', site: 'S1', place: 'network', intervalS: 60, source: spb('G1', 'N1', 'Outlet/Pressure') },
    { id: 'n1-pump', kind: 'pump', site: 'S1', place: 'network', intervalS: 60, source: spb('G1', 'N1', 'Pump/Running') },
    { id: 'n1-flow', kind: 'flow', unit: 'm3/h', site: 'S1', place: 'network', intervalS: 60, source: spb('G1', 'N1', 'Flow') },
    { id: 'n1-cl', kind: 'chlorine', unit: 'mg/L', site: 'S1', place: 'network', intervalS: 60, source: spb('G1', 'N1', 'Chlorine', 'wq1') },
    { id: 'n4-pressure', kind: 'pressure', unit: 'MPa', site: 'S1', place: 'network', intervalS: 60, source: spb('G1', 'N4', 'Pressure') },
    // No source address: found through the fallback id <group>.<node>.<metric>.
    { id: 'G1.N2.Level', kind: 'level', unit: 'm', site: 'S1', place: 'tank', intervalS: 60 },
    // Node N6's device x, by the fallback id; a node named "N6.x" must not write it (review L4).
    { id: 'G1.N6.x.Flow', kind: 'flow', unit: 'm3/h', site: 'S1', place: 'network', intervalS: 60 },
  ],
});

const T0 = Date.UTC(2026, 2, 1, 0, 0, 0);
let seq = 0;
const uniqueId = (what: string) => `aw-spb-${what}-${process.pid}-${++seq}`;

const N1_BIRTH = [
  { name: 'Outlet/Pressure', alias: 1, type: 'Double' as const, value: 0.31, timestamp: T0 },
  { name: 'Pump/Running', alias: 2, type: 'Boolean' as const, value: true, timestamp: T0 },
  { name: 'Flow', alias: 3, type: 'Int64' as const, value: 120, timestamp: T0 },
  { name: 'Firmware', alias: 4, type: 'String' as const, value: '1.2.0' },
];

describe('Sparkplug helpers', () => {
  it('parses topics and reads 64-bit values, signed for Int64', () => {
    expect(parseTopic('spBv1.0/G1/DDATA/N1/wq1')).toEqual({ group: 'G1', type: 'DDATA', node: 'N1', device: 'wq1' });
    expect(parseTopic('spBv1.0/G1/NDATA/N1')).toEqual({ group: 'G1', type: 'NDATA', node: 'N1', device: undefined });
    expect(parseTopic('spAv1.0/G1/NDATA/N1')).toBeUndefined();
    expect(longToNumber({ low: -9, high: -1, unsigned: true }, true)).toBe(-9);
    expect(longToNumber({ low: -294967296, high: 0, unsigned: true })).toBe(4_000_000_000);
    expect(longToNumber({ low: 166087774, high: 418, unsigned: true })).toBe(418 * 2 ** 32 + 166087774);
  });
});

describe('a death kept across a restart of ingest (SparkplugSource.resumes)', () => {
  const source = (groups: string[]) => new SparkplugSource(sparkplugSourceSchema.parse({ name: 'gw', groups }), { url: 'mqtt://127.0.0.1:1', host: '127.0.0.1', port: 1 });
  const c = (id: string, type = id.split(':')[0]) => ({ id, type, state: 'raise' as const, ts: T0, message: 'dead' });
  it('stands for the deaths of the nodes and devices the topology maps in the groups it reads, and nothing else', () => {
    const s = source(['G1']);
    expect(s.resumes(c('sparkplug.node_death:G1/N1'), topology)).toBe(true);
    expect(s.resumes(c('sparkplug.node_death:G1/N2'), topology)).toBe(true); // by the fallback id G1.N2.Level
    expect(s.resumes(c('sparkplug.device_death:G1/N1/wq1'), topology)).toBe(true);
    expect(s.resumes(c('sparkplug.device_death:G1/N1/other'), topology)).toBe(false);
    expect(s.resumes(c('sparkplug.node_death:G1/N9'), topology)).toBe(false); // taken out of the topology
    expect(s.resumes(c('sparkplug.node_death:G2/N1'), topology)).toBe(false);
    expect(source(['+']).resumes(c('sparkplug.node_death:G1/N1'), topology)).toBe(true);
    expect(source(['G2']).resumes(c('sparkplug.node_death:G1/N1'), topology)).toBe(false); // not a group it reads
    // found again by the source itself, or malformed
    expect(s.resumes(c('sparkplug.disconnected:gw', 'sparkplug.disconnected'), topology)).toBe(false);
    expect(s.resumes(c('sparkplug.node_death:G1/N1/wq1'), topology)).toBe(false);
    expect(s.resumes(c('sparkplug.node_death:G1/N1', 'sparkplug.device_death'), topology)).toBe(false);
  });
});

describe.each([
  ['aedes', () => new AedesTestBroker()],
  ['mosquitto', () => new MosquittoTestBroker()],
] as const)('SparkplugSource on %s', (_name, makeBroker) => {
  let broker: TestBroker;
  let watcher: MqttClient;
  const states = new Map<string, { online: boolean; timestamp: number }[]>();
  const sources: SparkplugSource[] = [];
  const edges: TestEdgeNode[] = [];

  const startSource = async (ctx: RecordingContext, extra: Record<string, unknown> = {}) => {
    const cfg = sparkplugSourceSchema.parse({ name: 'gw', clientId: uniqueId('host'), hostId: uniqueId('hostid'), groups: ['G1'], rebirthMinIntervalMs: 60_000, ...extra });
    const s = new SparkplugSource(cfg, { url: broker.url, host: '127.0.0.1', port: 0 }, { reconnectPeriodMs: 100, pauseMinMs: 100 });
    sources.push(s);
    await s.start(ctx);
    return s;
  };
  const edgeNode = async (node: string, bdSeq = 0) => {
    const e = new TestEdgeNode(broker.url, 'G1', node, bdSeq);
    edges.push(e);
    await e.connect();
    return e;
  };

  beforeAll(async () => {
    broker = makeBroker();
    await broker.start();
    watcher = await mqtt.connectAsync(broker.url, { clientId: uniqueId('watch') });
    watcher.on('message', (topic, payload) => {
      const list = states.get(topic) ?? [];
      list.push(JSON.parse(payload.toString()));
      states.set(topic, list);
    });
    await watcher.subscribeAsync('spBv1.0/STATE/+', { qos: 1 });
  });
  afterEach(async () => {
    for (const e of edges.splice(0)) await e.close();
    for (const s of sources.splice(0)) await s.stop();
  });
  afterAll(async () => {
    await watcher?.endAsync();
    await broker?.stop();
  });

  it('stores births and alias-only data with their values and timestamps, and announces STATE', async () => {
    const ctx = new RecordingContext(topology);
    const source = await startSource(ctx);
    const stateTopic = source.stateTopic;
    await waitFor(() => states.get(stateTopic)?.length === 1, 5000, 20, 'STATE birth');
    const born = states.get(stateTopic)![0];
    expect(born.online).toBe(true);
    expect(typeof born.timestamp).toBe('number');

    const edge = await edgeNode('N1', 3);
    await edge.nodeBirth(N1_BIRTH, T0);
    await edge.deviceBirth('wq1', [{ name: 'Chlorine', alias: 10, type: 'Float', value: 0.5, timestamp: T0 }], T0);
    await edge.data([{ alias: 1, type: 'Double', value: 0.29, timestamp: T0 + 1000 }, { alias: 3, type: 'Int64', value: -5, timestamp: T0 + 1000 }]);
    // No metric timestamp: the payload's applies.
    await edge.data([{ alias: 10, type: 'Float', value: 0.45 }], { device: 'wq1', timestamp: T0 + 2000 });
    // A Quality property that is not good, and a null metric (last value, bad).
    await edge.data([
      { alias: 1, type: 'Double', value: 0.28, timestamp: T0 + 3000, properties: { Quality: { type: 'Int32', value: 0 } } },
      { alias: 3, type: 'Int64', value: null, isNull: true, timestamp: T0 + 3000 },
    ]);

    await waitFor(() => ctx.readings.length === 9, 5000, 20, 'nine readings');
    expect(ctx.readings).toEqual([
      { sensor: 'n1-pressure', ts: T0, value: 0.31, quality: 'good' },
      { sensor: 'n1-pump', ts: T0, value: 1, quality: 'good' },
      { sensor: 'n1-flow', ts: T0, value: 120, quality: 'good' },
      { sensor: 'n1-cl', ts: T0, value: 0.5, quality: 'good' },
      { sensor: 'n1-pressure', ts: T0 + 1000, value: 0.29, quality: 'good' },
      { sensor: 'n1-flow', ts: T0 + 1000, value: -5, quality: 'good' },
      { sensor: 'n1-cl', ts: T0 + 2000, value: 0.45, quality: 'good' }, // a Float, without float32 noise
      { sensor: 'n1-pressure', ts: T0 + 3000, value: 0.28, quality: 'bad' },
      { sensor: 'n1-flow', ts: T0 + 3000, value: -5, quality: 'bad' },
    ]);
    expect(ctx.undecodable).toEqual([]);
    expect(edge.rebirthRequests()).toBe(0);
    expect(ctx.statuses.map((s) => [s.status, s.sensors.sort()])).toEqual([
      ['online', ['n1-flow', 'n1-pressure', 'n1-pump']],
      ['online', ['n1-cl']],
    ]);
    // Every message acknowledged: the five of the edge node and the host's own STATE birth.
    await waitFor(() => source.status().detail!.acked === 6 && source.status().detail!.messages === 6, 5000, 20, 'all messages acknowledged');
    expect(source.status().detail).toMatchObject({ nodesOnline: 1, sequenceGaps: 0 });

    await source.stop();
    await waitFor(() => states.get(stateTopic)?.length === 2, 5000, 20, 'STATE death');
    expect(states.get(stateTopic)![1]).toEqual({ online: false, timestamp: born.timestamp });
  });

  it('publishes its STATE birth again when its own STATE says offline while it is online', async () => {
    const ctx = new RecordingContext(topology);
    const source = await startSource(ctx);
    await waitFor(() => states.get(source.stateTopic)?.length === 1, 5000, 20, 'STATE birth');
    const { timestamp } = states.get(source.stateTopic)![0];
    // e.g. the will of an earlier connection, delivered late
    await watcher.publishAsync(source.stateTopic, JSON.stringify({ online: false, timestamp: timestamp - 1 }), { qos: 1, retain: true });
    await waitFor(() => states.get(source.stateTopic)?.length === 3, 5000, 20, 'STATE birth again');
    expect(states.get(source.stateTopic)!.map((m) => m.online)).toEqual([true, false, true]);
    expect(states.get(source.stateTopic)![2].timestamp).toBe(timestamp);
  });

  it('asks for a rebirth on a sequence gap, at most once per interval, and keeps the data it can read', async () => {
    const ctx = new RecordingContext(topology);
    const source = await startSource(ctx);
    const edge = await edgeNode('N1');
    await edge.nodeBirth(N1_BIRTH, T0);
    await edge.data([{ alias: 1, type: 'Double', value: 0.3, timestamp: T0 + 1000 }]);
    await edge.data([{ alias: 1, type: 'Double', value: 0.32, timestamp: T0 + 2000 }], { seq: 5 });
    await waitFor(() => edge.rebirthRequests() === 1, 5000, 20, 'NCMD rebirth at the edge node');
    expect(edge.commands[0].topic).toBe('spBv1.0/G1/NCMD/N1');
    await edge.data([{ alias: 1, type: 'Double', value: 0.33, timestamp: T0 + 3000 }], { seq: 9 });
    await waitFor(() => ctx.readings.filter((r) => r.sensor === 'n1-pressure').length === 4, 5000, 20, 'readings');
    expect(ctx.readings.filter((r) => r.sensor === 'n1-pressure').map((r) => r.value)).toEqual([0.31, 0.3, 0.32, 0.33]);
    expect(source.status().detail).toMatchObject({ sequenceGaps: 2, rebirthRequests: 1 });
    expect(edge.rebirthRequests()).toBe(1);
  });

  it('marks a dead node offline, ignores a stale NDEATH, and brings it back on rebirth', async () => {
    const ctx = new RecordingContext(topology);
    const source = await startSource(ctx);
    const edge = await edgeNode('N1', 7);
    await edge.nodeBirth(N1_BIRTH, T0);
    await edge.deviceBirth('wq1', [{ name: 'Chlorine', alias: 10, type: 'Float', value: 0.5, timestamp: T0 }], T0);
    // A death of an earlier life (bdSeq 6) arriving late must not kill the current one.
    await edge.nodeDeath(6);
    await edge.data([{ alias: 1, type: 'Double', value: 0.3, timestamp: T0 + 1000 }]);
    await waitFor(() => ctx.readings.some((r) => r.ts === T0 + 1000), 5000, 20, 'data after the stale death');
    expect(ctx.statuses.filter((s) => s.status === 'offline')).toEqual([]);
    expect(source.status().detail).toMatchObject({ staleDeaths: 1, nodesOnline: 1 });

    // The node's connection dies: the broker publishes its will, an NDEATH with the current bdSeq.
    edge.client!.stream.destroy();
    await waitFor(() => ctx.statuses.some((s) => s.status === 'offline'), 5000, 20, 'offline status');
    const offline = ctx.statuses.find((s) => s.status === 'offline')!;
    expect(offline.sensors.sort()).toEqual(['n1-cl', 'n1-flow', 'n1-pressure', 'n1-pump']);
    expect(ctx.conditions.filter((c) => c.state === 'raise').map((c) => [c.id, c.type])).toEqual([['sparkplug.node_death:G1/N1', 'sparkplug.node_death']]);
    expect(source.status().detail).toMatchObject({ nodesOnline: 0 });

    const again = await edgeNode('N1', 8);
    await again.nodeBirth(N1_BIRTH, T0 + 10_000);
    await waitFor(() => ctx.statuses.filter((s) => s.status === 'online').length === 3, 5000, 20, 'online again');
    expect(ctx.conditions.at(-1)).toMatchObject({ id: 'sparkplug.node_death:G1/N1', state: 'clear' });
  });

  it('marks a dead device offline', async () => {
    const ctx = new RecordingContext(topology);
    await startSource(ctx);
    const edge = await edgeNode('N1');
    await edge.nodeBirth(N1_BIRTH, T0);
    await edge.deviceBirth('wq1', [{ name: 'Chlorine', alias: 10, type: 'Float', value: 0.5, timestamp: T0 }], T0);
    await edge.deviceDeath('wq1', T0 + 5000);
    await waitFor(() => ctx.statuses.some((s) => s.status === 'offline'), 5000, 20, 'device offline');
    expect(ctx.statuses.find((s) => s.status === 'offline')).toEqual({ source: 'gw', sensors: ['n1-cl'], status: 'offline', ts: T0 + 5000 });
    expect(ctx.conditions.find((c) => c.state === 'raise')).toMatchObject({ id: 'sparkplug.device_death:G1/N1/wq1' });
  });

  it('rejects data with unknown aliases instead of guessing, asks for a rebirth, and reads after it', async () => {
    const ctx = new RecordingContext(topology);
    const source = await startSource(ctx);
    const edge = await edgeNode('N2');
    // Data from a node this host has never seen born (e.g. after an ingest restart).
    await edge.data([{ alias: 7, type: 'Float', value: 4.5, timestamp: T0 }], { seq: 12 });
    await waitFor(() => edge.rebirthRequests() === 1 && ctx.undecodable.length === 1, 5000, 20, 'rebirth request and rejection');
    expect(ctx.undecodable[0].origin).toBe('spBv1.0/G1/NDATA/N2');
    expect(ctx.undecodable[0].reason).toMatch(/^metric: unknown alias 7 \(no birth seen/);
    expect(JSON.parse(ctx.undecodable[0].raw).metrics[0].value).toBe(4.5);
    expect(ctx.readings).toEqual([]);

    // The edge node answers with a birth; aliases are known from then on.
    await edge.nodeBirth([{ name: 'Level', alias: 7, type: 'Float', value: 4.5, timestamp: T0 + 1000 }], T0 + 1000);
    await edge.data([{ alias: 7, type: 'Float', value: 4.25, timestamp: T0 + 2000 }]);
    await waitFor(() => ctx.readings.length === 2, 5000, 20, 'readings after the birth');
    expect(ctx.readings).toEqual([
      { sensor: 'G1.N2.Level', ts: T0 + 1000, value: 4.5, quality: 'good' },
      { sensor: 'G1.N2.Level', ts: T0 + 2000, value: 4.25, quality: 'good' },
    ]);
    expect(source.status().detail).toMatchObject({ rejected: 1, rebirthRequests: 1 });
  });

  it('keeps no state for nodes and devices the topology does not know: counted and dropped, no rebirth, no condition', async () => {
    const ctx = new RecordingContext(topology);
    const source = await startSource(ctx);
    for (let i = 0; i < 20; i++) {
      const rogue = await edgeNode(`ROGUE${i}`, 1);
      await rogue.nodeBirth([{ name: 'Level', alias: 1, type: 'Float', value: 1, timestamp: T0 }], T0);
      await rogue.data([{ alias: 9, type: 'Float', value: 2, timestamp: T0 + 1000 }], { seq: 40 });
      await rogue.nodeDeath(1);
    }
    // A device no sensor belongs to, on a node the topology knows.
    const edge = await edgeNode('N1');
    await edge.nodeBirth(N1_BIRTH, T0);
    await edge.deviceBirth('rogue-device', [{ name: 'Chlorine', alias: 50, type: 'Float', value: 0.5, timestamp: T0 }], T0);
    await edge.deviceDeath('rogue-device', T0 + 5000);
    await waitFor(() => Number(source.status().detail!.unknownDevices) === 2, 5000, 20, 'the unknown device\'s messages counted');
    expect(source.status().detail).toMatchObject({ nodesKnown: 1, unknownNodes: 60, unknownDevices: 2, rebirthRequests: 0 });
    expect(ctx.conditions.filter((c) => c.state === 'raise')).toEqual([]);
    expect(ctx.statuses.map((s) => s.status)).toEqual(['online']);
    expect(ctx.undecodable).toEqual([]);
  });

  it('ignores the death of a known node that was never born: no state, no offline status, no condition', async () => {
    const ctx = new RecordingContext(topology);
    const source = await startSource(ctx);
    const n4 = await edgeNode('N4', 5);
    await n4.nodeDeath(5);
    const n1 = await edgeNode('N1');
    await n1.deviceDeath('wq1', T0);
    // N1's birth after the deaths: once its readings are in, the deaths before it were handled.
    await n1.nodeBirth(N1_BIRTH, T0 + 1000);
    await waitFor(() => ctx.readings.length === 3, 5000, 20, 'the birth after the deaths');
    expect(ctx.conditions.filter((c) => c.state === 'raise')).toEqual([]);
    expect(ctx.statuses.map((s) => s.status)).toEqual(['online']);
    expect(source.status().detail).toMatchObject({ nodesKnown: 1, deathsWithoutBirth: 2 });
  });

  it('reads a fallback id only for names without dots: node "N6.x" cannot write node N6\'s device x (L4)', async () => {
    const ctx = new RecordingContext(topology);
    const source = await startSource(ctx);
    const impostor = await edgeNode('N6.x');
    await impostor.nodeBirth([{ name: 'Flow', alias: 1, type: 'Double', value: 999, timestamp: T0 }], T0);
    const n6 = await edgeNode('N6');
    await n6.nodeBirth([], T0);
    await n6.deviceBirth('x', [{ name: 'Flow', alias: 2, type: 'Double', value: 12, timestamp: T0 + 1000 }], T0 + 1000);
    await waitFor(() => ctx.readings.length >= 1, 5000, 20, 'node N6 device x\'s reading');
    expect(ctx.readings).toEqual([{ sensor: 'G1.N6.x.Flow', ts: T0 + 1000, value: 12, quality: 'good' }]);
    expect(source.status().detail).toMatchObject({ unknownNodes: 1 });
  });

  it('acknowledges only durable data: a host killed before that gets the message again, and its will says offline', async () => {
    const clientId = uniqueId('kill');
    const hostId = uniqueId('killhost');
    const slow = new RecordingContext(topology);
    slow.submitDelayMs = 1500;
    const first = await startSource(slow, { clientId, hostId });
    const edge = await edgeNode('N4');
    // Named metrics: readable without the birth, which the second host instance will not have seen.
    await edge.data([{ name: 'Pressure', type: 'Double', value: 0.35, timestamp: T0 }], { seq: 1 });
    // (>= 1: the host also hears its own rebirth request to this node, which it never saw born.)
    await waitFor(() => Number(first.status().detail!.messages) >= 1, 5000, 20, 'message received');
    first.client!.end(true);
    const stateTopic = `spBv1.0/STATE/${hostId}`;
    await waitFor(() => states.get(stateTopic)?.at(-1)?.online === false, 5000, 20, 'STATE will (offline)');

    const ctx = new RecordingContext(topology);
    await startSource(ctx, { clientId, hostId });
    await waitFor(() => ctx.readings.length === 1, 10_000, 20, 'redelivered reading');
    expect(ctx.readings[0]).toEqual({ sensor: 'n4-pressure', ts: T0, value: 0.35, quality: 'good' });
    await waitFor(() => states.get(stateTopic)?.at(-1)?.online === true, 5000, 20, 'STATE online again');
  });
});
