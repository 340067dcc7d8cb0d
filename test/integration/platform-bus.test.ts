/**
 * `aquawatch start`'s platform (bin/commands/platform.ts) on the bus: ingest publishes the telemetry,
 * and ONE subscription (the analytics worker's) feeds both analytics and the live gateway, so the
 * platform has two MQTT clients on its bus (ingest's publisher and the analytics worker), not three.
 * The live channel admits signed-in browsers only, alarm transitions of the analytics reach
 * them, and a sign-out or a disabled user ends that session's sockets at once (review L1). Real parts: an aedes broker on a port of its own, ingest, the SQLite store, analytics,
 * fastify, socket.io over websockets.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as ioClient, type Socket } from 'socket.io-client';
import { parseConfig } from '../../core/config/load.ts';
import { silentLogger } from '../../core/log.ts';
import { startPlatform, type RunningPlatform } from '../../bin/commands/platform.ts';
import { DEMO_USERS } from '../../dashboard/server/index.ts';
import { AedesTestBroker } from '../support/brokers.ts';
import { freePort, waitFor } from '../support/ports.ts';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => { for (const c of cleanups.reverse()) await c(); });

function connect(url: string, cookie: string): Promise<Socket> {
  const s = ioClient(url, { transports: ['websocket'], extraHeaders: cookie ? { cookie } : {}, reconnection: false, forceNew: true });
  cleanups.push(() => { s.close(); });
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', (e) => reject(e));
  });
}

async function signIn(base: string, username: string): Promise<{ cookie: string; csrfToken: string }> {
  const password = DEMO_USERS.find((u) => u.username === username)!.password;
  const r = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  expect(r.status).toBe(200);
  const { csrfToken } = await r.json() as { csrfToken: string };
  return { cookie: (r.headers.get('set-cookie') ?? '').split(';')[0], csrfToken };
}

describe('the platform on its bus', () => {
  it('feeds analytics and the live gateway from one subscription, and admits signed-in browsers only', async () => {
    const broker = new AedesTestBroker();
    await broker.start();
    cleanups.push(() => broker.stop());
    const dataDir = mkdtempSync(join(tmpdir(), 'aw-platform-bus-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const config = parseConfig({
      dataDir, log: { level: 'silent' }, broker: { url: broker.url }, http: { host: '127.0.0.1', port: await freePort() },
      topology: { sites: [{ id: 'S1' }], dmas: [{ id: 'D1' }], sensors: [{ id: 'F1', kind: 'flow', unit: 'm3/h', site: 'S1', dma: 'D1' }] },
    }, 'platform-bus-test', {});
    const platform: RunningPlatform = await startPlatform(config, silentLogger);
    cleanups.push(() => platform.stop());
    const analytics = platform.analytics!;

    // ingest's bus publisher and the analytics worker; the live gateway reads the worker's feed
    await waitFor(() => broker.clientIds().length === 2, 5000, 20, 'the platform\'s bus clients');
    expect(broker.clientIds()).toEqual(expect.arrayContaining([`aquawatch-analytics-${process.pid}`, expect.stringMatching(/^aquawatch-ingest-bus-/)]));

    await expect(connect(platform.httpBase, '')).rejects.toThrowError(/unauthorized/);
    const viewer = await signIn(platform.httpBase, 'viewer');
    const socket = await connect(platform.httpBase, viewer.cookie);
    const ack = await socket.emitWithAck('subscribe', { rooms: ['values:F1', 'alarms'] }) as { ok: boolean };
    expect(ack.ok).toBe(true);

    const values: { sensor: string; value: number }[] = [];
    socket.on('values', (batch: { sensor: string; value: number }[]) => values.push(...batch));
    const ts = Date.now(); // analytics warmed up to now: an older reading would be late for it
    await platform.ingest.sourceContext().submit('test', [{ sensor: 'F1', ts, value: 42, quality: 'good' }]);
    await waitFor(() => values.length > 0 && analytics.worker.stats.readings > 0, 10_000, 20, 'the reading in the browser and in analytics');
    expect(values).toEqual([{ sensor: 'F1', kind: 'flow', ts, value: 42, quality: 'good' }]);
    expect(analytics.worker.stats.readings).toBe(1);

    const alarm = new Promise<{ kind: string; alarm: { type: string; dma: string } }>((resolve) => socket.on('alarm', resolve));
    analytics.alarms.onCondition({ id: 'burst:D1', type: 'burst', state: 'raise', ts, priority: 'high', dma: 'D1', message: 'burst', evidence: { burstFlowM3h: 20 } });
    expect(await alarm).toMatchObject({ kind: 'raise', alarm: { type: 'burst', dma: 'D1' } });

    // Review L1: a sign-out, and a user disabled by an admin, end their sockets at once (the
    // periodic session check is 30 s; the waits below are far shorter)
    const expired: string[] = [];
    socket.on('session_expired', () => expired.push('viewer'));
    const out = await fetch(`${platform.httpBase}/api/v1/auth/logout`, { method: 'POST', headers: { cookie: viewer.cookie, 'x-csrf-token': viewer.csrfToken } });
    expect(out.status).toBe(200);
    await waitFor(() => !socket.connected, 5000, 20, 'the signed-out socket disconnected');
    expect(expired).toEqual(['viewer']);

    const dispatcher = await connect(platform.httpBase, (await signIn(platform.httpBase, 'dispatcher')).cookie);
    const admin = await signIn(platform.httpBase, 'admin');
    const disabled = await fetch(`${platform.httpBase}/api/v1/users/dispatcher`, {
      method: 'PATCH', headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrfToken, 'content-type': 'application/json' }, body: JSON.stringify({ disabled: true }),
    });
    expect(disabled.status).toBe(200);
    await waitFor(() => !dispatcher.connected, 5000, 20, 'the disabled user\'s socket disconnected');
  });
});
