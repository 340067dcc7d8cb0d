/**
 * OPC UA source: subscribes to the plant SCADA's variables (outlet flow and pressure, tank levels, pump
 * states, chlorine...) and turns every data change into a RawReading with the server's source timestamp
 * and a quality from its StatusCode.
 *
 * What it does, in the order a new engineer will want to find it:
 * - start(): plans one monitored item per topology sensor with `source: {type: opcua, server: <name>}`,
 *   prepares the client PKI (trust store) and launches the connection loop; it does not wait for the
 *   server, because a plant that is down at start-up must not stop the rest of ingest.
 * - connection loop: one OPCUAClient per attempt. node-opcua reconnects by itself after a broken
 *   connection (maxRetry Infinity, delays ≤ 2 s) and restores the session and subscription, recreating
 *   them when the server restarted. When a whole attempt fails (certificate not trusted, user refused,
 *   session closed by the server) the loop starts over with a fresh client after RETRY_DELAY_MS.
 * - subscription: monitored items are created in batches of `batchSize` so that 10,000 items never make
 *   one oversized request; every publish response becomes one `ctx.submit` call.
 * - watchdog: a subscription that delivers neither data nor keep-alive for `silenceTimeoutMs` is reported
 *   silent; if it stays silent while the session looks healthy, the subscription is rebuilt.
 *
 * Beside it: monitored-items.ts plans the items and creates them on a subscription; values.ts turns
 * a publish response into readings; submit-queue.ts hands them to the pipeline in order, holding them
 * under backpressure; identity.ts makes the session's user identity; trust.ts keeps the client PKI
 * (which server certificates are trusted) and reports node-opcua's verdicts.
 */
import { isAbsolute, join, resolve } from 'node:path';
import {
  OPCUAClient, UserTokenType,
  type ClientSession, type ClientSubscription, type NotificationMessage, type StatusCode, type UserIdentityInfo,
} from 'node-opcua';
import type { Logger } from 'pino';
import type { Gauge } from 'prom-client';
import type { Metrics } from '../../metrics.ts';
import type { OpcuaAddress, OpcuaSourceConfig } from './config.ts';
import { opcuaInsecurity } from './config.ts';
import { addressOf } from '../address.ts';
import { SECURITY_MODE, SECURITY_POLICY } from '../../../core/opcua-security.ts';
import { notificationReadings } from './values.ts';
import { ServerTrustStore, rejectedFolderOf, trustedFolderOf } from './trust.ts';
import { loadIdentity } from './identity.ts';
import { createMonitoredItems, planItems, type PlannedItem } from './monitored-items.ts';
import { SubmitQueue } from './submit-queue.ts';
import type { Source, SourceContext, SourceEnvironment, SourceState, SourceStatus } from '../types.ts';

export interface OpcuaSourceOptions {
  /** Base folder for relative paths (pkiFolder, certificate files). */
  dataDir: string;
  /** Demo mode trusts unknown server certificates automatically (with a warning); production never does. */
  demoMode: boolean;
}

/** Pause before a new attempt after a whole connection attempt failed. */
export const RETRY_DELAY_MS = 2_000;
/** node-opcua's own reconnection: forever, quickly. */
const CONNECTION_STRATEGY = { maxRetry: Infinity, initialDelay: 250, maxDelay: 2_000, randomisationFactor: 0.1 };
/** Not connected this long after an attempt began: reported as session lost (the first attempt may hang in retries). */
const CONNECT_ALARM_AFTER_MS = 10_000;
/** Keep the session and the subscription on the server across outages of up to this long. */
const SESSION_TIMEOUT_MS = 10 * 60_000;
const SUBSCRIPTION_LIFETIME_MS = 10 * 60_000;
/** Notifications per publish response: keeps each response (and each submit) a moderate size. */
const MAX_NOTIFICATIONS_PER_PUBLISH = 1_000;
/** Bound on how long stop() waits for the server to answer the session close. */
const DISCONNECT_TIMEOUT_MS = 5_000;

