/**
 * The alarm transition message (topics.ts `alarmTopic`): one stored event of an alarm's history
 * with the alarm as it is after it, versioned like the telemetry messages. The alarm manager
 * (analytics/alarms) emits these; the records are those of core/state/alarm-store.ts.
 */
import type { AlarmEventRecord, AlarmRecord } from '../../state/alarm-store.ts';

/** A stored event of the alarm's history (`seq` is its number there), with the alarm as it now is. */
export interface AlarmTransition extends AlarmEventRecord {
  /** The alarm after the transition (a copy). */
  alarm: AlarmRecord;
  /** False while the alarm is shelved, suppressed or linked under another alarm: show it, do not notify. */
  annunciate: boolean;
}

export function encodeAlarmTransition(t: AlarmTransition): Buffer {
  return Buffer.from(JSON.stringify({ v: 1, ...t }));
}

export function decodeAlarmTransition(payload: Buffer | string): AlarmTransition {
  const m = JSON.parse(payload.toString()) as { v?: number } & AlarmTransition;
  if (m.v !== 1) throw new Error(`alarm transition: unsupported message version ${String(m.v)}`);
  const { v: _v, ...t } = m;
  return t;
}
