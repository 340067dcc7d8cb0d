/**
 * The telemetry message (topics.ts `telemetryTopic`): accepted readings in canonical units.
 * Columns rather than objects, so a batch of 1,000 readings stays small.
 */
import type { Reading } from '../../model/reading.ts';
import { QUALITY_CODE, qualityFromCode } from '../../model/reading.ts';

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

export function encodeTelemetry(readings: readonly Reading[]): Buffer {
  const b: TelemetryBatch = { v: 1, s: [], t: [], x: [], q: [] };
  for (const r of readings) {
    b.s.push(r.sensor); b.t.push(r.ts); b.x.push(r.value); b.q.push(QUALITY_CODE[r.quality]);
  }
  return Buffer.from(JSON.stringify(b));
}

export function decodeTelemetry(payload: Buffer | string): Reading[] {
  const b = JSON.parse(payload.toString()) as TelemetryBatch;
  if (b.v !== 1 || !Array.isArray(b.s)) throw new Error(`telemetry: unsupported message version ${String(b.v)}`);
  const out: Reading[] = new Array(b.s.length);
  for (let i = 0; i < b.s.length; i++) out[i] = { sensor: b.s[i], ts: b.t[i], value: b.x[i], quality: qualityFromCode(b.q[i]) };
  return out;
}