const SESSION_STATE_METRIC: Record<SourceState, number> = { stopped: 0, disconnected: 0, connecting: 1, connected: 2, silent: 3 };

/** The OPC UA source's own gauge, registered by the source rather than by the service. */
export function opcuaSessionStateGauge(metrics: Metrics): Gauge<'source'> {
  return metrics.gauge('aquawatch_opcua_session_state', 'OPC UA session: 0 disconnected, 1 connecting, 2 connected, 3 subscription silent', ['source']);
}

// ---------------------------------------------------------------------------------------------
// The source
// ---------------------------------------------------------------------------------------------

export class OpcuaSource implements Source {
  readonly type = 'opcua' as const;
  readonly name: string;

  private readonly pkiFolder: string;
  private ctx?: SourceContext;
  private log?: Logger;

  private state: SourceState = 'stopped';
  private lastDataAt: number | null = null;
  /** Wall-clock time of the last publish response (data or keep-alive), for the silence watchdog. */
  private lastActivityAt = 0;
  private silentSince = 0;
  private silenceRepairTried = false;
  private connectingSince = 0;
  private lastError?: string;

  private plan: PlannedItem[] = [];
  private sensorByNode = new Map<string, string>();
  private readonly rejectedSensors = new Set<string>();
  private monitoredSensors: string[] = [];
  private sensorsOnline: boolean | undefined;
  private reconnects = 0;
  private subscriptionRebuilds = 0;
  /** Notifications with a non-good status and no value (e.g. BadWaitingForInitialData): counted, not stored. */
  private statusWithoutValue = 0;
  private readonly autoTrusted: string[] = [];
  private refusedCertificate?: { thumbprint: string; status: string };

  private identity: UserIdentityInfo = { type: UserTokenType.Anonymous };
  private trustStore?: ServerTrustStore;
  private client?: OPCUAClient;
  private session?: ClientSession;
  private subscription?: ClientSubscription;
  private rebuilding = false;

  private stopping = false;
  private loop?: Promise<void>;
  private endConnection?: () => void;
  private wakeRetry?: () => void;
  private watchdog?: NodeJS.Timeout;
  private readonly raised = new Set<string>();

  private readonly submits = new SubmitQueue(
    () => { const ctx = this.ctx; return ctx && ((readings) => ctx.submit(this.name, readings)); },
    () => this.stopping,
    () => this.log,
  );

  constructor(private readonly config: OpcuaSourceConfig, private readonly opts: OpcuaSourceOptions) {
    this.name = config.name;
    const at = `sources.opcua (${config.name})`;
    if (config.securityMode === 'None' && config.securityPolicy !== 'None') {
      throw new Error(`${at}.securityPolicy: must be None when securityMode is None (got ${config.securityPolicy})`);
    }
    if (config.securityMode !== 'None' && config.securityPolicy === 'None') {
      throw new Error(`${at}.securityPolicy: securityMode ${config.securityMode} needs a policy (Basic256Sha256, Aes128_Sha256_RsaOaep or Aes256_Sha256_RsaPss)`);
    }
    this.pkiFolder = this.resolvePath(config.pkiFolder);
  }

  // ----- Source contract -----------------------------------------------------------------------

