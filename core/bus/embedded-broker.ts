/**
 * The embedded MQTT broker (aedes) of the all-in-one platform. It speaks the same MQTT as the
 * Mosquitto/EMQX of a split deployment, so every component connects to it over TCP like it would
 * to a real broker: there is no in-process shortcut that production lacks.
 */
import { createServer, type Server } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { Aedes } from 'aedes';
import type { Logger } from 'pino';

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  username?: string;
  password?: string;
  log?: Logger;
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

  get url(): string {
    const host = this.opts.host === '0.0.0.0' || this.opts.host === '::' ? '127.0.0.1' : this.opts.host;
    return `mqtt://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
  }

  async start(): Promise<void> {
    const { username, password } = this.opts;
    this.broker = await Aedes.createBroker({
      // Large enough that a burst of QoS 1 traffic to a slow subscriber queues instead of dropping.
      queueLimit: 100_000,
      // Passing `authenticate: undefined` would replace aedes's default handler: only set it with a password.
      ...(password === undefined ? {} : {
        authenticate: (_client, user, pass, done) => {
          const ok = user === username && sameSecret(password, pass);
          if (ok) return done(null, true);
          const err = Object.assign(new Error('bad username or password'), { returnCode: 4 as const });
          done(err as never, false);
        },
      } satisfies Parameters<typeof Aedes.createBroker>[0]),
    });
    const server = createServer(this.broker.handle as never);
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
