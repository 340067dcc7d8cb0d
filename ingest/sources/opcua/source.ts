/**
 * OPC UA source: subscribes to the plant SCADA's variables (outlet flow and pressure, tank levels, pump
 * states, chlorine...) and turns every data change into a RawReading with the server's source timestamp
 * and a quality from its StatusCode.
 *
 * What it does, in the order a new engineer will want to find it:
 * - start(): plans one monitored item per topology sensor with `source: {type: opcua, server: <name>}`,
 *   prepares the client PKI (trust store) and launches the retry loop; it does not wait for the
 *   server, because a plant that is down at start-up must not stop the rest of ingest.
 * - retry-loop.ts: one connection attempt after another; a whole attempt that fails (certificate not
 *   trusted, user refused, session closed by the server) is followed by a fresh one after RETRY_DELAY_MS.
 * - session.ts: one OPCUAClient and session per attempt. node-opcua reconnects by itself after a broken
 *   connection (maxRetry Infinity, delays ≤ 2 s) and restores the session and subscription, recreating
 *   them when the server restarted.
 * - subscription.ts: monitored items created in batches of `batchSize` so that 10,000 items never make
 *   one oversized request; every publish response becomes one `ctx.submit` call; rebuilt when lost.
 * - health.ts: state, conditions, sensors online/offline, and the watchdog: a subscription that
 *   delivers neither data nor keep-alive for `silenceTimeoutMs` is reported silent; if it stays silent
 *   while the session looks healthy, the subscription is rebuilt.
 *
 * Beside them: monitored-items.ts plans the items and creates them on a subscription; values.ts turns
 * a publish response into readings; submit-queue.ts hands them to the pipeline in order, holding them
 * under backpressure; identity.ts makes the session's user identity; trust.ts keeps the client PKI
 * (which server certificates are trusted) and reports node-opcua's verdicts.
 */
import { isAbsolute, join, resolve } from 'node:path';
import { UserTokenType, type UserIdentityInfo } from 'node-opcua';
import type { Logger } from 'pino';
import type { OpcuaAddress, OpcuaSourceConfig } from './config.ts';
import { opcuaInsecurity } from './config.ts';
import { addressOf } from '../address.ts';
import { ServerTrustStore, rejectedFolderOf, trustedFolderOf } from './trust.ts';
import { loadIdentity } from './identity.ts';
import { planItems, type PlannedItem } from './monitored-items.ts';
import { SubmitQueue } from './submit-queue.ts';
import { SourceHealth } from './health.ts';
import { OpcuaSession } from './session.ts';
import { OpcuaSubscription } from './subscription.ts';
import { RetryLoop } from './retry-loop.ts';
import { DISCONNECT_TIMEOUT_MS, withTimeout } from './timeout.ts';
import type { Source, SourceContext, SourceEnvironment, SourceStatus } from '../types.ts';

export { RETRY_DELAY_MS } from './retry-loop.ts';
export { opcuaSessionStateGauge } from './health.ts';

export interface OpcuaSourceOptions {
  /** Base folder for relative paths (pkiFolder, certificate files). */
  dataDir: string;
  /** Demo mode trusts unknown server certificates automatically (with a warning); production never does. */
  demoMode: boolean;
}

export class OpcuaSource implements Source {
  readonly type = 'opcua' as const;
  readonly name: string;

  private readonly pkiFolder: string;
  private ctx?: SourceContext;
  private log?: Logger;
  private lastDataAt: number | null = null;

  private plan: PlannedItem[] = [];
  private sensorByNode = new Map<string, string>();
  private readonly rejectedSensors = new Set<string>();
  private readonly autoTrusted: string[] = [];
  private refusedCertificate?: { thumbprint: string; status: string };

  private identity: UserIdentityInfo = { type: UserTokenType.Anonymous };
  private trustStore?: ServerTrustStore;

  private stopping = false;
  private loop?: Promise<void>;
  private watchdog?: NodeJS.Timeout;

