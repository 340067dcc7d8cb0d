/**
 * The OPC UA source's session lifecycle: one OPCUAClient per attempt, connected with the
 * configured security, a session with the configured identity, node-opcua's own reconnection
 * (maxRetry Infinity, delays ≤ 2 s) watched for the source's state, and the teardown.
 */
import { OPCUAClient, type ClientSession, type StatusCode, type UserIdentityInfo } from 'node-opcua';
import type { Logger } from 'pino';
import type { OpcuaSourceConfig } from './config.ts';
import { SECURITY_MODE, SECURITY_POLICY } from '../../../core/opcua-security.ts';
import type { ServerTrustStore } from './trust.ts';
import { DISCONNECT_TIMEOUT_MS, withTimeout } from './timeout.ts';

/** node-opcua's own reconnection: forever, quickly. */
const CONNECTION_STRATEGY = { maxRetry: Infinity, initialDelay: 250, maxDelay: 2_000, randomisationFactor: 0.1 };
/** Keep the session on the server across outages of up to this long. */
const SESSION_TIMEOUT_MS = 10 * 60_000;

export interface SessionEvents {
  log: () => Logger | undefined;
  stopping: () => boolean;
  /** A session is up (first connection, or restored after a reconnection). */
  up(): void;
  /** The session is lost; node-opcua may still be repairing it. */
  down(reason: string): void;
  /** node-opcua restored the connection or the session: the subscription should have survived. */
  restored(): void;
  /** Closed for good: the retry loop starts over. */
  ended(): void;
  lastError(message: string): void;
}

export class OpcuaSession {
  client?: OPCUAClient;
  session?: ClientSession;
  reconnects = 0;

  constructor(private readonly name: string, private readonly config: OpcuaSourceConfig, private readonly events: SessionEvents) {}

  get isReconnecting(): boolean { return Boolean(this.client?.isReconnecting); }

  /**
   * Connect and open a session; `subscribe` then runs on it. Returns false when the attempt was
   * overtaken (stop, or a newer client) and nothing more should be done with it.
   */
  async open(trust: ServerTrustStore | undefined, identity: UserIdentityInfo, subscribe: (session: ClientSession) => Promise<void>): Promise<boolean> {
    const client = OPCUAClient.create({
      applicationName: 'aquawatch-ingest',
      clientName: `aquawatch-${this.name}`,
      clientCertificateManager: trust,
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
    const current = () => !this.events.stopping() && this.client === client;
    // The state stays as it is ('connecting' at first, 'disconnected' after a failure) until a session is up.
    await client.connect(this.config.endpoint);
    if (!current()) return false;
    const session = await client.createSession(identity);
    if (!current()) return false;
    this.session = session;
    this.watchSession(client, session);
    await subscribe(session);
    return current();
  }

  private watchClient(client: OPCUAClient): void {
    const e = this.events;
    const current = () => this.client === client && !e.stopping();
    client.on('backoff', (count: number, delay: number) => {
      if (!current()) return;
      e.log()?.debug({ count, delay }, 'connection attempt failed, retrying');
      if (count >= 1) e.down(`cannot reach ${this.config.endpoint} (attempt ${count}), retrying`);
    });
    client.on('connection_lost', () => {
      if (!current()) return;
      e.log()?.warn({ endpoint: this.config.endpoint }, 'connection to OPC UA server lost; reconnecting');
      e.down('connection to the server lost');
    });
    client.on('reconnection_attempt_has_failed', (err: Error, message: string) => {
      if (!current()) return;
      e.lastError(`${message}: ${err.message}`);
    });
    client.on('connection_reestablished', () => {
      if (!current()) return;
      this.reconnects++;
      e.log()?.info({ reconnects: this.reconnects }, 'connection to OPC UA server re-established');
      e.restored();
    });
    client.on('close', (err?: Error | null) => {
      if (!current()) return;
      e.log()?.warn({ err: err?.message }, 'OPC UA client closed; starting over');
      e.down(err?.message ?? 'client closed');
      e.ended();
    });
  }

  private watchSession(client: OPCUAClient, session: ClientSession): void {
    const e = this.events;
    const current = () => this.client === client && this.session === session && !e.stopping();
    session.on('session_restored', () => { if (current()) e.restored(); });
    session.on('session_closed', (status: StatusCode) => {
      if (!current()) return;
      e.log()?.warn({ status: status?.toString() }, 'OPC UA session closed; starting over');
      e.down(`session closed (${status?.toString() ?? 'unknown'})`);
      e.ended();
    });
    session.on('keepalive_failure', () => { if (current()) e.log()?.warn('session keep-alive failed'); });
  }

  /** Disconnect the client (bounded in time) and forget it. */
  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.session = undefined;
    if (client) {
      await withTimeout(client.disconnect(), DISCONNECT_TIMEOUT_MS).catch((err: Error) => this.events.log()?.debug({ err: err.message }, 'disconnect failed'));
      client.removeAllListeners();
    }
  }
}
