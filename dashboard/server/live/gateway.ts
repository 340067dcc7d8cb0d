/**
 * The dashboard's live channel (API.md "Live"): a socket.io server on the dashboard's HTTP server
 * that pushes live values, alarm transitions, incidents, DMA states and KPI tiles to the browsers
 * that show them. See README.md in this folder for the design and its limits.
 *
 * This file: the socket.io server (origin and session checks, rooms asked for and left, alarm
 * transitions to the `alarms` room, a leak alarm's clear with the repair it stands for). Its parts: rooms.ts (who shows what), values.ts (latest value
 * per series, released with back-pressure), snapshots.ts (the polled rooms). The values come from a
 * telemetry feed (core/bus/telemetry-feed.ts): in the platform, the analytics worker's subscription.
 */
import type { Server as HttpServer } from 'node:http';
import { Server as IoServer, type Socket } from 'socket.io';
import type { Logger } from 'pino';
import type { Topology } from '../../../core/topology/topology.ts';
import type { TelemetryFeed } from '../../../core/bus/telemetry-feed.ts';
import type { AlarmTransition } from '../../../analytics/alarms/manager.ts';
import type { LeakRepair } from '../state/leak-repairs.ts';
import { Client, NAMED_ROOMS, parseRooms, RoomIndex } from './rooms.ts';
import { LiveValues } from './values.ts';
import { Poller, Snapshots, type SnapshotSources } from './snapshots.ts';
import type { LiveCounters, LiveStats, LiveUser } from './types.ts';

export type { LiveStats, LiveUser, LiveValue } from './types.ts';

/** The part of AlarmManager the gateway uses. */
export interface AlarmTransitionSource {
  on(event: 'transition', listener: (t: AlarmTransition) => void): unknown;
  off(event: 'transition', listener: (t: AlarmTransition) => void): unknown;
}

export interface LiveGatewayOptions extends SnapshotSources {
  httpServer: HttpServer;
  /** The session behind a Cookie header, or undefined (no cookie, unknown or expired session). */
  authenticate(cookieHeader: string | undefined): LiveUser | undefined | Promise<LiveUser | undefined>;
  /** The decoded and checked telemetry of the bus (the analytics worker in the platform). */
  telemetry: TelemetryFeed;
  topology: Topology;
  alarms?: AlarmTransitionSource;
  /** The leak repair a transition stands for (a leak alarm's clear, ../leak-repairs.ts), sent with it as `repair`. */
  repairOf?(t: AlarmTransition): LeakRepair | undefined;
  log: Logger;
  /** How often values are flushed to clients (default 200 ms): bounds the delay a reading waits. */
  flushMs?: number;
  /** Minimum spacing of two values of one series (default 1000 ms: ≤ 1 per series per second). */
  minIntervalMs?: number;
  /** `values:<sensor>` rooms one client may be in (default 200). */
  maxSensorRooms?: number;
  /** A websocket with more than this many bytes not yet written to the network is backed up (default 256 KiB). */
  maxBufferedBytes?: number;
  /** How often a connected client's session is checked again (default 30 s); gone → disconnected. */
  sessionCheckMs?: number;
  /**
   * Subscribes to "sessions were deleted" (sign-out, a user signed out everywhere, expiry); returns
   * the unsubscribe. Every client is checked at once then, so a signed-out socket does not wait for
   * the next periodic check.
   */
  onSessionsEnded?(listener: () => void): () => void;
  /** Origins (`https://scada.example`) allowed besides the server's own host (a page served elsewhere). */
  allowedOrigins?: string[];
  /** Socket.io path (default /socket.io). */
  path?: string;
}

type RoomsAnswer = { ok: true; rooms: string[] } | { ok: false; error: string };

