/**
 * Burst alarms become work orders: on the raise of a `burst` alarm of a priority in
 * `incidents.burstWorkOrderPriorities` (default high and critical; the alarm manager's 'transition'
 * event, or its update when a burst grows into one) a work order is created, linked to the alarm,
 * its area, the detector's location hint, burst flow and estimated start. A smaller burst (a false
 * one of 1 m³/h is low) waits for a dispatcher's decision (POST /work-orders from the alarm). While the burst lasts, its flow estimate is kept
 * up to date; the loss is computed on read (flow × time since the estimated start, event time).
 * Bursts raised while the server was down get theirs when it attaches (open burst alarms). A leak
 * alarm's work order, opened by a dispatcher, follows the leak's flow the same way (workOrderEvidence).
 */
import type { AlarmTransition } from '../../analytics/alarms/manager.ts';
import type { AlarmRecord } from '../../core/state/alarm-store.ts';
import type { AnalyticsService } from '../../analytics/service.ts';
import type { DashboardContext } from './context.ts';
import { isAcceptableLeakType, LEAK_FLOW_FIELD } from '../../core/messages/alarm-texts.ts';

export const WORK_ORDER_ALARM_TYPES = ['burst'];

const finite = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export function burstEvidence(alarm: AlarmRecord): { burstFlowM3h?: number; burstStart?: number; locationHint?: string } {
  const e = alarm.evidence ?? {};
  const hint = typeof e.locationHint === 'string' ? e.locationHint : alarm.sensor;
  return {
    burstFlowM3h: finite(e.burstFlowM3h),
    burstStart: finite(e.estimatedStart) ?? alarm.conditionSince,
    ...(hint ? { locationHint: hint } : {}),
  };
}

/**
 * What a work order takes from its alarm: a burst's flow, start and location hint; a leak's
 * (`leak_trend`, `abrupt_leak`, `new_leak`) flow as the alarm last measured it and the start its
 * water lost is counted from: an abrupt leak's estimated start (a step: its flow since then); a slow
 * leak's halfway from its estimated start to the raise (it grew from nothing to about its flow then,
 * and the water lost while growing is half what its flow over that time would be); a night-flow rise
 * from the raise (no start is estimated: the water lost before the nights confirmed it is not
 * counted). Another alarm gives its sensor as the location.
 */
export function workOrderEvidence(alarm: AlarmRecord): { burstFlowM3h?: number; burstStart?: number; locationHint?: string } {
  if (WORK_ORDER_ALARM_TYPES.includes(alarm.type)) return burstEvidence(alarm);
  if (!isAcceptableLeakType(alarm.type)) return alarm.sensor ? { locationHint: alarm.sensor } : {};
  const e = alarm.evidence ?? {};
  const start = finite(e.estimatedStartTs);
  const burstStart = alarm.type === 'abrupt_leak' && start !== undefined ? start
    : alarm.type === 'leak_trend' && start !== undefined ? start + Math.max(0, alarm.raisedAt - start) / 2
      : alarm.raisedAt;
  return { burstFlowM3h: finite(e[LEAK_FLOW_FIELD[alarm.type]]), burstStart };
}

/** The alarm types whose work order follows the alarm's flow while it is open: bursts and leaks. */
export function hasLossFlow(type: string): boolean {
  return WORK_ORDER_ALARM_TYPES.includes(type) || isAcceptableLeakType(type);
}

export class WorkOrderService {
  private analytics?: AnalyticsService;
  private readonly onTransition = (t: AlarmTransition) => {
    try {
      if (!hasLossFlow(t.alarm.type)) return;
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
    const e = workOrderEvidence(alarm);
    const wo = this.ctx.workOrders.create({
      alarmId: alarm.id, dma: alarm.dma ?? '', by, at: alarm.raisedAt, note, ...e,
    }, this.ctx.now());
    this.ctx.log.info({ workOrder: wo.id, alarm: alarm.id, dma: alarm.dma }, 'work order created for a burst');
    return wo;
  }

  private refresh(alarm: AlarmRecord): void {
    const wo = this.ctx.workOrders.byAlarm(alarm.id);
    const flow = workOrderEvidence(alarm).burstFlowM3h;
    if (wo && flow !== undefined && flow !== wo.burstFlowM3h && wo.status !== 'resolved') this.ctx.workOrders.updateBurstFlow(wo.id, flow);
  }
}
