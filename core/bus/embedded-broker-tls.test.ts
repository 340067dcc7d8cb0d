/**
 * The embedded broker's TLS listener (review F5): with `broker.tls` cert and key it speaks MQTT over
 * TLS only, so the passwords of the platform and of devices never cross the network in clear text.
 * A real aedes broker and real mqtt.js clients; the CA and certificates are made here by openssl.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { TLSSocket } from 'node:tls';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { EmbeddedBroker } from './embedded-broker.ts';
import { mqttConnectOptions } from './mqtt-client.ts';
import { brokerSchema, type BrokerConfig } from '../config/schema.ts';
import { makeTestCertificates, type TestCertificates } from '../../test/support/certificates.ts';

/** How a connection attempt ended: CONNACK accepted, or the error (or close) that ended it first. */
function outcome(url: string, options: IClientOptions): Promise<{ client: MqttClient; connected: boolean; error?: Error }> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 10_000, ...options });
  return new Promise((resolve) => {
    client.once('connect', () => resolve({ client, connected: true }));
    client.once('error', (error) => resolve({ client, connected: false, error }));
    client.once('close', () => resolve({ client, connected: false }));
  });
}

describe('F5 the embedded broker over TLS', () => {
  let certs: TestCertificates;
  let config: BrokerConfig;
  let broker: EmbeddedBroker;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    certs = makeTestCertificates();
    config = brokerSchema.parse({
      host: '127.0.0.1', port: 0, username: 'aquawatch', password: 'platform-secret',
      tls: { ca: certs.ca, cert: certs.serverCert, key: certs.serverKey },
    });
    broker = EmbeddedBroker.fromConfig(config);
    await broker.start();
  });
  afterAll(async () => {
    for (const c of clients) await c.endAsync(true);
    await broker?.stop();
  });

  it('F5 the platform connects with the options every platform client builds (CA from broker.tls) and publishes on its topics', async () => {
    expect(broker.url).toBe(`mqtts://127.0.0.1:${broker.port}`);
    const { client, connected, error } = await outcome(broker.url, mqttConnectOptions({ ...config, url: broker.url }));
    clients.push(client);
    expect(error).toBeUndefined();
    expect(connected).toBe(true);
    const socket = client.stream as TLSSocket;
    expect(socket.encrypted).toBe(true);
    expect(socket.authorized).toBe(true); // verified against the test CA, not merely accepted
    await client.subscribeAsync('aquawatch/v1/status/tls-test', { qos: 1 });
    const received = new Promise<string>((resolve) => client.once('message', (_t, payload) => resolve(payload.toString())));
    await client.publishAsync('aquawatch/v1/status/tls-test', 'over TLS', { qos: 1 });
    expect(await received).toBe('over TLS');
  });

  it('F5 a plain-TCP MQTT client never gets a CONNACK, password or not', async () => {
    const plain = await outcome(`mqtt://127.0.0.1:${broker.port}`, { username: 'aquawatch', password: 'platform-secret' });
    clients.push(plain.client);
    expect(plain.connected).toBe(false);
  });

  it('F5 a TLS client that does not trust the broker\'s CA is refused by its own verification', async () => {
    const untrusting = await outcome(broker.url, { username: 'aquawatch', password: 'platform-secret', rejectUnauthorized: true });
    clients.push(untrusting.client);
    expect(untrusting.connected).toBe(false);
    expect((untrusting.error as NodeJS.ErrnoException | undefined)?.code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/);
  });

  it('F5 broker.tls without cert and key, or with a file that cannot be read, is refused naming the key', async () => {
    expect(() => EmbeddedBroker.fromConfig(brokerSchema.parse({ tls: { cert: certs.serverCert } }))).toThrow(/^broker\.tls\.key: .*needs both cert and key/);
    const missing = EmbeddedBroker.fromConfig(brokerSchema.parse({ port: 0, tls: { cert: `${certs.dir}/absent.crt`, key: certs.serverKey } }));
    await expect(missing.start()).rejects.toThrow(/^broker\.tls\.cert: cannot read .*absent\.crt: ENOENT/);
  });
});
