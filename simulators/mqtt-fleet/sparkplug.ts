/**
 * Sparkplug B edge nodes (spBv1.0): one edge node per (group, node) found in the topology's
 * `{ type: 'sparkplug', group, node, device?, metric }` addresses, each with its own MQTT session as
 * a real gateway has. The session lifecycle follows Sparkplug 3.0:
 * - CONNECT carries the NDEATH as MQTT will, with the session's bdSeq (Int64 metric `bdSeq`);
 * - NBIRTH (seq 0) declares `bdSeq`, `Node Control/Rebirth` and every node metric with name, alias,
 *   datatype Double and its current value; a DBIRTH per device follows;
 * - NDATA/DDATA carry metrics by alias only, each with its sample timestamp; seq counts 0..255 over
 *   every message after NBIRTH;
 * - NCMD `Node Control/Rebirth` = true answers with NBIRTH + DBIRTHs again (same bdSeq);
 * - a device whose sensors all fall silent can be declared dead (DDEATH) and reborn (DBIRTH) when one
 *   speaks again; a node whose sensors all fall silent can drop its connection, so the broker
 *   publishes the will NDEATH, and reconnect later with the next bdSeq.
 */
import type { MqttClient } from 'mqtt';
import sparkplugPayload from 'sparkplug-payload';
import type { SensorConfig, TopologyConfig } from '../../core/config/schema.ts';
import { addressOf } from '../addresses.ts';
import type { Quality } from '../../core/model/reading.ts';
import type { SimDevice, SimSample, SimStep } from '../types.ts';
import {
  checkInterval, clientOptions, connectClient, endClient, publish, RateGate, type BrokerAddress, type PublishInterval,
} from './common.ts';

const sparkplug = sparkplugPayload.get('spBv1.0')!;
type UPayload = Parameters<typeof sparkplug.encodePayload>[0];
type UMetric = NonNullable<UPayload['metrics']>[number];

export const NAMESPACE = 'spBv1.0';
export const REBIRTH_METRIC = 'Node Control/Rebirth';

/**
 * Quality travels as the metric property `Quality` (Int32, OPC DA codes: 192 good, 64 uncertain,
 * 0 bad), as Ignition and other Sparkplug hosts read it; a good sample carries no property.
 */
export const QUALITY_PROPERTY = 'Quality';
const QUALITY_CODE: Record<Quality, number> = { good: 192, uncertain: 64, bad: 0 };

export function encodeSparkplug(payload: UPayload): Buffer {
  return Buffer.from(sparkplug.encodePayload(payload));
}

export function decodeSparkplug(bytes: Uint8Array): UPayload {
  return sparkplug.decodePayload(bytes);
}

export function sparkplugTopic(group: string, type: string, node: string, device?: string): string {
  return `${NAMESPACE}/${group}/${type}/${node}${device ? `/${device}` : ''}`;
}

/** What a sensor is to an edge node: a metric on the node itself or on one of its devices. */
interface MetricDef {
  sensor: SensorConfig;
  name: string;
  alias: number;
  device?: string;
}

interface LastValue { value: number; ts: number; quality: Quality }

/** What happens when sensors fall silent (comms loss) in a step. */
export type SilenceMode =
  /** Nothing is published for silent sensors; sessions stay up. */
  | 'no-data'
  /** As 'no-data', and a device whose sensors are all silent gets DDEATH; a node all silent drops its connection (will NDEATH). */
  | 'death';

export interface EdgeNodeOptions {
  group: string;
  node: string;
  metrics: { sensor: SensorConfig; metric: string; device?: string }[];
  broker: BrokerAddress;
  /** QoS of births and data (Sparkplug says 0). The NDEATH will is always QoS 1. Default 0. */
  qos?: 0 | 1;
  clientId?: string;
  interval?: PublishInterval;
  silence?: SilenceMode;
  /** First bdSeq (0..255). Default 0. */
  bdSeq?: number;
  /** Wait before reconnecting after the broker dropped the session. Default 1000 ms. */
  reconnectDelayMs?: number;
}

