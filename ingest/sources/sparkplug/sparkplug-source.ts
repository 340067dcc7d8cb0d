/**
 * The Sparkplug B source: a Sparkplug 3.0 host application (spBv1.0) reading edge nodes and
 * devices of field gateways. It keeps, per edge node, the metric aliases from the births, the
 * birth/death sequence (bdSeq) and the message sequence (seq); it asks a node to rebirth when its
 * state is unknown or a message was missed, and marks a dead node's sensors offline.
 *
 * Messages are acknowledged only once their readings are durable, as in the MQTT source (shared
 * code in ../common/mqtt/ack-after-durable.ts and ../common/mqtt/durable-subscriber.ts).
 */
import sparkplug from 'sparkplug-payload';
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Quality, RawReading } from '../../../core/model/reading.ts';
import { sparkplugAddressKey, type SparkplugAddress, type SparkplugSourceConfig } from './config.ts';
import { addressOf } from '../address.ts';
import { resolveBroker, type BrokerAddress } from '../../../core/bus/mqtt-client.ts';
import type { SensorInfo } from '../../../core/topology/topology.ts';
import type { Source, SourceContext, SourceEnvironment, SourceStatus } from '../types.ts';
import { DurableSubscriber } from '../common/mqtt/durable-subscriber.ts';
import { qualityFromAny } from '../common/mqtt/quality.ts';

const spb = sparkplug.get('spBv1.0')!;
type Payload = ReturnType<typeof spb.decodePayload>;
type Metric = NonNullable<Payload['metrics']>[number];

export const NAMESPACE = 'spBv1.0';
const REBIRTH_METRIC = 'Node Control/Rebirth';
/** Sparkplug data types that carry a number (booleans as 0/1). */
const NUMERIC_TYPES = new Set(['Int8', 'Int16', 'Int32', 'Int64', 'UInt8', 'UInt16', 'UInt32', 'UInt64', 'Float', 'Double', 'Boolean', 'DateTime']);

/** A 64-bit protobuf integer (long.js) as found in decoded payloads. */
interface LongLike { low: number; high: number; unsigned: boolean }

function isLong(v: unknown): v is LongLike {
  return typeof v === 'object' && v !== null && typeof (v as LongLike).low === 'number' && typeof (v as LongLike).high === 'number';
}

/** A protobuf 64-bit value as a number; Int64 values arrive as unsigned Longs and are read signed. */
export function longToNumber(v: unknown, signed = false): number | undefined {
  if (typeof v === 'number') return v;
  if (!isLong(v)) return undefined;
  const high = signed ? v.high | 0 : v.high >>> 0;
  return high * 0x1_0000_0000 + (v.low >>> 0);
}

/** Quality from a metric's `Quality` property: 192 (OPC DA good) is good, 64–127 uncertain, the rest bad (e.g. 0, 500 stale). */
function qualityFromProperty(q: unknown): Quality {
  const n = longToNumber(q);
  if (n === undefined) return typeof q === 'string' ? qualityFromAny(q) ?? 'bad' : 'bad';
  if (n < 256 && (n & 0xc0) === 0xc0) return 'good';
  if (n < 256 && (n & 0xc0) === 0x40) return 'uncertain';
  return 'bad';
}

interface SparkplugTopic {
  group: string;
  type: string;
  node: string;
  device?: string;
}

export function parseTopic(topic: string): SparkplugTopic | undefined {
  const p = topic.split('/');
  if (p[0] !== NAMESPACE || p.length < 4 || p.length > 5) return undefined;
  return { group: p[1], type: p[2], node: p[3], device: p[4] };
}

interface NodeState {
  group: string;
  node: string;
  /** An NBIRTH has been seen and no NDEATH since. */
  born: boolean;
  bdSeq?: number;
  lastSeq?: number;
  /** Metric aliases per device ('' for the node itself): alias → metric name. */
  aliases: Map<string, Map<number, string>>;
  /** Last value per metric key, for a null metric reported as the last value with bad quality. */
  lastValues: Map<string, number>;
  /** Sensors seen through the fallback id `<group>.<node>[.<device>].<metric>`, per device. */
  seenSensors: Map<string, Set<string>>;
  lastRebirthRequestAt: number;
}

