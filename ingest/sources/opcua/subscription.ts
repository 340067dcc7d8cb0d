/**
 * The OPC UA source's subscription: created on a session with one monitored item per planned
 * sensor (in batches, monitored-items.ts), each publish response turned into readings (values.ts),
 * and rebuilt when the server terminated it or it went silent.
 */
import type { ClientSession, ClientSubscription, NotificationMessage, StatusCode } from 'node-opcua';
import type { Logger } from 'pino';
import type { RawReading } from '../../../core/model/reading.ts';
import type { UndecodableInput } from '../../pipeline/contract.ts';
import type { OpcuaSourceConfig } from './config.ts';
import { createMonitoredItems, type PlannedItem } from './monitored-items.ts';
import { notificationReadings } from './values.ts';
import { DISCONNECT_TIMEOUT_MS, withTimeout } from './timeout.ts';

/** Keep the subscription on the server across outages of up to this long. */
const SUBSCRIPTION_LIFETIME_MS = 10 * 60_000;
/** Notifications per publish response: keeps each response (and each submit) a moderate size. */
const MAX_NOTIFICATIONS_PER_PUBLISH = 1_000;

export interface SubscriptionOptions {
  config: OpcuaSourceConfig;
  plan: () => PlannedItem[];
  sensorByNode: () => Map<string, string>;
  log: () => Logger | undefined;
  stopping: () => boolean;
  now: () => number;
  /** The session the subscription belongs to now (undefined between connections). */
  session: () => ClientSession | undefined;
  /** node-opcua is repairing the connection: a failure now is not the items' fault. */
  reconnecting: () => boolean;
  rejectSensor(sensor: string, nodeId: string, reason: string): void;
  acceptedSensor(sensor: string): void;
  /** A publish response arrived (data or keep-alive). */
  activity(): void;
  /** A new subscription replaced the old one: the silence watchdog counts from now. */
  renewed(): void;
  /** Readings of one publish response, and its values that could not become readings. */
  readings(readings: RawReading[], rejected: UndecodableInput[]): void;
  error(message: string): void;
}

export class OpcuaSubscription {
  current?: ClientSubscription;
  monitoredSensors: string[] = [];
  rebuilds = 0;
  /** Notifications with a non-good status and no value (e.g. BadWaitingForInitialData): counted, not stored. */
  statusWithoutValue = 0;
  private rebuilding = false;

  constructor(private readonly o: SubscriptionOptions) {}

  /** A new subscription on `session` with every planned item; becomes `current` only through open(). */
  async create(session: ClientSession): Promise<ClientSubscription> {
    const { publishingIntervalMs, silenceTimeoutMs } = this.o.config;
    // Keep-alives about three times per silence timeout, so that one lost keep-alive is not "silent".
    const maxKeepAliveCount = Math.max(1, Math.min(1_000, Math.floor(silenceTimeoutMs / (3 * publishingIntervalMs))));
    const lifetimeCount = Math.max(3 * maxKeepAliveCount, Math.ceil(SUBSCRIPTION_LIFETIME_MS / publishingIntervalMs));
    const subscription = await session.createSubscription2({
      requestedPublishingInterval: publishingIntervalMs,
      requestedMaxKeepAliveCount: maxKeepAliveCount,
      requestedLifetimeCount: lifetimeCount,
      maxNotificationsPerPublish: MAX_NOTIFICATIONS_PER_PUBLISH,
      publishingEnabled: true,
      priority: 10,
    });
    const keepAlivePeriod = subscription.publishingInterval * subscription.maxKeepAliveCount;
    if (keepAlivePeriod >= silenceTimeoutMs) {
      this.o.log()?.warn({ keepAlivePeriod, silenceTimeoutMs }, 'the server revised the keep-alive period beyond silenceTimeoutMs: expect false "silent" reports');
    }
    this.watch(subscription);
    try {
      this.monitoredSensors = await createMonitoredItems(subscription, this.o.plan(), this.o.config, {
        reject: (sensor, nodeId, reason) => this.o.rejectSensor(sensor, nodeId, reason),
        accepted: (sensor) => this.o.acceptedSensor(sensor),
        connectionLost: () => Boolean(this.o.reconnecting() || !subscription.hasSession || this.o.stopping()),
      });
    } catch (err) {
      subscription.removeAllListeners('raw_notification');
      await withTimeout(subscription.terminate(), DISCONNECT_TIMEOUT_MS).catch(() => undefined);
      throw err;
    }
    return subscription;
  }

  /** Subscribe on a new session. */
  async open(session: ClientSession): Promise<void> {
    this.current = await this.create(session);
  }

  /** Forget the subscription of a connection being torn down. */
  forget(): void {
    this.current?.removeAllListeners('raw_notification');
    this.current = undefined;
  }

  /** node-opcua restored the session; its subscription should have come back with it. */
  checkAfterReconnection(): void {
    const sub = this.current;
    if (sub && !sub.isActive && this.o.session()) void this.rebuild('subscription did not survive the reconnection');
  }

  private watch(subscription: ClientSubscription): void {
    const log = () => this.o.log();
    subscription.on('raw_notification', (message: NotificationMessage) => this.onNotification(subscription, message));
    subscription.on('status_changed', (status: StatusCode) => log()?.warn({ status: status.toString() }, 'subscription status changed'));
    subscription.on('subscriptionId_changed', (id: number, previous: number) => {
      log()?.info({ subscriptionId: id, previous }, 'subscription recreated on the server (server restarted or subscription expired)');
    });
    subscription.on('internal_error', (err: Error) => log()?.error({ err: err.message }, 'subscription internal error'));
    subscription.on('terminated', () => {
      if (this.o.stopping() || this.current !== subscription || !this.o.session() || this.o.reconnecting()) return;
      setImmediate(() => void this.rebuild('subscription terminated'));
    });
  }

  /**
   * Replace the subscription with a new one. The new one is created first, so that a server that
   * does not answer leaves the old one (and node-opcua's own repair) in place.
   */
  async rebuild(reason: string): Promise<void> {
    const session = this.o.session();
    if (this.rebuilding || this.o.stopping() || !session) return;
    this.rebuilding = true;
    const old = this.current;
    this.o.log()?.warn({ reason }, 'rebuilding the OPC UA subscription');
    try {
      const fresh = await this.create(session);
      if (this.o.stopping() || this.o.session() !== session) {
        await withTimeout(fresh.terminate(), DISCONNECT_TIMEOUT_MS).catch(() => undefined);
        return;
      }
      this.current = fresh;
      this.rebuilds++;
      this.o.renewed();
      if (old) {
        old.removeAllListeners();
        void withTimeout(old.terminate(), DISCONNECT_TIMEOUT_MS).catch(() => undefined);
      }
    } catch (err) {
      this.o.error(`subscription rebuild failed: ${(err as Error).message}`);
      this.o.log()?.error({ err: (err as Error).message }, 'cannot rebuild the OPC UA subscription');
    } finally {
      this.rebuilding = false;
    }
  }

  /** One publish response (data or keep-alive) → one batch of readings. */
  private onNotification(subscription: ClientSubscription, message: NotificationMessage): void {
    if (this.o.stopping()) return;
    this.o.activity();
    const { readings, rejected, statusWithoutValue } = notificationReadings(message,
      (clientHandle) => subscription.monitoredItems[clientHandle]?.itemToMonitor.nodeId?.toString(), this.o.sensorByNode(), this.o.now);
    this.statusWithoutValue += statusWithoutValue;
    this.o.readings(readings, rejected);
  }
}