/** One Sparkplug B edge node with its devices. */
export class SparkplugEdgeNode {
  readonly group: string;
  readonly node: string;
  private readonly opts: EdgeNodeOptions;
  private readonly nodeMetrics: MetricDef[] = [];
  private readonly devices = new Map<string, MetricDef[]>();
  private readonly bySensor = new Map<string, MetricDef>();
  private readonly last = new Map<string, LastValue>();
  private readonly deadDevices = new Set<string>();
  private readonly gate: RateGate;
  private readonly qos: 0 | 1;
  private client?: MqttClient;
  private seq = 0;
  /** bdSeq of the current (or, while offline, the last) session; the next session uses the next value. */
  private bdSeqValue: number;
  private sessions = 0;
  /** Simulated time of the last step, for the timestamps of births and deaths. */
  private clock?: number;
  private wantOnline = false;
  /** Offline because dropConnection() was called (silence or a test), not because the broker went away. */
  private offlineForSilence = false;
  private stopping = false;
  private reconnectTimer?: NodeJS.Timeout;
  private connecting?: Promise<void>;
  /** Counters for tests and logs. */
  readonly stats = { births: 0, deviceBirths: 0, deviceDeaths: 0, dataMessages: 0, rebirthRequests: 0, connections: 0, droppedWhileOffline: 0 };

  constructor(opts: EdgeNodeOptions) {
    this.opts = opts;
    this.group = opts.group;
    this.node = opts.node;
    this.qos = opts.qos ?? 0;
    this.gate = new RateGate(checkInterval(opts.interval, `sparkplug ${opts.group}/${opts.node}: option interval`));
    const first = opts.bdSeq ?? 0;
    if (!Number.isInteger(first) || first < 0 || first > 255) throw new Error(`sparkplug ${opts.group}/${opts.node}: option bdSeq: ${first} is not 0..255`);
    this.bdSeqValue = (first + 255) % 256; // the first connect steps to `first`
    // Aliases: 1, 2, … in topology order; unique within the edge node (node and device metrics alike).
    let alias = 1;
    for (const m of opts.metrics) {
      const def: MetricDef = { sensor: m.sensor, name: m.metric, alias: alias++, device: m.device };
      if (m.device) {
        const list = this.devices.get(m.device) ?? [];
        list.push(def);
        this.devices.set(m.device, list);
      } else this.nodeMetrics.push(def);
      this.bySensor.set(m.sensor.id, def);
    }
  }

  get online(): boolean { return Boolean(this.client?.connected); }
  get bdSeq(): number { return this.bdSeqValue; }
  get deviceIds(): string[] { return [...this.devices.keys()]; }
  /** Alias of a metric, by sensor id. */
  aliasOf(sensor: string): number | undefined { return this.bySensor.get(sensor)?.alias; }
  hasSensor(sensor: string): boolean { return this.bySensor.has(sensor); }

  private now(): number { return this.clock ?? Date.now(); }

  private nextSeq(): number {
    const s = this.seq;
    this.seq = (this.seq + 1) % 256;
    return s;
  }

  private deathPayload(): Buffer {
    return encodeSparkplug({ timestamp: this.now(), metrics: [{ name: 'bdSeq', type: 'Int64', value: this.bdSeqValue }] });
  }

  /** Opens a new MQTT session (next bdSeq, will = NDEATH), subscribes to commands, and births. */
  async connect(): Promise<void> {
    if (this.connecting) return this.connecting;
    this.wantOnline = true;
    this.connecting = (async () => {
      this.bdSeqValue = (this.bdSeqValue + 1) % 256;
      const client = await connectClient(this.opts.broker.url, clientOptions(this.opts.broker, `sparkplug ${this.group}/${this.node}: option broker`, {
        clientId: this.opts.clientId ?? `aquawatch-sim-spb-${this.group}-${this.node}-${process.pid}`,
        clean: true,
        // A Sparkplug session is one MQTT session: after a drop we reconnect ourselves with a new bdSeq and will.
        reconnectPeriod: 0,
        will: { topic: sparkplugTopic(this.group, 'NDEATH', this.node), payload: this.deathPayload(), qos: 1, retain: false },
      }));
      this.client = client;
      this.sessions++;
      this.stats.connections++;
      client.on('message', (topic, payload) => this.onCommand(topic, payload));
      client.on('close', () => this.onClose(client));
      client.on('error', () => undefined); // 'close' follows; reconnecting is handled there
      await client.subscribeAsync([sparkplugTopic(this.group, 'NCMD', this.node), `${sparkplugTopic(this.group, 'DCMD', this.node)}/+`], { qos: 1 });
      await this.birth();
    })();
    try {
      await this.connecting;
    } finally {
      this.connecting = undefined;
    }
  }

