/**
 * The sensor status message (topics.ts `statusTopic`): a source says some of its sensors went
 * offline or came back — a Sparkplug NDEATH/DDEATH or birth, an OPC UA session lost or restored.
 * Ingest publishes it (QoS 1); the analytics worker reads it and sensor health marks the sensors
 * `offline` (analytics/detectors/sensor-health), so their silence is not judged a stale sensor and the
 * other detectors leave them out.
 */
import { z } from 'zod';
import { describeIssues, parseJsonObject, type BusClock, type BusRefusal } from './trust.ts';

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
  const topicSource = topic.slice(topic.lastIndexOf('/') + 1);
  if (status.source !== topicSource) return { ok: false, reason: 'namespace', detail: `source ${status.source} published on the status topic of ${topicSource}` };
  if (status.ts > clock.now() + clock.maxFutureMs) return { ok: false, reason: 'future', detail: `ts ${status.ts} beyond the allowed clock skew` };
  return { ok: true, status };
}
