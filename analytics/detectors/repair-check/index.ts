/**
 * Repairs the flow does not confirm: a crew resolved the work order of a leak alarm (`leak_trend`,
 * `abrupt_leak`, `new_leak`), and the nights after it did not clear that alarm. Raises
 * `repair_unconfirmed:<work order>` at the local midnight that ends the `confirmWithinNights`-th
 * day after the report; clears it when the leak's alarm clears (a repair seen later, or a dispatcher's
 * acceptance). See README.md.
 */
import { alarmText, isAcceptableLeakType, LEAK_FLOW_FIELD } from '../../../core/messages/alarm-texts.ts';
import type { AlarmRecord } from '../../../core/state/alarm-store.ts';
import { DAY_MS, LocalTime } from '../../baseline/local-time.ts';
import type { Condition, Detector, DetectorContext, OpenAlarm } from '../../types.ts';
import { parseDetectorOptions } from '../parse-options.ts';
import { repairCheckOptionsSchema, type RepairCheckOptions, type RepairCheckSettings } from './options.ts';
import type { ReportedRepair, ReportedRepairLookup } from './reported-repairs.ts';

export type { RepairCheckOptions };

const QUARTER_HOUR_MS = 900_000;
/**
 * How long after its check a report is still looked at: a check that fell due while analytics was
 * down is made at the restart, up to a week late.
 */
const LATE_CHECK_MS = 7 * DAY_MS;

/** What the check reads of an alarm: the alarm manager's record now. */
export type AlarmView = Pick<AlarmRecord, 'type' | 'state' | 'dma' | 'evidence'>;

export interface RepairCheckInputs {
  /** The crews' reports (resolved work orders), by event time. */
  repairs?: ReportedRepairLookup;
  /** The alarm manager's record of an alarm, open or closed. */
  alarm?: (alarmId: string) => AlarmView | undefined;
}

interface RaisedCheck { leakAlarmId: string; base: Omit<Condition, 'ts' | 'state' | 'text'>; params: Record<string, string> }

const isActive = (a: AlarmView | undefined): a is AlarmView => a !== undefined && a.state.startsWith('active');

export class RepairCheckDetector implements Detector {
  readonly name = 'repair-check';
  private readonly o: RepairCheckSettings;
  private readonly local: LocalTime;
  /** The UTC quarter hour last checked: the check runs once per quarter hour of event time. */
  private checkedQuarter = NaN;
  /** Checks raised, by work order. */
  private readonly raised = new Map<string, RaisedCheck>();

  constructor(ctx: Pick<DetectorContext, 'timezone'>, options: RepairCheckOptions = {}, private readonly inputs: RepairCheckInputs = {}) {
    this.o = parseDetectorOptions('analytics.detectors.repair-check', repairCheckOptionsSchema, options);
    this.local = new LocalTime(ctx.timezone);
  }

  onReadings(): Condition[] {
    return [];
  }

  /** When a report's check falls due: the local midnight after the last of its nights. */
  dueOf(reportedTs: number): number {
    return this.local.instantOf(this.local.position(reportedTs).day + this.o.confirmWithinNights + 1, 0);
  }

  onTime(ts: number): Condition[] {
    const { repairs, alarm } = this.inputs;
    const quarter = Math.floor(ts / QUARTER_HOUR_MS);
    if (!repairs || !alarm || quarter === this.checkedQuarter) return [];
    this.checkedQuarter = quarter;
    const out: Condition[] = [];
    for (const [workOrderId, check] of this.raised) {
      if (isActive(alarm(check.leakAlarmId))) continue;
      this.raised.delete(workOrderId);
      out.push({ ...check.base, ts, state: 'clear', text: alarmText('repair_unconfirmed.clear', check.params) });
    }
    // every report whose nights are over: the latest a report can fall due is confirmWithinNights + 2 days after it
    const span = (this.o.confirmWithinNights + 2) * DAY_MS + LATE_CHECK_MS;
    for (const r of repairs.reportedBetween(ts - span, ts)) {
      if (this.raised.has(r.workOrderId) || ts < this.dueOf(r.reportedTs) || ts > this.dueOf(r.reportedTs) + LATE_CHECK_MS) continue;
      const leak = alarm(r.alarmId);
      if (!isActive(leak) || !isAcceptableLeakType(leak.type)) continue;
      out.push(this.raise(r, leak, ts));
    }
    return out;
  }

  private raise(r: ReportedRepair, leak: AlarmView, ts: number): Condition {
    const type = leak.type as keyof typeof LEAK_FLOW_FIELD;
    const flow = leak.evidence?.[LEAK_FLOW_FIELD[type]];
    const leakM3h = typeof flow === 'number' && Number.isFinite(flow) ? Math.round(flow * 10) / 10 : undefined;
    const dma = leak.dma ?? r.dma;
    const params = { dma, workOrder: r.workOrderId, leakType: `@leak.${type}` };
    const check: RaisedCheck = {
      leakAlarmId: r.alarmId, params,
      base: {
        id: `repair_unconfirmed:${r.workOrderId}`, type: 'repair_unconfirmed', dma, priority: 'medium',
        evidence: {
          workOrderId: r.workOrderId, leakAlarmId: r.alarmId, leakType: type, reportedTs: r.reportedTs, reportedAt: new Date(r.reportedTs).toISOString(),
          ...(r.crew ? { crew: r.crew } : {}), nights: this.o.confirmWithinNights, ...(leakM3h !== undefined ? { leakM3h } : {}),
        },
      },
    };
    this.raised.set(r.workOrderId, check);
    const raiseParams = { ...params, reported: this.local.stamp(r.reportedTs), nights: String(this.o.confirmWithinNights) };
    const text = leakM3h === undefined ? alarmText('repair_unconfirmed.raise', raiseParams)
      : alarmText('repair_unconfirmed.raise_flow', { ...raiseParams, leak: leakM3h.toFixed(1) });
    return { ...check.base, ts, state: 'raise', text };
  }

  /** After a restart: the checks whose alarms are still open, so their leak's clear clears them. */
  reconcile(open: readonly OpenAlarm[]): Condition[] {
    for (const a of open) {
      const e = a.evidence ?? {};
      if (a.type !== 'repair_unconfirmed' || typeof e.workOrderId !== 'string' || typeof e.leakAlarmId !== 'string') continue;
      const leakType = typeof e.leakType === 'string' ? e.leakType : '';
      this.raised.set(e.workOrderId, {
        leakAlarmId: e.leakAlarmId,
        params: { dma: a.dma ?? '', workOrder: e.workOrderId, leakType: `@leak.${leakType}` },
        base: { id: a.conditionId, type: a.type, ...(a.dma ? { dma: a.dma } : {}), priority: 'medium', evidence: e },
      });
    }
    return [];
  }
}
