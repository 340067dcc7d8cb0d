/**
 * The Sparkplug B wire format as this source reads it: topics (`spBv1.0/<group>/<type>/<node>[/<device>]`),
 * protobuf payloads, 64-bit integers, and a metric's value and quality as a reading's.
 */
import sparkplug from 'sparkplug-payload';
import type { Quality } from '../../../core/model/reading.ts';
import { qualityFromAny } from '../common/mqtt/quality.ts';

const spb = sparkplug.get('spBv1.0')!;
export type Payload = ReturnType<typeof spb.decodePayload>;
export type Metric = NonNullable<Payload['metrics']>[number];

export const NAMESPACE = 'spBv1.0';
const REBIRTH_METRIC = 'Node Control/Rebirth';
/** Sparkplug data types that carry a number (booleans as 0/1). */
const NUMERIC_TYPES = new Set(['Int8', 'Int16', 'Int32', 'Int64', 'UInt8', 'UInt16', 'UInt32', 'UInt64', 'Float', 'Double', 'Boolean', 'DateTime']);

export interface SparkplugTopic {
  group: string;
  type: string;
  node: string;
  device?: string;
}

export function parseTopic(topic: string): SparkplugTopic | undefined {
  const p = topic.split('/');
  if (p[0] !== NAMESPACE || p.length < 4 || p.length > 5) return undefined;
  return { group: p[1], type: p[2], node: p[3], device: p[4] };
}

/** Throws when the bytes are not a Sparkplug B payload. */
export function decodePayload(bytes: Uint8Array): Payload {
  return spb.decodePayload(bytes);
}

/** The NCMD that asks an edge node for its births again. */
export function rebirthCommand(now: number): Buffer {
  return Buffer.from(spb.encodePayload({ timestamp: now, metrics: [{ name: REBIRTH_METRIC, type: 'Boolean', value: true }] }));
}

/** A decoded payload as JSON text (64-bit values as numbers), for a dead letter. */
export function payloadJson(payload: Payload): string {
  return JSON.stringify(payload, (_k, v) => (isLong(v) ? longToNumber(v) : v));
}

/** A 64-bit protobuf integer (long.js) as found in decoded payloads. */
interface LongLike { low: number; high: number; unsigned: boolean }

function isLong(v: unknown): v is LongLike {
  return typeof v === 'object' && v !== null && typeof (v as LongLike).low === 'number' && typeof (v as LongLike).high === 'number';
}

/** A protobuf 64-bit value as a number; Int64 values arrive as unsigned Longs and are read signed. */
export function longToNumber(v: unknown, signed = false): number | undefined {
  if (typeof v === 'number') return v;
  if (!isLong(v)) return undefined;
  const high = signed ? v.high | 0 : v.high >>> 0;
  return high * 0x1_0000_0000 + (v.low >>> 0);
}

/** Quality from a metric's `Quality` property: 192 (OPC DA good) is good, 64–127 uncertain, the rest bad (e.g. 0, 500 stale). */
function qualityFromProperty(q: unknown): Quality {
  const n = longToNumber(q);
  if (n === undefined) return typeof q === 'string' ? qualityFromAny(q) ?? 'bad' : 'bad';
  if (n < 256 && (n & 0xc0) === 0xc0) return 'good';
  if (n < 256 && (n & 0xc0) === 0x40) return 'uncertain';
  return 'bad';
}

/** A metric's alias → name table, from a birth. */
export function aliasMap(payload: Payload): Map<number, string> {
  const map = new Map<number, string>();
  for (const m of payload.metrics ?? []) {
    const alias = longToNumber(m.alias);
    if (m.name && alias !== undefined) map.set(alias, m.name);
  }
  return map;
}

export type MetricValue =
  | { value: number; quality: Quality }
  /** A null metric: the value is unknown (the caller may report the last known one as bad). */
  | { isNull: true; quality: Quality }
  | { reason: string };

/** A metric's value as a number, with the quality its `Quality` property gives. */
export function metricValue(name: string, m: Metric, sensor: string): MetricValue {
  const props = m.properties as Record<string, { value?: unknown }> | undefined;
  const qualityProp = props?.Quality ?? props?.quality;
  const quality: Quality = qualityProp ? qualityFromProperty(qualityProp.value) : 'good';
  if (m.value === null || m.value === undefined || m.isNull) return { isNull: true, quality };
  if (!NUMERIC_TYPES.has(m.type)) return { reason: `metric ${name} is of type ${m.type}, not a number (sensor ${sensor})` };
  if (typeof m.value === 'boolean') return { value: m.value ? 1 : 0, quality };
  const value = longToNumber(m.value, m.type === 'Int64');
  if (value === undefined || !Number.isFinite(value)) return { reason: `metric ${name} has no numeric value` };
  // A 32-bit float holds about 7 significant digits: 0.45 arrives as 0.44999998807907104.
  return { value: m.type === 'Float' ? Number(value.toPrecision(7)) : value, quality };
}
