/**
 * MQTT topic names of the platform's own bus and the codec of what travels on them.
 * Versioned (`v1`) so that a later format can run beside this one during an upgrade.
 */
import type { Quality } from '../model/reading.ts';
import { QUALITY_CODE, qualityFromCode } from '../model/reading.ts';

export const TOPIC_ROOT = 'aquawatch/v1';
/** Accepted readings, batched per DMA (`_` for readings outside any DMA). */
export const telemetryTopic = (dma: string) => `${TOPIC_ROOT}/telemetry/${dma || '_'}`;
export const TELEMETRY_FILTER = `${TOPIC_ROOT}/telemetry/+`;
/** Alarm conditions raised by ingest or analytics (e.g. outbox full, source disconnected). */
export const conditionTopic = (origin: string) => `${TOPIC_ROOT}/conditions/${origin}`;
export const CONDITION_FILTER = `${TOPIC_ROOT}/conditions/#`;
/** Source and sensor status changes (Sparkplug death, OPC UA session lost, subscription silent). */
export const statusTopic = (source: string) => `${TOPIC_ROOT}/status/${source}`;
export const STATUS_FILTER = `${TOPIC_ROOT}/status/#`;

/** One telemetry message: columns rather than objects, so a batch of 1,000 readings stays small. */
export interface TelemetryBatch {
  v: 1;
  /** sensor ids */
  s: string[];
  /** timestamps, ms */
  t: number[];
  /** values, canonical units */
  x: number[];
  /** quality codes 0/1/2 */
  q: number[];
}

export interface BusReading { sensor: string; ts: number; value: number; quality: Quality }

export function encodeTelemetry(readings: readonly BusReading[]): Buffer {
  const b: TelemetryBatch = { v: 1, s: [], t: [], x: [], q: [] };
  for (const r of readings) {
    b.s.push(r.sensor); b.t.push(r.ts); b.x.push(r.value); b.q.push(QUALITY_CODE[r.quality]);
  }
  return Buffer.from(JSON.stringify(b));
}

export function decodeTelemetry(payload: Buffer | string): BusReading[] {
  const b = JSON.parse(payload.toString()) as TelemetryBatch;
  if (b.v !== 1 || !Array.isArray(b.s)) throw new Error(`telemetry: unsupported message version ${String(b.v)}`);
  const out: BusReading[] = new Array(b.s.length);
  for (let i = 0; i < b.s.length; i++) out[i] = { sensor: b.s[i], ts: b.t[i], value: b.x[i], quality: qualityFromCode(b.q[i]) };
  return out;
}

/** A condition: something that should become (or stop being) an alarm. Analytics uses the same shape. */
export interface Condition {
  /** Stable id of the condition instance, e.g. `ingest.outbox_full` or `opcua.session_lost:plant1`. */
  id: string;
  type: string;
  state: 'raise' | 'update' | 'clear';
  /** Event time of the transition, ms. */
  ts: number;
  priority?: 'low' | 'medium' | 'high' | 'critical';
  site?: string;
  dma?: string;
  sensor?: string;
  message: string;
  evidence?: Record<string, unknown>;
}
