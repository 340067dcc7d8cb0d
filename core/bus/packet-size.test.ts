/**
 * The largest MQTT packet a broker takes (review F14): the embedded broker (aedes) and the
 * Mosquitto the project ships both drop a client that announces a bigger one, before buffering
 * it and before authentication; packets of the platform's own size still pass.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import mqtt from 'mqtt';
import { EmbeddedBroker, MQTT_MAX_PACKET_BYTES } from './embedded-broker.ts';
import { MosquittoBroker } from '../../test/support/mosquitto.ts';
import { waitFor } from '../../test/support/ports.ts';

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => { for (const s of stops.splice(0)) await s(); });

/** The fixed header of a CONNECT announcing `length` bytes (MQTT's variable-length encoding). */
function connectHeader(length: number): Buffer {
  const bytes = [0x10];
  let x = length;
  do { let b = x % 128; x = Math.floor(x / 128); if (x > 0) b |= 0x80; bytes.push(b); } while (x > 0);
  return Buffer.from(bytes);
}

/** Sends a CONNECT header announcing 200 MB and then data; resolves with the bytes sent before the broker hung up. */
async function oversizedConnect(port: number): Promise<number> {
  const socket: Socket = connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  let closed = false;
  socket.on('close', () => { closed = true; });
  socket.on('error', () => { closed = true; });
  socket.write(connectHeader(200 * 1024 * 1024));
  let sent = 0;
  const chunk = Buffer.alloc(64 * 1024, 0x41);
  while (!closed && sent < 16 * 1024 * 1024) {
    if (!socket.write(chunk)) await new Promise((resolve) => { socket.once('drain', resolve); socket.once('close', resolve); });
    sent += chunk.length;
  }
  await waitFor(() => closed, 5000, 10, 'the broker closing the connection');
  return sent;
}

async function bigPublish(url: string, bytes: number, username?: string, password?: string): Promise<'delivered' | 'disconnected'> {
  const client = await mqtt.connectAsync(url, { username, password, reconnectPeriod: 0, clientId: `aw-big-${process.pid}-${bytes}` });
  try {
    await client.subscribeAsync('big/t', { qos: 1 });
    const received = new Promise<'delivered'>((resolve) => client.once('message', () => resolve('delivered')));
    const closed = new Promise<'disconnected'>((resolve) => client.once('close', () => resolve('disconnected')));
    client.publish('big/t', Buffer.alloc(bytes, 0x42), { qos: 1 });
    return await Promise.race([received, closed]);
  } finally {
    await client.endAsync(true);
  }
}

describe('MQTT maximum packet size', () => {
  it('is 1 MiB, and the shipped Mosquitto config says the same', () => {
    expect(MQTT_MAX_PACKET_BYTES).toBe(1024 * 1024);
    expect(readFileSync('deploy/mosquitto/mosquitto.conf', 'utf8')).toMatch(new RegExp(`^max_packet_size ${MQTT_MAX_PACKET_BYTES}$`, 'm'));
  });

  it('embedded broker: an oversized CONNECT is refused before it is buffered; a big but allowed publish passes', async () => {
    const broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0, username: 'platform', password: 'a-long-password' });
    await broker.start();
    stops.push(() => broker.stop());
    // (what was sent includes what the two socket buffers held when the broker hung up)
    expect(await oversizedConnect(broker.port)).toBeLessThan(16 * 1024 * 1024);
    expect(await bigPublish(broker.url, MQTT_MAX_PACKET_BYTES / 2, 'platform', 'a-long-password')).toBe('delivered');
    expect(await bigPublish(broker.url, 2 * MQTT_MAX_PACKET_BYTES, 'platform', 'a-long-password')).toBe('disconnected');
  });

  it('Mosquitto with the shipped setting: an oversized publish disconnects its client', async () => {
    const setting = readFileSync('deploy/mosquitto/mosquitto.conf', 'utf8').split('\n').find((l) => l.startsWith('max_packet_size '));
    const broker = new MosquittoBroker({ extraConfig: setting ? [setting] : [] });
    await broker.start();
    stops.push(() => broker.stop());
    expect(await bigPublish(broker.url, MQTT_MAX_PACKET_BYTES / 2)).toBe('delivered');
    expect(await bigPublish(broker.url, 2 * MQTT_MAX_PACKET_BYTES)).toBe('disconnected');
  });
});
