/**
 * Whose queue an alarm is in (issue #14.7): meter anomalies (`meter_*`: backwards, zero, high or
 * continuous use; low priority, one customer each) are customer service's, the rest the control
 * room's. A dispatcher's banner and alarm list show the control room's queue, customer service's
 * view the meter anomalies; admins and viewers see both.
 */
import type { AlarmRecord, Role } from '../../contract/index.ts';

export type AlarmQueue = 'control_room' | 'customer_service';

export const queueOf = (a: Pick<AlarmRecord, 'type'>): AlarmQueue => (a.type.startsWith('meter_') ? 'customer_service' : 'control_room');

/** The queues a role works: undefined for every queue. */
export function queuesOf(role: Role): AlarmQueue[] | undefined {
  if (role === 'dispatcher' || role === 'maintenance') return ['control_room'];
  if (role === 'customer_service') return ['customer_service'];
  return undefined;
}

export const inQueues = (queues: AlarmQueue[] | undefined) => (a: Pick<AlarmRecord, 'type'>) => !queues || queues.includes(queueOf(a));
