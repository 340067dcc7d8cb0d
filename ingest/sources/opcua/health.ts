/**
 * What the OPC UA source tells the platform about itself: its state (and the session-state gauge),
 * its conditions (session lost, subscription silent, certificate untrusted, insecure), its sensors
 * online or offline, and the liveness watchdog that finds a stuck first connection and a
 * subscription gone quiet.
 */
import type { Logger } from 'pino';
import type { Gauge } from 'prom-client';
import type { Metrics } from '../../metrics.ts';
import type { SourceContext, SourceState } from '../types.ts';
import { monotonicMs } from '../../../core/time/monotonic.ts';

/** Not connected this long after an attempt began: reported as session lost (the first attempt may hang in retries). */
const CONNECT_ALARM_AFTER_MS = 10_000;

const SESSION_STATE_METRIC: Record<SourceState, number> = { stopped: 0, disconnected: 0, connecting: 1, connected: 2, silent: 3 };

/** The OPC UA source's own gauge, registered by the source rather than by the service. */
export function opcuaSessionStateGauge(metrics: Metrics): Gauge<'source'> {
  return metrics.gauge('aquawatch_opcua_session_state', 'OPC UA session: 0 disconnected, 1 connecting, 2 connected, 3 subscription silent', ['source']);
}

export interface SourceHealthOptions {
  name: string;
  endpoint: string;
  silenceTimeoutMs: number;
  ctx: () => SourceContext | undefined;
  log: () => Logger | undefined;
  stopping: () => boolean;
  /** Sensors with a monitored item now, and every sensor planned (the offline report names all). */
  monitoredSensors: () => string[];
  plannedSensors: () => string[];
  /**
   * The watchdog's clock (ms). Monotonic, not the wall clock: a step of the server's clock (NTP, an
   * RTC fixed) must neither raise a false silence and rebuild the subscription (forwards) nor hide a
   * real silence for the length of the step (backwards) (F17). Tests pass a fake one.
   * Default core/time/monotonic.ts.
   */
  monotonicClock?: () => number;
}

/** What the watchdog needs to know of the connection, and the repair it may ask for. */
export interface ConnectionView {
  hasClient: boolean;
  hasSession: boolean;
  isReconnecting: boolean;
  rebuildSubscription(reason: string): void;
}

export class SourceHealth {
  state: SourceState = 'stopped';
  lastError?: string;
  /** Monotonic time of the last publish response (data or keep-alive), for the silence watchdog. */
  private lastActivityAt = 0;
  /** When the current connection attempt began (monotonic). */
  private connectingSince = 0;
  private silentSince = 0;
  private silenceRepairTried = false;
  private sensorsOnline: boolean | undefined;
  private readonly raised = new Set<string>();

  private readonly now: () => number;

  constructor(private readonly o: SourceHealthOptions) {
    this.now = o.monotonicClock ?? monotonicMs;
  }

  /** A connection attempt begins: a first connection stuck for too long is reported. */
  connectionAttemptStarted(): void {
    this.connectingSince = this.now();
  }

  /** A new subscription replaced the old one: the silence watchdog counts from now. */
  subscriptionRenewed(): void {
    this.lastActivityAt = this.now();
  }

  setState(state: SourceState): void {
    this.state = state;
    const metrics = this.o.ctx()?.metrics;
    if (!metrics) return;
    opcuaSessionStateGauge(metrics).labels(this.o.name).set(SESSION_STATE_METRIC[state]);
    metrics.sourceConnected.labels(this.o.name, 'opcua').set(state === 'connected' ? 1 : 0);
  }

  sessionUp(): void {
    const ctx = this.o.ctx();
    if (this.o.stopping() || !ctx) return;
    this.lastActivityAt = this.now();
    this.silentSince = 0;
    this.lastError = undefined;
    this.setState('connected');
    this.clear('session_lost', `OPC UA source ${this.o.name}: session with ${this.o.endpoint} established`);
    this.clear('certificate_untrusted', `OPC UA source ${this.o.name}: server certificate trusted`);
    const monitored = this.o.monitoredSensors();
    if (this.sensorsOnline !== true && monitored.length) {
      ctx.sensorsStatus(this.o.name, [...monitored], 'online', ctx.now());
      this.sensorsOnline = true;
    }
  }

