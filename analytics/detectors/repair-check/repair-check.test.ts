/**
 * The repair check on a real composition (analytics/compose.ts, live): a real alarm manager and
 * state database, the dashboard's own work-order store resolving the work order as a crew does.
 * A leak alarm still raised when the nights after its reported repair are over raises
 * `repair_unconfirmed`, which clears with the leak's alarm; a repair the flow confirmed in time,
 * a burst's work order and an unresolved one raise nothing; a replay reads live's reports; a
 * restart takes up a raised check.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../../core/config/load.ts';
import { renderAlarmText } from '../../../core/messages/alarm-texts.ts';
import { WorkOrderStore } from '../../../dashboard/server/state/work-orders.ts';
import { buildAnalytics } from '../../compose.ts';
import type { Condition, Detector } from '../../types.ts';
import { RepairCheckDetector } from './index.ts';
import { readReportedRepairs } from './reported-repairs.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Monday 2024-03-04 00:00 in Shanghai. */
const MONDAY = Date.parse('2024-03-04T00:00:00+08:00');

const closers: (() => unknown)[] = [];
afterEach(() => { for (const c of closers.splice(0).reverse()) c(); });

function rig() {
  const dir = mkdtempSync(join(tmpdir(), 'aw-repair-check-'));
  closers.push(() => rmSync(dir, { recursive: true, force: true }));
  const config = parseConfig({ dataDir: dir, site: { timezone: 'Asia/Shanghai' }, topology: { dmas: [{ id: 'central' }, { id: 'east' }] } }, 'site.yaml');
  const statePath = join(dir, 'state.sqlite');
  const analytics = buildAnalytics({ config, statePath, mode: 'live' });
  closers.push(() => analytics.close());
  const workOrders = new WorkOrderStore(statePath);
  closers.push(() => workOrders.close());
  const check = analytics.detectors.all.find((d) => d.name === 'repair-check')!;
  const raised: Condition[] = [];
  /** The watermark moves on to `ts` a quarter hour at a time; the check's conditions go to the alarm manager. */
  const runTo = (ts: number, detector: Detector = check) => {
    for (let t = Math.max(analytics.alarms.eventTime, MONDAY); t <= ts; t += 15 * 60_000) {
      analytics.alarms.advanceTo(t);
      for (const c of detector.onTime(t)) { raised.push(c); analytics.alarms.onCondition(c); }
    }
  };
  /** A leak alarm raised at `ts` and the work order opened from it. */
  const leak = (type: string, id: string, ts: number, evidence: Record<string, unknown>) => {
    analytics.alarms.onCondition({ id, type, state: 'raise', ts, dma: 'central', priority: 'medium', evidence, message: 'a leak' });
    const alarm = analytics.alarms.openAlarms().find((a) => a.conditionId === id)!;
    return { alarm, order: workOrders.create({ alarmId: alarm.id, dma: 'central', by: 'dispatcher', at: ts }) };
  };
  return { analytics, workOrders, statePath, raised, runTo, leak };
}

