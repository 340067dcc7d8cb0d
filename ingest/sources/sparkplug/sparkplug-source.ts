/**
 * The Sparkplug B source: a Sparkplug 3.0 host application (spBv1.0) reading edge nodes and
 * devices of field gateways. It keeps, per edge node the topology knows, the metric aliases from the
 * births, the birth/death sequence (bdSeq) and the message sequence (seq); it asks a node to rebirth
 * when its state is unknown or a message was missed, and marks a dead node's sensors offline.
 * Messages of nodes and devices no sensor is read from are counted and dropped.
 *
 * Beside it: payload.ts reads the wire format (topics, protobuf, metric values); nodes.ts keeps what
 * is known of each node. Messages are acknowledged only once their readings are durable, as in the
 * MQTT source (shared code in ../common/mqtt/ack-after-durable.ts and ../common/mqtt/durable-subscriber.ts).
 */
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { RawReading } from '../../../core/model/reading.ts';
import type { Condition } from '../../../core/bus/messages/condition.ts';
import type { Topology } from '../../../core/topology/topology.ts';
import type { SparkplugSourceConfig } from './config.ts';
import { brokerUrlForDisplay, resolveBroker, type BrokerAddress } from '../../../core/bus/mqtt-client.ts';
import type { Source, SourceContext, SourceEnvironment, SourceStatus } from '../types.ts';
import type { UndecodableInput } from '../../pipeline/contract.ts';
import { DurableSubscriber } from '../common/mqtt/durable-subscriber.ts';
import {
  NAMESPACE, aliasMap, decodePayload, longToNumber, metricValue, parseTopic, payloadJson, rebirthCommand,
  type Metric, type Payload, type SparkplugTopic,
} from './payload.ts';
import { SparkplugNodes, type NodeState } from './nodes.ts';
import { monotonicMs } from '../../../core/time/monotonic.ts';

export { NAMESPACE, longToNumber, parseTopic } from './payload.ts';

export interface SparkplugSourceOptions {
  reconnectPeriodMs?: number;
  pauseMinMs?: number;
  connectWaitMs?: number;
}

