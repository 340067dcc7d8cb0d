/**
 * The two brokers the MQTT and Sparkplug source tests run against: aedes (the embedded broker's
 * engine, in this process) and Mosquitto (a real process, via test/support/mosquitto.ts).
 */
import { createServer, type Server } from 'node:net';
import { chmodSync } from 'node:fs';
import { Aedes } from 'aedes';
import { MosquittoBroker } from './mosquitto.ts';

export interface TestBroker {
  readonly kind: 'aedes' | 'mosquitto';
  readonly url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** aedes on a free loopback port, with the in-memory persistence (sessions last as long as it runs). */
export class AedesTestBroker implements TestBroker {
  readonly kind = 'aedes' as const;
  private broker?: Aedes;
  private server?: Server;
  port = 0;

  get url(): string { return `mqtt://127.0.0.1:${this.port}`; }

  private readonly connected = new Set<string>();

  /** Ids of the clients connected now. */
  clientIds(): string[] { return [...this.connected]; }

  async start(): Promise<void> {
    this.broker = await Aedes.createBroker({ queueLimit: 100_000 });
    this.broker.on('client', (c) => { this.connected.add(c.id); });
    this.broker.on('clientDisconnect', (c) => { this.connected.delete(c.id); });
    const server = createServer(this.broker.handle as never);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
  }

  async stop(): Promise<void> {
    const { broker, server } = this;
    this.broker = undefined;
    this.server = undefined;
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export class MosquittoTestBroker implements TestBroker {
  readonly kind = 'mosquitto' as const;
  readonly mosquitto = new MosquittoBroker();
  get url(): string { return this.mosquitto.url; }
  start(): Promise<void> {
    // Mosquitto started as root drops to the `mosquitto` user, which cannot write the helper's
    // mkdtemp folder (mode 700): persistence would silently fail. Open the folder to it.
    chmodSync(this.mosquitto.dir, 0o777);
    return this.mosquitto.start();
  }
  stop(): Promise<void> { return this.mosquitto.stop(); }
  restart(): Promise<void> { return this.mosquitto.restart(); }
}