  private onClose(client: MqttClient): void {
    if (client !== this.client) return;
    this.client = undefined;
    client.end(true);
    if (this.stopping || !this.wantOnline) return;
    // The broker went away (restart, network): a new session, as a gateway would, until it works.
    const retry = () => {
      this.reconnectTimer = undefined;
      if (this.stopping || !this.wantOnline || this.client) return;
      this.connect().catch(() => { this.reconnectTimer = setTimeout(retry, this.opts.reconnectDelayMs ?? 1000); });
    };
    this.reconnectTimer = setTimeout(retry, this.opts.reconnectDelayMs ?? 1000);
  }

  private metricNow(def: MetricDef): UMetric {
    const v = this.last.get(def.sensor.id);
    const metric: UMetric = { name: def.name, alias: def.alias, type: 'Double', value: v ? v.value : null, timestamp: v ? v.ts : this.now() };
    if (v && v.quality !== 'good') metric.properties = { [QUALITY_PROPERTY]: { type: 'Int32', value: QUALITY_CODE[v.quality] } };
    return metric;
  }

  /** NBIRTH (seq 0) and a DBIRTH per live device: the full metric set, with names and aliases. */
  private async birth(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.seq = 0;
    const ts = this.now();
    const sends: Promise<void>[] = [];
    const nbirth = encodeSparkplug({
      timestamp: ts,
      seq: this.nextSeq(),
      metrics: [
        { name: 'bdSeq', type: 'Int64', value: this.bdSeqValue, timestamp: ts },
        { name: REBIRTH_METRIC, type: 'Boolean', value: false, timestamp: ts },
        ...this.nodeMetrics.map((d) => this.metricNow(d)),
      ],
    });
    sends.push(publish(client, sparkplugTopic(this.group, 'NBIRTH', this.node), nbirth, this.qos));
    this.stats.births++;
    for (const [device, defs] of this.devices) {
      if (this.deadDevices.has(device)) continue;
      sends.push(this.deviceBirth(client, device, defs));
    }
    await Promise.all(sends);
  }

  private deviceBirth(client: MqttClient, device: string, defs: MetricDef[]): Promise<void> {
    const payload = encodeSparkplug({ timestamp: this.now(), seq: this.nextSeq(), metrics: defs.map((d) => this.metricNow(d)) });
    this.stats.deviceBirths++;
    return publish(client, sparkplugTopic(this.group, 'DBIRTH', this.node, device), payload, this.qos);
  }

  private onCommand(topic: string, bytes: Buffer): void {
    if (topic !== sparkplugTopic(this.group, 'NCMD', this.node)) return; // DCMD: no writable device metrics
    let payload: UPayload;
    try {
      payload = decodeSparkplug(bytes);
    } catch {
      return; // not a Sparkplug payload: a real edge node ignores it too
    }
    const rebirth = (payload.metrics ?? []).some((m) => (m.name === REBIRTH_METRIC) && m.value === true);
    if (!rebirth) return;
    this.stats.rebirthRequests++;
    this.birth().catch(() => undefined);
  }

