/**
 * The dashboard's live channel (API.md "Live"): a socket.io server on the dashboard's HTTP server
 * that pushes live values, alarm transitions, incidents, DMA states and KPI tiles to the browsers
 * that show them. See README.md in this folder for the design and its limits.
 *
 * Values: one MQTT subscription to the telemetry on the bus; the latest reading per series is
 * kept, and a flush every `flushMs` sends each client, in one `values` message, the series of its
 * rooms whose latest reading changed and was not sent in the last `minIntervalMs` (≤ 1 per series
 * per second, the latest wins). A client whose socket buffer is backed up is skipped for that
 * flush; what it missed waits in its own `owed` map (one entry per series, so it cannot grow
 * beyond its subscriptions) and goes with its next flush. Nothing awaits a client.
 */
import type { Server as HttpServer } from 'node:http';
import { Server as IoServer, type Socket } from 'socket.io';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { TELEMETRY_FILTER } from '../../../core/bus/topics.ts';
import { checkTelemetry } from '../../../core/bus/messages/telemetry.ts';
import { emptyDropCounts, type BusDropCounts } from '../../../core/bus/messages/trust.ts';
import type { Topology } from '../../../core/topology/topology.ts';
import type { Quality } from '../../../core/model/reading.ts';
import type { AlarmTransition } from '../../../analytics/alarms/manager.ts';
import type { Incident } from '../../../analytics/outages/register.ts';

export interface LiveUser { username: string; role: string }

/** What travels in a `values` message. */
export interface LiveValue { sensor: string; kind: string; ts: number; value: number; quality: Quality }

/** The part of AlarmManager the gateway uses. */
export interface AlarmTransitionSource {
  on(event: 'transition', listener: (t: AlarmTransition) => void): unknown;
  off(event: 'transition', listener: (t: AlarmTransition) => void): unknown;
}

export interface LiveGatewayOptions {
  httpServer: HttpServer;
  /** The session behind a Cookie header, or undefined (no cookie, unknown or expired session). */
  authenticate(cookieHeader: string | undefined): LiveUser | undefined | Promise<LiveUser | undefined>;
  /** The platform bus (mqtt://…; the embedded broker's address in demo mode). */
  brokerUrl: string;
  /** Credentials and TLS: build with core/bus/mqtt-client.ts mqttConnectOptions. */
  connect?: IClientOptions;
  topology: Topology;
  alarms?: AlarmTransitionSource;
  register?: { listIncidents(from?: number, to?: number): Incident[] | Promise<Incident[]> };
  /** The GET /dmas/state array. */
  dmaStates?: () => Promise<unknown[]> | unknown[];
  /** The GET /kpis/summary object. */
  kpiSummary?: () => Promise<unknown> | unknown;
  log: Logger;
  /** How often values are flushed to clients (default 200 ms): bounds the delay a reading waits. */
  flushMs?: number;
  /** Minimum spacing of two values of one series (default 1000 ms: ≤ 1 per series per second). */
  minIntervalMs?: number;
  /** `values:<sensor>` rooms one client may be in (default 200). */
  maxSensorRooms?: number;
  /** A websocket with more than this many bytes not yet written to the network is backed up (default 256 KiB). */
  maxBufferedBytes?: number;
  /** Poll intervals (defaults 2 s, 1 s, 5 s) and how far back the incident poll looks (default 7 days). */
  incidentPollMs?: number;
  dmaPollMs?: number;
  kpiPollMs?: number;
  incidentLookbackMs?: number;
  /** How often a connected client's session is checked again (default 30 s); gone → disconnected. */
  sessionCheckMs?: number;
  /**
   * A reading timed further than this ahead of the server's clock is dropped and counted: the
   * clock skew the platform allows (config ingest.maxFutureMs). Default 5 min. Kept, such a reading
   * would hold the sensor's live value for good (later real readings look older).
   */
  busClockSkewMs?: number;
  /** How long start() waits for the first bus subscription before going on without it (default 10 s). */
  busStartTimeoutMs?: number;
  /** Origins (`https://scada.example`) allowed besides the server's own host (a page served elsewhere). */
  allowedOrigins?: string[];
  /** Socket.io path (default /socket.io). */
  path?: string;
}