  sessionDown(reason: string): void {
    const ctx = this.o.ctx();
    if (this.o.stopping() || !ctx) return;
    this.lastError = reason;
    this.setState('disconnected');
    this.raise('session_lost', 'source.session_lost', 'high', `OPC UA source ${this.o.name}: no session with ${this.o.endpoint}: ${reason}`,
      { endpoint: this.o.endpoint, reason });
    if (this.sensorsOnline !== false) {
      const sensors = this.o.plannedSensors();
      if (sensors.length) ctx.sensorsStatus(this.o.name, sensors, 'offline', ctx.now());
      this.sensorsOnline = false;
    }
  }

  /** A publish response (data or keep-alive) arrived. */
  activity(): void {
    this.lastActivityAt = this.now();
    if (this.state === 'silent' || this.raised.has(this.conditionId('subscription_silent'))) this.silenceEnded();
  }

  /** Runs on a timer: a stuck first connection, and a subscription gone quiet. */
  checkLiveness(connection: ConnectionView): void {
    if (this.o.stopping() || !this.o.ctx()) return;
    const now = this.now();
    if (this.state === 'connecting' && connection.hasClient && !connection.hasSession && now - this.connectingSince > CONNECT_ALARM_AFTER_MS) {
      this.sessionDown(`not connected to ${this.o.endpoint} after ${Math.round((now - this.connectingSince) / 1000)} s`);
      return;
    }
    const quietFor = now - this.lastActivityAt;
    if (this.state === 'connected' && quietFor > this.o.silenceTimeoutMs) {
      this.silentSince = now;
      this.silenceRepairTried = false;
      this.setState('silent');
      this.o.log()?.warn({ quietForMs: quietFor }, 'OPC UA subscription silent: no data and no keep-alive');
      this.raise('subscription_silent', 'source.silent', 'medium',
        `OPC UA source ${this.o.name}: no data and no keep-alive from ${this.o.endpoint} for ${Math.round(quietFor / 1000)} s`,
        { endpoint: this.o.endpoint, silenceTimeoutMs: this.o.silenceTimeoutMs });
      return;
    }
    // Still silent one more timeout later while the connection claims to be fine: the server may have
    // dropped the subscription without telling us. Try a new one (once per silent period).
    if (this.state === 'silent' && !this.silenceRepairTried && now - this.silentSince > this.o.silenceTimeoutMs
      && connection.hasSession && !connection.isReconnecting) {
      this.silenceRepairTried = true;
      connection.rebuildSubscription('subscription silent');
    }
  }

  private silenceEnded(): void {
    if (this.state === 'silent') this.setState('connected');
    this.silentSince = 0;
    this.o.log()?.info('OPC UA subscription delivers again');
    this.clear('subscription_silent', `OPC UA source ${this.o.name}: subscription delivers again`);
  }

  private conditionId(kind: string): string { return `opcua.${kind}:${this.o.name}`; }

  raise(kind: string, type: string, priority: 'medium' | 'high', message: string, evidence: Record<string, unknown>): void {
    const id = this.conditionId(kind);
    const ctx = this.o.ctx();
    if (this.raised.has(id) || !ctx) return;
    this.raised.add(id);
    ctx.condition({ id, type, state: 'raise', ts: ctx.now(), priority, message, evidence: { source: this.o.name, ...evidence } });
  }

  clear(kind: string, message: string): void {
    const id = this.conditionId(kind);
    const ctx = this.o.ctx();
    if (!this.raised.has(id) || !ctx) return;
    this.raised.delete(id);
    const type = kind === 'subscription_silent' ? 'source.silent' : `source.${kind}`;
    ctx.condition({ id, type, state: 'clear', ts: ctx.now(), message, evidence: { source: this.o.name } });
  }
}