  /**
   * Publishes this node's samples of a step (NDATA, DDATA per device), applying the publish rate and
   * the silence mode. `samples` and `silent` are this node's only (the fleet sorts them out).
   */
  async onStep(ts: number, samples: SimSample[], silent: ReadonlySet<string>): Promise<void> {
    this.clock = ts;
    const nodeSamples: [MetricDef, SimSample][] = [];
    const deviceSamples = new Map<string, [MetricDef, SimSample][]>();
    const heardDevices = new Set<string>();
    for (const sample of samples) {
      const def = this.bySensor.get(sample.sensor);
      if (!def || silent.has(sample.sensor)) continue;
      if (def.device) heardDevices.add(def.device);
      this.last.set(sample.sensor, { value: sample.value, ts: sample.ts, quality: sample.quality });
      if (!this.gate.due(def.sensor, sample.ts)) continue;
      if (def.device) {
        const list = deviceSamples.get(def.device) ?? [];
        list.push([def, sample]);
        deviceSamples.set(def.device, list);
      } else nodeSamples.push([def, sample]);
    }

    if (this.opts.silence === 'death') {
      const allSilent = silent.size > 0 && [...this.bySensor.keys()].every((id) => silent.has(id));
      if (allSilent) {
        if (this.client) this.dropConnection();
        return;
      }
      if (!this.client && this.offlineForSilence) await this.reconnect();
    }

    const client = this.client;
    if (!client) {
      this.stats.droppedWhileOffline += nodeSamples.length + [...deviceSamples.values()].reduce((n, l) => n + l.length, 0);
      return;
    }
    const sends: Promise<void>[] = [];
    if (this.opts.silence === 'death' && silent.size) {
      for (const [device, defs] of this.devices) {
        if (this.deadDevices.has(device)) continue;
        // Dead only when every metric of the device is silent (some may just not be sampled this step).
        if (defs.every((d) => silent.has(d.sensor.id))) {
          this.deadDevices.add(device);
          this.stats.deviceDeaths++;
          const payload = encodeSparkplug({ timestamp: ts, seq: this.nextSeq(), metrics: [] });
          sends.push(publish(client, sparkplugTopic(this.group, 'DDEATH', this.node, device), payload, this.qos));
        }
      }
    }
    if (this.opts.silence === 'death') {
      for (const device of heardDevices) {
        if (!this.deadDevices.delete(device)) continue;
        sends.push(this.deviceBirth(client, device, this.devices.get(device)!));
      }
    }
    const dataMetrics = (list: [MetricDef, SimSample][]): UMetric[] => list.map(([def, s]) => {
      const m: UMetric = { alias: def.alias, type: 'Double', value: s.value, timestamp: s.ts };
      if (s.quality !== 'good') m.properties = { [QUALITY_PROPERTY]: { type: 'Int32', value: QUALITY_CODE[s.quality] } };
      return m;
    });
    if (nodeSamples.length) {
      const payload = encodeSparkplug({ timestamp: ts, seq: this.nextSeq(), metrics: dataMetrics(nodeSamples) });
      sends.push(publish(client, sparkplugTopic(this.group, 'NDATA', this.node), payload, this.qos));
      this.stats.dataMessages++;
    }
    for (const [device, list] of deviceSamples) {
      if (this.deadDevices.has(device)) continue;
      const payload = encodeSparkplug({ timestamp: ts, seq: this.nextSeq(), metrics: dataMetrics(list) });
      sends.push(publish(client, sparkplugTopic(this.group, 'DDATA', this.node, device), payload, this.qos));
      this.stats.dataMessages++;
    }
    await Promise.all(sends);
  }

  /**
   * Drops the TCP connection without an MQTT DISCONNECT, as a gateway losing power or its uplink
   * does: the broker then publishes the will (NDEATH with this session's bdSeq).
   */
  dropConnection(): void {
    const client = this.client;
    if (!client) return;
    this.wantOnline = false;
    this.offlineForSilence = true;
    this.client = undefined;
    client.stream.destroy();
    client.end(true);
  }

  /** Comes back after dropConnection(): a new session with the next bdSeq, and births. */
  async reconnect(): Promise<void> {
    this.offlineForSilence = false;
    if (!this.client) await this.connect();
  }

  /** Orderly shutdown: NDEATH published by the node itself (a clean DISCONNECT does not fire the will). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wantOnline = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    if (client.connected) {
      await publish(client, sparkplugTopic(this.group, 'NDEATH', this.node), this.deathPayload(), 1).catch(() => undefined);
    }
    await endClient(client);
  }
}

export interface SparkplugFleetOptions {
  topology: TopologyConfig;
  broker: BrokerAddress;
  /** QoS of births and data. Default 0 (Sparkplug B); the will is always QoS 1. */
  qos?: 0 | 1;
  interval?: PublishInterval;
  /** Default 'no-data'. */
  silence?: SilenceMode;
  /** Prefix of each edge node's MQTT client id (`<prefix>-<group>-<node>`). Default `aquawatch-sim-spb`. */
  clientIdPrefix?: string;
  reconnectDelayMs?: number;
}

