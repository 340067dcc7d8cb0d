/** Alarms: list, detail with history, acknowledge (one or many), shelve, unshelve; the live transition. */
import { z } from 'zod';
import {
  ALARM_PRIORITIES, type AlarmRecord as ServerAlarmRecord, type AlarmEventRecord as ServerAlarmEventRecord,
} from '../../core/state/alarm-store.ts';
import type { DeliveryRecord as ServerDeliveryRecord } from '../../analytics/notify/delivery/delivery-queue.ts';
import type { RankedSensor as ServerRankedSensor } from '../../analytics/detectors/pressure-model/index.ts';
import { endpoint, epochMs, id, idParams, text, type Equal, type Expect } from './common.ts';
import { leakRepair } from './leaks.ts';

export const alarmPriority = z.enum(ALARM_PRIORITIES as readonly ['low', 'medium', 'high', 'critical']);
export type AlarmPriority = z.infer<typeof alarmPriority>;
export const alarmState = z.enum(['active-unacknowledged', 'active-acknowledged', 'cleared-unacknowledged', 'cleared']);
export type AlarmState = z.infer<typeof alarmState>;
const evidence = z.record(z.string(), z.unknown());

export const alarmRecord = z.strictObject({
  /** `<condition id>@<ISO raise time>`. */
  id: z.string(), conditionId: z.string(), type: z.string(), priority: alarmPriority, state: alarmState,
  site: z.string().optional(), dma: z.string().optional(), sensor: z.string().optional(), message: z.string(),
  /** The message as a code (core/messages/alarm-texts.ts) and parameters, and rendered in each language (the web app shows its user's). */
  text: z.strictObject({ code: z.string(), params: z.record(z.string(), z.union([z.string(), z.number()])) }).optional(),
  localized: z.strictObject({ 'zh-CN': z.string(), en: z.string() }).optional(),
  evidence: evidence.optional(),
  conditionSince: epochMs, raisedAt: epochMs, clearedAt: epochMs.optional(),
  ackedAt: epochMs.optional(), ackedBy: z.string().optional(), ackComment: z.string().optional(), closedAt: epochMs.optional(),
  shelved: z.strictObject({ until: epochMs, by: z.string(), reason: z.string(), at: epochMs }).optional(),
  suppressed: z.strictObject({ suppressionId: z.number(), reason: z.string() }).optional(),
  parentAlarmId: z.string().optional(),
  secondaries: z.array(z.strictObject({
    conditionId: z.string(), type: z.string(), dma: z.string().optional(), sensor: z.string().optional(), message: z.string(),
    evidence: evidence.optional(), firstTs: epochMs, lastTs: epochMs, active: z.boolean(),
  })),
  updatedAt: epochMs,
});
export type AlarmRecord = z.infer<typeof alarmRecord>;

export const alarmEventRecord = z.strictObject({
  seq: z.number(), alarmId: z.string(),
  kind: z.enum(['raise', 'update', 'acknowledge', 'clear', 'close', 'shelve', 'unshelve', 'suppress', 'unsuppress', 'link', 'secondary']),
  fromState: alarmState.nullable(), toState: alarmState,
  /** A user name, or `system`. */
  user: z.string(), eventTs: epochMs, wallTs: epochMs, comment: z.string().optional(), data: z.record(z.string(), z.unknown()).optional(),
});
export type AlarmEventRecord = z.infer<typeof alarmEventRecord>;

/** One notification message of the alarm to one person on one channel, with the channel's last answer. */
export const deliveryRecord = z.strictObject({
  id: z.number(), messageId: z.string(), alarmId: z.string().nullable(), recipientId: z.string(), channel: z.string(),
  state: z.enum(['queued', 'sent', 'delivered', 'failed']), attempts: z.number(), queuedAt: epochMs, updatedAt: epochMs,
  nextAttemptAt: epochMs.nullable(), status: z.number().nullable(), answer: z.string().nullable(),
});
export type DeliveryRecord = z.infer<typeof deliveryRecord>;

export type AlarmsMatchServer = [
  Expect<Equal<AlarmRecord, ServerAlarmRecord>>,
  Expect<Equal<AlarmEventRecord, ServerAlarmEventRecord>>,
  Expect<Equal<DeliveryRecord, ServerDeliveryRecord>>,
];

