/**
 * A feed of the telemetry on the bus, decoded once for every reader in the process. In `aquawatch
 * start` and `aquawatch server` the analytics worker's bus subscription is the feed, and the live
 * gateway listens to it (one subscription, one decode). `BusTelemetrySubscriber` is a feed of its own
 * for a process without analytics (the dashboard benchmark's gateway, the gateway's tests).
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Reading } from '../model/reading.ts';
import { TELEMETRY_FILTER } from './topics.ts';
import { checkTelemetry } from './messages/telemetry.ts';
import { emptyDropCounts, type BusDropCounts } from './messages/trust.ts';

export type ReadingsListener = (readings: readonly Reading[]) => void;

export interface TelemetryFeed {
  /** Call `listener` with each decoded telemetry batch; returns the function that stops it. */
  onReadings(listener: ReadingsListener): () => void;
  /** The feed's bus connection is up. */
  readonly connected: boolean;
  /** Messages (readings, for `future`) its checks dropped (core/bus/messages), by reason. */
  readonly dropped: BusDropCounts;
}

/** The listeners of a feed: one throwing listener neither stops the others nor the feed. */
export class ReadingsListeners {
  private readonly listeners = new Set<ReadingsListener>();
  constructor(private readonly log: Logger) {}

  add(listener: ReadingsListener): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  emit(readings: readonly Reading[]): void {
    for (const l of this.listeners) {
      try { l(readings); } catch (e) { this.log.warn({ err: (e as Error).message }, 'telemetry listener failed'); }
    }
  }
}

export interface BusTelemetrySubscriberOptions {
  brokerUrl: string;
  /** Credentials and TLS: build with core/bus/mqtt-client.ts mqttConnectOptions. */
  connect?: IClientOptions;
  clientId: string;
  /** A reading timed further than this ahead of the clock is dropped (config ingest.maxFutureMs). Default 5 min. */
  maxFutureMs?: number;
  log: Logger;
}

/** A bus client subscribed to the telemetry (QoS 0, clean session: live values only). */
export class BusTelemetrySubscriber implements TelemetryFeed {
  private client?: MqttClient;
  private readonly listeners: ReadingsListeners;
  /** Client errors (connection, subscription). */
  errors = 0;
  private readonly drops = emptyDropCounts();

  constructor(private readonly o: BusTelemetrySubscriberOptions) {
    this.listeners = new ReadingsListeners(o.log);
  }

  get connected(): boolean { return this.client?.connected ?? false; }

  get dropped(): BusDropCounts { return { ...this.drops }; }

  onReadings(listener: ReadingsListener): () => void { return this.listeners.add(listener); }

  /** Connect and subscribe; resolves once subscribed, or after `timeoutMs` (it keeps trying then). */
  start(timeoutMs = 10_000): Promise<void> {
    const { o } = this;
    const client = mqtt.connect(o.brokerUrl, { ...o.connect, clientId: o.clientId, clean: true, reconnectPeriod: 1000 });
    this.client = client;
    const clock = { now: Date.now, maxFutureMs: o.maxFutureMs ?? 5 * 60_000 };
    client.on('message', (_topic, payload) => {
      const checked = checkTelemetry(payload, clock);
      if (!checked.ok) {
        this.drops[checked.reason]++;
        o.log.warn({ reason: checked.reason, err: checked.detail }, 'telemetry message dropped');
        return;
      }
      this.drops.future += checked.future;
      this.listeners.emit(checked.readings);
    });
    client.on('error', (e) => { this.errors++; o.log.warn({ err: e.message }, 'telemetry bus client error'); });
    const subscribed = new Promise<void>((resolve) => {
      client.on('connect', () => {
        client.subscribe(TELEMETRY_FILTER, { qos: 0 }, (e) => {
          if (e) { this.errors++; o.log.warn({ err: e.message }, 'telemetry subscription failed'); return; }
          resolve();
        });
      });
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        o.log.warn({ broker: o.brokerUrl, waitMs: timeoutMs }, 'telemetry bus not reachable yet; readings start when it is');
        resolve();
      }, timeoutMs);
    });
    return Promise.race([subscribed, timeout]).finally(() => clearTimeout(timer));
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync(true).catch(() => {});
  }
}
