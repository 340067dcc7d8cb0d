/**
 * What the JSON sensors and the Sparkplug edge nodes share: broker connection options, the publish
 * rate (every step, each sensor's own interval, or a fixed simulated period) and the MQTT client's
 * start/stop done the same way.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { brokerUrlForDisplay, mqttConnectOptions, type BrokerAddress } from '../../core/bus/mqtt-client.ts';
import type { SensorConfig } from '../../core/config/schema.ts';

export type { BrokerAddress };

/**
 * How often a sensor publishes, in simulated time:
 * - `'step'`: every step the engine emits (default);
 * - `'sensor'`: at the sensor's own `intervalS` from the topology;
 * - a number: at most once per that many milliseconds.
 * A sensor publishes on a step when at least the interval has passed since its last publication.
 */
export type PublishInterval = 'step' | 'sensor' | number;

export function checkInterval(interval: PublishInterval | undefined, field: string): PublishInterval {
  const i = interval ?? 'step';
  if (i === 'step' || i === 'sensor') return i;
  if (typeof i !== 'number' || !Number.isFinite(i) || i < 0) {
    throw new Error(`${field}: ${JSON.stringify(i)} is not 'step', 'sensor' or a number of milliseconds ≥ 0`);
  }
  return i;
}

/** Tracks when each sensor last published, to apply the publish interval. */
export class RateGate {
  private readonly last = new Map<string, number>();
  constructor(private readonly interval: PublishInterval) {}

  due(sensor: SensorConfig, ts: number): boolean {
    if (this.interval === 'step') return true;
    const every = this.interval === 'sensor' ? sensor.intervalS * 1000 : this.interval;
    const last = this.last.get(sensor.id);
    // A step a little early (the engine's step does not divide the interval) still counts: 1 % slack.
    if (last !== undefined && ts - last < every * 0.99) return false;
    this.last.set(sensor.id, ts);
    return true;
  }
}

/** Builds mqtt.js options from a broker address; throws naming `field` when it cannot be used. */
export function clientOptions(broker: BrokerAddress, field: string, extra: IClientOptions): IClientOptions {
  if (!broker?.url) throw new Error(`${field}.url: missing (the broker to publish to, e.g. mqtt://127.0.0.1:1883)`);
  return { ...mqttConnectOptions(broker, field), ...extra };
}

/** Connects and resolves on CONNACK; rejects on the first error or after `timeoutMs`. */
export function connectClient(url: string, options: IClientOptions, timeoutMs = 10_000): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { connectTimeout: timeoutMs, ...options });
    const shown = brokerUrlForDisplay(url);
    const timer = setTimeout(() => fail(new Error(`no CONNACK from ${shown} within ${timeoutMs} ms`)), timeoutMs);
    const fail = (e: Error) => {
      clearTimeout(timer);
      client.removeListener('connect', ok);
      client.end(true);
      reject(new Error(`MQTT connect to ${shown} failed: ${e.message}`));
    };
    const ok = () => {
      clearTimeout(timer);
      client.removeListener('error', fail);
      resolve(client);
    };
    client.once('connect', ok);
    client.once('error', fail);
  });
}

export function endClient(client: MqttClient | undefined, force = false): Promise<void> {
  if (!client) return Promise.resolve();
  return new Promise((resolve) => client.end(force, () => resolve()));
}

/** Publishes and resolves when the message is written (QoS 0) or acknowledged (QoS 1/2). */
export function publish(client: MqttClient, topic: string, payload: Buffer | string, qos: 0 | 1 | 2, retain = false): Promise<void> {
  return new Promise((resolve, reject) => {
    client.publish(topic, payload, { qos, retain }, (err) => (err ? reject(err) : resolve()));
  });
}
