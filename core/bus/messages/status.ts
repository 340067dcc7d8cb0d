/**
 * The sensor status message (topics.ts `statusTopic`): a source says some of its sensors went
 * offline or came back — a Sparkplug NDEATH/DDEATH or birth, an OPC UA session lost or restored.
 * Ingest publishes it (QoS 1); the analytics worker reads it and sensor health marks the sensors
 * `offline` (analytics/detectors/sensor-health), so their silence is not judged a stale sensor and the
 * other detectors leave them out. With it, the list of the sensors a source holds offline now,
 * retained per source (topics.ts `offlineSensorsTopic`), for a reader that was away.
 */
import { z } from 'zod';
import { describeIssues, parseJsonObject, publisherOf, type BusClock, type BusRefusal } from './trust.ts';

export interface SensorStatus {
  /** The source's name in the site config. */
  source: string;
  sensors: string[];
  status: 'online' | 'offline';
  /** When the source noticed, ms (its clock: wall time). */
  ts: number;
}

const topologyId = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:\-]+$/);

export const sensorStatusSchema = z.object({
  v: z.literal(1),
  source: z.string().min(1).max(128),
  sensors: z.array(topologyId).max(1_000_000),
  status: z.enum(['online', 'offline']),
  ts: z.number().int(),
}).strict();

export function encodeSensorStatus(s: SensorStatus): Buffer {
  return Buffer.from(JSON.stringify({ v: 1, source: s.source, sensors: s.sensors, status: s.status, ts: s.ts }));
}

/**
 * A status message from the bus topic `topic`, checked: its shape, the source it names must be the
 * topic's last level, and its time no further than the allowed skew ahead of `clock.now()`.
 */
export function checkSensorStatus(topic: string, payload: Buffer | string, clock: BusClock): { ok: true; status: SensorStatus } | BusRefusal {
  const json = parseJsonObject(payload);
  if (!json.ok) return json;
  const parsed = sensorStatusSchema.safeParse(json.value);
  if (!parsed.success) return { ok: false, reason: 'shape', detail: describeIssues(parsed.error.issues) };
  const { v: _v, ...status } = parsed.data;
  const foreign = foreignSource(topic, status.source);
  if (foreign) return foreign;
  if (status.ts > clock.now() + clock.maxFutureMs) return { ok: false, reason: 'future', detail: `ts ${status.ts} beyond the allowed clock skew` };
  return { ok: true, status };
}

/** At most this many sensors are listed in a source's offline list; beyond it the list is not complete. */
export const OFFLINE_SENSORS_LISTED = 10_000;

/**
 * The sensors a source holds offline (topics.ts `offlineSensorsTopic`, retained), grouped by when
 * they went offline: `complete` false when it holds more than it lists, so a reader may mark
 * offline from it but not online by absence.
 */
export interface OfflineSensors {
  source: string;
  ts: number;
  complete: boolean;
  offline: { since: number; sensors: string[] }[];
}

const offlineSensorsSchema = z.object({
  v: z.literal(1),
  source: z.string().min(1).max(128),
  ts: z.number().int(),
  complete: z.boolean(),
  offline: z.array(z.object({ since: z.number().int(), sensors: z.array(topologyId).min(1).max(OFFLINE_SENSORS_LISTED) }).strict()).max(OFFLINE_SENSORS_LISTED),
}).strict();

export function encodeOfflineSensors(o: OfflineSensors): string {
  return JSON.stringify({ v: 1, source: o.source, ts: o.ts, complete: o.complete, offline: o.offline });
}

/**
 * An offline list from `topic`, checked whole: its shape, at most OFFLINE_SENSORS_LISTED sensors,
 * the source it names the topic's last level, and neither its time nor any `since` beyond the
 * allowed clock skew (one bad entry refuses it: a reader takes the list as the source's whole state).
 */
export function checkOfflineSensors(topic: string, payload: Buffer | string, clock: BusClock): { ok: true; offline: OfflineSensors } | BusRefusal {
  const json = parseJsonObject(payload);
  if (!json.ok) return json;
  const parsed = offlineSensorsSchema.safeParse(json.value);
  if (!parsed.success) return { ok: false, reason: 'shape', detail: describeIssues(parsed.error.issues) };
  const { v: _v, ...list } = parsed.data;
  const foreign = foreignSource(topic, list.source);
  if (foreign) return foreign;
  const listed = list.offline.reduce((n, g) => n + g.sensors.length, 0);
  if (listed > OFFLINE_SENSORS_LISTED) return { ok: false, reason: 'shape', detail: `offline: ${listed} sensors listed (at most ${OFFLINE_SENSORS_LISTED})` };
  const latest = Math.max(list.ts, ...list.offline.map((g) => g.since));
  if (latest > clock.now() + clock.maxFutureMs) return { ok: false, reason: 'future', detail: `ts ${latest} beyond the allowed clock skew` };
  return { ok: true, offline: list };
}

/** A message naming another source than its topic's: not that source's word. */
function foreignSource(topic: string, source: string): BusRefusal | undefined {
  const topicSource = publisherOf(topic);
  return source === topicSource ? undefined : { ok: false, reason: 'namespace', detail: `source ${source} published on the topic of ${topicSource} (${topic})` };
}