export class SparkplugSource implements Source {
  readonly type = 'sparkplug' as const;
  readonly name: string;
  readonly clientId: string;
  private readonly broker: BrokerAddress;
  private nodes?: SparkplugNodes;
  /** The topology's nodes as `resumes` needs them before start (ingest asks before starting its sources). */
  private nodesBeforeStart?: SparkplugNodes;
  /** Rejections of the message being decoded: kept in one commit when it is done. */
  private messageRejects: UndecodableInput[] = [];
  private subscriber?: DurableSubscriber;
  private ctx?: SourceContext;
  private log?: Logger;
  /** Timestamp of this connection's STATE birth and will (Sparkplug 3.0: they must match). */
  private stateTs = 0;
  private lastDataAt: number | null = null;
  private stopping = false;
  private readonly counts = { messages: 0, readings: 0, rejected: 0, rebirthRequests: 0, staleDeaths: 0, sequenceGaps: 0, unmappedMetrics: 0, nullMetricsSkipped: 0, unknownNodes: 0, unknownDevices: 0, deathsWithoutBirth: 0 };

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
    this.nodes = new SparkplugNodes(ctx.topology);
    this.subscriber = new DurableSubscriber({
      protocolVersion: this.config.broker?.protocolVersion,
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
    this.messageRejects.push({ origin, reason, raw });
  }

  private decode(packet: IPublishPacket): RawReading[] {
    try {
      return this.decodeMessage(packet);
    } finally {
      const rejects = this.messageRejects;
      this.messageRejects = [];
      if (rejects.length) this.ctx!.reject(this.name, rejects);
    }
  }

  private decodeMessage(packet: IPublishPacket): RawReading[] {
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
    // Nodes and devices no sensor is read from get no state, no rebirth request and no condition.
    if (!this.nodes!.knowsNode(t.group, t.node)) { this.counts.unknownNodes++; return []; }
    if (t.device !== undefined && !this.nodes!.knowsDevice(t.group, t.node, t.device)) { this.counts.unknownDevices++; return []; }
    let payload: Payload;
    try {
      payload = decodePayload(payloadBytes);
    } catch (e) {
      this.reject(packet.topic, `payload: not a Sparkplug B payload (${(e as Error).message})`, payloadBytes.toString('base64'));
      return [];
    }
    // A death of a node this host has not seen alive (never born, or dead already) tells nothing
    // new: it gets no state and raises no condition, so forged deaths cannot fill the alarm list.
    if ((t.type === 'NDEATH' || t.type === 'DDEATH') && !this.nodes!.existing(t.group, t.node)?.born) {
      this.counts.deathsWithoutBirth++;
      return [];
    }
    this.lastDataAt = ctx.now();
    const state = this.nodes!.state(t.group, t.node);
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
    // The interval on the monotonic clock: a backward step of the wall clock must not hold rebirths back (F17).
    const now = monotonicMs();
    if (now - state.lastRebirthRequestAt < this.config.rebirthMinIntervalMs) return;
    const client = this.subscriber?.client;
    if (!client?.connected) return;
    state.lastRebirthRequestAt = now;
    this.counts.rebirthRequests++;
    const topic = `${NAMESPACE}/${state.group}/NCMD/${state.node}`;
    client.publish(topic, rebirthCommand(Date.now()), { qos: 0 });
    this.log!.info({ group: state.group, node: state.node, reason }, 'requested a Sparkplug rebirth');
  }

  private onNodeBirth(t: SparkplugTopic, state: NodeState, payload: Payload, topic: string): RawReading[] {
    const ctx = this.ctx!;
    // A new life of the node: all aliases (its devices' too) come again with the births.
    state.born = true;
    state.aliases = new Map([['', aliasMap(payload)]]);
    state.lastSeq = longToNumber(payload.seq);
    const bdSeq = payload.metrics?.find((m) => m.name === 'bdSeq');
    state.bdSeq = bdSeq ? longToNumber(bdSeq.value) : undefined;
    const ts = this.payloadTime(payload);
    const readings = this.metricsToReadings(t, state, payload, topic);
    ctx.sensorsStatus(this.name, this.nodes!.sensorsOf(state, ''), 'online', ts);
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
    state.aliases.set(device, aliasMap(payload));
    const ts = this.payloadTime(payload);
    const readings = this.metricsToReadings(t, state, payload, topic);
    ctx.sensorsStatus(this.name, this.nodes!.sensorsOf(state, device), 'online', ts);
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
    ctx.sensorsStatus(this.name, this.nodes!.sensorsOf(state, undefined), 'offline', ts);
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
    ctx.sensorsStatus(this.name, this.nodes!.sensorsOf(state, device), 'offline', ts);
    ctx.condition({
      id: `sparkplug.device_death:${t.group}/${t.node}/${device}`, type: 'sparkplug.device_death', state: 'raise', ts, priority: 'medium',
      message: `Sparkplug device ${t.group}/${t.node}/${device} is offline (DDEATH); its sensors have no current values`,
    });
  }

  /**
   * A death this source reported stands across a restart of ingest until the birth, which clears it
   * (a restarted host has no state for the node: it knows it dead only from this). Only for the
   * groups it reads and the nodes and devices the topology maps.
   */
  resumes(c: Condition, topology: Topology): boolean {
    const death = /^sparkplug\.(node|device)_death:([^/]+)\/([^/]+)(?:\/([^/]+))?$/.exec(c.id);
    if (!death || c.type !== `sparkplug.${death[1]}_death` || (death[1] === 'node') !== (death[4] === undefined)) return false;
    const [, , group, node, device] = death;
    if (!this.config.groups.includes('+') && !this.config.groups.includes(group)) return false;
    const nodes = this.nodes ?? (this.nodesBeforeStart ??= new SparkplugNodes(topology));
    return device === undefined ? nodes.knowsNode(group, node) : nodes.knowsDevice(group, node, device);
  }

  private payloadTime(payload: Payload): number {
    return longToNumber(payload.timestamp) ?? this.ctx!.now();
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
        payloadJson(payload));
    }
    this.counts.readings += readings.length;
    return readings;
  }

  private metricToReading(t: SparkplugTopic, state: NodeState, name: string, m: Metric, payloadTs: number | undefined, topic: string): RawReading | undefined {
    const sensor = this.nodes!.sensorFor(t, name);
    if (!sensor) {
      // Nodes publish many metrics no sensor follows (bdSeq, Node Control/*, properties).
      this.counts.unmappedMetrics++;
      return undefined;
    }
    this.nodes!.seen(state, t.device ?? '', sensor);
    // Transient metrics are, by the specification, not to be historised.
    if (m.isTransient) return undefined;
    const ts = longToNumber(m.timestamp) ?? payloadTs ?? this.ctx!.now();
    const key = `${t.device ?? ''}|${name}`;
    const v = metricValue(name, m, sensor.id);
    if ('reason' in v) {
      this.reject(`${topic}#${name}`, `value: ${v.reason}`, String(m.value).slice(0, 200));
      return undefined;
    }
    if ('isNull' in v) {
      // A null metric: the value is unknown. Report the last known value as bad rather than invent one.
      const last = state.lastValues.get(key);
      if (last === undefined) { this.counts.nullMetricsSkipped++; return undefined; }
      return { sensor: sensor.id, ts, value: last, quality: 'bad' };
    }
    state.lastValues.set(key, v.value);
    return { sensor: sensor.id, ts, value: v.value, quality: v.quality };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.subscriber?.stop();
  }

  status(): SourceStatus {
    const s = this.subscriber;
    const acks = s?.ackStats();
    return {
      name: this.name,
      type: 'sparkplug',
      state: s?.state ?? 'stopped',
      lastDataAt: this.lastDataAt,
      detail: {
        url: brokerUrlForDisplay(this.broker.url),
        clientId: this.clientId,
        hostId: this.config.hostId,
        filters: this.filters,
        connections: s?.connections ?? 0,
        paused: s?.acks?.paused ?? false,
        nodesOnline: this.nodes?.online ?? 0,
        nodesKnown: this.nodes?.known ?? 0,
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
