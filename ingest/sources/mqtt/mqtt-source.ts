/**
 * The MQTT source: network sensors and field loggers that publish a plain number or JSON on
 * topics of their own. Topic patterns name where the sensor id is (a `{sensor}` level, an exact
 * sensor.source.topic, or a field of the payload); decoders turn payloads into readings. Nothing is
 * acknowledged to the broker before it is durable in the outbox (see ../common/mqtt/ack-after-durable.ts).
 */
import { hostname } from 'node:os';
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { RawReading } from '../../../core/model/reading.ts';
import type { MqttSourceConfig } from './config.ts';
import { brokerUrlForDisplay, resolveBroker, type BrokerAddress } from '../../../core/bus/mqtt-client.ts';
import type { Source, SourceContext, SourceEnvironment, SourceStatus } from '../types.ts';
import type { CompiledPattern } from './topic-pattern.ts';
import { buildRoutes, compilePatterns, oneRejection, routeOf, UNMATCHED_TOPIC, type Route } from './routes.ts';
import { DurableSubscriber } from '../common/mqtt/durable-subscriber.ts';
import { rawForRejection } from '../common/mqtt/raw-payload.ts';

export interface MqttSourceOptions {
  /** Reconnect delay after a lost connection. */
  reconnectPeriodMs?: number;
  /** Delay before reconnecting after the pipeline refused readings (doubles up to 30 s). */
  pauseMinMs?: number;
  connectWaitMs?: number;
}

export class MqttSource implements Source {
  readonly type = 'mqtt' as const;
  readonly name: string;
  readonly clientId: string;
  private readonly patterns: CompiledPattern[];
  private routes: Route[] = [];
  private readonly broker: BrokerAddress;
  private subscriber?: DurableSubscriber;
  private ctx?: SourceContext;
  private log?: Logger;
  private lastDataAt: number | null = null;
  private readings = 0;
  private undecodable = 0;
  private unmatched = 0;
  private retainedSkipped = 0;

  /**
   * @param platformBroker the platform's broker with a real URL (the embedded broker's mqtt://
   *   address when broker.url is `embedded`); `config.broker` keys override it.
   */
  constructor(readonly config: MqttSourceConfig, platformBroker: BrokerAddress, private readonly opts: MqttSourceOptions = {}) {
    this.name = config.name;
    this.broker = resolveBroker(platformBroker, config.broker);
    // With a shared subscription several instances run the same source: each needs its own
    // client id (two clients with one id throw each other off the broker), stable across restarts
    // so its persistent session is found again.
    this.clientId = config.clientId ?? (config.shareGroup ? `aquawatch-ingest-${config.name}-${hostname()}` : `aquawatch-ingest-${config.name}`);
    if (config.topics.length === 0) {
      throw new Error(`sources.mqtt[${config.name}].topics: at least one topic pattern is needed`);
    }
    this.patterns = compilePatterns(config);
  }

  /** The filters subscribed to (with `$share/<group>/` when shared). */
  get filters(): string[] {
    const unique = [...new Set(this.patterns.map((p) => p.filter))];
    return this.config.shareGroup ? unique.map((f) => `$share/${this.config.shareGroup}/${f}`) : unique;
  }

  async start(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    this.log = ctx.log.child({ component: 'mqtt', source: this.name });
    // First matching pattern wins, in configuration order.
    this.routes = buildRoutes(this.config, this.patterns, ctx.topology, () => ctx.now());
    this.subscriber = new DurableSubscriber({
      protocolVersion: this.config.broker?.protocolVersion,
      name: this.name,
      type: 'mqtt',
      broker: this.broker,
      brokerField: this.config.broker ? `sources.mqtt[${this.name}].broker` : 'broker',
      clientId: this.clientId,
      qos: this.config.qos,
      filters: this.filters,
      decode: (packet) => this.decode(packet),
      ctx,
      log: this.log,
      reconnectPeriodMs: this.opts.reconnectPeriodMs,
      pauseMinMs: this.opts.pauseMinMs,
      connectWaitMs: this.opts.connectWaitMs,
    });
    await this.subscriber.start();
  }

  private decode(packet: IPublishPacket): RawReading[] {
    const ctx = this.ctx!;
    const topic = packet.topic;
    this.lastDataAt = ctx.now();
    const found = routeOf(this.routes, ctx.topology, topic);
    if (found) {
      const { route, topicSensor } = found;
      // A retained message delivered on subscribing is an old value; without a time of its own it
      // would be stored at arrival time, i.e. wrong. Skip it (the next live message counts).
      if (packet.retain && route.decoder.usesArrivalTime) {
        this.retainedSkipped++;
        return [];
      }
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      const { readings, problems } = route.decoder.decode({ topic, payload, topicSensor });
      if (problems.length) {
        this.undecodable += problems.length;
        ctx.reject(this.name, { ...oneRejection(topic, problems), raw: rawForRejection(payload) });
      }
      this.readings += readings.length;
      return readings;
    }
    // Only possible with overlapping subscriptions in a persistent session from an older config.
    this.unmatched++;
    this.undecodable++;
    ctx.reject(this.name, { origin: topic, reason: UNMATCHED_TOPIC, raw: rawForRejection(packet.payload as Buffer) });
    return [];
  }

  /** The MQTT client (diagnostics and tests). */
  get client(): MqttClient | undefined { return this.subscriber?.client; }

  async stop(): Promise<void> {
    await this.subscriber?.stop();
  }

  status(): SourceStatus {
    const s = this.subscriber;
    const acks = s?.ackStats();
    return {
      name: this.name,
      type: 'mqtt',
      state: s?.state ?? 'stopped',
      lastDataAt: this.lastDataAt,
      detail: {
        url: brokerUrlForDisplay(this.broker.url),
        clientId: this.clientId,
        filters: this.filters,
        qos: this.config.qos,
        connections: s?.connections ?? 0,
        paused: s?.acks?.paused ?? false,
        messages: acks?.messages ?? 0,
        readings: this.readings,
        undecodable: this.undecodable,
        unmatchedTopics: this.unmatched,
        retainedSkipped: this.retainedSkipped,
        acked: acks?.acked ?? 0,
        pendingAcks: s?.acks?.pendingAcks ?? 0,
        refusedSubmits: acks?.refusedSubmits ?? 0,
        backpressurePauses: acks?.pauses ?? 0,
        droppedQos0Readings: acks?.droppedQos0Readings ?? 0,
        lastError: s?.lastError,
      },
    };
  }
}

/** The registry's entry point (index.ts load): one source per `sources.mqtt[]` entry. */
export function createSource(config: MqttSourceConfig, env: SourceEnvironment): MqttSource {
  return new MqttSource(config, env.platformBroker);
}
