/**
 * The MQTT connection of a source that must not lose data (shared by the MQTT and Sparkplug
 * sources): a persistent session (clean: false, a fixed client id) with QoS 1 subscriptions, so
 * the broker keeps messages while we are away and redelivers what we did not acknowledge; acks
 * after durability (ack-after-durable.ts); reconnection; connection metrics, status and condition.
 */
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Gauge } from 'prom-client';
import type { Metrics } from '../../../metrics.ts';
import { brokerUrlForDisplay, mqttConnectOptions, type BrokerAddress } from '../../../../core/bus/mqtt-client.ts';
import type { SourceContext, SourceState } from '../../types.ts';
import { AckAfterDurable, type AckStats, type MessageDecoder } from './ack-after-durable.ts';
import { rawForRejection } from './raw-payload.ts';
import { MQTT_MAX_PACKET_BYTES } from '../../../../core/bus/embedded-broker.ts';

/** MQTT 5's Session Expiry Interval that means "never" (seconds, 2^32 - 1). */
const SESSION_NEVER_EXPIRES = 0xffff_ffff;
/**
 * The Maximum Packet Size ingest announces in an MQTT 5 CONNECT: a payload of the platform's
 * limit (MQTT_MAX_PACKET_BYTES) with room for a long topic and the packet's header and properties.
 */
export const MQTT5_MAX_PACKET_BYTES = MQTT_MAX_PACKET_BYTES + 64 * 1024;
/** CONNACK return code 1 of MQTT 3.1.1: "unacceptable protocol version" (aedes' answer to MQTT 5). */
const CONNACK_UNACCEPTABLE_PROTOCOL = 1;

export interface DurableSubscriberOptions {
  name: string;
  /** The source's type, for its metric labels and condition ids (`<type>.disconnected`). */
  type: string;
  broker: BrokerAddress;
  /** Config key of the broker, for errors (e.g. `sources.mqtt[field].broker`). */
  brokerField: string;
  clientId: string;
  qos: 0 | 1;
  /** Topic filters to subscribe to. */
  filters: string[];
  decode: MessageDecoder;
  ctx: SourceContext;
  log: Logger;
  /** The will of the next connection; called before every connect (Sparkplug STATE). */
  will?: () => IClientOptions['will'];
  /** After each connection is set up and subscribed (Sparkplug publishes its STATE birth). */
  onConnected?: (client: MqttClient) => Promise<void>;
  /** Before an intended disconnect: stop, or a pause for backpressure (Sparkplug STATE death). */
  beforeDisconnect?: (client: MqttClient) => Promise<void>;
  reconnectPeriodMs?: number;
  /** MQTT version (sourceBrokerSchema.protocolVersion); default 4, i.e. 3.1.1. */
  protocolVersion?: 4 | 5;
  /** How long start() waits for the first subscription before returning and retrying in the background. */
  connectWaitMs?: number;
  /** Tuning of AckAfterDurable (tests). */
  pauseMinMs?: number;
  maxUnsettledReadings?: number;
}

/** The MQTT-based sources' own gauge, registered by them rather than by the service. */
export function mqttConnectedGauge(metrics: Metrics): Gauge<'source'> {
  return metrics.gauge('aquawatch_mqtt_connected', 'MQTT client connection: 1 connected, 0 not', ['source']);
}

export class DurableSubscriber {
  client?: MqttClient;
  acks?: AckAfterDurable;
  state: SourceState = 'stopped';
  connectedAt: number | null = null;
  connections = 0;
  lastError?: string;
  private subscribedOnce = false;
  private disconnectRaised = false;
  private stopping = false;

  constructor(private readonly o: DurableSubscriberOptions) {}

  /** The broker URL for messages and logs: without credentials, should it carry any. */
  private get shownUrl(): string {
    return brokerUrlForDisplay(this.o.broker.url);
  }

