/**
 * The polled rooms of the live gateway: `dmas` and `kpis` (a snapshot computed only while someone
 * is in the room, sent when it changes and on subscribe) and `incidents` (new or changed incidents
 * of the register). Polls of one name never overlap; a failed poll is counted and logged.
 */
import type { Server as IoServer } from 'socket.io';
import type { Logger } from 'pino';
import type { Incident } from '../../../analytics/outages/register.ts';
import type { Client } from './rooms.ts';
import type { LiveCounters } from './types.ts';

export interface SnapshotSources {
  register?: { listIncidents(from?: number, to?: number): Incident[] | Promise<Incident[]> };
  /** The GET /dmas/state array. */
  dmaStates?: () => Promise<unknown[]> | unknown[];
  /** The GET /kpis/summary object. */
  kpiSummary?: () => Promise<unknown> | unknown;
  /** Poll intervals (defaults 2 s, 1 s, 5 s) and how far back the incident poll looks (default 7 days). */
  incidentPollMs?: number;
  dmaPollMs?: number;
  kpiPollMs?: number;
  incidentLookbackMs?: number;
}

/** Runs one poll unless the previous one of the same name is still running; errors are logged, not thrown. */
export class Poller {
  private readonly inFlight = new Set<string>();
  constructor(private readonly counters: LiveCounters, private readonly log: Logger) {}

  poll(name: string, fn: () => Promise<void>): void {
    if (this.inFlight.has(name)) return;
    this.inFlight.add(name);
    fn().catch((e: unknown) => {
      this.counters.pollErrors++;
      this.log.warn({ poll: name, err: (e as Error).message }, 'live: poll failed');
    }).finally(() => this.inFlight.delete(name));
  }
}

export class Snapshots {
  private lastDmas?: { json: string; value: unknown };
  private lastKpis?: { json: string; value: unknown };
  private knownIncidents?: Map<string, string>;

  constructor(private readonly o: SnapshotSources, private readonly io: () => IoServer | undefined, private readonly poller: Poller) {}

  /** Start the polls on `every`; the first incident poll is the baseline (what exists is not news). */
  start(every: (ms: number, fn: () => void) => void): void {
    const { o } = this;
    if (o.register) every(o.incidentPollMs ?? 2000, () => this.poller.poll('incidents', () => this.pollIncidents()));
    if (o.dmaStates) every(o.dmaPollMs ?? 1000, () => this.poller.poll('dmas', () => this.pollSnapshot('dmas')));
    if (o.kpiSummary) every(o.kpiPollMs ?? 5000, () => this.poller.poll('kpis', () => this.pollSnapshot('kpis')));
    if (o.register) this.poller.poll('incidents', () => this.pollIncidents());
  }

  /** A client joined `room`: the last snapshot at once, or a fresh poll when there is none. */
  joined(c: Client, room: string): void {
    if (room === 'dmas') {
      if (this.lastDmas) c.socket.emit('dmas', this.lastDmas.value);
      else if (this.o.dmaStates) this.poller.poll('dmas', () => this.pollSnapshot('dmas'));
    } else if (room === 'kpis') {
      if (this.lastKpis) c.socket.emit('kpis', this.lastKpis.value);
      else if (this.o.kpiSummary) this.poller.poll('kpis', () => this.pollSnapshot('kpis'));
    }
  }

  private async pollSnapshot(room: 'dmas' | 'kpis'): Promise<void> {
    const io = this.io();
    if (!io) return;
    // Nobody shows it: skip the work; the first subscriber triggers a fresh poll.
    if (!io.sockets.adapter.rooms.get(room)?.size) {
      if (room === 'dmas') this.lastDmas = undefined; else this.lastKpis = undefined;
      return;
    }
    const value = room === 'dmas' ? await this.o.dmaStates!() : await this.o.kpiSummary!();
    const json = JSON.stringify(value);
    const last = room === 'dmas' ? this.lastDmas : this.lastKpis;
    if (last?.json === json) return;
    if (room === 'dmas') this.lastDmas = { json, value }; else this.lastKpis = { json, value };
    this.io()?.to(room).emit(room, value);
  }

  private async pollIncidents(): Promise<void> {
    const lookback = this.o.incidentLookbackMs ?? 7 * 86_400_000;
    const list = await this.o.register!.listIncidents(Date.now() - lookback);
    const seen = new Map<string, string>();
    const changed: Incident[] = [];
    for (const inc of list) {
      const json = JSON.stringify(inc);
      seen.set(inc.id, json);
      if (this.knownIncidents && this.knownIncidents.get(inc.id) !== json) changed.push(inc);
    }
    this.knownIncidents = seen;
    for (const inc of changed) this.io()?.to('incidents').emit('incident', inc);
  }
}