export interface LiveStats {
  clients: number;
  /** Rooms with at least one member. */
  rooms: number;
  /** Readings received from the bus / of them for sensors the topology does not know / older than the latest. */
  valuesIn: number;
  valuesUnknown: number;
  valuesStale: number;
  /** Values sent (one per series per client) and `values` messages sent. */
  valuesOut: number;
  messagesOut: number;
  /** Flushes in which a client had values due but was skipped because its buffer was backed up. */
  skippedSends: number;
  flushes: number;
  /** Duration of the last flush, ms. */
  lastFlushMs: number;
  busConnected: boolean;
  busErrors: number;
  /** Telemetry dropped by the checks of core/bus/messages: messages by reason, readings for `future`. */
  busDropped: BusDropCounts;
  pollErrors: number;
}

const SPACING_SLACK_MS = 5;
const NAMED_ROOMS = new Set(['alarms', 'incidents', 'dmas', 'kpis']);
const SENSOR_PREFIX = 'values:';
const DMA_PREFIX = 'values:dma:';

/** A room a client asked for, parsed. */
type Room = { kind: 'named'; name: string } | { kind: 'sensor'; sensor: string } | { kind: 'dma'; dma: string };

class Client {
  readonly sensors = new Set<string>();
  readonly dmas = new Set<string>();
  readonly named = new Set<string>();
  /** Values due to this client and not sent yet (one per series, the latest wins). */
  readonly owed = new Map<string, LiveValue>();
  constructor(readonly socket: Socket, readonly user: LiveUser) {}
  rooms(): string[] {
    return [...this.named, ...[...this.dmas].map((d) => DMA_PREFIX + d), ...[...this.sensors].map((s) => SENSOR_PREFIX + s)];
  }
}

/** The engine.io pieces the back-pressure check reads (public fields, typed loosely across versions). */
interface EngineConn {
  writeBuffer?: unknown[];
  transport?: { name?: string; socket?: { bufferedAmount?: number } };
}

export class LiveGateway {
  private io?: IoServer;
  private bus?: MqttClient;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly clients = new Map<string, Client>();
  private readonly bySensor = new Map<string, Set<Client>>();
  private readonly byDma = new Map<string, Set<Client>>();
  /** The latest reading of each series seen on the bus. */
  private readonly latest = new Map<string, LiveValue>();
  /** Series whose latest reading has not been released to subscribers yet. */
  private pending = new Map<string, LiveValue>();
  /** Wall time each series was last released (for the minimum spacing). */
  private readonly lastReleased = new Map<string, number>();
  private lastDmas?: { json: string; value: unknown };
  private lastKpis?: { json: string; value: unknown };
  private knownIncidents?: Map<string, string>;
  private readonly inFlight = new Set<string>();
  private alarmListener?: (t: AlarmTransition) => void;
  private readonly s = {
    valuesIn: 0, valuesUnknown: 0, valuesStale: 0, valuesOut: 0, messagesOut: 0, skippedSends: 0,
    flushes: 0, lastFlushMs: 0, busErrors: 0, busDropped: emptyDropCounts(), pollErrors: 0,
  };
  private readonly flushMs: number;
  private readonly minIntervalMs: number;
  private readonly maxSensorRooms: number;
  private readonly maxBufferedBytes: number;

  constructor(private readonly opts: LiveGatewayOptions) {
    const positive = (name: keyof LiveGatewayOptions, v: number | undefined, dflt: number): number => {
      const x = v ?? dflt;
      if (!Number.isFinite(x) || x <= 0) throw new Error(`LiveGateway: ${String(name)} must be a positive number, got ${String(v)}`);
      return x;
    };
    this.flushMs = positive('flushMs', opts.flushMs, 200);
    this.minIntervalMs = positive('minIntervalMs', opts.minIntervalMs, 1000);
    this.maxSensorRooms = positive('maxSensorRooms', opts.maxSensorRooms, 200);
    this.maxBufferedBytes = positive('maxBufferedBytes', opts.maxBufferedBytes, 256 * 1024);
  }