  async start(ctx: SourceContext): Promise<void> {
    if (this.ctx) throw new Error(`OPC UA source ${this.name}: already started`);
    this.ctx = ctx;
    this.log = ctx.log.child({ component: 'opcua', source: this.name });
    this.stopping = false;
    try {
      this.identity = loadIdentity(this.config, (p) => this.resolvePath(p));
      ({ plan: this.plan, sensorByNode: this.sensorByNode } = planItems(
        ctx.topology.sensorsOfSource('opcua').filter((s) => addressOf<OpcuaAddress>(s, 'opcua')!.server === this.name),
        this.config, (sensor, nodeId, reason) => this.rejectSensor(sensor, nodeId, reason)));
      this.trustStore = new ServerTrustStore(this.pkiFolder, this.opts.demoMode, {
        autoAccepted: (thumbprint) => {
          this.autoTrusted.push(thumbprint);
          this.log?.warn({ thumbprint, endpoint: this.config.endpoint, trustedFolder: this.trustedFolder },
            'demo mode: trusting an unknown OPC UA server certificate automatically; in production copy it into the trusted folder instead');
        },
        refused: (thumbprint, status) => { this.refusedCertificate = { thumbprint, status }; },
      });
      // Production accepted an insecure session only because the config says allowInsecure: keep
      // that visible as a standing warning for as long as the source runs.
      const insecure = opcuaInsecurity(this.config);
      if (!this.opts.demoMode && this.config.allowInsecure && insecure) {
        this.raise('insecure', 'source.insecure', 'medium', `OPC UA server ${this.name} is read with ${insecure} (allowInsecure: true): values could be forged on the plant network`, { endpoint: this.config.endpoint });
      }
      this.trustStore.removeRejectedCopiesOfTrusted(this.log);
      await this.trustStore.initialize();
      await this.trustStore.trustFiles(this.config.trustedServerCertificates.map((file, i) => ({
        file: this.resolvePath(file), field: `sources.opcua (${this.name}).trustedServerCertificates[${i}]`,
      })), this.log);
    } catch (err) {
      await this.trustStore?.dispose().catch(() => undefined);
      this.trustStore = undefined;
      this.ctx = undefined;
      throw err;
    }
    if (this.plan.length === 0) this.log.warn('no sensor in the topology reads from this OPC UA source');
    if (this.config.auth.type === 'username' && this.config.securityMode === 'None') {
      this.log.warn('username authentication without a secure channel: the password is protected only if the server\'s user token policy encrypts it');
    }
    this.setState('connecting');
    this.connectingSince = Date.now();
    const period = Math.max(100, Math.min(1_000, Math.floor(this.config.silenceTimeoutMs / 4)));
    this.watchdog = setInterval(() => this.checkLiveness(), period);
    this.watchdog.unref();
    this.loop = this.runConnectionLoop();
  }

  async stop(): Promise<void> {
    if (!this.ctx) return;
    this.stopping = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
    this.wakeRetry?.();
    this.endConnection?.();
    // A connect() still retrying towards an unreachable server ends only when the client is disconnected.
    await this.teardownClient();
    await withTimeout(this.loop ?? Promise.resolve(), DISCONNECT_TIMEOUT_MS * 2).catch((err: Error) => this.log?.warn({ err: err.message }, 'connection loop did not end in time'));
    await this.submits.settled();
    await this.trustStore?.dispose().catch(() => undefined);
    this.trustStore = undefined;
    this.setState('stopped');
    this.ctx = undefined;
  }

  status(): SourceStatus {
    return {
      name: this.name,
      type: 'opcua',
      state: this.state,
      lastDataAt: this.lastDataAt,
      detail: {
        endpoint: this.config.endpoint,
        securityMode: this.config.securityMode,
        securityPolicy: this.config.securityPolicy,
        monitoredItems: this.monitoredSensors.length,
        rejectedItems: this.rejectedSensors.size,
        reconnects: this.reconnects,
        subscriptionRebuilds: this.subscriptionRebuilds,
        droppedReadings: this.submits.dropped,
        statusWithoutValue: this.statusWithoutValue,
        pkiFolder: this.pkiFolder,
        ...(this.autoTrusted.length ? { autoTrustedCertificates: [...this.autoTrusted] } : {}),
        ...(this.lastError ? { lastError: this.lastError } : {}),
      },
    };
  }

  // ----- configuration ---------------------------------------------------------------------------

  private resolvePath(p: string): string {
    return isAbsolute(p) ? p : resolve(this.opts.dataDir, p);
  }

