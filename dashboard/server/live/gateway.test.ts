/**
 * LiveGateway with real parts: the embedded MQTT broker (aedes) carrying telemetry as ingest
 * publishes it (read by a BusTelemetrySubscriber, the feed a process without analytics uses), a real HTTP server, real socket.io-client connections over websockets, a real
 * AlarmManager and OutageRegister. `authenticate` stands in for the session store: a cookie
 * `aw_session=ok-<user>` is a session, anything else is not.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { Socket as NetSocket } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { io as ioClient, type Socket as ClientSocket } from 'socket.io-client';
import { EmbeddedBroker } from '../../../core/bus/embedded-broker.ts';
import { telemetryTopic } from '../../../core/bus/topics.ts';
import { encodeTelemetry } from '../../../core/bus/messages/telemetry.ts';
import { BusTelemetrySubscriber } from '../../../core/bus/telemetry-feed.ts';
import type { Reading } from '../../../core/model/reading.ts';
import { topologySchema } from '../../../core/config/schema.ts';
import { Topology } from '../../../core/topology/topology.ts';
import { silentLogger } from '../../../core/log.ts';
import { AlarmStore } from '../../../core/state/alarm-store.ts';
import { AlarmManager } from '../../../analytics/alarms/manager.ts';
import { OutageRegister } from '../../../analytics/outages/register.ts';
import { waitFor } from '../../../test/support/ports.ts';
import { LiveGateway, type LiveGatewayOptions, type LiveValue } from './gateway.ts';

const BIG = 3000; // sensors of the DMA the stalled client watches: enough to fill loopback buffers quickly

const topology = new Topology(topologySchema.parse({
  sites: [{ id: 'S1' }],
  dmas: [{ id: 'D1' }, { id: 'D2' }, { id: 'BIG' }],
  sensors: [
    { id: 'X', kind: 'pressure', site: 'S1', dma: 'D1' },
    { id: 'Y', kind: 'pressure', site: 'S1', dma: 'D1' },
    { id: 'Q1', kind: 'chlorine', site: 'S1', dma: 'D2' },
    { id: 'Q2', kind: 'flow', site: 'S1', dma: 'D2' },
    ...Array.from({ length: BIG }, (_, i) => ({ id: `B${i}`, kind: 'pressure', site: 'S1', dma: 'BIG' })),
  ],
}));

const authenticate = (cookie: string | undefined) => {
  const m = /(?:^|;\s*)aw_session=ok-([a-z]+)/.exec(cookie ?? '');
  return m ? { username: m[1], role: 'viewer' } : undefined;
};

let broker: EmbeddedBroker;
let publisher: MqttClient;
beforeAll(async () => {
  broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0 });
  await broker.start();
  publisher = await mqtt.connectAsync(broker.url, { clientId: `live-test-pub-${process.pid}` });
});
afterAll(async () => {
  await publisher?.endAsync();
  await broker?.stop();
});

interface Rig { gateway: LiveGateway; telemetry: BusTelemetrySubscriber; http: Server; url: string }
const rigs: Rig[] = [];
const clients: ClientSocket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  for (const r of rigs.splice(0)) {
    await r.gateway.stop();
    await r.telemetry.stop();
    await new Promise<void>((resolve) => r.http.close(() => resolve()));
  }
});

async function rig(extra: Partial<LiveGatewayOptions> = {}, feed: { maxFutureMs?: number } = {}): Promise<Rig> {
  const http = createServer((_req, res) => { res.statusCode = 404; res.end(); });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as { port: number }).port;
  const telemetry = new BusTelemetrySubscriber({ brokerUrl: broker.url, clientId: `live-test-${process.pid}-${rigs.length}`, log: silentLogger, ...feed });
  await telemetry.start();
  const gateway = new LiveGateway({ httpServer: http, authenticate, telemetry, topology, log: silentLogger, ...extra });
  await gateway.start();
  const r = { gateway, telemetry, http, url: `http://127.0.0.1:${port}` };
  rigs.push(r);
  return r;
}

interface Received { at: number; values: LiveValue[] }

/** A connected client that records every `values` message with its receipt time. */
async function client(url: string, cookie?: string, origin?: string): Promise<{ socket: ClientSocket; got: Received[]; values: () => LiveValue[] }> {
  const socket = ioClient(url, {
    path: '/socket.io', transports: ['websocket'], reconnection: false, forceNew: true,
    extraHeaders: { ...(cookie ? { cookie } : {}), ...(origin ? { origin } : {}) },
  });
  clients.push(socket);
  const got: Received[] = [];
  socket.on('values', (values: LiveValue[]) => got.push({ at: Date.now(), values }));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (e) => reject(e));
  });
  return { socket, got, values: () => got.flatMap((g) => g.values) };
}

