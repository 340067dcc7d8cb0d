/**
 * Leak repairs linked to their work orders (issue #12.4): when a leak alarm (`leak_trend`,
 * `abrupt_leak`, night-flow's `new_leak`) clears because the night flow fell, the repair is
 * recorded (state/leak-repairs.ts) with the drop and the work order opened from that alarm, or
 * with none when no work order was opened, which the alarm and the work order then show. Not a
 * repair: a clear after a dispatcher accepted the rise as a change of use (leak-change decisions),
 * and an abrupt leak reported by day that the night retracted (never confirmed).
 *
 * The drop is the leak flow the alarm last measured (its evidence at the clear: the step's size,
 * the slow leak's flow above the reference, the night's rise), which the clear says is gone.
 */
import type { AlarmTransition } from '../../analytics/alarms/manager.ts';
import type { AnalyticsService } from '../../analytics/service.ts';
import type { AlarmRecord } from '../../core/state/alarm-store.ts';
import type { DashboardContext } from './context.ts';
import { isAcceptableLeakType, type AcceptableLeakType } from '../../core/messages/alarm-texts.ts';
import type { LeakRepair, LeakRepairStore } from './state/leak-repairs.ts';

/** The evidence field that holds each type's leak flow. */
const LEAK_FLOW_FIELD: Record<AcceptableLeakType, string> = { leak_trend: 'leakM3h', abrupt_leak: 'sizeM3h', new_leak: 'riseM3h' };

/** The repair a cleared leak alarm stands for, or undefined (not a leak type, accepted, retracted, no flow). */
export function repairOf(alarm: AlarmRecord, seenTs: number, accepted: boolean): Omit<LeakRepair, 'workOrderId'> | undefined {
  const type = isAcceptableLeakType(alarm.type) ? alarm.type : undefined;
  if (!type || accepted || !alarm.dma) return undefined;
  const e = alarm.evidence ?? {};
  if (type === 'abrupt_leak' && e.confirmed !== true) return undefined;
  const flow = e[LEAK_FLOW_FIELD[type]];
  if (typeof flow !== 'number' || !Number.isFinite(flow)) return undefined;
  return { alarmId: alarm.id, type, dma: alarm.dma, seenTs, nightDropM3h: Math.round(flow * 100) / 100 };
}

export class LeakRepairLinker {
  private analytics?: AnalyticsService;
  private readonly onTransition = (t: AlarmTransition) => {
    if (t.kind !== 'clear') return;
    try {
      const accepted = this.analytics?.leakDecisions?.forAlarm(t.alarmId) !== undefined;
      const repair = repairOf(t.alarm, t.eventTs, accepted);
      if (!repair) return;
      const workOrderId = this.ctx.workOrders.byAlarm(t.alarmId)?.id;
      this.repairs.record({ ...repair, ...(workOrderId ? { workOrderId } : {}) });
      this.ctx.log.info({ alarm: t.alarmId, workOrder: workOrderId ?? null, nightDropM3h: repair.nightDropM3h }, 'leak repair confirmed by the night flow');
    } catch (e) {
      this.ctx.log.warn({ alarm: t.alarmId, err: String(e) }, 'leak repair could not be linked to its work order');
    }
  };

  constructor(private readonly ctx: Pick<DashboardContext, 'workOrders' | 'log'>, private readonly repairs: LeakRepairStore) {}

  attach(analytics: AnalyticsService): void {
    this.analytics = analytics;
    analytics.alarms.on('transition', this.onTransition);
  }

  detach(): void {
    this.analytics?.alarms.off('transition', this.onTransition);
  }
}