  private readonly health: SourceHealth;
  private readonly connection: OpcuaSession;
  private readonly subscription: OpcuaSubscription;
  private readonly retry: RetryLoop;

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
    const ctx = () => this.ctx;
    const log = () => this.log;
    const stopping = () => this.stopping;
    this.health = new SourceHealth({
      name: this.name, endpoint: config.endpoint, silenceTimeoutMs: config.silenceTimeoutMs, ctx, log, stopping,
      monitoredSensors: () => this.subscription.monitoredSensors,
      plannedSensors: () => this.plan.map((p) => p.sensor),
    });
    this.connection = new OpcuaSession(this.name, config, {
      log, stopping,
      up: () => this.health.sessionUp(),
      down: (reason) => this.health.sessionDown(reason),
      restored: () => { this.subscription.checkAfterReconnection(); this.health.sessionUp(); },
      ended: () => this.retry.connectionEnded(),
      lastError: (message) => { this.health.lastError = message; },
    });
    this.subscription = new OpcuaSubscription({
      config, log, stopping,
      plan: () => this.plan,
      sensorByNode: () => this.sensorByNode,
      now: () => this.ctx?.now() ?? Date.now(),
      session: () => this.connection.session,
      reconnecting: () => this.connection.isReconnecting,
      rejectSensor: (sensor, nodeId, reason) => this.rejectSensor(sensor, nodeId, reason),
      acceptedSensor: (sensor) => this.rejectedSensors.delete(sensor),
      activity: () => this.health.activity(),
      renewed: () => this.health.subscriptionRenewed(),
      readings: (readings, rejected) => {
        const c = this.ctx;
        if (!c) return;
        // The rejections of one publish response in one commit.
        if (rejected.length) c.reject(this.name, rejected);
        if (readings.length === 0) return;
        this.lastDataAt = c.now();
        this.submits.enqueue(readings);
      },
      error: (message) => { this.health.lastError = message; },
    });
    this.retry = new RetryLoop({
      stopping,
      beforeRetry: async () => { await this.trustStore?.reload(this.log); },
      attempt: () => this.attempt(),
      failed: (err) => this.onAttemptFailed(err),
      teardown: () => this.teardownClient(),
    });
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
        this.health.raise('insecure', 'source.insecure', 'medium', `OPC UA server ${this.name} is read with ${insecure} (allowInsecure: true): values could be forged on the plant network`, { endpoint: this.config.endpoint });
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
    this.health.setState('connecting');
    this.health.connectionAttemptStarted();
    const period = Math.max(100, Math.min(1_000, Math.floor(this.config.silenceTimeoutMs / 4)));
    this.watchdog = setInterval(() => this.health.checkLiveness({
      hasClient: this.connection.client !== undefined,
      hasSession: this.connection.session !== undefined,
      isReconnecting: this.connection.isReconnecting,
      rebuildSubscription: (reason) => void this.subscription.rebuild(reason),
    }), period);
    this.watchdog.unref();
    this.loop = this.retry.run();
  }

  async stop(): Promise<void> {
    if (!this.ctx) return;
    this.stopping = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
    this.retry.interrupt();
    // A connect() still retrying towards an unreachable server ends only when the client is disconnected.
    await this.teardownClient();
    await withTimeout(this.loop ?? Promise.resolve(), DISCONNECT_TIMEOUT_MS * 2).catch((err: Error) => this.log?.warn({ err: err.message }, 'connection loop did not end in time'));
    await this.submits.settled();
    await this.trustStore?.dispose().catch(() => undefined);
    this.trustStore = undefined;
    this.health.setState('stopped');
    this.ctx = undefined;
  }

  status(): SourceStatus {
    return {
      name: this.name,
      type: 'opcua',
      state: this.health.state,
      lastDataAt: this.lastDataAt,
      detail: {
        endpoint: this.config.endpoint,
        securityMode: this.config.securityMode,
        securityPolicy: this.config.securityPolicy,
        monitoredItems: this.subscription.monitoredSensors.length,
        rejectedItems: this.rejectedSensors.size,
        reconnects: this.connection.reconnects,
        subscriptionRebuilds: this.subscription.rebuilds,
        droppedReadings: this.submits.dropped,
        statusWithoutValue: this.subscription.statusWithoutValue,
        pkiFolder: this.pkiFolder,
        ...(this.autoTrusted.length ? { autoTrustedCertificates: [...this.autoTrusted] } : {}),
        ...(this.health.lastError ? { lastError: this.health.lastError } : {}),
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

  // ----- connection attempts (retry-loop.ts runs them) --------------------------------------------

  private async attempt(): Promise<void> {
    this.health.connectionAttemptStarted();
    this.refusedCertificate = undefined;
    const connected = await this.connection.open(this.trustStore, this.identity, (session) => this.subscription.open(session));
    if (!connected) return;
    this.log?.info({ endpoint: this.config.endpoint, monitoredItems: this.subscription.monitoredSensors.length, rejectedItems: this.rejectedSensors.size }, 'OPC UA source connected');
    this.health.sessionUp();
  }

  private onAttemptFailed(err: Error): void {
    let reason = err.message.split('\n')[0];
    if (this.refusedCertificate || /BadCertificateUntrusted|Certificate verification failed/i.test(reason)) {
      const thumbprint = this.refusedCertificate?.thumbprint;
      const status = this.refusedCertificate?.status ?? 'BadCertificateUntrusted';
      reason = `server certificate of ${this.config.endpoint}${thumbprint ? ` (SHA-1 ${thumbprint})` : ''} is not trusted (${status}). `
        + `It was filed in ${this.rejectedFolder}; to trust it, move it into ${this.trustedFolder} or list it in trustedServerCertificates`;
      this.health.raise('certificate_untrusted', 'source.certificate_untrusted', 'high', `OPC UA source ${this.name}: ${reason}`,
        { endpoint: this.config.endpoint, thumbprint, status, trustedFolder: this.trustedFolder, rejectedFolder: this.rejectedFolder });
    } else if (/BadSecurityChecksFailed|BadCertificate/.test(reason)) {
      reason += ` (does the server trust this client's certificate ${join(this.pkiFolder, 'own', 'certs', 'client_certificate.pem')}?)`;
    }
    this.log?.error({ endpoint: this.config.endpoint, reason }, 'OPC UA connection attempt failed');
    this.health.sessionDown(reason);
  }

  private async teardownClient(): Promise<void> {
    this.subscription.forget();
    await this.connection.close();
  }
}

/** The registry's entry point (index.ts load): one source per `sources.opcua[]` entry. */
export function createSource(config: OpcuaSourceConfig, env: SourceEnvironment): OpcuaSource {
  return new OpcuaSource(config, { dataDir: env.dataDir, demoMode: env.demoMode });
}