/**
 * A pressure-model alarm's (`leak_candidate`) evidence as the detector writes it
 * (analytics/detectors/pressure-model): its DMA's loggers ranked by z, the first the nearest to the
 * leak. The map and the alarm's detail read `ranked` from `AlarmRecord.evidence`, which stays a free
 * record (every detector has its own); a logger the browser cannot read is left out, never guessed.
 */
export const rankedLogger = z.strictObject({
  sensor: z.string(),
  /** Measured minus predicted pressure, the mean over `persistHours`, kPa (a loss is negative). */
  residualKpa: z.number(),
  /** That mean in multiples of its own noise (measured out of sample); raised below −k. */
  z: z.number(),
  /** The logger's map coordinates (the topology's), when it has them. */
  x: z.number().optional(), y: z.number().optional(),
});
export type RankedLogger = z.infer<typeof rankedLogger>;
export const pressureModelEvidence = z.strictObject({
  /** When the loss began to count (the end of the slot that raised it). */
  since: epochMs, nearestSensor: z.string(), ranked: z.array(rankedLogger), persistHours: z.number(), k: z.number(),
});
export type PressureModelEvidence = z.infer<typeof pressureModelEvidence>;

export type PressureModelEvidenceMatchesDetector = [Expect<Equal<RankedLogger, ServerRankedSensor>>];

/** `repair`: a leak alarm that cleared as a repair the night flow confirmed (issue #12.4), with its work order. */
export const alarmDetail = z.strictObject({ alarm: alarmRecord, history: z.array(alarmEventRecord), repair: leakRepair.optional() });
export type AlarmDetail = z.infer<typeof alarmDetail>;
export const ackManyResult = z.strictObject({ acknowledged: z.array(z.string()), failed: z.array(z.strictObject({ id: z.string(), message: z.string() })) });
export type AckManyResult = z.infer<typeof ackManyResult>;

const comment = z.strictObject({ comment: text(500).optional() });

export const alarms = {
  list: endpoint({
    method: 'GET', url: '/alarms', tags: ['alarms'], summary: 'Alarms, newest first (open ones unless `open=false`)',
    querystring: z.strictObject({
      open: z.boolean().optional(), from: epochMs.optional(), to: epochMs.optional(), dma: text(128, 1).optional(),
      type: text(128, 1).optional(), priority: alarmPriority.optional(), limit: z.number().int().min(1).max(1000).optional(),
    }),
    response: z.array(alarmRecord),
  }),
  get: endpoint({
    method: 'GET', url: '/alarms/:id', tags: ['alarms'], summary: 'An alarm and its history', params: idParams,
    response: alarmDetail,
  }),
  deliveries: endpoint({
    method: 'GET', url: '/alarms/:id/deliveries', tags: ['alarms'], summary: 'The alarm\'s notifications: each message, recipient and channel with its state and the channel\'s answer (empty without notify:)',
    params: idParams, response: z.array(deliveryRecord),
  }),
  ack: endpoint({
    method: 'POST', url: '/alarms/:id/ack', tags: ['alarms'], summary: 'Acknowledge', permission: 'alarms.ack',
    params: idParams, body: comment, response: alarmRecord,
  }),
  ackMany: endpoint({
    method: 'POST', url: '/alarms/ack', tags: ['alarms'], summary: 'Acknowledge several', permission: 'alarms.ack',
    body: z.strictObject({ ids: z.array(id).min(1).max(500), comment: text(500).optional() }),
    response: ackManyResult,
  }),
  shelve: endpoint({
    method: 'POST', url: '/alarms/:id/shelve', tags: ['alarms'], summary: 'Shelve for a time', permission: 'alarms.shelve',
    params: idParams, body: z.strictObject({ minutes: z.number().int().min(1).max(1440), reason: text(500, 1) }), response: alarmRecord,
  }),
  unshelve: endpoint({
    method: 'POST', url: '/alarms/:id/unshelve', tags: ['alarms'], summary: 'Unshelve', permission: 'alarms.shelve',
    params: idParams, body: comment, response: alarmRecord,
  }),
};
