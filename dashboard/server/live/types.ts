/** What the live gateway's parts share: who is connected, what travels, what is counted. */
import type { Quality } from '../../../core/model/reading.ts';
import type { BusDropCounts } from '../../../core/bus/messages/trust.ts';

export interface LiveUser {
  username: string;
  role: string;
  /** When the session ends unless used again (ms); the client is checked again then. */
  sessionExpiresAt?: number;
}

/** What travels in a `values` message. */
export interface LiveValue { sensor: string; kind: string; ts: number; value: number; quality: Quality }

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
  /** The telemetry feed's bus connection is up. */
  busConnected: boolean;
  /** Telemetry the feed's checks dropped (core/bus/messages): messages by reason, readings for `future`. */
  busDropped: BusDropCounts;
  pollErrors: number;
}

/** The counters the parts keep (the rest of LiveStats is read when asked). */
export type LiveCounters = Omit<LiveStats, 'clients' | 'rooms' | 'busConnected' | 'busDropped'>;