  private get trustedFolder(): string { return trustedFolderOf(this.pkiFolder); }
  private get rejectedFolder(): string { return rejectedFolderOf(this.pkiFolder); }

  private rejectSensor(sensor: string, nodeId: string, reason: string): void {
    if (this.rejectedSensors.has(sensor)) return;
    this.rejectedSensors.add(sensor);
    this.log?.warn({ sensor, nodeId, reason }, 'monitored item rejected');
    this.ctx?.reject(this.name, { origin: nodeId, reason, raw: JSON.stringify({ sensor, nodeId }) });
  }

  // ----- connection loop -------------------------------------------------------------------------

  private async runConnectionLoop(): Promise<void> {
    let first = true;
    while (!this.stopping) {
      if (!first) await this.trustStore?.reload(this.log);
      first = false;
      this.connectingSince = Date.now();
      this.refusedCertificate = undefined;
      try {
        await this.connectOnce();
        if (this.stopping) break;
        // Connected: node-opcua now repairs broken connections itself. We come back here only when the
        // session is closed for good (the server closed it, or the client gave up) or on stop().
        await new Promise<void>((resolveEnd) => { this.endConnection = resolveEnd; });
      } catch (err) {
        if (!this.stopping) this.onAttemptFailed(err as Error);
      }
      this.endConnection = undefined;
      await this.teardownClient();
      if (this.stopping) break;
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, RETRY_DELAY_MS);
        this.wakeRetry = () => { clearTimeout(timer); wake(); };
      });
      this.wakeRetry = undefined;
    }
  }

  private async connectOnce(): Promise<void> {
    const client = OPCUAClient.create({
      applicationName: 'aquawatch-ingest',
      clientName: `aquawatch-${this.name}`,
      clientCertificateManager: this.trustStore,
      securityMode: SECURITY_MODE[this.config.securityMode],
      securityPolicy: SECURITY_POLICY[this.config.securityPolicy],
      connectionStrategy: CONNECTION_STRATEGY,
      endpointMustExist: false,
      requestedSessionTimeout: SESSION_TIMEOUT_MS,
      // The subscription's keep-alive already proves the session alive.
      keepSessionAlive: false,
    });
    this.client = client;
    this.watchClient(client);
    // The state stays as it is ('connecting' at first, 'disconnected' after a failure) until a session is up.
    await client.connect(this.config.endpoint);
    if (this.stopping || this.client !== client) return;
    const session = await client.createSession(this.identity);
    if (this.stopping || this.client !== client) return;
    this.session = session;
    this.watchSession(client, session);
    this.subscription = await this.subscribe(session);
    if (this.stopping || this.client !== client) return;
    this.log?.info({ endpoint: this.config.endpoint, monitoredItems: this.monitoredSensors.length, rejectedItems: this.rejectedSensors.size }, 'OPC UA source connected');
    this.onSessionUp();
  }

  private watchClient(client: OPCUAClient): void {
    const current = () => this.client === client && !this.stopping;
    client.on('backoff', (count: number, delay: number) => {
      if (!current()) return;
      this.log?.debug({ count, delay }, 'connection attempt failed, retrying');
      if (count >= 1) this.onSessionDown(`cannot reach ${this.config.endpoint} (attempt ${count}), retrying`);
    });
    client.on('connection_lost', () => {
      if (!current()) return;
      this.log?.warn({ endpoint: this.config.endpoint }, 'connection to OPC UA server lost; reconnecting');
      this.onSessionDown('connection to the server lost');
    });
    client.on('reconnection_attempt_has_failed', (err: Error, message: string) => {
      if (!current()) return;
      this.lastError = `${message}: ${err.message}`;
    });
    client.on('connection_reestablished', () => {
      if (!current()) return;
      this.reconnects++;
      this.log?.info({ reconnects: this.reconnects }, 'connection to OPC UA server re-established');
      this.afterReconnection();
    });
    client.on('close', (err?: Error | null) => {
      if (!current()) return;
      this.log?.warn({ err: err?.message }, 'OPC UA client closed; starting over');
      this.onSessionDown(err?.message ?? 'client closed');
      this.endConnection?.();
    });
  }

  private watchSession(client: OPCUAClient, session: ClientSession): void {
    const current = () => this.client === client && this.session === session && !this.stopping;
    session.on('session_restored', () => { if (current()) this.afterReconnection(); });
    session.on('session_closed', (status: StatusCode) => {
      if (!current()) return;
      this.log?.warn({ status: status?.toString() }, 'OPC UA session closed; starting over');
      this.onSessionDown(`session closed (${status?.toString() ?? 'unknown'})`);
      this.endConnection?.();
    });
    session.on('keepalive_failure', () => { if (current()) this.log?.warn('session keep-alive failed'); });
  }

  /** node-opcua restored the session; its subscription should have come back with it. */
  private afterReconnection(): void {
    const sub = this.subscription;
    if (sub && !sub.isActive && this.session) {
      void this.rebuildSubscription('subscription did not survive the reconnection');
    }
    this.onSessionUp();
  }

  private onAttemptFailed(err: Error): void {
    let reason = err.message.split('\n')[0];
    if (this.refusedCertificate || /BadCertificateUntrusted|Certificate verification failed/i.test(reason)) {
      const thumbprint = this.refusedCertificate?.thumbprint;
      const status = this.refusedCertificate?.status ?? 'BadCertificateUntrusted';
      reason = `server certificate of ${this.config.endpoint}${thumbprint ? ` (SHA-1 ${thumbprint})` : ''} is not trusted (${status}). `
        + `It was filed in ${this.rejectedFolder}; to trust it, move it into ${this.trustedFolder} or list it in trustedServerCertificates`;
      this.raise('certificate_untrusted', 'source.certificate_untrusted', 'high', `OPC UA source ${this.name}: ${reason}`,
        { endpoint: this.config.endpoint, thumbprint, status, trustedFolder: this.trustedFolder, rejectedFolder: this.rejectedFolder });
    } else if (/BadSecurityChecksFailed|BadCertificate/.test(reason)) {
      reason += ` (does the server trust this client's certificate ${join(this.pkiFolder, 'own', 'certs', 'client_certificate.pem')}?)`;
    }
    this.log?.error({ endpoint: this.config.endpoint, reason }, 'OPC UA connection attempt failed');
    this.onSessionDown(reason);
  }

  private async teardownClient(): Promise<void> {
    const client = this.client;
    const subscription = this.subscription;
    this.client = undefined;
    this.session = undefined;
    this.subscription = undefined;
    subscription?.removeAllListeners('raw_notification');
    if (client) {
      await withTimeout(client.disconnect(), DISCONNECT_TIMEOUT_MS).catch((err: Error) => this.log?.debug({ err: err.message }, 'disconnect failed'));
      client.removeAllListeners();
    }
  }

  // ----- subscription and monitored items -------------------------------------------------------

  private async subscribe(session: ClientSession): Promise<ClientSubscription> {
    const { publishingIntervalMs, silenceTimeoutMs } = this.config;
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
      this.log?.warn({ keepAlivePeriod, silenceTimeoutMs }, 'the server revised the keep-alive period beyond silenceTimeoutMs: expect false "silent" reports');
    }
    this.watchSubscription(subscription);
    try {
      this.monitoredSensors = await createMonitoredItems(subscription, this.plan, this.config, {
        reject: (sensor, nodeId, reason) => this.rejectSensor(sensor, nodeId, reason),
        accepted: (sensor) => this.rejectedSensors.delete(sensor),
        connectionLost: () => Boolean(this.client?.isReconnecting || !subscription.hasSession || this.stopping),
      });
    } catch (err) {
      subscription.removeAllListeners('raw_notification');
      await withTimeout(subscription.terminate(), DISCONNECT_TIMEOUT_MS).catch(() => undefined);
      throw err;
    }
    return subscription;
  }

  private watchSubscription(subscription: ClientSubscription): void {
    subscription.on('raw_notification', (message: NotificationMessage) => this.onNotification(subscription, message));
    subscription.on('status_changed', (status: StatusCode) => this.log?.warn({ status: status.toString() }, 'subscription status changed'));
    subscription.on('subscriptionId_changed', (id: number, previous: number) => {
      this.log?.info({ subscriptionId: id, previous }, 'subscription recreated on the server (server restarted or subscription expired)');
    });
    subscription.on('internal_error', (err: Error) => this.log?.error({ err: err.message }, 'subscription internal error'));
    subscription.on('terminated', () => {
      if (this.stopping || this.subscription !== subscription || !this.session || this.client?.isReconnecting) return;
      setImmediate(() => void this.rebuildSubscription('subscription terminated'));
    });
  }

  /**
   * Replace the subscription with a new one. The new one is created first, so that a server that
   * does not answer leaves the old one (and node-opcua's own repair) in place.
   */
  private async rebuildSubscription(reason: string): Promise<void> {
    const session = this.session;
    if (this.rebuilding || this.stopping || !session) return;
    this.rebuilding = true;
    const old = this.subscription;
    this.log?.warn({ reason }, 'rebuilding the OPC UA subscription');
    try {
      const fresh = await this.subscribe(session);
      if (this.stopping || this.session !== session) {
        await withTimeout(fresh.terminate(), DISCONNECT_TIMEOUT_MS).catch(() => undefined);
        return;
      }
      this.subscription = fresh;
      this.subscriptionRebuilds++;
      this.lastActivityAt = Date.now();
      if (old) {
        old.removeAllListeners();
        void withTimeout(old.terminate(), DISCONNECT_TIMEOUT_MS).catch(() => undefined);
      }
    } catch (err) {
      this.lastError = `subscription rebuild failed: ${(err as Error).message}`;
      this.log?.error({ err: (err as Error).message }, 'cannot rebuild the OPC UA subscription');
    } finally {
      this.rebuilding = false;
    }
  }

  /** One publish response (data or keep-alive) → one submit. */
  private onNotification(subscription: ClientSubscription, message: NotificationMessage): void {
    const ctx = this.ctx;
    if (!ctx || this.stopping) return;
    this.lastActivityAt = Date.now();
    if (this.state === 'silent' || this.raised.has(this.conditionId('subscription_silent'))) this.onSilenceEnded();
    const { readings, rejected, statusWithoutValue } = notificationReadings(message,
      (clientHandle) => subscription.monitoredItems[clientHandle]?.itemToMonitor.nodeId?.toString(), this.sensorByNode, () => ctx.now());
    this.statusWithoutValue += statusWithoutValue;
    // The rejections of one publish response in one commit.
    if (rejected.length) ctx.reject(this.name, rejected);
    if (readings.length === 0) return;
    this.lastDataAt = ctx.now();
    this.submits.enqueue(readings);
  }

  // ----- state, conditions, sensors --------------------------------------------------------------

  private setState(state: SourceState): void {
    this.state = state;
    const metrics = this.ctx?.metrics;
    if (!metrics) return;
    opcuaSessionStateGauge(metrics).labels(this.name).set(SESSION_STATE_METRIC[state]);
    metrics.sourceConnected.labels(this.name, 'opcua').set(state === 'connected' ? 1 : 0);
  }

  private onSessionUp(): void {
    if (this.stopping || !this.ctx) return;
    this.lastActivityAt = Date.now();
    this.silentSince = 0;
    this.lastError = undefined;
    this.setState('connected');
    this.clear('session_lost', `OPC UA source ${this.name}: session with ${this.config.endpoint} established`);
    this.clear('certificate_untrusted', `OPC UA source ${this.name}: server certificate trusted`);
    if (this.sensorsOnline !== true && this.monitoredSensors.length) {
      this.ctx.sensorsStatus(this.name, [...this.monitoredSensors], 'online', this.ctx.now());
      this.sensorsOnline = true;
    }
  }

  private onSessionDown(reason: string): void {
    if (this.stopping || !this.ctx) return;
    this.lastError = reason;
    this.setState('disconnected');
    this.raise('session_lost', 'source.session_lost', 'high', `OPC UA source ${this.name}: no session with ${this.config.endpoint}: ${reason}`,
      { endpoint: this.config.endpoint, reason });
    if (this.sensorsOnline !== false) {
      const sensors = this.plan.map((p) => p.sensor);
      if (sensors.length) this.ctx.sensorsStatus(this.name, sensors, 'offline', this.ctx.now());
      this.sensorsOnline = false;
    }
  }

  /** Runs on a timer: a stuck first connection, and a subscription gone quiet. */
  private checkLiveness(): void {
    if (this.stopping || !this.ctx) return;
    const now = Date.now();
    if (this.state === 'connecting' && this.client && !this.session && now - this.connectingSince > CONNECT_ALARM_AFTER_MS) {
      this.onSessionDown(`not connected to ${this.config.endpoint} after ${Math.round((now - this.connectingSince) / 1000)} s`);
      return;
    }
    const quietFor = now - this.lastActivityAt;
    if (this.state === 'connected' && quietFor > this.config.silenceTimeoutMs) {
      this.silentSince = now;
      this.silenceRepairTried = false;
      this.setState('silent');
      this.log?.warn({ quietForMs: quietFor }, 'OPC UA subscription silent: no data and no keep-alive');
      this.raise('subscription_silent', 'source.silent', 'medium',
        `OPC UA source ${this.name}: no data and no keep-alive from ${this.config.endpoint} for ${Math.round(quietFor / 1000)} s`,
        { endpoint: this.config.endpoint, silenceTimeoutMs: this.config.silenceTimeoutMs });
      return;
    }
    // Still silent one more timeout later while the connection claims to be fine: the server may have
    // dropped the subscription without telling us. Try a new one (once per silent period).
    if (this.state === 'silent' && !this.silenceRepairTried && now - this.silentSince > this.config.silenceTimeoutMs
      && this.session && !this.client?.isReconnecting) {
      this.silenceRepairTried = true;
      void this.rebuildSubscription('subscription silent');
    }
  }

  private onSilenceEnded(): void {
    if (this.state === 'silent') this.setState('connected');
    this.silentSince = 0;
    this.log?.info('OPC UA subscription delivers again');
    this.clear('subscription_silent', `OPC UA source ${this.name}: subscription delivers again`);
  }

  private conditionId(kind: string): string { return `opcua.${kind}:${this.name}`; }

  private raise(kind: string, type: string, priority: 'medium' | 'high', message: string, evidence: Record<string, unknown>): void {
    const id = this.conditionId(kind);
    if (this.raised.has(id) || !this.ctx) return;
    this.raised.add(id);
    this.ctx.condition({ id, type, state: 'raise', ts: this.ctx.now(), priority, message, evidence: { source: this.name, ...evidence } });
  }

  private clear(kind: string, message: string): void {
    const id = this.conditionId(kind);
    if (!this.raised.has(id) || !this.ctx) return;
    this.raised.delete(id);
    const type = kind === 'subscription_silent' ? 'source.silent' : `source.${kind}`;
    this.ctx.condition({ id, type, state: 'clear', ts: this.ctx.now(), message, evidence: { source: this.name } });
  }
}

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    timer.unref();
    p.then((v) => { clearTimeout(timer); resolvePromise(v); }, (e) => { clearTimeout(timer); reject(e); });
  });
}

/** The registry's entry point (index.ts load): one source per `sources.opcua[]` entry. */
export function createSource(config: OpcuaSourceConfig, env: SourceEnvironment): OpcuaSource {
  return new OpcuaSource(config, { dataDir: env.dataDir, demoMode: env.demoMode });
}
