/**
 * One interface for every time-series store (InfluxDB 2.x/3.x, InfluxDB 1.x, embedded SQLite),
 * checked by one conformance suite (test/integration/tsdb-conformance.test.ts).
 *
 * Semantics every implementation keeps:
 * - a point is identified by (measurement, sensor, ts); writing it again overwrites, so retries and
 *   replays are idempotent;
 * - timestamps are milliseconds;
 * - windows are aligned to the epoch (like InfluxQL's GROUP BY time), empty windows are omitted, and
 *   a window's timestamp is its start.
 */
import type { Point, Quality } from '../model/reading.ts';

export type Aggregate = 'mean' | 'min' | 'max' | 'last' | 'count' | 'sum';

export interface RangeQuery {
  measurement: string;
  sensors: readonly string[];
  /** Inclusive start, ms. */
  from: number;
  /** Exclusive end, ms. */
  to: number;
  /** With an aggregate: window length in ms; omit for one window over the whole range. */
  windowMs?: number;
  /** Omit for raw points. */
  aggregate?: Aggregate;
  /**
   * The caller no longer needs the answer once this fires (its HTTP client went away): InfluxDB
   * stores cancel the request they have in flight. The embedded store's reads are synchronous and
   * run to their end; callers check the signal between reads (abortableReads).
   */
  signal?: AbortSignal;
}

export interface SeriesValue { ts: number; value: number; quality?: Quality }

export interface LatestValue extends SeriesValue { measurement: string; sensor: string; quality: Quality }

export interface TimeSeriesStore {
  /** Human-readable name for logs and /health, e.g. `influxdb1 http://127.0.0.1:8086/aquawatch`. */
  readonly describe: string;
  /** Create database/bucket if needed and check the connection. */
  init(): Promise<void>;
  /** Write a batch. Resolves when durable in the store; rejects on any failure (the outbox retries). */
  write(points: readonly Point[]): Promise<void>;
  /** Values per sensor, ascending by time. Sensors with no data map to an empty array. */
  query(q: RangeQuery): Promise<Map<string, SeriesValue[]>>;
  /** The latest value of each given sensor (all sensors of the measurement when omitted). */
  latest(measurement: string, sensors?: readonly string[]): Promise<LatestValue[]>;
  /** Reachable and answering? Never throws. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** Align `ts` down to a window boundary counted from the epoch (InfluxQL's convention). */
export function windowStart(ts: number, windowMs: number): number {
  return Math.floor(ts / windowMs) * windowMs;
}
