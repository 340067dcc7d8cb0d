/**
 * The alarm transition message (topics.ts `alarmTopic`): one stored event of an alarm's history
 * with the alarm as it is after it, versioned like the telemetry messages. The alarm manager
 * (analytics/alarms) emits these; the records are those of core/state/alarm-store.ts.
 */
import { z } from 'zod';
import { ALARM_PRIORITIES, type AlarmEventRecord, type AlarmPriority, type AlarmRecord } from '../../state/alarm-store.ts';

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

const alarmStates = z.enum(['active-unacknowledged', 'active-acknowledged', 'cleared-unacknowledged', 'cleared']);
const evidence = z.record(z.string(), z.unknown());

/**
 * The alarm transition message as integrations receive it, field by field (docs/alarm-topic.md
 * documents the same fields; test/integration/alarm-topic.test.ts holds the published messages
 * and the document to it). Strict: a field added to the records must be documented here first.
 */
export const alarmTransitionMessageSchema = z.object({
  v: z.literal(1),
  seq: z.number().int(),
  alarmId: z.string(),
  kind: z.enum(['raise', 'update', 'acknowledge', 'clear', 'close', 'shelve', 'unshelve', 'suppress', 'unsuppress', 'link', 'secondary']),
  fromState: alarmStates.nullable(),
  toState: alarmStates,
  user: z.string(),
  eventTs: z.number(),
  wallTs: z.number(),
  comment: z.string().optional(),
  data: evidence.optional(),
  annunciate: z.boolean(),
  alarm: z.object({
    id: z.string(),
    conditionId: z.string(),
    type: z.string(),
    priority: z.enum(ALARM_PRIORITIES as [AlarmPriority, ...AlarmPriority[]]),
    state: alarmStates,
    site: z.string().optional(),
    dma: z.string().optional(),
    sensor: z.string().optional(),
    message: z.string(),
    text: z.object({ code: z.string(), params: z.record(z.string(), z.unknown()) }).strict().optional(),
    localized: z.record(z.string(), z.string()).optional(),
    evidence: evidence.optional(),
    conditionSince: z.number(),
    raisedAt: z.number(),
    clearedAt: z.number().optional(),
    ackedAt: z.number().optional(),
    ackedBy: z.string().optional(),
    ackComment: z.string().optional(),
    closedAt: z.number().optional(),
    shelved: z.object({ until: z.number(), by: z.string(), reason: z.string(), at: z.number() }).strict().optional(),
    suppressed: z.object({ suppressionId: z.number(), reason: z.string() }).strict().optional(),
    parentAlarmId: z.string().optional(),
    secondaries: z.array(z.object({
      conditionId: z.string(), type: z.string(), dma: z.string().optional(), sensor: z.string().optional(), message: z.string(),
      evidence: evidence.optional(), firstTs: z.number(), lastTs: z.number(), active: z.boolean(),
    }).strict()),
    updatedAt: z.number(),
  }).strict(),
}).strict();