  /** Connect and subscribe; resolves once subscribed, or after connectWaitMs while retrying in the background. */
  async start(): Promise<void> {
    const o = this.o;
    const base = mqttConnectOptions(o.broker, o.brokerField);
    const client = mqtt.connect(o.broker.url, {
      ...base,
      clientId: o.clientId,
      // A persistent session: the broker keeps our subscriptions and queues QoS 1 messages while we
      // are disconnected, and redelivers those we did not acknowledge.
      clean: false,
      ...(o.protocolVersion === 5 ? {
        protocolVersion: 5,
        // MQTT 5 ends a session at disconnect unless told otherwise: keep it (and its queue) for good.
        properties: { sessionExpiryInterval: SESSION_NEVER_EXPIRES, maximumPacketSize: MQTT5_MAX_PACKET_BYTES },
      } : { protocolVersion: 4 }),
      reconnectPeriod: o.reconnectPeriodMs ?? 1000,
      connectTimeout: 10_000,
      // We subscribe ourselves (see onConnect); mqtt.js' resubscribe would repeat it.
      resubscribe: false,
      // handleMessage must be in place before the first packet can arrive.
      manualConnect: true,
      will: o.will?.(),
    });
    this.client = client;
    this.acks = new AckAfterDurable({
      client,
      // A source may read a broker that takes bigger packets than the platform's: such a payload
      // is kept (its head) in the dead letters, not parsed.
      decode: (packet) => {
        if (packet.payload.length <= MQTT_MAX_PACKET_BYTES) return o.decode(packet);
        o.ctx.reject(o.name, {
          origin: packet.topic, raw: rawForRejection(packet.payload),
          reason: `payload: ${packet.payload.length} bytes, more than the ${MQTT_MAX_PACKET_BYTES} a message may have; not decoded`,
        });
        return [];
      },
      deadLetter: (packet, err) => o.ctx.reject(o.name, { origin: packet.topic, reason: `decoder failed: ${err.message}`, raw: rawForRejection(packet.payload) }),
      submit: (readings) => o.ctx.submit(o.name, readings),
      log: o.log,
      pauseMinMs: o.pauseMinMs,
      maxUnsettledReadings: o.maxUnsettledReadings,
      beforePause: o.beforeDisconnect && (() => o.beforeDisconnect!(client)),
      room: o.ctx.outboxRoom && (() => o.ctx.outboxRoom!()),
    });
    let firstSubscribed!: () => void;
    const subscribed = new Promise<void>((resolve) => { firstSubscribed = resolve; });
    client.on('connect', (connack) => {
      void this.onConnect(client, connack).then(firstSubscribed, (e: Error) => {
        this.lastError = e.message;
        o.log.error({ err: e.message }, 'subscribing failed; reconnecting');
        client.stream?.destroy();
      });
    });
    // A fresh will per connection: Sparkplug's STATE timestamp must match the connection's.
    client.on('reconnect', () => { if (o.will) client.options.will = o.will(); });
    client.on('close', () => this.onClose());
    client.on('error', (e) => {
      this.lastError = o.protocolVersion === 5 && (e as Error & { code?: number }).code === CONNACK_UNACCEPTABLE_PROTOCOL
        ? `${e.message}: the broker does not speak MQTT 5 (the embedded broker, aedes, speaks 3.1.1 only); set ${o.brokerField}.protocolVersion: 4`
        : e.message;
      // while we stop, the client may still try to answer the broker (an ack for a message that came
      // in during the goodbye): not a fault; the broker keeps what was not acked for the next session
      if (this.stopping) o.log.debug({ err: this.lastError }, 'MQTT connection error while stopping');
      else o.log.warn({ err: this.lastError }, 'MQTT connection error');
    });
    this.state = 'connecting';
    this.setConnectedMetric(false);
    client.connect();
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      subscribed.then(() => true),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), o.connectWaitMs ?? 5000); }),
    ]);
    clearTimeout(timer);
    if (!waited) o.log.warn({ url: this.shownUrl, err: this.lastError }, 'broker not reachable yet; retrying in the background');
  }

  private async onConnect(client: MqttClient, connack: IConnackPacket): Promise<void> {
    const o = this.o;
    this.connections++;
    // Subscribe on the first connection of this process (the configured topics may have changed
    // since the session was made) and whenever the broker lost the session; otherwise the session
    // still holds them, and subscribing again would make the broker resend retained messages.
    if (!this.subscribedOnce || !connack.sessionPresent) {
      const granted = await client.subscribeAsync(Object.fromEntries(o.filters.map((f) => [f, { qos: o.qos }])));
      const refused = granted.filter((g) => g.qos === 128);
      if (refused.length) {
        throw new Error(`broker refused subscription to ${refused.map((g) => g.topic).join(', ')} (not authorised, or shared subscriptions not supported)`);
      }
      this.subscribedOnce = true;
    }
    await o.onConnected?.(client);
    this.state = 'connected';
    this.connectedAt = o.ctx.now();
    this.setConnectedMetric(true);
    o.log.info({ url: this.shownUrl, clientId: o.clientId, sessionPresent: connack.sessionPresent }, 'MQTT source connected');
    if (this.disconnectRaised) {
      this.disconnectRaised = false;
      o.ctx.condition({
        id: `${o.type}.disconnected:${o.name}`, type: `${o.type}.disconnected`, state: 'clear', ts: o.ctx.now(),
        message: `${o.type} source ${o.name} connected again to ${this.shownUrl}`,
      });
    }
  }

  private onClose(): void {
    const o = this.o;
    if (this.state === 'stopped') return;
    // Raise on losing an established connection, or when the very first attempt fails.
    const wasConnected = this.state === 'connected' || this.connections === 0;
    this.state = this.stopping ? 'stopped' : this.acks?.paused ? 'disconnected' : 'connecting';
    this.setConnectedMetric(false);
    // A pause for backpressure is deliberate (the outbox-full condition covers it); a lost
    // connection is not.
    if (wasConnected && !this.stopping && !this.acks?.paused && !this.disconnectRaised) {
      this.disconnectRaised = true;
      o.log.warn({ url: this.shownUrl, err: this.lastError }, 'MQTT source disconnected; reconnecting');
      o.ctx.condition({
        id: `${o.type}.disconnected:${o.name}`, type: `${o.type}.disconnected`, state: 'raise', ts: o.ctx.now(), priority: 'medium',
        message: `${o.type} source ${o.name} lost its connection to ${this.shownUrl}; the broker keeps QoS 1 messages until it is back`,
        evidence: { lastError: this.lastError },
      });
    }
  }

  private setConnectedMetric(up: boolean): void {
    mqttConnectedGauge(this.o.ctx.metrics).set({ source: this.o.name }, up ? 1 : 0);
    this.o.ctx.metrics.sourceConnected.set({ source: this.o.name, type: this.o.type }, up ? 1 : 0);
  }

  /** Acknowledge what is durable, announce the disconnect, and close the session (it persists on the broker). */
  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.stopping = true;
    this.acks?.stop();
    await this.acks?.drain();
    if (client.connected) {
      try { await this.o.beforeDisconnect?.(client); } catch { /* best effort */ }
    }
    await client.endAsync().catch(() => undefined);
    this.state = 'stopped';
    this.setConnectedMetric(false);
  }

  ackStats(): AckStats | undefined { return this.acks?.stats; }
}
