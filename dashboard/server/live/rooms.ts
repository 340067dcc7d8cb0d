/**
 * Room bookkeeping of the live gateway: the rooms a browser may ask for, each connected client's
 * rooms, and the index from a series (or its DMA) to the clients that show it.
 */
import type { Socket } from 'socket.io';
import type { Topology } from '../../../core/topology/topology.ts';
import type { LiveUser, LiveValue } from './types.ts';

export const NAMED_ROOMS = new Set(['alarms', 'incidents', 'dmas', 'kpis']);
const SENSOR_PREFIX = 'values:';
const DMA_PREFIX = 'values:dma:';

/** A room a client asked for, parsed. */
export type Room = { kind: 'named'; name: string } | { kind: 'sensor'; sensor: string } | { kind: 'dma'; dma: string };

export class Client {
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

/** Parse `{rooms}`; every room must be valid, or none is joined (the reason names the rooms at fault). */
export function parseRooms(body: unknown, topology: Topology): Room[] | string {
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
      if (topology.dmas.has(dma)) out.push({ kind: 'dma', dma });
      else bad.push(`rooms[${i}]: ${r}: unknown DMA ${JSON.stringify(dma)}`);
    } else if (r.startsWith(SENSOR_PREFIX)) {
      const sensor = r.slice(SENSOR_PREFIX.length);
      if (topology.sensors.has(sensor)) out.push({ kind: 'sensor', sensor });
      else bad.push(`rooms[${i}]: ${r}: unknown sensor ${JSON.stringify(sensor)}`);
    } else bad.push(`rooms[${i}]: ${r}: not a room (alarms, incidents, dmas, kpis, values:<sensor>, values:dma:<dma>)`);
  }
  if (bad.length) return bad.slice(0, 5).join('; ') + (bad.length > 5 ? ` (and ${bad.length - 5} more)` : '');
  return out;
}

/** The connected clients, and who shows each series (directly or through its DMA). */
export class RoomIndex {
  readonly clients = new Map<string, Client>();
  private readonly bySensor = new Map<string, Set<Client>>();
  private readonly byDma = new Map<string, Set<Client>>();

  constructor(private readonly topology: Topology) {}

  /** Rooms with at least one member among the value rooms. */
  get valueRooms(): number { return this.bySensor.size + this.byDma.size; }

  /** The clients in `values:<sensor>` and in the sensor's `values:dma:<dma>`. */
  showing(sensor: string): { direct?: Set<Client>; viaDma?: Set<Client> } {
    return { direct: this.bySensor.get(sensor), viaDma: this.byDma.get(this.topology.sensors.get(sensor)?.dma ?? '') };
  }

  shows(c: Client, sensor: string): boolean {
    return c.sensors.has(sensor) || c.dmas.has(this.topology.sensors.get(sensor)?.dma ?? '\u0000');
  }

  joinSensor(c: Client, sensor: string): boolean {
    if (c.sensors.has(sensor)) return false;
    c.sensors.add(sensor);
    addTo(this.bySensor, sensor, c);
    return true;
  }

  joinDma(c: Client, dma: string): boolean {
    if (c.dmas.has(dma)) return false;
    c.dmas.add(dma);
    addTo(this.byDma, dma, c);
    return true;
  }

  leaveSensor(c: Client, sensor: string): void {
    c.sensors.delete(sensor);
    removeFrom(this.bySensor, sensor, c);
  }

  leaveDma(c: Client, dma: string): void {
    c.dmas.delete(dma);
    removeFrom(this.byDma, dma, c);
  }

  forget(c: Client): void {
    this.clients.delete(c.socket.id);
    for (const s of c.sensors) removeFrom(this.bySensor, s, c);
    for (const d of c.dmas) removeFrom(this.byDma, d, c);
  }

  clear(): void {
    this.clients.clear();
    this.bySensor.clear();
    this.byDma.clear();
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
