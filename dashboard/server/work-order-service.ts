/**
 * Burst alarms become work orders: on the raise of a `burst` alarm of a priority in
 * `incidents.burstWorkOrderPriorities` (default high and critical; the alarm manager's 'transition'
 * event, or its update when a burst grows into one) a work order is created, linked to the alarm,
 * its area, the detector's location hint, burst flow and estimated start. A smaller burst (a false
 * one of 1 m³/h is low) waits for a dispatcher's decision (POST /work-orders from the alarm). While the burst lasts, its flow estimate is kept
 * up to date; the loss is computed on read (flow × time since the estimated start, event time).
 * Bursts raised while the server was down get theirs when it attaches (open burst alarms).
 */
import type { AlarmTransition } from '../../analytics/alarms/manager.ts';
import type { AlarmRecord } from '../../core/state/alarm-store.ts';
import type { AnalyticsService } from '../../analytics/service.ts';
import type { DashboardContext } from './context.ts';

export const WORK_ORDER_ALARM_TYPES = ['burst'];

export function burstEvidence(alarm: AlarmRecord): { burstFlowM3h?: number; burstStart?: number; locationHint?: string } {
  const e = alarm.evidence ?? {};
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const hint = typeof e.locationHint === 'string' ? e.locationHint : alarm.sensor;
  return {
    burstFlowM3h: num(e.burstFlowM3h),
    burstStart: num(e.estimatedStart) ?? alarm.conditionSince,
    ...(hint ? { locationHint: hint } : {}),
  };
}

export class WorkOrderService {
  private analytics?: AnalyticsService;
  private readonly onTransition = (t: AlarmTransition) => {
    try {
      if (!WORK_ORDER_ALARM_TYPES.includes(t.alarm.type)) return;
      if ((t.kind === 'raise' || t.kind === 'update') && this.opensWorkOrder(t.alarm) && !this.ctx.workOrders.byAlarm(t.alarm.id)) this.createFor(t.alarm, 'system');
      else if (t.kind === 'update' || t.kind === 'secondary') this.refresh(t.alarm);
    } catch (e) {
      this.ctx.log.warn({ alarm: t.alarmId, err: String(e) }, 'work order from burst alarm failed');
    }
  };

  constructor(private readonly ctx: DashboardContext) {}

  /** A burst of a configured priority opens its work order by itself. */
  private opensWorkOrder(alarm: AlarmRecord): boolean {
    return WORK_ORDER_ALARM_TYPES.includes(alarm.type) && this.ctx.config.incidents.burstWorkOrderPriorities.includes(alarm.priority);
  }

  attach(analytics: AnalyticsService): void {
    this.analytics = analytics;
    analytics.alarms.on('transition', this.onTransition);
    for (const a of analytics.alarms.openAlarms()) {
      if (this.opensWorkOrder(a) && !this.ctx.workOrders.byAlarm(a.id)) this.createFor(a, 'system');
    }
  }

  detach(): void {
    this.analytics?.alarms.off('transition', this.onTransition);
  }

  createFor(alarm: AlarmRecord, by: string, note?: string) {
    const e = burstEvidence(alarm);
    const wo = this.ctx.workOrders.create({
      alarmId: alarm.id, dma: alarm.dma ?? '', by, at: alarm.raisedAt, note, ...e,
    }, this.ctx.now());
    this.ctx.log.info({ workOrder: wo.id, alarm: alarm.id, dma: alarm.dma }, 'work order created for a burst');
    return wo;
  }

  private refresh(alarm: AlarmRecord): void {
    const wo = this.ctx.workOrders.byAlarm(alarm.id);
    const flow = burstEvidence(alarm).burstFlowM3h;
    if (wo && flow !== undefined && wo.status !== 'resolved') this.ctx.workOrders.updateBurstFlow(wo.id, flow);
  }
}
