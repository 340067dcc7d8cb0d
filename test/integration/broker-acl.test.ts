/**
 * The bus is the platform's (review finding F2): on the embedded broker (aedes) and on Mosquitto
 * with the passwd and ACL files `aquawatch broker-auth` writes from the same config, a device
 * publishes only on its own topics, never on aquawatch/#; an integration reads the alarm topic and
 * nothing else of the platform's; unknown or anonymous clients are refused.
 *
 * Nothing waits for time: a refused message is shown absent by a later message on the same path
 * that does arrive (a broker keeps the order of one publisher's messages to one subscriber).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { parseConfig } from '../../core/config/load.ts';
import { EmbeddedBroker } from '../../core/bus/embedded-broker.ts';
import { mosquittoAuthFiles } from '../../core/bus/broker-auth.ts';
import { MosquittoBroker } from '../support/mosquitto.ts';
import { freePort } from '../support/ports.ts';

const PLATFORM = { username: 'aquawatch', password: 'platform-secret-1' };
const LOGGER = { username: 'logger-central', password: 'device-secret-1' };
const BRIDGE = { username: 'scada-bridge', password: 'integration-secret-1' };

async function brokerConfig(port: number) {
  return parseConfig({
    broker: {
      url: 'embedded', host: '127.0.0.1', port, ...PLATFORM, anonymous: 'refuse',
      users: [
        { ...LOGGER, publish: ['sim/demo/central/#'], subscribe: ['sim/demo/cmd/central/#'] },
        { ...BRIDGE, subscribe: ['aquawatch/v1/alarms/#'] },
      ],
    },
  }, '(test)', {}).broker;
}

interface Broker { url: string; stop(): Promise<void> }

const brokers: Record<string, () => Promise<Broker>> = {
  aedes: async () => {
    const b = EmbeddedBroker.fromConfig(await brokerConfig(await freePort()));
    await b.start();
    return b;
  },
  mosquitto: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aw-acl-'));
    chmodSync(dir, 0o755); // Mosquitto drops to its own user and must read the files
    const files = mosquittoAuthFiles(await brokerConfig(0));
    writeFileSync(join(dir, 'passwd'), files.passwd, { mode: 0o644 });
    writeFileSync(join(dir, 'acl'), files.acl, { mode: 0o644 });
    const b = new MosquittoBroker({ auth: { passwordFile: join(dir, 'passwd'), aclFile: join(dir, 'acl') } });
    await b.start();
    return b;
  },
};

describe.each(Object.keys(brokers))('broker access on %s', (kind) => {
  let broker: Broker;
  const clients: MqttClient[] = [];
  const connect = async (who?: { username: string; password: string }) => {
    const c = await mqtt.connectAsync(broker.url, { ...who, reconnectPeriod: 0, clientId: `t-${Math.random().toString(16).slice(2)}` });
    clients.push(c);
    return c;
  };
  /** A subscriber that records every message it gets. */
  const listen = async (who: { username: string; password: string }, filter: string) => {
    const c = await connect(who);
    const got: string[] = [];
    c.on('message', (topic) => got.push(topic));
    // A refused filter: aedes answers SUBACK 0x80 (mqtt.js rejects), Mosquitto grants it and delivers nothing.
    const granted = await c.subscribeAsync(filter, { qos: 1 }).then((g) => g[0].qos, () => 128);
    return { client: c, got, granted };
  };
  /** Publish something that may be refused: done when the broker answered or closed the connection. */
  const attempt = (c: MqttClient, topic: string, payload: string) => Promise.race([
    c.publishAsync(topic, payload, { qos: 1 }).catch(() => undefined),
    new Promise<void>((r) => c.once('close', () => r())),
  ]);
  const arrived = async (got: string[], topic: string) => {
    for (let i = 0; i < 500 && !got.includes(topic); i++) await new Promise((r) => setTimeout(r, 20));
    expect(got).toContain(topic);
  };

  beforeAll(async () => { broker = await brokers[kind](); });
  afterAll(async () => {
    for (const c of clients) await c.endAsync(true).catch(() => undefined);
    await broker.stop();
  });

  it('a device publishes on its own topics but not on the platform bus', async () => {
    const platform = await listen(PLATFORM, '#');
    const device = await connect(LOGGER);
    // A forged clear of a burst alarm: refused (aedes closes the connection, Mosquitto drops it).
    await attempt(device, 'aquawatch/v1/conditions/x', JSON.stringify({ id: 'burst:central', state: 'clear' }));
    const other = await connect(LOGGER);
    await attempt(other, 'sim/demo/east/F-1', '{"v":1}'); // another DMA's logger topic
    const again = await connect(LOGGER);
    await again.publishAsync('sim/demo/central/F-1', '{"v":1}', { qos: 1 });
    await arrived(platform.got, 'sim/demo/central/F-1');
    expect(platform.got).not.toContain('aquawatch/v1/conditions/x');
    expect(platform.got).not.toContain('sim/demo/east/F-1');
  });

  it('only the platform reads the bus; an integration reads the alarm topic and no more', async () => {
    const bridge = await listen(BRIDGE, 'aquawatch/v1/alarms/#');
    const device = await listen(LOGGER, 'aquawatch/v1/#');
    const deviceCmd = await connect(LOGGER);
    const cmdGot: string[] = [];
    deviceCmd.on('message', (t) => cmdGot.push(t));
    await deviceCmd.subscribeAsync('sim/demo/cmd/central/#', { qos: 1 });
    const platform = await connect(PLATFORM);
    await platform.publishAsync('aquawatch/v1/telemetry/central', '{}', { qos: 1 });
    await platform.publishAsync('aquawatch/v1/alarms/central', '{}', { qos: 1 });
    await platform.publishAsync('sim/demo/cmd/central/reset', '{}', { qos: 1 });
    await arrived(bridge.got, 'aquawatch/v1/alarms/central');
    await arrived(cmdGot, 'sim/demo/cmd/central/reset');
    expect(bridge.got).not.toContain('aquawatch/v1/telemetry/central');
    expect(device.got).toEqual([]);
    // an integration may not write on the bus either
    const watcher = await listen(PLATFORM, 'aquawatch/v1/alarms/#');
    await attempt(bridge.client, 'aquawatch/v1/alarms/forged', 'forged');
    const marker = await connect(PLATFORM);
    await marker.publishAsync('aquawatch/v1/alarms/east', '{}', { qos: 1 });
    await arrived(watcher.got, 'aquawatch/v1/alarms/east');
    expect(watcher.got).not.toContain('aquawatch/v1/alarms/forged');
  });

  it('refuses unknown users, wrong passwords and anonymous clients', async () => {
    await expect(connect({ username: LOGGER.username, password: 'wrong' })).rejects.toThrow(/bad user|not authori/i);
    await expect(connect({ username: 'nobody', password: 'x' })).rejects.toThrow(/bad user|not authori/i);
    await expect(connect()).rejects.toThrow(/bad user|not authori/i);
  });
});
