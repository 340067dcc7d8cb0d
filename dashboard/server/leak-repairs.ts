/**
 * Leak repairs linked to their work orders (issue #12.4): when a leak alarm (`leak_trend`,
 * `abrupt_leak`, night-flow's `new_leak`) clears because the night flow fell, the repair is
 * recorded (state/leak-repairs.ts) with the drop, its date and the work order opened from that
 * alarm, or with none when no work order was opened, which the alarm, its live clear message, the
 * work order and the crew's page then show. Not a repair: a clear after a dispatcher accepted the
 * rise as a change of use (leak-change decisions, or the clear's own `accepted`), and an abrupt leak
 * reported by day that the night retracted (never confirmed).
 *
 * The drop is the one the detector measured and sent with its clear (the clear transition's
 * `data.evidence.nightDropM3h`, dated by its `repairTs`/`repairedTs`); a clear that gives none
 * (a detector that measured no drop) falls back to the leak flow the
 * alarm last measured (the step's size, the slow leak's flow above the reference, the night's rise),
 * and the record says which (`dropSource`).
 */
import type { AlarmTransition } from '../../analytics/alarms/manager.ts';
import type { AnalyticsService } from '../../analytics/service.ts';
import type { AlarmRecord } from '../../core/state/alarm-store.ts';
import type { DashboardContext } from './context.ts';
import { isAcceptableLeakType, LEAK_FLOW_FIELD } from '../../core/messages/alarm-texts.ts';
import type { LeakRepair } from './state/leak-repairs.ts';

/** The clear's evidence field that dates the repair (leak-change: abrupt_leak's step start, leak_trend's first lower night). */
const REPAIR_DATE_FIELDS = ['repairTs', 'repairedTs'] as const;

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * The repair a cleared leak alarm stands for, or undefined (not a leak type, accepted, retracted, no
 * flow). `clear`: the evidence the detector sent with its clear (the clear transition's `data.evidence`).
 */
export function repairOf(alarm: AlarmRecord, clear: Record<string, unknown>, seenTs: number, accepted: boolean): Omit<LeakRepair, 'workOrderId'> | undefined {
  const type = isAcceptableLeakType(alarm.type) ? alarm.type : undefined;
  if (!type || accepted || clear.accepted === true || clear.retracted === true || !alarm.dma) return undefined;
  const e = alarm.evidence ?? {};
  if (type === 'abrupt_leak' && e.confirmed !== true) return undefined;
  const base = { alarmId: alarm.id, type, dma: alarm.dma, seenTs };
  const drop = clear.nightDropM3h;
  if (finite(drop) && drop > 0) {
    const repairedTs = REPAIR_DATE_FIELDS.map((f) => clear[f]).find(finite);
    return { ...base, nightDropM3h: round2(drop), dropSource: 'night_drop', ...(repairedTs !== undefined ? { repairedTs } : {}) };
  }
  const flow = e[LEAK_FLOW_FIELD[type]];
  if (!finite(flow)) return undefined;
  return { ...base, nightDropM3h: round2(flow), dropSource: 'last_leak_flow' };
}

/** What the linker reads of the analytics: the alarm manager's transitions and the dispatchers' leak decisions. */
type LinkedAnalytics = Pick<AnalyticsService, 'alarms'> & Partial<Pick<AnalyticsService, 'leakDecisions'>>;

export class LeakRepairLinker {
  private analytics?: LinkedAnalytics;
  /** The last clear looked at (by its history seq) and its repair: asked by this listener and the live gateway's. */
  private last?: { seq: number; repair?: LeakRepair };
  private readonly onTransition = (t: AlarmTransition) => { this.repairOn(t); };

  constructor(private readonly ctx: Pick<DashboardContext, 'workOrders' | 'leakRepairs' | 'log'>) {}

  attach(analytics: LinkedAnalytics): void {
    this.analytics = analytics;
    analytics.alarms.on('transition', this.onTransition);
  }

  detach(): void {
    this.analytics?.alarms.off('transition', this.onTransition);
  }

  /**
   * The repair a transition stands for (a leak alarm's clear on a lower night flow), recorded with
   * its work order the first time it is asked, whichever listener of the alarm manager asks first.
   */
  repairOn(t: AlarmTransition): LeakRepair | undefined {
    if (t.kind !== 'clear') return undefined;
    if (this.last?.seq === t.seq) return this.last.repair;
    let repair: LeakRepair | undefined;
    try {
      const accepted = this.analytics?.leakDecisions?.forAlarm(t.alarmId) !== undefined;
      const clear = t.data?.evidence;
      const found = repairOf(t.alarm, typeof clear === 'object' && clear !== null ? clear as Record<string, unknown> : {}, t.eventTs, accepted);
      if (found) {
        const workOrderId = this.ctx.workOrders.byAlarm(t.alarmId)?.id;
        repair = { ...found, ...(workOrderId ? { workOrderId } : {}) };
        this.ctx.leakRepairs.record(repair);
        this.ctx.log.info({ alarm: t.alarmId, workOrder: workOrderId ?? null, nightDropM3h: repair.nightDropM3h, dropSource: repair.dropSource }, 'leak repair confirmed by the night flow');
      }
    } catch (e) {
      repair = undefined;
      this.ctx.log.warn({ alarm: t.alarmId, err: String(e) }, 'leak repair could not be linked to its work order');
    }
    this.last = { seq: t.seq, repair };
    return repair;
  }
}