  async start(): Promise<void> {
    if (this.io) return;
    const o = this.opts;
    const io = new IoServer(o.httpServer, {
      path: o.path ?? '/socket.io',
      serveClient: false,
      // Browsers send Origin; a page of another site must not ride on the session cookie.
      allowRequest: (req, cb) => {
        const origin = req.headers.origin;
        if (!origin || o.allowedOrigins?.includes(origin)) return cb(null, true);
        let host: string;
        try { host = new URL(origin).host; } catch { return cb('origin: not a URL', false); }
        const forwarded = String(req.headers['x-forwarded-host'] ?? '').split(',')[0].trim();
        const same = host === req.headers.host || (forwarded !== '' && host === forwarded);
        cb(same ? null : `origin: ${origin} is another site`, same);
      },
    });
    this.io = io;
    io.use((socket, next) => {
      Promise.resolve()
        .then(() => o.authenticate(socket.handshake.headers.cookie))
        .then((user) => {
          if (!user) return next(new Error('unauthorized: sign in first (no valid session cookie)'));
          socket.data.user = user;
          next();
        })
        .catch((e: unknown) => {
          o.log.warn({ err: (e as Error).message }, 'live: session check failed');
          next(new Error('unauthorized: the session could not be checked'));
        });
    });
    io.on('connection', (socket) => this.onConnection(socket));

    if (o.alarms) {
      this.alarmListener = (t) => {
        io.to('alarms').emit('alarm', { kind: t.kind, alarm: t.alarm, annunciate: t.annunciate });
      };
      o.alarms.on('transition', this.alarmListener);
    }

    const every = (ms: number, fn: () => void) => { const t = setInterval(fn, ms); t.unref(); this.timers.push(t); };
    every(this.flushMs, () => this.flush());
    if (o.register) every(o.incidentPollMs ?? 2000, () => this.poll('incidents', () => this.pollIncidents()));
    if (o.dmaStates) every(o.dmaPollMs ?? 1000, () => this.poll('dmas', () => this.pollSnapshot('dmas')));
    if (o.kpiSummary) every(o.kpiPollMs ?? 5000, () => this.poll('kpis', () => this.pollSnapshot('kpis')));
    every(o.sessionCheckMs ?? 30_000, () => this.poll('sessions', () => this.recheckSessions()));
    if (o.register) this.poll('incidents', () => this.pollIncidents()); // the baseline: what exists is not news

    await this.connectBus();
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
    if (this.alarmListener) this.opts.alarms?.off('transition', this.alarmListener);
    this.alarmListener = undefined;
    const io = this.io;
    this.io = undefined;
    if (io) {
      io.disconnectSockets(true);
      // Not io.close(): that would close the HTTP server, which belongs to fastify.
      io.engine.close();
    }
    this.clients.clear();
    this.bySensor.clear();
    this.byDma.clear();
    const bus = this.bus;
    this.bus = undefined;
    if (bus) await bus.endAsync(true).catch(() => {});
  }

  stats(): LiveStats {
    let rooms = this.bySensor.size + this.byDma.size;
    for (const name of NAMED_ROOMS) if ((this.io?.sockets.adapter.rooms.get(name)?.size ?? 0) > 0) rooms++;
    return { clients: this.clients.size, rooms, ...this.s, busDropped: { ...this.s.busDropped }, busConnected: this.bus?.connected ?? false };
  }

  // --- bus ---------------------------------------------------------------------------------------

