/**
 * Alarm transitions on the bus: `aquawatch/v1/alarms/<dma>` (`_` for alarms outside any DMA), one
 * JSON message per transition, QoS 1. The dashboard subscribes to `aquawatch/v1/alarms/+` (or one
 * DMA's topic for an area view). Kept here rather than in core/bus/topics.ts because only the
 * alarm manager publishes it; core may adopt it later.
 */
import { TOPIC_ROOT } from '../../core/bus/topics.ts';
import type { AlarmTransition } from './manager.ts';

export const alarmTopic = (dma: string | undefined) => `${TOPIC_ROOT}/alarms/${dma || '_'}`;
export const ALARM_FILTER = `${TOPIC_ROOT}/alarms/+`;

/** The message: the transition with the alarm after it, versioned like the telemetry messages. */
export function encodeAlarmTransition(t: AlarmTransition): Buffer {
  return Buffer.from(JSON.stringify({ v: 1, ...t }));
}

export function decodeAlarmTransition(payload: Buffer | string): AlarmTransition {
  const m = JSON.parse(payload.toString()) as { v?: number } & AlarmTransition;
  if (m.v !== 1) throw new Error(`alarm transition: unsupported message version ${String(m.v)}`);
  const { v: _v, ...t } = m;
  return t;
}
