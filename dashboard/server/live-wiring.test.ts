/**
 * The live gateway on the dashboard's HTTP server: the handshake takes the dashboard's session
 * cookie, and alarm transitions of an analytics attached after the gateway started reach the
 * `alarms` room (the demo starts analytics late).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { io as ioClient, type Socket } from 'socket.io-client';
import pino from 'pino';
import { EmbeddedBroker } from '../../core/bus/embedded-broker.ts';
import type { AnalyticsService } from '../../analytics/service.ts';
import { freePort } from '../../test/support/ports.ts';
import { startLive, type LiveWiring } from './live-wiring.ts';
import { Client, startHarness, T0, type Harness } from '../../test/support/dashboard.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

function connect(url: string, cookie: string): Promise<Socket> {
  const s = ioClient(url, { transports: ['websocket'], extraHeaders: cookie ? { cookie } : {}, reconnection: false });
  cleanups.push(() => { s.close(); });
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', (e) => reject(e));
  });
}

describe('live gateway wiring', () => {
  it('admits signed-in browsers only and forwards alarms of an analytics attached later', async () => {
    const broker = new EmbeddedBroker({ host: '127.0.0.1', port: await freePort() });
    await broker.start();
    cleanups.push(() => broker.stop());
    const h: Harness = await startHarness({ analytics: false });
    cleanups.push(() => h.close());
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const addr = h.app.server.address();
    const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    const live: LiveWiring = await startLive(h.dash, { httpServer: h.app.server, brokerUrl: broker.url, log: pino({ level: 'silent' }) });
    cleanups.push(() => live.stop());

    await expect(connect(url, '')).rejects.toThrowError(/unauthorized/);
    const viewer = await Client.signIn(h.app, 'viewer');
    const socket = await connect(url, viewer.cookie);
    const ack = await socket.emitWithAck('subscribe', { rooms: ['alarms', 'dmas'] }) as { ok: boolean };
    expect(ack.ok).toBe(true);

    // analytics starts after the gateway: its transitions come through the relay
    live.attachAnalytics({ alarms: h.alarms, register: h.register } as unknown as AnalyticsService);
    const got = new Promise<{ kind: string; alarm: { type: string; dma: string } }>((resolve) => socket.on('alarm', resolve));
    h.alarms.onCondition({ id: 'burst:north', type: 'burst', state: 'raise', ts: T0 + 1000, priority: 'high', dma: 'north', message: 'burst', evidence: { burstFlowM3h: 20 } });
    expect(await got).toMatchObject({ kind: 'raise', alarm: { type: 'burst', dma: 'north' } });
  });
});