  private connectBus(): Promise<void> {
    const o = this.opts;
    const bus = mqtt.connect(o.brokerUrl, {
      ...o.connect,
      clientId: `aquawatch-dashboard-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      // Live values only: what was missed while away is in the store, not worth a broker queue.
      clean: true,
      reconnectPeriod: 1000,
    });
    this.bus = bus;
    bus.on('message', (_topic, payload) => this.onTelemetry(payload));
    bus.on('error', (e) => { this.s.busErrors++; o.log.warn({ err: e.message }, 'live: bus client error'); });
    const subscribed = new Promise<void>((resolve) => {
      bus.on('connect', () => {
        bus.subscribe(TELEMETRY_FILTER, { qos: 0 }, (e) => {
          if (e) { this.s.busErrors++; o.log.warn({ err: e.message }, 'live: telemetry subscription failed'); return; }
          resolve();
        });
      });
    });
    const waitMs = o.busStartTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        o.log.warn({ broker: o.brokerUrl, waitMs }, 'live: bus not reachable yet; live values start when it is');
        resolve();
      }, waitMs);
    });
    return Promise.race([subscribed, timeout]).finally(() => clearTimeout(timer));
  }

  private onTelemetry(payload: Buffer): void {
    const checked = checkTelemetry(payload, { now: Date.now, maxFutureMs: this.opts.busClockSkewMs ?? 5 * 60_000 });
    if (!checked.ok) {
      this.s.busDropped[checked.reason]++;
      this.opts.log.warn({ reason: checked.reason, err: checked.detail }, 'live: telemetry message dropped');
      return;
    }
    this.s.busDropped.future += checked.future;
    const readings = checked.readings;
    const sensors = this.opts.topology.sensors;
    for (const r of readings) {
      this.s.valuesIn++;
      const info = sensors.get(r.sensor);
      if (!info) { this.s.valuesUnknown++; continue; }
      const prev = this.latest.get(r.sensor);
      // A late reading (store-and-forward catching up) must not move a live display backwards.
      if (prev && prev.ts > r.ts) { this.s.valuesStale++; continue; }
      const v: LiveValue = { sensor: r.sensor, kind: info.kind, ts: r.ts, value: r.value, quality: r.quality };
      this.latest.set(r.sensor, v);
      this.pending.set(r.sensor, v);
    }
  }

  // --- values ------------------------------------------------------------------------------------

  private flush(): void {
    const started = performance.now();
    const now = Date.now();
    if (this.pending.size) {
      const held = new Map<string, LiveValue>();
      for (const [sensor, v] of this.pending) {
        const last = this.lastReleased.get(sensor);
        // A few ms of slack: timers fire a little early or late, and a value that just misses its
        // spacing would otherwise wait a whole extra flush.
        if (last !== undefined && now - last < this.minIntervalMs - SPACING_SLACK_MS) { held.set(sensor, v); continue; }
        const direct = this.bySensor.get(sensor);
        const viaDma = this.byDma.get(this.opts.topology.sensors.get(sensor)?.dma ?? '');
        if (!direct && !viaDma) continue; // nobody shows it: nothing to space out either
        this.lastReleased.set(sensor, now);
        if (direct) for (const c of direct) c.owed.set(sensor, v);
        if (viaDma) for (const c of viaDma) c.owed.set(sensor, v);
      }
      this.pending = held;
    }
    for (const c of this.clients.values()) {
      if (c.owed.size === 0) continue;
      if (this.backedUp(c.socket)) { this.s.skippedSends++; continue; }
      const batch = [...c.owed.values()];
      c.owed.clear();
      c.socket.emit('values', batch);
      this.s.valuesOut += batch.length;
      this.s.messagesOut++;
    }
    this.s.flushes++;
    this.s.lastFlushMs = performance.now() - started;
  }

  /** Packets engine.io could not hand to the transport yet, or a websocket with a large unsent buffer. */
  private backedUp(socket: Socket): boolean {
    const conn = socket.conn as unknown as EngineConn;
    if ((conn.writeBuffer?.length ?? 0) > 0) return true;
    return (conn.transport?.socket?.bufferedAmount ?? 0) > this.maxBufferedBytes;
  }

  // --- clients -----------------------------------------------------------------------------------

  private onConnection(socket: Socket): void {
    const client = new Client(socket, socket.data.user as LiveUser);
    this.clients.set(socket.id, client);
    socket.on('subscribe', (body: unknown, ack?: unknown) => this.answer(ack, this.subscribe(client, body)));
    socket.on('unsubscribe', (body: unknown, ack?: unknown) => this.answer(ack, this.unsubscribe(client, body)));
    socket.on('disconnect', () => this.forget(client));
  }

  private answer(ack: unknown, result: { ok: true; rooms: string[] } | { ok: false; error: string }): void {
    if (typeof ack === 'function') ack(result);
  }

  /** Parse `{rooms}`; every room must be valid, or none is joined. */
  private parseRooms(body: unknown): Room[] | string {
    const rooms = (body as { rooms?: unknown } | null)?.rooms;
    if (!Array.isArray(rooms)) return 'rooms: must be an array of room names';
    if (rooms.length > 1000) return `rooms: at most 1000 per request, got ${rooms.length}`;
    const out: Room[] = [];
    const bad: string[] = [];
    for (const [i, r] of rooms.entries()) {
      if (typeof r !== 'string') { bad.push(`rooms[${i}]: must be a string`); continue; }
      if (NAMED_ROOMS.has(r)) out.push({ kind: 'named', name: r });
      else if (r.startsWith(DMA_PREFIX)) {
        const dma = r.slice(DMA_PREFIX.length);
        if (this.opts.topology.dmas.has(dma)) out.push({ kind: 'dma', dma });
        else bad.push(`rooms[${i}]: ${r}: unknown DMA ${JSON.stringify(dma)}`);
      } else if (r.startsWith(SENSOR_PREFIX)) {
        const sensor = r.slice(SENSOR_PREFIX.length);
        if (this.opts.topology.sensors.has(sensor)) out.push({ kind: 'sensor', sensor });
        else bad.push(`rooms[${i}]: ${r}: unknown sensor ${JSON.stringify(sensor)}`);
      } else bad.push(`rooms[${i}]: ${r}: not a room (alarms, incidents, dmas, kpis, values:<sensor>, values:dma:<dma>)`);
    }
    if (bad.length) return bad.slice(0, 5).join('; ') + (bad.length > 5 ? ` (and ${bad.length - 5} more)` : '');
    return out;
  }

  private subscribe(c: Client, body: unknown): { ok: true; rooms: string[] } | { ok: false; error: string } {
    const rooms = this.parseRooms(body);
    if (typeof rooms === 'string') return { ok: false, error: rooms };
    const newSensors = new Set(rooms.flatMap((r) => (r.kind === 'sensor' && !c.sensors.has(r.sensor) ? [r.sensor] : [])));
    if (c.sensors.size + newSensors.size > this.maxSensorRooms) {
      return { ok: false, error: `rooms: at most ${this.maxSensorRooms} values:<sensor> rooms per client; this would make ${c.sensors.size + newSensors.size}` };
    }
    const topology = this.opts.topology;
    for (const r of rooms) {
      if (r.kind === 'named') {
        if (c.named.has(r.name)) continue;
        c.named.add(r.name);
        void c.socket.join(r.name);
        this.sendSnapshot(c, r.name);
      } else if (r.kind === 'sensor') {
        if (c.sensors.has(r.sensor)) continue;
        c.sensors.add(r.sensor);
        addTo(this.bySensor, r.sensor, c);
        this.owe(c, r.sensor);
      } else {
        if (c.dmas.has(r.dma)) continue;
        c.dmas.add(r.dma);
        addTo(this.byDma, r.dma, c);
        for (const s of topology.sensorsOfDma(r.dma)) this.owe(c, s.id);
      }
    }
    return { ok: true, rooms: c.rooms() };
  }

  private unsubscribe(c: Client, body: unknown): { ok: true; rooms: string[] } | { ok: false; error: string } {
    const rooms = this.parseRooms(body);
    if (typeof rooms === 'string') return { ok: false, error: rooms };
    for (const r of rooms) {
      if (r.kind === 'named') { c.named.delete(r.name); void c.socket.leave(r.name); }
      else if (r.kind === 'sensor') { c.sensors.delete(r.sensor); removeFrom(this.bySensor, r.sensor, c); }
      else { c.dmas.delete(r.dma); removeFrom(this.byDma, r.dma, c); }
    }
    // Values owed for series the client no longer shows are dropped.
    for (const s of c.owed.keys()) if (!this.shows(c, s)) c.owed.delete(s);
    return { ok: true, rooms: c.rooms() };
  }

  private shows(c: Client, sensor: string): boolean {
    return c.sensors.has(sensor) || c.dmas.has(this.opts.topology.sensors.get(sensor)?.dma ?? '\u0000');
  }

  /** A new subscriber gets the latest known value at the next flush, not after the sensor's next reading. */
  private owe(c: Client, sensor: string): void {
    const v = this.latest.get(sensor);
    if (v && !c.owed.has(sensor)) c.owed.set(sensor, v);
  }

  private sendSnapshot(c: Client, room: string): void {
    if (room === 'dmas') {
      if (this.lastDmas) c.socket.emit('dmas', this.lastDmas.value);
      else if (this.opts.dmaStates) this.poll('dmas', () => this.pollSnapshot('dmas'));
    } else if (room === 'kpis') {
      if (this.lastKpis) c.socket.emit('kpis', this.lastKpis.value);
      else if (this.opts.kpiSummary) this.poll('kpis', () => this.pollSnapshot('kpis'));
    }
  }

  private forget(c: Client): void {
    this.clients.delete(c.socket.id);
    for (const s of c.sensors) removeFrom(this.bySensor, s, c);
    for (const d of c.dmas) removeFrom(this.byDma, d, c);
  }

  private async recheckSessions(): Promise<void> {
    for (const c of [...this.clients.values()]) {
      const user = await this.opts.authenticate(c.socket.handshake.headers.cookie);
      if (!user) {
        c.socket.emit('session_expired', { message: 'the session ended; sign in again' });
        c.socket.disconnect(true);
      }
    }
  }

  // --- polled snapshots ----------------------------------------------------------------------------

  /** Run one poll unless the previous one of the same name is still running; errors are logged, not thrown. */
  private poll(name: string, fn: () => Promise<void>): void {
    if (this.inFlight.has(name)) return;
    this.inFlight.add(name);
    fn().catch((e: unknown) => {
      this.s.pollErrors++;
      this.opts.log.warn({ poll: name, err: (e as Error).message }, 'live: poll failed');
    }).finally(() => this.inFlight.delete(name));
  }

  private async pollSnapshot(room: 'dmas' | 'kpis'): Promise<void> {
    const io = this.io;
    if (!io) return;
    // Nobody shows it: skip the work; the first subscriber triggers a fresh poll.
    if (!io.sockets.adapter.rooms.get(room)?.size) {
      if (room === 'dmas') this.lastDmas = undefined; else this.lastKpis = undefined;
      return;
    }
    const value = room === 'dmas' ? await this.opts.dmaStates!() : await this.opts.kpiSummary!();
    const json = JSON.stringify(value);
    const last = room === 'dmas' ? this.lastDmas : this.lastKpis;
    if (last?.json === json) return;
    if (room === 'dmas') this.lastDmas = { json, value }; else this.lastKpis = { json, value };
    this.io?.to(room).emit(room, value);
  }

  private async pollIncidents(): Promise<void> {
    const lookback = this.opts.incidentLookbackMs ?? 7 * 86_400_000;
    const list = await this.opts.register!.listIncidents(Date.now() - lookback);
    const seen = new Map<string, string>();
    const changed: Incident[] = [];
    for (const inc of list) {
      const json = JSON.stringify(inc);
      seen.set(inc.id, json);
      if (this.knownIncidents && this.knownIncidents.get(inc.id) !== json) changed.push(inc);
    }
    this.knownIncidents = seen;
    for (const inc of changed) this.io?.to('incidents').emit('incident', inc);
  }
}

function addTo<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(v);
}

function removeFrom<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  const s = m.get(k);
  if (!s) return;
  s.delete(v);
  if (s.size === 0) m.delete(k);
}