export interface SparkplugSourceOptions {
  reconnectPeriodMs?: number;
  pauseMinMs?: number;
  connectWaitMs?: number;
}

const nodeKey = (group: string, node: string) => `${group}/${node}`;

export class SparkplugSource implements Source {
  readonly type = 'sparkplug' as const;
  readonly name: string;
  readonly clientId: string;
  private readonly broker: BrokerAddress;
  private readonly nodes = new Map<string, NodeState>();
  private subscriber?: DurableSubscriber;
  private ctx?: SourceContext;
  private log?: Logger;
  /** Timestamp of this connection's STATE birth and will (Sparkplug 3.0: they must match). */
  private stateTs = 0;
  private lastDataAt: number | null = null;
  private stopping = false;
  private readonly counts = { messages: 0, readings: 0, rejected: 0, rebirthRequests: 0, staleDeaths: 0, sequenceGaps: 0, unmappedMetrics: 0, nullMetricsSkipped: 0 };

  constructor(readonly config: SparkplugSourceConfig, platformBroker: BrokerAddress, private readonly opts: SparkplugSourceOptions = {}) {
    this.name = config.name;
    this.broker = resolveBroker(platformBroker, config.broker);
    this.clientId = config.clientId ?? `aquawatch-ingest-sparkplug-${config.name}`;
    if (config.groups.length === 0) throw new Error(`sources.sparkplug[${config.name}].groups: at least one group (or '+') is needed`);
    config.groups.forEach((g, i) => {
      if (g !== '+' && /[/+#]/.test(g)) throw new Error(`sources.sparkplug[${config.name}].groups[${i}]: '${g}' is not a group id (no / + or #)`);
    });
  }

  /** The groups' topics, and our own STATE topic (to answer a stale death of ourselves). */
  get filters(): string[] { return [...this.config.groups.map((g) => `${NAMESPACE}/${g}/#`), this.stateTopic]; }
  get stateTopic(): string { return `${NAMESPACE}/STATE/${this.config.hostId}`; }

  async start(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    this.log = ctx.log.child({ component: 'sparkplug', source: this.name });
    this.subscriber = new DurableSubscriber({
      name: this.name,
      type: 'sparkplug',
      broker: this.broker,
      brokerField: this.config.broker ? `sources.sparkplug[${this.name}].broker` : 'broker',
      clientId: this.clientId,
      qos: this.config.qos,
      filters: this.filters,
      decode: (packet) => this.decode(packet),
      ctx,
      log: this.log,
      will: () => {
        this.stateTs = Date.now();
        return { topic: this.stateTopic, payload: this.statePayload(false), qos: 1, retain: true };
      },
      // Sparkplug 3.0: subscribe first, then announce the host online (retained, QoS 1).
      onConnected: async (client) => { await client.publishAsync(this.stateTopic, this.statePayload(true), { qos: 1, retain: true }); },
      // Announce offline before an intended disconnect, so edge nodes store and forward meanwhile.
      beforeDisconnect: (client) => this.publishOffline(client),
      reconnectPeriodMs: this.opts.reconnectPeriodMs,
      pauseMinMs: this.opts.pauseMinMs,
      connectWaitMs: this.opts.connectWaitMs,
    });
    await this.subscriber.start();
  }

  private statePayload(online: boolean): Buffer {
    return Buffer.from(JSON.stringify({ online, timestamp: this.stateTs }));
  }

  private async publishOffline(client: MqttClient): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      client.publishAsync(this.stateTopic, this.statePayload(false), { qos: 1, retain: true }),
      new Promise((resolve) => { timer = setTimeout(resolve, 2000); }),
    ]);
    clearTimeout(timer);
  }

  /** The MQTT client (diagnostics and tests). */
  get client(): MqttClient | undefined { return this.subscriber?.client; }

  private reject(origin: string, reason: string, raw: string): void {
    this.counts.rejected++;
    this.ctx!.reject(this.name, { origin, reason, raw });
  }

  private nodeState(group: string, node: string): NodeState {
    const key = nodeKey(group, node);
    let s = this.nodes.get(key);
    if (!s) {
      s = { group, node, born: false, aliases: new Map(), lastValues: new Map(), seenSensors: new Map(), lastRebirthRequestAt: -Infinity };
      this.nodes.set(key, s);
    }
    return s;
  }

  private decode(packet: IPublishPacket): RawReading[] {
    const ctx = this.ctx!;
    this.counts.messages++;
    if (packet.topic === this.stateTopic) {
      this.onOwnState(packet.payload.toString());
      return [];
    }
    const t = parseTopic(packet.topic);
    // STATE messages of other host applications and commands to nodes are not data.
    if (t && (t.group === 'STATE' || t.type === 'NCMD' || t.type === 'DCMD')) return [];
    const payloadBytes = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    if (!t) {
      this.reject(packet.topic, 'topic: not a Sparkplug B topic (spBv1.0/<group>/<type>/<node>[/<device>])', payloadBytes.toString('base64'));
      return [];
    }
    let payload: Payload;
    try {
      payload = spb.decodePayload(payloadBytes);
    } catch (e) {
      this.reject(packet.topic, `payload: not a Sparkplug B payload (${(e as Error).message})`, payloadBytes.toString('base64'));
      return [];
    }
    this.lastDataAt = ctx.now();
    const state = this.nodeState(t.group, t.node);
    switch (t.type) {
      case 'NBIRTH': return this.onNodeBirth(t, state, payload, packet.topic);
      case 'DBIRTH': return this.onDeviceBirth(t, state, payload, packet.topic);
      case 'NDATA':
      case 'DDATA': return this.onData(t, state, payload, packet.topic);
      case 'NDEATH': this.onNodeDeath(t, state, payload, packet.topic); return [];
      case 'DDEATH': this.onDeviceDeath(t, state, payload, packet.topic); return [];
      default:
        this.reject(packet.topic, `topic: unknown Sparkplug message type ${t.type}`, payloadBytes.toString('base64'));
        return [];
    }
  }

  /**
   * Sparkplug 3.0: a host that sees its own STATE say offline while it is online (a will of an
   * earlier connection delivered late, or a retained one) publishes its birth again, so that edge
   * nodes do not take it for dead.
   */
  private onOwnState(text: string): void {
    let state: { online?: unknown };
    try { state = JSON.parse(text) as { online?: unknown }; } catch { return; }
    const client = this.subscriber?.client;
    if (state.online !== false || this.stopping || !client?.connected || this.subscriber?.acks?.paused) return;
    this.log!.info('own STATE says offline while connected; publishing the STATE birth again');
    client.publish(this.stateTopic, this.statePayload(true), { qos: 1, retain: true });
  }

  /** seq runs 0..255 over all messages of a node after its NBIRTH; a gap means a lost message. */
  private checkSeq(state: NodeState, payload: Payload, topic: string): void {
    const seq = longToNumber(payload.seq);
    if (seq === undefined) return;
    if (state.lastSeq !== undefined && seq !== (state.lastSeq + 1) % 256) {
      this.counts.sequenceGaps++;
      this.log!.warn({ topic, expected: (state.lastSeq + 1) % 256, got: seq }, 'Sparkplug sequence gap: a message was lost; requesting a rebirth');
      this.requestRebirth(state, `sequence gap (expected ${(state.lastSeq + 1) % 256}, got ${seq})`);
    }
    state.lastSeq = seq;
  }

  /** Ask the edge node for NBIRTH/DBIRTH again, at most once per rebirthMinIntervalMs. */
  private requestRebirth(state: NodeState, reason: string): void {
    const now = Date.now();
    if (now - state.lastRebirthRequestAt < this.config.rebirthMinIntervalMs) return;
    const client = this.subscriber?.client;
    if (!client?.connected) return;
    state.lastRebirthRequestAt = now;
    this.counts.rebirthRequests++;
    const topic = `${NAMESPACE}/${state.group}/NCMD/${state.node}`;
    const payload = spb.encodePayload({ timestamp: now, metrics: [{ name: REBIRTH_METRIC, type: 'Boolean', value: true }] });
    client.publish(topic, Buffer.from(payload), { qos: 0 });
    this.log!.info({ group: state.group, node: state.node, reason }, 'requested a Sparkplug rebirth');
  }

  private onNodeBirth(t: SparkplugTopic, state: NodeState, payload: Payload, topic: string): RawReading[] {
    const ctx = this.ctx!;
    // A new life of the node: all aliases (its devices' too) come again with the births.
    state.born = true;
    state.aliases = new Map([['', this.aliasMap(payload)]]);
    state.lastSeq = longToNumber(payload.seq);
    const bdSeq = payload.metrics?.find((m) => m.name === 'bdSeq');
    state.bdSeq = bdSeq ? longToNumber(bdSeq.value) : undefined;
    const ts = this.payloadTime(payload);
    const readings = this.metricsToReadings(t, state, payload, topic);
    ctx.sensorsStatus(this.name, this.sensorsOf(t.group, t.node, '', state), 'online', ts);
    ctx.condition({
      id: `sparkplug.node_death:${t.group}/${t.node}`, type: 'sparkplug.node_death', state: 'clear', ts,
      message: `Sparkplug edge node ${t.group}/${t.node} is online (NBIRTH)`,
    });
    return readings;
  }

  private onDeviceBirth(t: SparkplugTopic, state: NodeState, payload: Payload, topic: string): RawReading[] {
    const ctx = this.ctx!;
    const device = t.device ?? '';
    this.checkSeq(state, payload, topic);
    if (!state.born) this.requestRebirth(state, `DBIRTH of ${device} without an NBIRTH`);
    state.aliases.set(device, this.aliasMap(payload));
    const ts = this.payloadTime(payload);
    const readings = this.metricsToReadings(t, state, payload, topic);
    ctx.sensorsStatus(this.name, this.sensorsOf(t.group, t.node, device, state), 'online', ts);
    ctx.condition({
      id: `sparkplug.device_death:${t.group}/${t.node}/${device}`, type: 'sparkplug.device_death', state: 'clear', ts,
      message: `Sparkplug device ${t.group}/${t.node}/${device} is online (DBIRTH)`,
    });
    return readings;
  }

  private onData(t: SparkplugTopic, state: NodeState, payload: Payload, topic: string): RawReading[] {
    this.checkSeq(state, payload, topic);
    if (!state.born) this.requestRebirth(state, `${t.type} without an NBIRTH`);
    return this.metricsToReadings(t, state, payload, topic);
  }

  private onNodeDeath(t: SparkplugTopic, state: NodeState, payload: Payload, topic: string): void {
    const ctx = this.ctx!;
    const bdSeqMetric = payload.metrics?.find((m) => m.name === 'bdSeq');
    const bdSeq = bdSeqMetric ? longToNumber(bdSeqMetric.value) : undefined;
    // The broker sends an NDEATH (the node's will) when a connection of the node ends, possibly
    // after the node reconnected and was born again: only the death of the current life counts.
    if (state.bdSeq !== undefined && bdSeq !== undefined && bdSeq !== state.bdSeq) {
      this.counts.staleDeaths++;
      this.log!.info({ topic, bdSeq, current: state.bdSeq }, 'ignoring a stale NDEATH (bdSeq of an earlier birth)');
      return;
    }
    const ts = this.payloadTime(payload);
    state.born = false;
    state.aliases = new Map();
    state.lastSeq = undefined;
    ctx.sensorsStatus(this.name, this.sensorsOf(t.group, t.node, undefined, state), 'offline', ts);
    ctx.condition({
      id: `sparkplug.node_death:${t.group}/${t.node}`, type: 'sparkplug.node_death', state: 'raise', ts, priority: 'medium',
      message: `Sparkplug edge node ${t.group}/${t.node} is offline (NDEATH); its sensors have no current values`,
      evidence: { bdSeq },
    });
  }

  private onDeviceDeath(t: SparkplugTopic, state: NodeState, payload: Payload, topic: string): void {
    const ctx = this.ctx!;
    const device = t.device ?? '';
    this.checkSeq(state, payload, topic);
    state.aliases.delete(device);
    const ts = this.payloadTime(payload);
    ctx.sensorsStatus(this.name, this.sensorsOf(t.group, t.node, device, state), 'offline', ts);
    ctx.condition({
      id: `sparkplug.device_death:${t.group}/${t.node}/${device}`, type: 'sparkplug.device_death', state: 'raise', ts, priority: 'medium',
      message: `Sparkplug device ${t.group}/${t.node}/${device} is offline (DDEATH); its sensors have no current values`,
    });
  }

  private aliasMap(payload: Payload): Map<number, string> {
    const map = new Map<number, string>();
    for (const m of payload.metrics ?? []) {
      const alias = longToNumber(m.alias);
      if (m.name && alias !== undefined) map.set(alias, m.name);
    }
    return map;
  }

  private payloadTime(payload: Payload): number {
    return longToNumber(payload.timestamp) ?? this.ctx!.now();
  }

  private sensorFor(t: SparkplugTopic, metric: string): SensorInfo | undefined {
    const topology = this.ctx!.topology;
    return topology.sensorsByAddress('sparkplug', (a) => sparkplugAddressKey(a as unknown as SparkplugAddress)).get(sparkplugAddressKey({ ...t, metric }))
      ?? topology.sensors.get(`${t.group}.${t.node}${t.device ? `.${t.device}` : ''}.${metric}`);
  }

  /**
   * Sensors of a node (device undefined: the node and all its devices) or of one device ('' is
   * the node itself): those whose source address names it, and those seen through the fallback id.
   */
  private sensorsOf(group: string, node: string, device: string | undefined, state: NodeState): string[] {
    const out = new Set<string>();
    for (const s of this.ctx!.topology.sensors.values()) {
      const a = addressOf<SparkplugAddress>(s, 'sparkplug');
      if (!a || a.group !== group || a.node !== node) continue;
      if (device === undefined || (a.device ?? '') === device) out.add(s.id);
    }
    for (const [d, ids] of state.seenSensors) {
      if (device === undefined || d === device) for (const id of ids) out.add(id);
    }
    return [...out];
  }

  private metricsToReadings(t: SparkplugTopic, state: NodeState, payload: Payload, topic: string): RawReading[] {
    const device = t.device ?? '';
    const aliases = state.aliases.get(device);
    const payloadTs = longToNumber(payload.timestamp);
    const readings: RawReading[] = [];
    const unknownAliases: number[] = [];
    for (const m of payload.metrics ?? []) {
      let name = m.name ?? undefined;
      if (!name) {
        const alias = longToNumber(m.alias);
        name = alias === undefined ? undefined : aliases?.get(alias);
        if (!name) {
          // Never guess what an alias means: keep the message in the dead letters and ask for a rebirth.
          unknownAliases.push(alias ?? -1);
          continue;
        }
      }
      const r = this.metricToReading(t, state, name, m, payloadTs, topic);
      if (r) readings.push(r);
    }
    if (unknownAliases.length) {
      this.requestRebirth(state, `unknown aliases ${unknownAliases.join(', ')}`);
      this.reject(topic, `metric: unknown alias${unknownAliases.length > 1 ? 'es' : ''} ${unknownAliases.join(', ')} (no birth seen for this ${t.device ? 'device' : 'node'} since it started; rebirth requested)`,
        JSON.stringify(payload, (_k, v) => (isLong(v) ? longToNumber(v) : v)));
    }
    this.counts.readings += readings.length;
    return readings;
  }

  private metricToReading(t: SparkplugTopic, state: NodeState, name: string, m: Metric, payloadTs: number | undefined, topic: string): RawReading | undefined {
    const sensor = this.sensorFor(t, name);
    if (!sensor) {
      // Nodes publish many metrics no sensor follows (bdSeq, Node Control/*, properties).
      this.counts.unmappedMetrics++;
      return undefined;
    }
    if (!sensor.source || sensor.source.type !== 'sparkplug') {
      let seen = state.seenSensors.get(t.device ?? '');
      if (!seen) { seen = new Set(); state.seenSensors.set(t.device ?? '', seen); }
      seen.add(sensor.id);
    }
    // Transient metrics are, by the specification, not to be historised.
    if (m.isTransient) return undefined;
    const ts = longToNumber(m.timestamp) ?? payloadTs ?? this.ctx!.now();
    const key = `${t.device ?? ''}|${name}`;
    const props = m.properties as Record<string, { value?: unknown }> | undefined;
    const qualityProp = props?.Quality ?? props?.quality;
    let quality: Quality = qualityProp ? qualityFromProperty(qualityProp.value) : 'good';
    let value: number | undefined;
    if (m.value === null || m.value === undefined || m.isNull) {
      // A null metric: the value is unknown. Report the last known value as bad rather than invent one.
      value = state.lastValues.get(key);
      if (value === undefined) { this.counts.nullMetricsSkipped++; return undefined; }
      quality = 'bad';
    } else if (!NUMERIC_TYPES.has(m.type)) {
      this.reject(`${topic}#${name}`, `value: metric ${name} is of type ${m.type}, not a number (sensor ${sensor.id})`, String(m.value).slice(0, 200));
      return undefined;
    } else if (typeof m.value === 'boolean') {
      value = m.value ? 1 : 0;
    } else {
      value = longToNumber(m.value, m.type === 'Int64');
      if (value === undefined || !Number.isFinite(value)) {
        this.reject(`${topic}#${name}`, `value: metric ${name} has no numeric value`, String(m.value).slice(0, 200));
        return undefined;
      }
      // A 32-bit float holds about 7 significant digits: 0.45 arrives as 0.44999998807907104.
      if (m.type === 'Float') value = Number(value.toPrecision(7));
    }
    state.lastValues.set(key, value);
    return { sensor: sensor.id, ts, value, quality };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.subscriber?.stop();
  }

  status(): SourceStatus {
    const s = this.subscriber;
    const acks = s?.ackStats();
    const nodes = [...this.nodes.values()];
    return {
      name: this.name,
      type: 'sparkplug',
      state: s?.state ?? 'stopped',
      lastDataAt: this.lastDataAt,
      detail: {
        url: this.broker.url,
        clientId: this.clientId,
        hostId: this.config.hostId,
        filters: this.filters,
        connections: s?.connections ?? 0,
        paused: s?.acks?.paused ?? false,
        nodesOnline: nodes.filter((n) => n.born).length,
        nodesKnown: nodes.length,
        ...this.counts,
        acked: acks?.acked ?? 0,
        pendingAcks: s?.acks?.pendingAcks ?? 0,
        refusedSubmits: acks?.refusedSubmits ?? 0,
        backpressurePauses: acks?.pauses ?? 0,
        lastError: s?.lastError,
      },
    };
  }
}

/** The registry's entry point (index.ts load): one source per `sources.sparkplug[]` entry. */
export function createSource(config: SparkplugSourceConfig, env: SourceEnvironment): SparkplugSource {
  return new SparkplugSource(config, env.platformBroker);
}