export class LiveGateway {
  private io?: IoServer;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly rooms: RoomIndex;
  private readonly values: LiveValues;
  private readonly poller: Poller;
  private readonly snapshots: Snapshots;
  private alarmListener?: (t: AlarmTransition) => void;
  private stopTelemetry?: () => void;
  private stopSessionsEnded?: () => void;
  /** The session check running now, and whether another was asked for meanwhile. */
  private sessionCheck?: Promise<void>;
  private sessionCheckAgain = false;
  /** Per client (socket id): the timer that checks its session when it would expire. */
  private readonly expiryTimers = new Map<string, NodeJS.Timeout>();
  private readonly s: LiveCounters = {
    valuesIn: 0, valuesUnknown: 0, valuesStale: 0, valuesOut: 0, messagesOut: 0, skippedSends: 0,
    flushes: 0, lastFlushMs: 0, pollErrors: 0,
  };
  private readonly flushMs: number;
  private readonly maxSensorRooms: number;

  constructor(private readonly opts: LiveGatewayOptions) {
    const positive = (name: keyof LiveGatewayOptions, v: number | undefined, dflt: number): number => {
      const x = v ?? dflt;
      if (!Number.isFinite(x) || x <= 0) throw new Error(`LiveGateway: ${String(name)} must be a positive number, got ${String(v)}`);
      return x;
    };
    this.flushMs = positive('flushMs', opts.flushMs, 200);
    this.maxSensorRooms = positive('maxSensorRooms', opts.maxSensorRooms, 200);
    this.rooms = new RoomIndex(opts.topology);
    this.values = new LiveValues({
      topology: opts.topology, rooms: this.rooms, counters: this.s,
      minIntervalMs: positive('minIntervalMs', opts.minIntervalMs, 1000),
      maxBufferedBytes: positive('maxBufferedBytes', opts.maxBufferedBytes, 256 * 1024),
    });
    this.poller = new Poller(this.s, opts.log);
    this.snapshots = new Snapshots(opts, () => this.io, this.poller);
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
        const repair = o.repairOf?.(t);
        io.to('alarms').emit('alarm', { kind: t.kind, alarm: t.alarm, annunciate: t.annunciate, ...(repair ? { repair } : {}) });
      };
      o.alarms.on('transition', this.alarmListener);
    }
    this.stopTelemetry = o.telemetry.onReadings((readings) => this.values.take(readings));

    const every = (ms: number, fn: () => void) => { const t = setInterval(fn, ms); t.unref(); this.timers.push(t); };
    every(this.flushMs, () => this.values.flush());
    every(o.sessionCheckMs ?? 30_000, () => this.checkSessions());
    this.stopSessionsEnded = o.onSessionsEnded?.(() => this.checkSessions());
    this.snapshots.start(every);
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
    this.stopTelemetry?.();
    this.stopTelemetry = undefined;
    this.stopSessionsEnded?.();
    this.stopSessionsEnded = undefined;
    for (const t of this.expiryTimers.values()) clearTimeout(t);
    this.expiryTimers.clear();
    if (this.alarmListener) this.opts.alarms?.off('transition', this.alarmListener);
    this.alarmListener = undefined;
    const io = this.io;
    this.io = undefined;
    if (io) {
      io.disconnectSockets(true);
      // Not io.close(): that would close the HTTP server, which belongs to fastify.
      io.engine.close();
    }
    this.rooms.clear();
  }

  stats(): LiveStats {
    let rooms = this.rooms.valueRooms;
    for (const name of NAMED_ROOMS) if ((this.io?.sockets.adapter.rooms.get(name)?.size ?? 0) > 0) rooms++;
    const { telemetry } = this.opts;
    return { clients: this.rooms.clients.size, rooms, ...this.s, busConnected: telemetry.connected, busDropped: telemetry.dropped };
  }

  // --- clients -----------------------------------------------------------------------------------

  private onConnection(socket: Socket): void {
    const user = socket.data.user as LiveUser;
    const client = new Client(socket, user);
    this.rooms.clients.set(socket.id, client);
    this.checkAtExpiry(client, user);
    socket.on('subscribe', (body: unknown, ack?: unknown) => answer(ack, this.subscribe(client, body)));
    socket.on('unsubscribe', (body: unknown, ack?: unknown) => answer(ack, this.unsubscribe(client, body)));
    socket.on('disconnect', () => {
      clearTimeout(this.expiryTimers.get(socket.id));
      this.expiryTimers.delete(socket.id);
      this.rooms.forget(client);
    });
  }

  private subscribe(c: Client, body: unknown): RoomsAnswer {
    const rooms = parseRooms(body, this.opts.topology);
    if (typeof rooms === 'string') return { ok: false, error: rooms };
    const newSensors = new Set(rooms.flatMap((r) => (r.kind === 'sensor' && !c.sensors.has(r.sensor) ? [r.sensor] : [])));
    if (c.sensors.size + newSensors.size > this.maxSensorRooms) {
      return { ok: false, error: `rooms: at most ${this.maxSensorRooms} values:<sensor> rooms per client; this would make ${c.sensors.size + newSensors.size}` };
    }
    for (const r of rooms) {
      if (r.kind === 'named') {
        if (c.named.has(r.name)) continue;
        c.named.add(r.name);
        void c.socket.join(r.name);
        this.snapshots.joined(c, r.name);
      } else if (r.kind === 'sensor') {
        if (this.rooms.joinSensor(c, r.sensor)) this.values.owe(c, r.sensor);
      } else if (this.rooms.joinDma(c, r.dma)) {
        for (const s of this.opts.topology.sensorsOfDma(r.dma)) this.values.owe(c, s.id);
      }
    }
    return { ok: true, rooms: c.rooms() };
  }

  private unsubscribe(c: Client, body: unknown): RoomsAnswer {
    const rooms = parseRooms(body, this.opts.topology);
    if (typeof rooms === 'string') return { ok: false, error: rooms };
    for (const r of rooms) {
      if (r.kind === 'named') { c.named.delete(r.name); void c.socket.leave(r.name); }
      else if (r.kind === 'sensor') this.rooms.leaveSensor(c, r.sensor);
      else this.rooms.leaveDma(c, r.dma);
    }
    // Values owed for series the client no longer shows are dropped.
    for (const s of c.owed.keys()) if (!this.rooms.shows(c, s)) c.owed.delete(s);
    return { ok: true, rooms: c.rooms() };
  }

  /** Check every client's session now; a check already running is followed by one more (a session may have ended after it looked). */
  private checkSessions(): void {
    if (this.sessionCheck) { this.sessionCheckAgain = true; return; }
    this.sessionCheck = (async () => {
      for (const c of [...this.rooms.clients.values()]) await this.checkSession(c);
    })().catch(this.sessionCheckFailed).finally(() => {
      this.sessionCheck = undefined;
      if (this.sessionCheckAgain) { this.sessionCheckAgain = false; this.checkSessions(); }
    });
  }

  private readonly sessionCheckFailed = (e: unknown): void => {
    this.s.pollErrors++;
    this.opts.log.warn({ poll: 'sessions', err: (e as Error).message }, 'live: session check failed');
  };

  private async checkSession(c: Client): Promise<void> {
    if (!c.socket.connected) return;
    const user = await this.opts.authenticate(c.socket.handshake.headers.cookie);
    if (user) { this.checkAtExpiry(c, user); return; }
    c.socket.emit('session_expired', { message: 'the session ended; sign in again' });
    c.socket.disconnect(true);
  }

  /** A timer that checks the client's session just after it would expire (renewed by each check that finds it alive). */
  private checkAtExpiry(c: Client, user: LiveUser): void {
    const id = c.socket.id;
    clearTimeout(this.expiryTimers.get(id));
    this.expiryTimers.delete(id);
    if (user.sessionExpiresAt === undefined) return;
    // setTimeout holds at most 2^31-1 ms; a later expiry is checked then and the timer renewed
    const delay = Math.min(Math.max(user.sessionExpiresAt - Date.now() + 1, 0), 2 ** 31 - 1);
    const t = setTimeout(() => {
      this.expiryTimers.delete(id);
      this.checkSession(c).catch(this.sessionCheckFailed);
    }, delay);
    t.unref();
    this.expiryTimers.set(id, t);
  }
}

function answer(ack: unknown, result: RoomsAnswer): void {
  if (typeof ack === 'function') ack(result);
}
