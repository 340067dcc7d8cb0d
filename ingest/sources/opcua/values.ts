/**
 * Turning an OPC UA DataValue into a reading: the value as a number (booleans and enumerations
 * too), the server's source timestamp, and a quality from the StatusCode's severity.
 */
import { DataType, VariantArrayType, type DataValue, type StatusCode } from 'node-opcua';
import type { Quality, RawReading } from '../../../core/model/reading.ts';

/** OPC UA StatusCode severity (top two bits): 00 Good, 01 Uncertain, 10 Bad (11 reserved, treated as bad). */
export function qualityOf(status: StatusCode | undefined): Quality {
  const severity = ((status?.value ?? 0) >>> 30) & 0b11;
  return severity === 0 ? 'good' : severity === 1 ? 'uncertain' : 'bad';
}

/** A Date from the wire, or undefined when absent (node-opcua uses null or the 1601 epoch for "not set"). */
function timeOf(d: Date | null | undefined): number | undefined {
  if (!d) return undefined;
  const t = d.getTime();
  return Number.isFinite(t) && t > 0 ? t : undefined;
}

/** The value as a number, or why it cannot be one. Booleans (pump run state) become 0/1. */
export function numericValue(dv: DataValue): { value: number } | { reason: string } {
  const v = dv.value;
  const status = dv.statusCode?.toString() ?? 'Good';
  if (!v || v.dataType === DataType.Null || v.value === null || v.value === undefined) {
    return { reason: `no value (status ${status})` };
  }
  const typeName = DataType[v.dataType] ?? String(v.dataType);
  if (v.arrayType !== undefined && v.arrayType !== VariantArrayType.Scalar) return { reason: `${typeName} array is not a number` };
  const x: unknown = v.value;
  if (typeof x === 'boolean') return { value: x ? 1 : 0 };
  if (typeof x === 'number') return Number.isFinite(x) ? { value: x } : { reason: `${typeName} value ${x} is not a finite number` };
  if (typeof x === 'bigint') return { value: Number(x) };
  // node-opcua carries Int64/UInt64 as [high, low] 32-bit words.
  if ((v.dataType === DataType.Int64 || v.dataType === DataType.UInt64) && Array.isArray(x) && x.length === 2) {
    return { value: Number(x[0]) * 2 ** 32 + Number(x[1]) };
  }
  const shown = String(x).slice(0, 60);
  return { reason: `${typeName} value ${JSON.stringify(shown)} is not numeric` };
}

/** Reading time: the source timestamp, else the server timestamp, else the clock (only when neither is sent). */
export function toRawReading(sensor: string, dv: DataValue, now: () => number): { reading: RawReading } | { reason: string } {
  const v = numericValue(dv);
  if ('reason' in v) return v;
  const ts = timeOf(dv.sourceTimestamp) ?? timeOf(dv.serverTimestamp) ?? now();
  return { reading: { sensor, ts, value: v.value, quality: qualityOf(dv.statusCode) } };
}
