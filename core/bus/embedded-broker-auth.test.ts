/**
 * Who may sign in to the embedded broker (review F5): in production mode no anonymous client, on
 * loopback too; with `broker.tls.requestClientCertificate` a device signs in by a certificate signed
 * by the utility's CA (`broker.tls.ca`), as the `broker.users` entry its CN names, and is held to that
 * entry's topics. A real aedes broker and real mqtt.js clients; the certificates are made by openssl.
 *
 * Nothing waits for time: a refused publish is shown absent by a later one from the same identity
 * that does arrive (the broker keeps the order of one publisher's messages to one subscriber).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { EmbeddedBroker, ensurePlatformIdentity } from './embedded-broker.ts';
import { mqttConnectOptions } from './mqtt-client.ts';
import { mosquittoAuthFiles } from './broker-auth.ts';
import { parseConfig, type LoadedConfig } from '../config/load.ts';
import { brokerSchema } from '../config/schema.ts';
import { makeClientCertificate, makeSelfSignedCertificate, makeTestCertificates, type TestCertificates } from '../../test/support/certificates.ts';

const ADMIN = { admin: { password: 'a-long-admin-password' } };
const production = (broker: Record<string, unknown>) => parseConfig({ mode: 'production', auth: ADMIN, broker }, 'site.yaml', {});

const clients: MqttClient[] = [];
afterAll(async () => { for (const c of clients) await c.endAsync(true).catch(() => undefined); });

/** How a connection attempt ended: CONNACK accepted, or the error (or close) that ended it first. */
function outcome(url: string, options: IClientOptions): Promise<{ client: MqttClient; connected: boolean; error?: Error }> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 10_000, clientId: `t-${Math.random().toString(16).slice(2)}`, ...options });
  clients.push(client);
  return new Promise((resolve) => {
    client.once('connect', () => resolve({ client, connected: true }));
    client.once('error', (error) => resolve({ client, connected: false, error }));
    client.once('close', () => resolve({ client, connected: false }));
  });
}

async function connected(url: string, options: IClientOptions): Promise<MqttClient> {
  const { client, connected: ok, error } = await outcome(url, options);
  expect(error).toBeUndefined();
  expect(ok).toBe(true);
  return client;
}

/** Publish something that may be refused: done when the broker answered or closed the connection. */
const attempt = (c: MqttClient, topic: string) => Promise.race([
  c.publishAsync(topic, '{"v":1}', { qos: 1 }).catch(() => undefined),
  new Promise<void>((r) => c.once('close', () => r())),
]);

async function arrived(got: string[], topic: string): Promise<void> {
  for (let i = 0; i < 500 && !got.includes(topic); i++) await new Promise((r) => setTimeout(r, 20));
  expect(got).toContain(topic);
}

describe('F5 production: the embedded broker takes no anonymous client, on loopback too', () => {
  let config: LoadedConfig;
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    config = production({ host: '127.0.0.1', port: 0 });
    ensurePlatformIdentity(config.broker); // as `aquawatch start` and `aquawatch ingest` do
    broker = EmbeddedBroker.fromConfig(config.broker);
    await broker.start();
  });
  afterAll(async () => { await broker?.stop(); });

  it('F5 an anonymous client on loopback gets CONNACK "not authorized"; the platform signs in', async () => {
    expect(config.broker.anonymous).toBe('refuse');
    const anonymous = await outcome(broker.url, {});
    expect(anonymous.connected).toBe(false);
    expect(anonymous.error?.message).toMatch(/not authori/i);
    const platform = await connected(broker.url, mqttConnectOptions({ ...config.broker, url: broker.url }));
    await platform.publishAsync('aquawatch/v1/status/auth-test', 'ok', { qos: 1 });
  });

  it('F5 production refuses broker.anonymous: devices naming the key; demo mode keeps anonymous devices', () => {
    expect(() => production({ anonymous: 'devices' })).toThrow(/broker\.anonymous: devices: production mode refuses anonymous clients on the embedded broker, on loopback too/);
    expect(production({ anonymous: 'refuse' }).broker.anonymous).toBe('refuse');
    // a split deployment's broker is Mosquitto (allow_anonymous false): the key is the embedded broker's only
    expect(production({ url: 'mqtts://broker.plant:8883', anonymous: 'devices' }).broker.anonymous).toBe('devices');
    expect(parseConfig({}, '(defaults)', {}).broker.anonymous).toBe('devices');
  });
});