/** Every Sparkplug edge node of the topology, driven by the simulation steps. */
export class SparkplugFleet implements SimDevice {
  readonly name = 'mqtt-sparkplug';
  /** Edge nodes by `<group>/<node>`. */
  readonly nodes = new Map<string, SparkplugEdgeNode>();
  private readonly owner = new Map<string, SparkplugEdgeNode>();
  private started = false;

  constructor(opts: SparkplugFleetOptions) {
    const grouped = new Map<string, EdgeNodeOptions['metrics']>();
    const problems: string[] = [];
    const seen = new Map<string, string>();
    opts.topology.sensors.forEach((sensor, i) => {
      const src = addressOf(sensor, 'sparkplug');
      if (!src) return;
      const at = `topology.sensors[${i}] (${sensor.id}).source`;
      for (const [field, value] of [['group', src.group], ['node', src.node], ['device', src.device]] as const) {
        if (value !== undefined && /[/+#]/.test(value)) problems.push(`${at}.${field}: ${value} may not contain / + or # (it is a topic level)`);
      }
      const key = `${src.group}/${src.node}`;
      const metricKey = `${key}/${src.device ?? ''}/${src.metric}`;
      if (seen.has(metricKey)) problems.push(`${at}.metric: ${src.metric} already used by ${seen.get(metricKey)} on the same ${src.device ? 'device' : 'node'}`);
      seen.set(metricKey, sensor.id);
      if (src.metric === 'bdSeq' || src.metric.startsWith('Node Control/')) problems.push(`${at}.metric: ${src.metric} is reserved by Sparkplug`);
      const list = grouped.get(key) ?? [];
      list.push({ sensor, metric: src.metric, device: src.device });
      grouped.set(key, list);
    });
    if (problems.length) throw new Error(`mqtt-sparkplug: bad topology:\n  ${problems.join('\n  ')}`);
    for (const [key, metrics] of grouped) {
      const [group, node] = key.split('/');
      const edge = new SparkplugEdgeNode({
        group, node, metrics, broker: opts.broker, qos: opts.qos, interval: opts.interval, silence: opts.silence,
        clientId: `${opts.clientIdPrefix ?? 'aquawatch-sim-spb'}-${group}-${node}`, reconnectDelayMs: opts.reconnectDelayMs,
      });
      this.nodes.set(key, edge);
      for (const m of metrics) this.owner.set(m.sensor.id, edge);
    }
  }

  node(group: string, node: string): SparkplugEdgeNode {
    const n = this.nodes.get(`${group}/${node}`);
    if (!n) throw new Error(`mqtt-sparkplug: no edge node ${group}/${node} in the topology`);
    return n;
  }

  async start(): Promise<void> {
    if (this.started) throw new Error(`${this.name}: already started`);
    this.started = true;
    await Promise.all([...this.nodes.values()].map((n) => n.connect()));
  }

  async onStep(step: SimStep): Promise<void> {
    if (!this.started) throw new Error(`${this.name}: onStep before start()`);
    const samples = new Map<SparkplugEdgeNode, SimSample[]>();
    const silent = new Map<SparkplugEdgeNode, Set<string>>();
    for (const n of this.nodes.values()) { samples.set(n, []); silent.set(n, new Set()); }
    for (const s of step.samples) {
      const n = this.owner.get(s.sensor);
      if (n) samples.get(n)!.push(s);
    }
    for (const id of step.silent) {
      const n = this.owner.get(id);
      if (n) silent.get(n)!.add(id);
    }
    await Promise.all([...this.nodes.values()].map((n) => n.onStep(step.ts, samples.get(n)!, silent.get(n)!)));
  }

  async stop(): Promise<void> {
    this.started = false;
    await Promise.all([...this.nodes.values()].map((n) => n.stop()));
  }
}
