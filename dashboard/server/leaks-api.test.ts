/**
 * Issue #12.4 through the dashboard's real routes and the analytics' live composition (alarm manager,
 * leak decisions in the state database), with conditions fed to the alarm manager as the worker
 * feeds them: a dispatcher accepts a raised leak as a change of use (audited, stored for the
 * detector by event time), other roles may not; a leak alarm that clears on the lower night flow is
 * linked to the work order opened from it, or recorded as having none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Condition } from '../../core/bus/messages/condition.ts';
import { Client, startHarness, T0, type Harness } from '../../test/support/dashboard.ts';
import type { LeakDecision, LeakRepair, WorkOrder } from '../contract/index.ts';

const HOUR = 3_600_000;
let h: Harness;
let dispatcher: Client;
beforeAll(async () => {
  h = await startHarness();
  dispatcher = await Client.signIn(h.app, 'dispatcher');
}, 60_000);
afterAll(async () => { await h?.close(); });

/** A leak condition as the worker hands it to the alarm manager; the alarm's id once raised. */
function leak(c: Omit<Condition, 'priority' | 'message'>): string | undefined {
  h.alarms.advanceTo(c.ts);
  h.alarms.onCondition({ priority: 'medium', message: `${c.type} ${c.state}`, ...c });
  return h.alarms.openAlarms().find((a) => a.conditionId === c.id)?.id;
}

const accept = (client: Client, alarmId: string, reason: string) =>
  client.send('POST', `/api/v1/alarms/${encodeURIComponent(alarmId)}/accept-change`, { reason });

describe('#12.4 accepting a leak alarm as a change of use', () => {
  it('#12.4 a dispatcher may accept a raised leak_trend (audited, stored for the detector at the event time); viewer and customer service may not', async () => {
    const id = leak({ id: 'leak_trend:north', type: 'leak_trend', state: 'raise', ts: T0 + HOUR, dma: 'north', evidence: { leakM3h: 3.2, referenceM3h: 20 } })!;
    for (const [role, username] of [['viewer', 'viewer'], ['customer_service', 'service'], ['maintenance', 'maintenance']]) {
      const r = await accept(await Client.signIn(h.app, username), id, 'new factory');
      expect(r.statusCode, role).toBe(403);
    }
    expect((await accept(dispatcher, id, '   ')).statusCode).toBe(400);
    const r = await accept(dispatcher, id, '新开夜班工厂 new night-shift factory');
    expect(r.statusCode, r.body).toBe(200);
    const decision = r.json() as LeakDecision;
    expect(decision).toMatchObject({ alarmId: id, conditionId: 'leak_trend:north', type: 'leak_trend', dma: 'north', effectiveTs: T0 + HOUR, decidedBy: 'dispatcher', reason: '新开夜班工厂 new night-shift factory' });
    // what the detector reads, by event time: not before the decision's own time
    const decisions = h.dash.ctx.analytics()!.leakDecisions!;
    expect(decisions.decisionsUpTo(T0 + HOUR - 1)).toEqual([]);
    expect(decisions.decisionsUpTo(T0 + HOUR)).toEqual([decision]);
    // who, when, why: in the audit log
    expect(h.dash.ctx.audit.list({ action: 'leaks.accept' })).toEqual([expect.objectContaining({
      username: 'dispatcher', role: 'dispatcher', target: id,
      details: expect.objectContaining({ request: { reason: decision.reason }, decisionId: decision.id, effectiveTs: T0 + HOUR }),
    })]);
    expect((await accept(dispatcher, id, 'again')).statusCode).toBe(409);
    expect(((await dispatcher.get(`/api/v1/leak-decisions?alarmId=${encodeURIComponent(id)}`)).json() as LeakDecision[]).map((d) => d.id)).toEqual([decision.id]);
  });

  it('#12.4 only a raised slow or abrupt leak can be accepted', async () => {
    const burst = leak({ id: 'burst:south', type: 'burst', state: 'raise', ts: T0 + 2 * HOUR, dma: 'south' })!;
    expect((await accept(dispatcher, burst, 'no')).statusCode).toBe(400);
    const step = leak({ id: 'abrupt_leak:south:1', type: 'abrupt_leak', state: 'raise', ts: T0 + 2 * HOUR, dma: 'south', evidence: { confirmed: true, sizeM3h: 2 } })!;
    leak({ id: 'abrupt_leak:south:1', type: 'abrupt_leak', state: 'clear', ts: T0 + 3 * HOUR, dma: 'south' });
    expect((await accept(dispatcher, step, 'too late')).statusCode).toBe(409);
    expect((await accept(dispatcher, 'abrupt_leak:x@2026-01-01T00:00:00.000Z', 'none')).statusCode).toBe(404);
  });
});

describe('#12.4 a repair seen in the night flow is linked to its work order', () => {
  it('#12.4 the clear of a confirmed leak names the work order opened from its alarm; without one it says there is none; accepted and retracted ones are no repairs', async () => {
    const ts = T0 + 10 * HOUR;
    const withOrder = leak({ id: 'abrupt_leak:north:9', type: 'abrupt_leak', state: 'raise', ts, dma: 'north', evidence: { confirmed: true, sizeM3h: 4.1 } })!;
    const wo = (await dispatcher.send('POST', '/api/v1/work-orders', { alarmId: withOrder })).json() as WorkOrder;
    const withoutOrder = leak({ id: 'new_leak:south', type: 'new_leak', state: 'raise', ts, dma: 'south', evidence: { riseM3h: 2.6 } })!;
    const retracted = leak({ id: 'abrupt_leak:south:7', type: 'abrupt_leak', state: 'raise', ts, dma: 'south', evidence: { confirmed: false, sizeM3h: 8 } })!;
    const accepted = leak({ id: 'leak_trend:south', type: 'leak_trend', state: 'raise', ts, dma: 'south', evidence: { leakM3h: 1.5 } })!;
    expect((await accept(dispatcher, accepted, 'school pool refilled nightly')).statusCode).toBe(200);
    for (const id of ['abrupt_leak:north:9', 'new_leak:south', 'abrupt_leak:south:7', 'leak_trend:south']) {
      leak({ id, type: id.split(':')[0], state: 'clear', ts: ts + 20 * HOUR, dma: id.split(':')[1] });
    }
    const repairs = (await dispatcher.get('/api/v1/leak-repairs')).json() as LeakRepair[];
    expect(repairs.filter((r) => [withOrder, withoutOrder, retracted, accepted].includes(r.alarmId)).sort((a, b) => a.alarmId.localeCompare(b.alarmId))).toEqual([
      { alarmId: withOrder, type: 'abrupt_leak', dma: 'north', seenTs: ts + 20 * HOUR, nightDropM3h: 4.1, workOrderId: wo.id },
      { alarmId: withoutOrder, type: 'new_leak', dma: 'south', seenTs: ts + 20 * HOUR, nightDropM3h: 2.6 },
    ]);
    // the work order's view asks by its id
    expect((await dispatcher.get(`/api/v1/leak-repairs?workOrderId=${wo.id}`)).json()).toEqual([repairs.find((r) => r.alarmId === withOrder)]);
  });
});
