/**
 * Turning what an OPC UA subscription delivers into readings: a DataValue's value as a number
 * (booleans and enumerations too), the server's source timestamp, and a quality from the
 * StatusCode's severity; a publish response's data changes as readings and rejections.
 */
import { DataChangeNotification, DataType, VariantArrayType, type DataValue, type NotificationMessage, type StatusCode } from 'node-opcua';
import type { Quality, RawReading } from '../../../core/model/reading.ts';
import type { UndecodableInput } from '../../pipeline/contract.ts';

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

/**
 * The readings of one publish response. `nodeIdOf` gives the node of a monitored item by its client
 * handle; items of nodes no sensor reads are skipped.
 */
export function notificationReadings(
  message: NotificationMessage, nodeIdOf: (clientHandle: number) => string | undefined,
  sensorByNode: ReadonlyMap<string, string>, now: () => number,
): { readings: RawReading[]; rejected: UndecodableInput[]; statusWithoutValue: number } {
  const readings: RawReading[] = [];
  const rejected: UndecodableInput[] = [];
  let statusWithoutValue = 0;
  for (const data of message.notificationData ?? []) {
    if (!(data instanceof DataChangeNotification)) continue;
    for (const item of data.monitoredItems ?? []) {
      // Matched through the node id, which node-opcua registers before the create request is sent,
      // so even a first value that overtakes our own bookkeeping finds its sensor.
      const nodeId = nodeIdOf(item.clientHandle);
      const sensor = nodeId ? sensorByNode.get(nodeId) : undefined;
      if (!sensor) continue;
      // A bad or uncertain status without a value (BadWaitingForInitialData, a failed sensor) is
      // a state of the device, not bad input: there is nothing to store, so it is only counted.
      const v = item.value.value;
      if ((!v || v.dataType === DataType.Null || v.value === null || v.value === undefined) && item.value.statusCode && !item.value.statusCode.isGood()) {
        statusWithoutValue++;
        continue;
      }
      const r = toRawReading(sensor, item.value, now);
      if ('reason' in r) {
        rejected.push({ origin: nodeId!, reason: `sensor ${sensor}: ${r.reason}`, raw: safeString(item.value.value?.value) });
      } else {
        readings.push(r.reading);
      }
    }
  }
  return { readings, rejected, statusWithoutValue };
}

function safeString(x: unknown): string {
  try {
    return typeof x === 'string' ? x : JSON.stringify(x) ?? String(x);
  } catch {
    return String(x);
  }
}
