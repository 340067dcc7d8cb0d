/**
 * The embedded MQTT broker (aedes) of the all-in-one platform. It speaks the same MQTT as the
 * Mosquitto/EMQX of a split deployment, so every component connects to it over TCP like it would
 * to a real broker: there is no in-process shortcut that production lacks.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, TLSSocket } from 'node:tls';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Aedes } from 'aedes';
import type { Logger } from 'pino';
import type { BrokerConfig } from '../config/schema.ts';
import { BrokerConfigError, readPem } from './mqtt-client.ts';
import { TOPIC_ROOT } from './topics.ts';
import { filterCovers, topicMatches } from './topic-filter.ts';

/** A device's or an integration's identity on the embedded broker, limited to its topic filters. */
export interface BrokerUser {
  /** Its user name, or the common name (CN) of its client certificate. */
  username: string;
  /** Absent: it signs in by a client certificate only. */
  password?: string;
  /** Topic filters it may publish to (never the platform's `aquawatch/#`). */
  publish: readonly string[];
  /** Topic filters it may subscribe to (an integration may be given `aquawatch/v1/alarms/#`). */
  subscribe: readonly string[];
}

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  /**
   * The platform's own identity: the only one that may publish on `aquawatch/#` (telemetry,
   * conditions, alarms, status). With no identity at all (no password, no users, no client
   * certificates, anonymous not refused) the broker is open to every client (tests);
   * `aquawatch start` always sets one, `aquawatch ingest` in production mode.
   */
  username?: string;
  password?: string;
  /** Devices and integrations, each limited to its own topics. */
  users?: readonly BrokerUser[];
  /**
   * Clients that give no username (and no client certificate): `devices` (the default) lets them
   * publish and subscribe anywhere outside the platform's topics (the demo's simulators on
   * loopback); `refuse` turns them away (production mode).
   */
  anonymous?: 'devices' | 'refuse';
  /**
   * PEM files of the broker's certificate and key: the broker then listens for MQTT over TLS only
   * (`mqtts://`), so passwords never cross the network in clear text. The platform's own clients
   * connect to `url` too, so the certificate must name that address (127.0.0.1 for a wildcard host).
   * `clientCa`: the CA whose signature a client certificate needs; the broker then asks every client
   * for one, and one that verifies against it is an identity (its CN names a `users` entry).
   */
  tls?: { cert: string; key: string; clientCa?: string };
  log?: Logger;
}

/**
 * The largest MQTT packet a broker takes, the embedded one here and Mosquitto
 * (`max_packet_size` in deploy/mosquitto/mosquitto.conf). The platform's own messages stay well
 * below it (a telemetry message carries at most 2,000 readings, some 100 to 200 kB); without a
 * bound, a client could announce 256 MB before it even authenticates, and the broker would buffer it.
 */
export const MQTT_MAX_PACKET_BYTES = 1024 * 1024;

/** The part of mqtt-packet's parser (aedes's client._parser) that the size check hooks into. */
interface PacketParser {
  packet: { length: number };
  _parseLength(): boolean;
  _emitError(err: Error): void;
}

/**
 * Refuse a packet as soon as its fixed header announces more than `max` bytes. aedes has no option
 * for it; its parser (mqtt-packet) reads the remaining length first and then buffers that many
 * bytes, so the check goes right after the length is read. The parser error makes aedes drop the
 * connection. (packet-size.test.ts fails if an aedes or mqtt-packet upgrade moves these internals.)
 */
function limitPacketSize(conn: { client?: { _parser?: PacketParser } }, max: number): void {
  const parser = conn.client?._parser;
  if (!parser) throw new Error('aedes internals changed: no client parser to bound the packet size');
  const parseLength = parser._parseLength;
  parser._parseLength = function boundedParseLength(this: PacketParser): boolean {
    if (!parseLength.call(this)) return false;
    if (this.packet.length <= max) return true;
    this._emitError(new Error(`packet of ${this.packet.length} bytes exceeds the maximum of ${max}`));
    return false;
  };
}

/** The first topic level the platform reserves for itself (core/bus/topics.ts TOPIC_ROOT). */
const PLATFORM_LEVEL = TOPIC_ROOT.split('/')[0];

type Identity = { role: 'platform' } | { role: 'user'; user: BrokerUser } | { role: 'anonymous' };

/**
 * What the client certificate of a connection says: the common name when it verified against the
 * broker's client CA, or why it did not. A certificate that does not verify is no identity, but
 * does not close the connection: the platform's own clients show the broker's certificate
 * (broker.tls.cert), which is for servers only, and sign in by password.
 */