describe('repair check (#12.4: a repair linked to its work order)', () => {
  it('raises when a slow leak is still raised seven nights after its reported repair, and clears with the leak', () => {
    const { analytics, workOrders, raised, runTo, leak } = rig();
    const { alarm, order } = leak('leak_trend', 'leak_trend:central', MONDAY + 2 * HOUR, { leakM3h: 6.42 });
    runTo(MONDAY + 2 * DAY + 14 * HOUR);
    // the crew reports the repair on Wednesday at 14:00
    workOrders.update(order.id, { status: 'resolved', note: 'joint replaced' }, '王工', analytics.alarms.eventTime);
    // Wednesday's own day does not count: its nights are Thursday's … Wednesday's a week later, checked at the midnight after
    const due = MONDAY + (2 + 7 + 1) * DAY;
    runTo(due - 15 * 60_000);
    expect(raised).toEqual([]);
    runTo(due);
    expect(raised).toHaveLength(1);
    const c = raised[0];
    expect(c).toMatchObject({ id: `repair_unconfirmed:${order.id}`, type: 'repair_unconfirmed', state: 'raise', ts: due, dma: 'central', priority: 'medium' });
    expect(c.evidence).not.toHaveProperty('crew');
    expect(c.evidence).toMatchObject({ workOrderId: order.id, leakAlarmId: alarm.id, leakType: 'leak_trend', reportedTs: MONDAY + 2 * DAY + 14 * HOUR, nights: 7, leakM3h: 6.4 });
    expect(renderAlarmText(c.text!, 'en')).toBe(`Repair in DMA central not confirmed by the flow: work order ${order.id} was resolved on 2024-03-06 14:00, and 7 nights later its slow leak alarm is still raised (6.4 m³/h); the repair may have missed the leak, or another leak runs nearby`);
    expect(renderAlarmText(c.text!, 'zh-CN')).toBe(`central 分区修复未获流量印证:工单 ${order.id} 于 2024-03-06 14:00 报修复,7 夜后其缓慢漏损告警仍未消除(6.4 m³/h);可能未修到漏点,或附近另有漏损`);
    expect(analytics.alarms.openAlarms().map((a) => a.type)).toEqual(['leak_trend', 'repair_unconfirmed']);
    // days go by with the leak still raised: no second raise
    runTo(due + 3 * DAY);
    expect(raised).toHaveLength(1);
    // a second repair works: the slow leak's alarm clears on its nights, and the check with it
    analytics.alarms.onCondition({ id: 'leak_trend:central', type: 'leak_trend', state: 'clear', ts: due + 3 * DAY + 5 * HOUR, dma: 'central', message: 'repaired' });
    runTo(due + 3 * DAY + 6 * HOUR);
    expect(raised.map((r) => r.state)).toEqual(['raise', 'clear']);
    expect(renderAlarmText(raised[1].text!, 'en')).toBe(`The slow leak alarm of work order ${order.id} in DMA central has cleared: the flow no longer contradicts the repair`);
    expect(analytics.alarms.openAlarms().filter((a) => a.state.startsWith('active')).map((a) => a.type)).toEqual([]);
    runTo(due + 10 * DAY);
    expect(raised).toHaveLength(2);
  });

  it('raises nothing for a repair the flow confirmed in time, a burst\'s work order or an order still open', () => {
    const { analytics, workOrders, raised, runTo, leak } = rig();
    const confirmed = leak('abrupt_leak', 'abrupt_leak:central:1', MONDAY + HOUR, { sizeM3h: 5, confirmed: true });
    const stillOpen = leak('new_leak', 'new_leak:central', MONDAY + 2 * HOUR, { riseM3h: 3 });
    analytics.alarms.onCondition({ id: 'burst:central', type: 'burst', state: 'raise', ts: MONDAY + 3 * HOUR, dma: 'central', priority: 'high', message: 'a burst' });
    const burst = analytics.alarms.openAlarms().find((a) => a.type === 'burst')!;
    const burstOrder = workOrders.create({ alarmId: burst.id, dma: 'central', by: 'system', at: MONDAY + 3 * HOUR });
    runTo(MONDAY + 4 * HOUR);
    for (const id of [confirmed.order.id, burstOrder.id]) workOrders.update(id, { status: 'resolved' }, 'crew', analytics.alarms.eventTime);
    workOrders.update(stillOpen.order.id, { status: 'in_progress' }, 'crew', analytics.alarms.eventTime);
    // the abrupt leak's repair is seen on the second night after it
    analytics.alarms.onCondition({ id: 'abrupt_leak:central:1', type: 'abrupt_leak', state: 'clear', ts: MONDAY + 2 * DAY + 5 * HOUR, dma: 'central', message: 'repaired' });
    runTo(MONDAY + 12 * DAY);
    expect(raised).toEqual([]);
  });

  it('a replay reads live\'s reported repairs; a restart takes up a raised check and clears it with its leak', () => {
    const { analytics, workOrders, statePath, raised, runTo, leak } = rig();
    const { order } = leak('abrupt_leak', 'abrupt_leak:central:7', MONDAY + HOUR, { sizeM3h: 8, confirmed: true });
    const open = leak('new_leak', 'new_leak:central', MONDAY + 2 * HOUR, { riseM3h: 3 });
    runTo(MONDAY + 10 * HOUR);
    workOrders.update(order.id, { status: 'resolved', crew: '抢修一队' }, 'crew', analytics.alarms.eventTime);
    expect(readReportedRepairs(statePath).reportedBetween(MONDAY, MONDAY + DAY)).toEqual([
      { workOrderId: order.id, alarmId: `abrupt_leak:central:7@${new Date(MONDAY + HOUR).toISOString()}`, dma: 'central', crew: '抢修一队', reportedTs: MONDAY + 10 * HOUR },
    ]);
    expect(readReportedRepairs(statePath).reportedBetween(MONDAY + 10 * HOUR, MONDAY + DAY)).toEqual([]);
    expect(open.order.status).toBe('new');
    runTo(MONDAY + 8 * DAY);
    expect(raised.map((c) => [c.id, c.state])).toEqual([[`repair_unconfirmed:${order.id}`, 'raise']]);
    expect(raised[0].evidence).toMatchObject({ crew: '抢修一队', leakM3h: 8 });
    // the server restarts: a fresh check takes up the open alarm and clears it when the leak clears
    const restarted = new RepairCheckDetector({ timezone: 'Asia/Shanghai' }, {}, {
      repairs: readReportedRepairs(statePath), alarm: (id) => analytics.alarms.get(id),
    });
    const openAlarms = analytics.alarmStore.openAlarms().filter((a) => a.state.startsWith('active'));
    expect(restarted.reconcile(openAlarms)).toEqual([]);
    runTo(MONDAY + 9 * DAY, restarted);
    expect(raised).toHaveLength(1);
    analytics.alarms.onCondition({ id: 'abrupt_leak:central:7', type: 'abrupt_leak', state: 'clear', ts: MONDAY + 9 * DAY + HOUR, dma: 'central', message: 'repaired' });
    runTo(MONDAY + 9 * DAY + 2 * HOUR, restarted);
    expect(raised.map((c) => [c.id, c.state])).toEqual([[`repair_unconfirmed:${order.id}`, 'raise'], [`repair_unconfirmed:${order.id}`, 'clear']]);
  });
});