describe('F5 client certificates on the embedded broker (broker.tls.ca + requestClientCertificate)', () => {
  let certs: TestCertificates;
  let foreign: TestCertificates;
  let config: LoadedConfig;
  let broker: EmbeddedBroker;
  let deviceTls: IClientOptions;
  let strangerTls: IClientOptions;
  const SOUTH = { username: 'logger-south', password: 'south-secret-1' };

  beforeAll(async () => {
    certs = makeTestCertificates();
    const north = makeClientCertificate(certs, 'logger-north', 'logger-north');
    const stranger = makeClientCertificate(certs, 'stranger', 'not-a-broker-user');
    foreign = makeTestCertificates({ client: true }); // another CA: its client certificate is not the utility's
    config = production({
      host: '127.0.0.1', port: 0, username: 'aquawatch', password: 'platform-secret-1',
      tls: { ca: certs.ca, cert: certs.serverCert, key: certs.serverKey, requestClientCertificate: true },
      users: [
        { username: 'logger-north', publish: ['sites/north/#'] },
        { ...SOUTH, publish: ['sites/south/#'] },
      ],
    });
    broker = EmbeddedBroker.fromConfig(config.broker);
    await broker.start();
    const ca = readFileSync(certs.ca);
    deviceTls = { ca, cert: readFileSync(north.cert), key: readFileSync(north.key), rejectUnauthorized: true };
    strangerTls = { ca, cert: readFileSync(stranger.cert), key: readFileSync(stranger.key), rejectUnauthorized: true };
  });
  afterAll(async () => { await broker?.stop(); });

  it('F5 a device with a certificate signed by broker.tls.ca signs in as its CN and publishes on its own topics only', async () => {
    // the platform shows broker.tls.cert, a server-only certificate (serverAuth), and signs in by password
    const platform = await connected(broker.url, mqttConnectOptions({ ...config.broker, url: broker.url }));
    const got: string[] = [];
    platform.on('message', (topic) => got.push(topic));
    await platform.subscribeAsync('#', { qos: 1 });

    const device = await connected(broker.url, deviceTls); // no username, no password
    expect((device.stream as TLSSocket).authorized).toBe(true);
    await attempt(device, 'aquawatch/v1/conditions/forged'); // the platform's bus: aedes closes the connection
    const again = await connected(broker.url, deviceTls);
    await attempt(again, 'sites/south/F-1'); // another device's topic
    const last = await connected(broker.url, { ...deviceTls, username: 'logger-north' }); // its CN as username: the same identity
    await last.publishAsync('sites/north/F-1', '{"v":1}', { qos: 1 });
    await arrived(got, 'sites/north/F-1');
    expect(got).not.toContain('aquawatch/v1/conditions/forged');
    expect(got).not.toContain('sites/south/F-1');
    const refused = await last.subscribeAsync('aquawatch/v1/#', { qos: 1 }).then((g) => g[0].qos, () => 128);
    expect(refused).toBe(128);
  });

  it('F5 a client certificate not signed by broker.tls.ca is refused, though its CN names a user', async () => {
    // CN ingest-test is made a broker user here, so that only the signature can be what refuses these
    const local = EmbeddedBroker.fromConfig({ ...config.broker, port: 0, users: [...config.broker.users, { username: 'ingest-test', publish: ['sites/test/#'], subscribe: [] }] });
    await local.start();
    const tlsWith = (c: { cert: string; key: string }) => ({ ca: readFileSync(certs.ca), cert: readFileSync(c.cert), key: readFileSync(c.key), rejectUnauthorized: true });
    try {
      const selfSigned = await outcome(local.url, tlsWith(makeSelfSignedCertificate(certs, 'self-signed', 'ingest-test')));
      expect(selfSigned.connected).toBe(false);
      expect(selfSigned.error?.message).toMatch(/bad user/i);
      // Another CA (of the same name here): OpenSSL's failed signature check ends the connection before CONNACK.
      const otherCa = await outcome(local.url, tlsWith({ cert: foreign.clientCert!, key: foreign.clientKey! }));
      expect(otherCa.connected).toBe(false);
      // the same CN signed by the utility's CA signs in
      await connected(local.url, tlsWith(makeClientCertificate(certs, 'ingest', 'ingest-test')));
    } finally { await local.stop(); }
  });

  it('F5 a signed certificate naming no broker.users entry, or a username other than its CN, is refused; passwords still work', async () => {
    const stranger = await outcome(broker.url, strangerTls);
    expect(stranger.connected).toBe(false);
    expect(stranger.error?.message).toMatch(/bad user/i);
    const borrowed = await outcome(broker.url, { ...deviceTls, username: 'logger-south' }); // north's certificate, south's name, no password
    expect(borrowed.connected).toBe(false);
    expect(borrowed.error?.message).toMatch(/bad user/i);
    const anonymous = await outcome(broker.url, { ca: readFileSync(certs.ca), rejectUnauthorized: true });
    expect(anonymous.connected).toBe(false);
    expect(anonymous.error?.message).toMatch(/not authori/i);
    const south = await connected(broker.url, { ca: readFileSync(certs.ca), rejectUnauthorized: true, ...SOUTH });
    await south.publishAsync('sites/south/F-2', '{"v":1}', { qos: 1 });
  });

  it('F5 the configuration names what is missing: the CA, or a way for a user to sign in', () => {
    const { ca: _ca, ...noCa } = config.broker.tls!;
    expect(() => EmbeddedBroker.fromConfig({ ...config.broker, tls: noCa })).toThrow(/^broker\.tls\.ca: requestClientCertificate needs the CA/);
    expect(() => brokerSchema.parse({ users: [{ username: 'logger-north', publish: ['sites/north/#'] }] }))
      .toThrow(/logger-north has no password and broker\.tls\.requestClientCertificate is off/);
    expect(() => mosquittoAuthFiles(config.broker)).toThrow(/^broker\.users\[0\]\.password: 'logger-north' signs in by client certificate, which only the embedded broker accepts/);
  });
});