function clientCertificate(conn: unknown): { name?: string; refused?: string } {
  if (!(conn instanceof TLSSocket)) return {};
  // null once the socket has closed
  const peer = conn.getPeerCertificate() as Partial<ReturnType<TLSSocket['getPeerCertificate']>> | null;
  if (!peer || Object.keys(peer).length === 0) return {};
  if (!conn.authorized) return { refused: String(conn.authorizationError) };
  const cn = peer.subject?.CN;
  return typeof cn === 'string' && cn ? { name: cn } : { refused: 'no common name' };
}
const IDENTITY = Symbol('aquawatch identity');
type ClientWithIdentity = { [IDENTITY]?: Identity; id: string };

function mayPublish(who: Identity | undefined, topic: string): boolean {
  if (!who) return false;
  if (who.role === 'platform') return true;
  if (topic.split('/')[0] === PLATFORM_LEVEL || topic.startsWith('$')) return false;
  return who.role === 'anonymous' || who.user.publish.some((f) => topicMatches(f, topic));
}

function maySubscribe(who: Identity | undefined, filter: string): boolean {
  if (!who) return false;
  if (who.role === 'platform') return true;
  if (who.role === 'user') return who.user.subscribe.some((f) => filterCovers(f, filter));
  // anonymous devices: anything that cannot match a platform topic
  const first = filter.split('/')[0];
  return first !== PLATFORM_LEVEL && first !== '+' && first !== '#' && !first.startsWith('$');
}

export class PortInUseError extends Error {
  constructor(readonly host: string, readonly port: number, what: string, hint: string) {
    super(`${what}: port ${port} on ${host} is already in use; ${hint}`);
    this.name = 'PortInUseError';
  }
}

