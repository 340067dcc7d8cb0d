/**
 * Live values: the latest reading per series from the telemetry feed, released to the clients that
 * show it at most once per `minIntervalMs` (the latest wins), in one `values` message per client per
 * flush. A client whose socket is backed up is skipped for that flush; what it missed waits in its
 * own `owed` map (one entry per series) and goes with its next flush. Nothing awaits a client.
 */
import type { Socket } from 'socket.io';
import type { Reading } from '../../../core/model/reading.ts';
import type { Topology } from '../../../core/topology/topology.ts';
import type { Client, RoomIndex } from './rooms.ts';
import type { LiveCounters, LiveValue } from './types.ts';

/** A few ms of slack: timers fire a little early or late, and a value that just misses its spacing would otherwise wait a whole extra flush. */
const SPACING_SLACK_MS = 5;

/** The engine.io pieces the back-pressure check reads (public fields, typed loosely across versions). */
interface EngineConn {
  writeBuffer?: unknown[];
  transport?: { name?: string; socket?: { bufferedAmount?: number } };
}

export class LiveValues {
  /** The latest reading of each series seen on the bus. */
  private readonly latest = new Map<string, LiveValue>();
  /** Series whose latest reading has not been released to subscribers yet. */
  private pending = new Map<string, LiveValue>();
  /** Wall time each series was last released (for the minimum spacing). */
  private readonly lastReleased = new Map<string, number>();

  constructor(private readonly o: {
    topology: Topology; rooms: RoomIndex; counters: LiveCounters; minIntervalMs: number; maxBufferedBytes: number;
  }) {}

  /** Readings from the telemetry feed. */
  take(readings: readonly Reading[]): void {
    const { counters: s } = this.o;
    const sensors = this.o.topology.sensors;
    for (const r of readings) {
      s.valuesIn++;
      const info = sensors.get(r.sensor);
      if (!info) { s.valuesUnknown++; continue; }
      const prev = this.latest.get(r.sensor);
      // A late reading (store-and-forward catching up) must not move a live display backwards.
      if (prev && prev.ts > r.ts) { s.valuesStale++; continue; }
      const v: LiveValue = { sensor: r.sensor, kind: info.kind, ts: r.ts, value: r.value, quality: r.quality };
      this.latest.set(r.sensor, v);
      this.pending.set(r.sensor, v);
    }
  }

  /** A new subscriber gets the latest known value at the next flush, not after the sensor's next reading. */
  owe(c: Client, sensor: string): void {
    const v = this.latest.get(sensor);
    if (v && !c.owed.has(sensor)) c.owed.set(sensor, v);
  }

  flush(): void {
    const { counters: s, rooms, minIntervalMs } = this.o;
    const started = performance.now();
    const now = Date.now();
    if (this.pending.size) {
      const held = new Map<string, LiveValue>();
      for (const [sensor, v] of this.pending) {
        const last = this.lastReleased.get(sensor);
        if (last !== undefined && now - last < minIntervalMs - SPACING_SLACK_MS) { held.set(sensor, v); continue; }
        const { direct, viaDma } = rooms.showing(sensor);
        if (!direct && !viaDma) continue; // nobody shows it: nothing to space out either
        this.lastReleased.set(sensor, now);
        if (direct) for (const c of direct) c.owed.set(sensor, v);
        if (viaDma) for (const c of viaDma) c.owed.set(sensor, v);
      }
      this.pending = held;
    }
    for (const c of rooms.clients.values()) {
      if (c.owed.size === 0) continue;
      if (this.backedUp(c.socket)) { s.skippedSends++; continue; }
      const batch = [...c.owed.values()];
      c.owed.clear();
      c.socket.emit('values', batch);
      s.valuesOut += batch.length;
      s.messagesOut++;
    }
    s.flushes++;
    s.lastFlushMs = performance.now() - started;
  }

  /** Packets engine.io could not hand to the transport yet, or a websocket with a large unsent buffer. */
  private backedUp(socket: Socket): boolean {
    const conn = socket.conn as unknown as EngineConn;
    if ((conn.writeBuffer?.length ?? 0) > 0) return true;
    return (conn.transport?.socket?.bufferedAmount ?? 0) > this.o.maxBufferedBytes;
  }
}
