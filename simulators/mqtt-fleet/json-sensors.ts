/**
 * Plain-JSON MQTT sensors: every sensor whose topology source is `{ type: 'mqtt', topic }` publishes
 * on its topic, per step, `{"v": value, "t": epoch ms, "u": unit, "q": "good"|"uncertain"|"bad"}`.
 * That is what water-quality monitors and field loggers with a generic MQTT client send. One MQTT
 * connection carries the whole fleet (thousands of sensors at --scale would not each get a socket).
 */
import type { MqttClient } from 'mqtt';
import type { SensorConfig, TopologyConfig } from '../../core/config/schema.ts';
import { addressOf } from '../addresses.ts';
import { CANONICAL_UNIT } from '../../core/model/units.ts';
import type { SimDevice, SimStep } from '../types.ts';
import {
  checkInterval, clientOptions, connectClient, endClient, publish, RateGate, type BrokerAddress, type PublishInterval,
} from './common.ts';

export interface JsonSensorFleetOptions {
  topology: TopologyConfig;
  /** Broker to publish to: url (mqtt://, mqtts://), username, password, tls (PEM files). */
  broker: BrokerAddress;
  /** Default `aquawatch-sim-json-<pid>`. */
  clientId?: string;
  /** QoS of the data messages. Default 1. */
  qos?: 0 | 1 | 2;
  /** Publish retained (the broker keeps the last value per topic). Default false. */
  retain?: boolean;
  /** Publish rate in simulated time. Default 'step'. */
  interval?: PublishInterval;
  /** Only these sensor ids (e.g. to split the fleet over several simulators). Default: every MQTT sensor. */
  sensors?: string[];
}

/** The JSON payload a sensor publishes. */
export interface JsonSensorMessage {
  v: number;
  t: number;
  u: string;
  q: 'good' | 'uncertain' | 'bad';
}

/**
 * The platform's `sources.mqtt[].topics` entries that read what this fleet publishes: one pattern per
 * first topic level, the sensor found by its exact topic (sensor.source.topic).
 */
/** One `sources.mqtt[].topics` entry as configuration input (its schema: ingest/sources/mqtt/config.ts). */
export interface JsonTopicPattern {
  pattern: string; format: 'json'; valuePath: string; timePath: string; unitPath: string; qualityPath: string; timeFormat: 'ms';
}

export function jsonTopicPatterns(topology: TopologyConfig): JsonTopicPattern[] {
  const roots = new Set<string>();
  for (const s of topology.sensors) { const a = addressOf(s, 'mqtt'); if (a) roots.add(a.topic.split('/')[0]); }
  return [...roots].map((root) => ({
    pattern: `${root}/#`, format: 'json', valuePath: 'v', timePath: 't', unitPath: 'u', qualityPath: 'q', timeFormat: 'ms',
  }));
}

export class JsonSensorFleet implements SimDevice {
  readonly name = 'mqtt-json';
  private readonly opts: JsonSensorFleetOptions;
  private readonly sensors = new Map<string, { sensor: SensorConfig; topic: string; unit: string }>();
  private readonly gate: RateGate;
  private readonly qos: 0 | 1 | 2;
  private client?: MqttClient;
  /** Messages published since start. */
  published = 0;

  constructor(opts: JsonSensorFleetOptions) {
    this.opts = opts;
    this.gate = new RateGate(checkInterval(opts.interval, 'mqtt-json: option interval'));
    this.qos = opts.qos ?? 1;
    if (![0, 1, 2].includes(this.qos)) throw new Error(`mqtt-json: option qos: ${String(opts.qos)} is not 0, 1 or 2`);
    const only = opts.sensors ? new Set(opts.sensors) : undefined;
    for (const sensor of opts.topology.sensors) {
      const address = addressOf(sensor, 'mqtt');
      if (!address || (only && !only.has(sensor.id))) continue;
      if (/[+#]/.test(address.topic)) {
        throw new Error(`mqtt-json: sensor ${sensor.id}: source.topic ${address.topic} has a wildcard; a sensor publishes on one exact topic`);
      }
      this.sensors.set(sensor.id, { sensor, topic: address.topic, unit: sensor.unit ?? CANONICAL_UNIT[sensor.kind] });
    }
    for (const id of opts.sensors ?? []) {
      if (!this.sensors.has(id)) throw new Error(`mqtt-json: option sensors: ${id} is not an MQTT sensor of the topology`);
    }
  }

  /** Topics by sensor id. */
  get topics(): Map<string, string> {
    return new Map([...this.sensors].map(([id, s]) => [id, s.topic]));
  }

  async start(): Promise<void> {
    if (this.client) throw new Error(`${this.name}: already started`);
    this.client = await connectClient(this.opts.broker.url, clientOptions(this.opts.broker, 'mqtt-json: option broker', {
      clientId: this.opts.clientId ?? `aquawatch-sim-json-${process.pid}`,
      clean: true,
      reconnectPeriod: 1000,
    }));
  }

  /**
   * Publishes the step's samples and resolves when the broker has them (QoS ≥ 1) or they are written
   * (QoS 0). While the broker is away, mqtt.js holds QoS ≥ 1 messages and the step waits for them.
   */
  async onStep(step: SimStep): Promise<void> {
    const client = this.client;
    if (!client) throw new Error(`${this.name}: onStep before start()`);
    const silent = step.silent.length ? new Set(step.silent) : undefined;
    const sends: Promise<void>[] = [];
    for (const sample of step.samples) {
      const s = this.sensors.get(sample.sensor);
      if (!s || silent?.has(sample.sensor) || !this.gate.due(s.sensor, sample.ts)) continue;
      const message: JsonSensorMessage = { v: sample.value, t: sample.ts, u: s.unit, q: sample.quality };
      sends.push(publish(client, s.topic, JSON.stringify(message), this.qos, this.opts.retain ?? false));
    }
    await Promise.all(sends);
    this.published += sends.length;
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await endClient(client);
  }
}