function sameSecret(a: string, b: Buffer | string | undefined): boolean {
  if (b === undefined) return false;
  const x = Buffer.from(a);
  const y = Buffer.isBuffer(b) ? b : Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class EmbeddedBroker {
  private broker?: Aedes;
  private server?: Server;
  port = 0;

  constructor(private readonly opts: EmbeddedBrokerOptions) {}

  /** The embedded broker a site config describes (`broker:` with `url: embedded`). */
  static fromConfig(broker: BrokerConfig, log?: Logger): EmbeddedBroker {
    const { tls } = broker;
    if (tls && (!tls.cert || !tls.key)) {
      throw new BrokerConfigError(`broker.tls.${tls.cert ? 'key' : 'cert'}`, 'the embedded broker\'s TLS listener needs both cert and key');
    }
    if (tls?.requestClientCertificate && !tls.ca) {
      throw new BrokerConfigError('broker.tls.ca', 'requestClientCertificate needs the CA that signs the devices\' certificates');
    }
    return new EmbeddedBroker({
      host: broker.host, port: broker.port, username: broker.username, password: broker.password,
      users: broker.users, anonymous: broker.anonymous, log,
      ...(tls?.cert && tls.key ? { tls: { cert: tls.cert, key: tls.key, ...(tls.requestClientCertificate ? { clientCa: tls.ca } : {}) } } : {}),
    });
  }

  get url(): string {
    const host = this.opts.host === '0.0.0.0' || this.opts.host === '::' ? '127.0.0.1' : this.opts.host;
    return `${this.opts.tls ? 'mqtts' : 'mqtt'}://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
  }

  /**
   * The listening socket: TLS when the broker has a certificate, plain TCP (loopback, demo)
   * otherwise. Reads the PEM files now, so a missing one fails before the broker starts.
   */
  private createListener(onConnection: (conn: Socket) => void): Server {
    const { tls, log } = this.opts;
    if (!tls) return createServer(onConnection);
    const server = createTlsServer({
      cert: readPem(tls.cert, 'broker.tls.cert'), key: readPem(tls.key, 'broker.tls.key'),
      // Asked, not required: password clients show none, or one that is not a client certificate.
      // Whether it verified is judged at CONNECT (authenticate below).
      ...(tls.clientCa ? { ca: readPem(tls.clientCa, 'broker.tls.ca'), requestCert: true, rejectUnauthorized: false } : {}),
    }, onConnection);
    // A plain-TCP client, or one that does not trust the certificate: its handshake fails and the socket closes.
    server.on('tlsClientError', (e) => log?.debug({ err: e.message }, 'embedded broker: TLS handshake refused'));
    return server;
  }

  async start(): Promise<void> {
    const { username, password, users = [], anonymous = 'devices', tls, log } = this.opts;
    const open = password === undefined && users.length === 0 && anonymous !== 'refuse' && !tls?.clientCa;
    const server = this.createListener((conn) => {
      if (!this.broker) return void conn.destroy(); // stopping
      this.broker.handle(conn as never);
      limitPacketSize(conn as never, MQTT_MAX_PACKET_BYTES);
    });
    const refuse = (done: (e: never, ok: boolean) => void, code: 4 | 5, why: string) =>
      done(Object.assign(new Error(why), { returnCode: code }) as never, false);
    this.broker = await Aedes.createBroker({
      // Large enough that a burst of QoS 1 traffic to a slow subscriber queues instead of dropping.
      queueLimit: 100_000,
      // Passing `authenticate: undefined` would replace aedes's default handler: only set it when there are identities.
      ...(open ? {} : {
        authenticate: (client, user, pass, done) => {
          let who: Identity | undefined;
          const certificate = clientCertificate(client.conn);
          if (user && pass !== undefined) {
            // A password signs in whatever certificate the client showed.
            const u = users.find((x) => x.username === user);
            if (user === username && password !== undefined && sameSecret(password, pass)) who = { role: 'platform' };
            else if (u?.password !== undefined && sameSecret(u.password, pass)) who = { role: 'user', user: u };
          } else if (certificate.name !== undefined) {
            // The certificate's CN is the device's user name; a username given beside it must be the same.
            const u = users.find((x) => x.username === certificate.name);
            if (u && (!user || user === certificate.name)) who = { role: 'user', user: u };
            else log?.warn({ client: client.id, certificate: certificate.name, username: user }, 'client certificate names no broker.users entry (or another username was given)');
          } else if (certificate.refused !== undefined) {
            log?.warn({ client: client.id, err: certificate.refused }, 'client certificate refused (not a client certificate signed by broker.tls.ca)');
          } else if (!user && anonymous === 'devices') {
            who = { role: 'anonymous' };
          }
          if (!who) {
            const named = Boolean(user || certificate.name || certificate.refused);
            return refuse(done, named ? 4 : 5, named ? 'bad username, password or certificate' : 'anonymous clients are refused');
          }
          (client as unknown as ClientWithIdentity)[IDENTITY] = who;
          done(null, true);
        },
        // Devices write only their own topics; the platform's bus, alarms and state are the platform's.
        authorizePublish: (client, packet, done) => {
          const who = client ? (client as unknown as ClientWithIdentity)[IDENTITY] : { role: 'platform' as const };
          if (mayPublish(who, packet.topic)) return done(null);
          log?.warn({ client: client?.id, topic: packet.topic }, 'publish refused: not this client\'s topic');
          done(new Error(`not authorised to publish on ${packet.topic}`));
        },
        authorizeSubscribe: (client, sub, done) => {
          const who = (client as unknown as ClientWithIdentity)[IDENTITY];
          if (maySubscribe(who, sub.topic)) return done(null, sub);
          log?.warn({ client: client.id, filter: sub.topic }, 'subscription refused: not this client\'s topic');
          done(null, null); // SUBACK 0x80 for this filter; the connection stays
        },
      } satisfies Parameters<typeof Aedes.createBroker>[0]),
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const fail = (e: Error) => { void this.stop().finally(() => reject(e)); };
      server.once('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'EADDRINUSE') {
          fail(new PortInUseError(this.opts.host, this.opts.port, 'embedded MQTT broker',
            'stop the other broker (e.g. `systemctl stop mosquitto`), or set broker.port in the config (0 picks a free port), or point broker.url at the running broker'));
        } else fail(e);
      });
      server.listen(this.opts.port, this.opts.host, () => resolve());
    });
    const addr = server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : this.opts.port;
    this.opts.log?.info({ url: this.url }, 'embedded MQTT broker listening');
  }

  async stop(): Promise<void> {
    const server = this.server;
    const broker = this.broker;
    this.server = undefined;
    this.broker = undefined;
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * Give the platform an identity on its own embedded broker when the config names none (the demo):
 * a random password that only this process knows, so only the platform may publish on
 * `aquawatch/#` while the simulated devices connect without one and keep to their own topics.
 */
export function ensurePlatformIdentity(broker: BrokerConfig): void {
  if (broker.url !== 'embedded' || broker.password !== undefined) return;
  broker.username ??= 'aquawatch-platform';
  broker.password = randomBytes(18).toString('base64url');
}
