/**
 * Leak alarms (issue #12.4): a dispatcher accepts a raised leak (slow, abrupt, night-flow's new leak)
 * as a real change of use, with a reason (the detector re-bases on it); the decisions; and the repairs the
 * flow confirmed, each linked to the work order opened from its alarm when there is one.
 */
import { z } from 'zod';
import type { LeakDecision as ServerLeakDecision } from '../../analytics/detectors/leak-change/decisions.ts';
import { REPAIR_DROP_SOURCES, type LeakRepair as ServerLeakRepair } from '../server/state/leak-repairs.ts';
import { ACCEPTABLE_LEAK_TYPES } from '../../core/messages/alarm-texts.ts';
import { endpoint, epochMs, id, idParams, text, type Equal, type Expect } from './common.ts';

export const leakDecision = z.strictObject({
  id: z.number(), alarmId: z.string(), conditionId: z.string(), type: z.enum(ACCEPTABLE_LEAK_TYPES), dma: z.string(),
  /** Event time the decision applies from (the alarm manager's clock when it was made). */
  effectiveTs: epochMs, reason: z.string(), decidedBy: z.string(), decidedAt: epochMs,
});
export type LeakDecision = z.infer<typeof leakDecision>;

export const leakRepair = z.strictObject({
  alarmId: z.string(), type: z.enum(ACCEPTABLE_LEAK_TYPES), dma: z.string(),
  /** Event time the alarm cleared on the lower flow, and by how much the night flow fell, m³/h. */
  seenTs: epochMs, nightDropM3h: z.number(),
  /** `night_drop`: the drop the detector measured at its clear; `last_leak_flow`: its clear gave none (night-flow's new_leak), so the leak flow the alarm last measured. */
  dropSource: z.enum(REPAIR_DROP_SOURCES),
  /** When the detector dates the repair (the downward step's start; the first night at the lower level); absent without a measured drop. */
  repairedTs: epochMs.optional(),
  /** The work order opened from the alarm; absent: none was. */
  workOrderId: z.string().optional(),
});
export type LeakRepair = z.infer<typeof leakRepair>;

export type LeaksMatchServer = [Expect<Equal<LeakDecision, ServerLeakDecision>>, Expect<Equal<LeakRepair, ServerLeakRepair>>];

export const leaks = {
  accept: endpoint({
    method: 'POST', url: '/alarms/:id/accept-change', tags: ['alarms'], permission: 'leaks.accept',
    summary: 'Accept a raised leak (leak_trend, abrupt_leak, new_leak) as a real change of use, with a reason: the detector re-bases its reference and clears the alarm (accepted, not repaired)',
    params: idParams, body: z.strictObject({ reason: text(500, 1) }), response: leakDecision,
  }),
  decisions: endpoint({
    method: 'GET', url: '/leak-decisions', tags: ['alarms'], summary: 'Leak alarms accepted as changes of use, newest first',
    querystring: z.strictObject({ dma: text(128, 1).optional(), alarmId: id.optional() }), response: z.array(leakDecision),
  }),
  repairs: endpoint({
    method: 'GET', url: '/leak-repairs', tags: ['alarms', 'work-orders'], summary: 'Leak repairs the night flow confirmed, with the work order of the alarm if one was opened; newest first',
    querystring: z.strictObject({ alarmId: id.optional(), workOrderId: id.optional() }), response: z.array(leakRepair),
  }),
};
