/**
 * The telemetry message (topics.ts `telemetryTopic`): accepted readings in canonical units.
 * Columns rather than objects, so a batch of 1,000 readings stays small.
 */
import { z } from 'zod';
import type { Reading } from '../../model/reading.ts';
import { QUALITY_CODE, qualityFromCode } from '../../model/reading.ts';
import { describeIssues, parseJsonObject, type BusClock, type BusRefusal } from './trust.ts';

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

/** Ingest publishes at most 2,000 readings per message (ingest/sinks/bus-publisher.ts); room to spare. */
export const MAX_TELEMETRY_READINGS = 20_000;

const column = <T extends z.ZodType>(item: T) => z.array(item).max(MAX_TELEMETRY_READINGS);

/** The message as ingest publishes it: four columns of one length, ids as the config allows them. */
export const telemetryBatchSchema = z.object({
  v: z.literal(1),
  s: column(z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:\-]+$/)),
  t: column(z.number().int()),
  x: column(z.number()),
  q: column(z.union([z.literal(0), z.literal(1), z.literal(2)])),
}).strict().refine((b) => b.t.length === b.s.length && b.x.length === b.s.length && b.q.length === b.s.length, 'columns s, t, x and q must have one length');

export function encodeTelemetry(readings: readonly Reading[]): Buffer {
  const b: TelemetryBatch = { v: 1, s: [], t: [], x: [], q: [] };
  for (const r of readings) {
    b.s.push(r.sensor); b.t.push(r.ts); b.x.push(r.value); b.q.push(QUALITY_CODE[r.quality]);
  }
  return Buffer.from(JSON.stringify(b));
}

/** Decode without checks, for the platform's own tools that read what they wrote (throws on a bad message). */
export function decodeTelemetry(payload: Buffer | string): Reading[] {
  const b = JSON.parse(payload.toString()) as TelemetryBatch;
  if (b.v !== 1 || !Array.isArray(b.s)) throw new Error(`telemetry: unsupported message version ${String(b.v)}`);
  const out: Reading[] = new Array(b.s.length);
  for (let i = 0; i < b.s.length; i++) out[i] = { sensor: b.s[i], ts: b.t[i], value: b.x[i], quality: qualityFromCode(b.q[i]) };
  return out;
}

/**
 * A telemetry message from the bus, checked: the whole message is refused when it does not have
 * the shape above (a value that is not a finite number, 1e999 in JSON, included); otherwise each
 * reading further than `clock.maxFutureMs` ahead of `clock.now()` is left out and counted in `future`.
 */
export function checkTelemetry(payload: Buffer | string, clock: BusClock):
  { ok: true; readings: Reading[]; future: number } | BusRefusal {
  const json = parseJsonObject(payload);
  if (!json.ok) return json;
  const parsed = telemetryBatchSchema.safeParse(json.value);
  if (!parsed.success) return { ok: false, reason: 'shape', detail: describeIssues(parsed.error.issues) };
  const b = parsed.data;
  const latest = clock.now() + clock.maxFutureMs;
  const readings: Reading[] = [];
  let future = 0;
  for (let i = 0; i < b.s.length; i++) {
    if (b.t[i] > latest) { future++; continue; }
    readings.push({ sensor: b.s[i], ts: b.t[i], value: b.x[i], quality: qualityFromCode(b.q[i]) });
  }
  return { ok: true, readings, future };
}