async function subscribe(socket: ClientSocket, rooms: unknown): Promise<{ ok: boolean; rooms?: string[]; error?: string }> {
  return socket.timeout(5000).emitWithAck('subscribe', { rooms });
}

function publish(dma: string, readings: Reading[]): Promise<unknown> {
  return publisher.publishAsync(telemetryTopic(dma), encodeTelemetry(readings), { qos: 0 });
}

const reading = (sensor: string, ts: number, value: number): Reading => ({ sensor, ts, value, quality: 'good' });

describe('LiveGateway', () => {
  it('refuses the handshake without a valid session cookie', async () => {
    const { url, gateway } = await rig();
    await expect(client(url)).rejects.toThrow(/unauthorized/);
    await expect(client(url, 'aw_session=forged')).rejects.toThrow(/unauthorized/);
    const ok = await client(url, 'aw_session=ok-li');
    expect(ok.socket.connected).toBe(true);
    expect(gateway.stats().clients).toBe(1);
  });

  it('refuses a page of another site (Origin), even with a session cookie', async () => {
    const { url } = await rig();
    await expect(client(url, 'aw_session=ok-li', 'http://evil.example')).rejects.toThrow();
    const same = await client(url, 'aw_session=ok-li', url);
    expect(same.socket.connected).toBe(true);
  });

  it('validates rooms: unknown sensor or DMA, not a room, more than 200 sensors; the ack names the room', async () => {
    const { url } = await rig();
    const c = await client(url, 'aw_session=ok-li');
    expect(await subscribe(c.socket, ['values:X', 'values:dma:D2', 'alarms'])).toEqual({ ok: true, rooms: ['alarms', 'values:dma:D2', 'values:X'] });
    const bad = await subscribe(c.socket, ['values:Y', 'values:NOPE', 'values:dma:D9', 'weather']);
    expect(bad.ok).toBe(false);
    expect(bad.error).toContain('rooms[1]: values:NOPE: unknown sensor "NOPE"');
    expect(bad.error).toContain('rooms[2]: values:dma:D9: unknown DMA "D9"');
    expect(bad.error).toContain('rooms[3]: weather: not a room');
    expect(await subscribe(c.socket, 'values:X')).toEqual({ ok: false, error: 'rooms: must be an array of room names' });
    const tooMany = await subscribe(c.socket, Array.from({ length: 200 }, (_, i) => `values:B${i}`));
    expect(tooMany).toEqual({ ok: false, error: 'rooms: at most 200 values:<sensor> rooms per client; this would make 201' });
    // Nothing of a refused request was joined.
    expect(await c.socket.timeout(5000).emitWithAck('unsubscribe', { rooms: ['values:X'] })).toEqual({ ok: true, rooms: ['alarms', 'values:dma:D2'] });
  });

  it('a client in values:X receives X and not Y; values carry kind, ts, value, quality', async () => {
    const { url, gateway } = await rig();
    const cx = await client(url, 'aw_session=ok-li');
    const cy = await client(url, 'aw_session=ok-wang');
    await subscribe(cx.socket, ['values:X']);
    await subscribe(cy.socket, ['values:Y']);
    const ts = Date.now();
    await publish('D1', [reading('Y', ts, 2.5), reading('X', ts, 3.25), reading('UNKNOWN', ts, 1)]);
    await waitFor(() => cx.values().length > 0 && cy.values().length > 0, 5000, 20, 'both clients served');
    expect(cx.values()).toEqual([{ sensor: 'X', kind: 'pressure', ts, value: 3.25, quality: 'good' }]);
    expect(cy.values()).toEqual([{ sensor: 'Y', kind: 'pressure', ts, value: 2.5, quality: 'good' }]);
    expect(gateway.stats()).toMatchObject({ valuesIn: 3, valuesUnknown: 1, valuesOut: 2, messagesOut: 2 });
  });

  it('F2: a forged far-future reading does not freeze the live value; it and malformed messages are dropped and counted', async () => {
    const { url, gateway } = await rig({}, { maxFutureMs: 60_000 });
    const cx = await client(url, 'aw_session=ok-li');
    await subscribe(cx.socket, ['values:X']);
    await publish('D1', [reading('X', 9e12, 99)]); // year 2255: every later real reading would look older
    await publisher.publishAsync(telemetryTopic('D1'), Buffer.from('{"v":1,"s":["X"],"t":[1],"x":[1]}'), { qos: 0 });
    await publisher.publishAsync(telemetryTopic('D1'), Buffer.from('not json'), { qos: 0 });
    const ts = Date.now();
    await publish('D1', [reading('X', ts, 3.5)]);
    await waitFor(() => cx.values().length > 0, 5000, 20, 'the real reading served');
    expect(cx.values()).toEqual([{ sensor: 'X', kind: 'pressure', ts, value: 3.5, quality: 'good' }]);
    expect(gateway.stats()).toMatchObject({ valuesStale: 0, busDropped: { future: 1, shape: 1, undecodable: 1, namespace: 0 } });
  });

  it('coalesces: 10 readings of one series within its second → one delivered, the latest, ≥ 1 s after the previous', async () => {
    const { url } = await rig();
    const c = await client(url, 'aw_session=ok-li');
    await subscribe(c.socket, ['values:X']);
    const t0 = Date.now();
    await publish('D1', [reading('X', t0, 1)]);
    await waitFor(() => c.values().length === 1, 5000, 10, 'the first value');
    for (let i = 1; i <= 10; i++) await publish('D1', [reading('X', t0 + i, 1 + i)]);
    await waitFor(() => c.values().some((v) => v.ts === t0 + 10), 5000, 10, 'the latest value');
    expect(c.values().map((v) => v.value)).toEqual([1, 11]);
    expect(c.got.length).toBe(2);
    expect(c.got[1].at - c.got[0].at).toBeGreaterThanOrEqual(900);
  });

  it('values:dma:<dma> delivers every sensor of that DMA, one message per flush, and a new subscriber gets the latest at once', async () => {
    const { url } = await rig();
    const c = await client(url, 'aw_session=ok-li');
    await subscribe(c.socket, ['values:dma:D2']);
    const ts = Date.now();
    await publish('D2', [reading('Q1', ts, 0.4), reading('Q2', ts, 12)]);
    await publish('D1', [reading('X', ts, 30)]);
    await waitFor(() => c.values().length >= 2, 5000, 10, 'D2 values');
    expect(c.got[0].values.map((v) => [v.sensor, v.kind, v.value]).sort()).toEqual([['Q1', 'chlorine', 0.4], ['Q2', 'flow', 12]]);
    // A late subscriber to X does not wait for X's next reading.
    const late = await client(url, 'aw_session=ok-wang');
    await subscribe(late.socket, ['values:X']);
    await waitFor(() => late.values().length === 1, 5000, 10, 'the latest X for a new subscriber');
    expect(late.values()[0]).toMatchObject({ sensor: 'X', ts, value: 30 });
    expect(c.values().some((v) => v.sensor === 'X')).toBe(false);
  });

  it('a stalled client is skipped while its buffer is backed up, never delays a fast client, and catches up with the latest', async () => {
    const { url, gateway } = await rig({ flushMs: 50, minIntervalMs: 50 });
    const slow = await client(url, 'aw_session=ok-slow');
    const fast = await client(url, 'aw_session=ok-fast');
    await subscribe(slow.socket, ['values:dma:BIG']);
    await subscribe(fast.socket, ['values:X']);
    // Stop reading the slow client's TCP socket: the server's writes pile up in the kernel, then in node.
    const raw = (slow.socket.io.engine.transport as unknown as { ws: { _socket: NetSocket } }).ws._socket;
    raw.pause();

    let seq = 0;
    let pumping = true;
    const big = Array.from({ length: BIG }, (_, i) => `B${i}`);
    const pump = (async () => {
      while (pumping) {
        const ts = Date.now();
        seq++;
        await publish('BIG', big.map((s) => reading(s, ts, seq + 0.123456789)));
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    try {
      await waitFor(() => gateway.stats().skippedSends >= 3, 30_000, 50, 'the stalled client to be skipped');
      const skippedBefore = gateway.stats().skippedSends;
      // While the slow client stays stalled, the fast one gets each reading within a couple of flushes.
      const delays: number[] = [];
      for (let i = 0; i < 10; i++) {
        const ts = Date.now();
        await publish('D1', [reading('X', ts, i)]);
        await waitFor(() => fast.values().some((v) => v.ts === ts), 5000, 5, `fast client reading ${i}`);
        delays.push(fast.got[fast.got.length - 1].at - ts);
        await new Promise((r) => setTimeout(r, 60)); // the next reading falls in a later flush
      }
      // Flushes are 50 ms apart here: a reading taking a second would mean something waited on the stalled client.
      expect(Math.max(...delays)).toBeLessThan(1000);
      expect(gateway.stats().skippedSends).toBeGreaterThan(skippedBefore);
    } finally {
      pumping = false;
      await pump;
    }
    // Reading again: the slow client drains what was buffered, then gets the latest value of each series.
    const lastSeq = seq;
    raw.resume();
    await waitFor(() => slow.values().some((v) => v.sensor === 'B0' && v.value === lastSeq + 0.123456789), 30_000, 50, 'the slow client to catch up');
    expect(slow.socket.connected).toBe(true);
  }, 90_000);

  it('alarm transitions reach the alarms room and no one else', async () => {
    const store = new AlarmStore(':memory:');
    const alarms = new AlarmManager({ store });
    try {
      const { url } = await rig({ alarms });
      const watching = await client(url, 'aw_session=ok-li');
      const other = await client(url, 'aw_session=ok-wang');
      await subscribe(watching.socket, ['alarms']);
      await subscribe(other.socket, ['values:X']);
      const seen: { kind: string; alarm: { conditionId: string; state: string } }[] = [];
      const otherSeen: unknown[] = [];
      watching.socket.on('alarm', (a) => seen.push(a));
      other.socket.on('alarm', (a) => otherSeen.push(a));
      const ts = Date.now();
      alarms.onCondition({ id: 'burst:D1', type: 'burst', state: 'raise', ts, dma: 'D1', priority: 'high', message: 'burst in D1' });
      const [open] = alarms.openAlarms();
      alarms.acknowledge(open.id, 'li', 'crew sent');
      await waitFor(() => seen.length === 2, 5000, 10, 'two alarm transitions');
      expect(seen.map((s) => [s.kind, s.alarm.conditionId, s.alarm.state])).toEqual([
        ['raise', 'burst:D1', 'active-unacknowledged'], ['acknowledge', 'burst:D1', 'active-acknowledged']]);
      // The other client is connected and served (its own room) but got no alarm.
      await publish('D1', [reading('X', ts, 1)]);
      await waitFor(() => other.values().length === 1, 5000, 10, 'the other client served');
      expect(otherSeen).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('dmas and kpis: a snapshot on subscribe, then only changes; incidents: new and changed ones', async () => {
    let dmaStates: unknown[] = [{ dma: 'D1', state: 'normal' }];
    let kpis: unknown = { alarmsByPriority: { low: 0, medium: 0, high: 0, critical: 0 } };
    let dmaPolls = 0;
    const register = new OutageRegister(':memory:');
    const now = Date.now();
    register.recordIncident({ id: `D2:${now - 60_000}`, dma: 'D2', start: now - 60_000, customersAffected: 10, planned: false, cause: 'burst' });
    const { url } = await rig({
      dmaStates: () => { dmaPolls++; return dmaStates; }, kpiSummary: async () => kpis, register,
      dmaPollMs: 50, kpiPollMs: 50, incidentPollMs: 50,
    });
    const c = await client(url, 'aw_session=ok-li');
    const got = { dmas: [] as unknown[], kpis: [] as unknown[], incident: [] as { id: string; end?: number }[] };
    c.socket.on('dmas', (d) => got.dmas.push(d));
    c.socket.on('kpis', (k) => got.kpis.push(k));
    c.socket.on('incident', (i) => got.incident.push(i));
    await subscribe(c.socket, ['dmas', 'kpis', 'incidents']);
    await waitFor(() => got.dmas.length === 1 && got.kpis.length === 1, 5000, 10, 'snapshots');
    const polls = dmaPolls;
    await waitFor(() => dmaPolls >= polls + 3, 5000, 10, 'more polls');
    expect(got.dmas).toEqual([[{ dma: 'D1', state: 'normal' }]]); // unchanged: not sent again
    dmaStates = [{ dma: 'D1', state: 'burst' }];
    kpis = { alarmsByPriority: { low: 0, medium: 0, high: 1, critical: 0 } };
    await waitFor(() => got.dmas.length === 2 && got.kpis.length === 2, 5000, 10, 'changes');
    expect(got.dmas[1]).toEqual([{ dma: 'D1', state: 'burst' }]);
    // The incident that existed at start is not news; a new one and an ended one are.
    register.recordIncident({ id: `D1:${now}`, dma: 'D1', start: now, customersAffected: 120, planned: false, cause: 'burst' });
    await waitFor(() => got.incident.length === 1, 5000, 10, 'the new incident');
    expect(got.incident[0]).toMatchObject({ id: `D1:${now}`, dma: 'D1', customersAffected: 120 });
    register.recordIncident({ id: `D1:${now}`, dma: 'D1', start: now, end: now + 1000, customersAffected: 120, planned: false, cause: 'burst' });
    await waitFor(() => got.incident.length === 2, 5000, 10, 'the ended incident');
    expect(got.incident[1]).toMatchObject({ id: `D1:${now}`, end: now + 1000 });
    register.close();
  });

  it('disconnects a client whose session has ended', async () => {
    let valid = true;
    const { url, gateway } = await rig({ authenticate: (c) => (valid ? authenticate(c) : undefined), sessionCheckMs: 50 });
    const c = await client(url, 'aw_session=ok-li');
    const expired = new Promise((resolve) => c.socket.once('session_expired', resolve));
    valid = false;
    await expired;
    await waitFor(() => !c.socket.connected && gateway.stats().clients === 0, 5000, 10, 'disconnect');
  });

  it('disconnects a client when its session expires, without waiting for the periodic check (review L1)', async () => {
    const expiresAt = Date.now() + 300;
    // the session of the handshake says when it expires; from then on it is gone
    const { url, gateway } = await rig({ authenticate: (c) => (Date.now() < expiresAt ? { ...authenticate(c)!, sessionExpiresAt: expiresAt } : undefined) });
    const c = await client(url, 'aw_session=ok-li');
    const expired = new Promise((resolve) => c.socket.once('session_expired', resolve));
    await expired; // the periodic check is 30 s away: only the expiry timer can do this within the test's time
    await waitFor(() => !c.socket.connected && gateway.stats().clients === 0, 5000, 10, 'disconnect');
  });

  it('checks every client at once when told that sessions ended (review L1)', async () => {
    let ended: (() => void) | undefined;
    let valid = true;
    const { url, gateway } = await rig({ authenticate: (c) => (valid ? authenticate(c) : undefined), onSessionsEnded: (l) => { ended = l; return () => { ended = undefined; }; } });
    const c = await client(url, 'aw_session=ok-li');
    const expired = new Promise((resolve) => c.socket.once('session_expired', resolve));
    valid = false;
    ended!();
    await expired;
    await waitFor(() => !c.socket.connected && gateway.stats().clients === 0, 5000, 10, 'disconnect');
    await gateway.stop();
    expect(ended).toBeUndefined();
  });
});
