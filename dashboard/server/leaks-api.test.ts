/**
 * Issue #12.4 through the dashboard's real routes and the analytics' live composition (alarm manager,
 * leak decisions in the state database), with conditions fed to the alarm manager as the worker
 * feeds them: a dispatcher accepts a raised leak as a change of use (audited, stored for the
 * detector by event time), other roles may not; a leak alarm that clears on the lower night flow is
 * linked to the work order opened from it, or recorded as having none, with the drop its detector's
 * clear measured (or, without one, the leak flow last measured, said so); the live clear (socket.io,
 * through the platform's wiring on a real broker's telemetry feed) carries that repair.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Condition } from '../../core/bus/messages/condition.ts';
import { Client, startHarness, T0, type Harness } from '../../test/support/dashboard.ts';
import { io as ioClient, type Socket as ClientSocket } from 'socket.io-client';
import { EmbeddedBroker } from '../../core/bus/embedded-broker.ts';
import { BusTelemetrySubscriber } from '../../core/bus/telemetry-feed.ts';
import { silentLogger } from '../../core/log.ts';
import type { AnalyticsService } from '../../analytics/service.ts';
import { waitFor } from '../../test/support/ports.ts';
import { liveMessages, type AlarmDetail, type AlarmTransition as LiveAlarmTransition, type LeakDecision, type LeakRepair, type WorkOrder } from '../contract/index.ts';
import { startLive } from './live-wiring.ts';
import type { LiveGateway } from './live/index.ts';

const HOUR = 3_600_000;
let h: Harness;
let dispatcher: Client;
beforeAll(async () => {
  h = await startHarness();
  dispatcher = await Client.signIn(h.app, 'dispatcher');
}, 60_000);
afterAll(async () => { await h?.close(); });

/** A leak condition as the worker hands it to the alarm manager; the alarm's id once raised (the newest: an earlier one may wait cleared for its acknowledgement). */
function leak(c: Omit<Condition, 'priority' | 'message'>): string | undefined {
  h.alarms.advanceTo(c.ts);
  h.alarms.onCondition({ priority: 'medium', message: `${c.type} ${c.state}`, ...c });
  return h.alarms.openAlarms().filter((a) => a.conditionId === c.id).at(-1)?.id;
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
  it('#12.4 the clear of a confirmed leak names the work order opened from its alarm and the drop its detector measured; without one it says there is none; accepted and retracted ones are no repairs', async () => {
    const ts = T0 + 10 * HOUR;
    const repairTs = ts + 14 * HOUR;
    const withOrder = leak({ id: 'abrupt_leak:north:9', type: 'abrupt_leak', state: 'raise', ts, dma: 'north', evidence: { confirmed: true, sizeM3h: 4.1 } })!;
    const wo = (await dispatcher.send('POST', '/api/v1/work-orders', { alarmId: withOrder })).json() as WorkOrder;
    const withoutOrder = leak({ id: 'new_leak:south', type: 'new_leak', state: 'raise', ts, dma: 'south', evidence: { riseM3h: 2.6 } })!;
    const retracted = leak({ id: 'abrupt_leak:south:7', type: 'abrupt_leak', state: 'raise', ts, dma: 'south', evidence: { confirmed: false, sizeM3h: 8 } })!;
    const accepted = leak({ id: 'leak_trend:south', type: 'leak_trend', state: 'raise', ts, dma: 'south', evidence: { leakM3h: 1.5 } })!;
    // night-flow's own acceptance: its clear says so (the decision store is the leak-change detector's)
    const acceptedByClear = leak({ id: 'new_leak:north', type: 'new_leak', state: 'raise', ts, dma: 'north', evidence: { riseM3h: 3 } })!;
    expect((await accept(dispatcher, accepted, 'school pool refilled nightly')).statusCode).toBe(200);
    // each clear with the evidence a detector sends (leak-change: the drop it measured and its date; one that gives no drop)
    const clears: Record<string, Record<string, unknown>> = {
      'abrupt_leak:north:9': { confirmed: true, sizeM3h: 4.1, repairTs, nightDropM3h: 3.8 },
      'new_leak:south': { riseM3h: 0.2, nightFlowM3h: 20.3 },
      'abrupt_leak:south:7': { sizeM3h: 8, retracted: true },
      'leak_trend:south': { leakM3h: 1.5, accepted: true },
      'new_leak:north': { accepted: true, acceptedRiseM3h: 3 },
    };
    for (const [id, evidence] of Object.entries(clears)) leak({ id, type: id.split(':')[0], state: 'clear', ts: ts + 20 * HOUR, dma: id.split(':')[1], evidence });
    const repairs = (await dispatcher.get('/api/v1/leak-repairs')).json() as LeakRepair[];
    expect(repairs.filter((r) => [withOrder, withoutOrder, retracted, accepted, acceptedByClear].includes(r.alarmId)).sort((a, b) => a.alarmId.localeCompare(b.alarmId))).toEqual([
      { alarmId: withOrder, type: 'abrupt_leak', dma: 'north', seenTs: ts + 20 * HOUR, nightDropM3h: 3.8, dropSource: 'night_drop', repairedTs: repairTs, workOrderId: wo.id },
      // a clear that gives no drop: the rise the alarm last measured, said to be that
      { alarmId: withoutOrder, type: 'new_leak', dma: 'south', seenTs: ts + 20 * HOUR, nightDropM3h: 2.6, dropSource: 'last_leak_flow' },
    ]);
    // the work order's view asks by its id; the alarm's detail carries its repair
    expect((await dispatcher.get(`/api/v1/leak-repairs?workOrderId=${wo.id}`)).json()).toEqual([repairs.find((r) => r.alarmId === withOrder)]);
    const detail = (await dispatcher.get(`/api/v1/alarms/${encodeURIComponent(withOrder)}`)).json() as AlarmDetail;
    expect(detail.repair).toEqual(repairs.find((r) => r.alarmId === withOrder));
    expect(detail.history.find((e) => e.kind === 'clear')?.data).toEqual({ evidence: clears['abrupt_leak:north:9'] });
    expect(((await dispatcher.get(`/api/v1/alarms/${encodeURIComponent(retracted)}`)).json() as AlarmDetail).repair).toBeUndefined();
  });

  it('#12.4 a slow leak\'s repair is dated by the first night at the lower level, the drop from its peak', async () => {
    const ts = T0 + 40 * HOUR;
    // south's slow leak was accepted and cleared above: this is a new one
    const slow = leak({ id: 'leak_trend:south', type: 'leak_trend', state: 'raise', ts, dma: 'south', evidence: { leakM3h: 2.2, referenceM3h: 20 } })!;
    const repairedTs = ts + 3 * 24 * HOUR;
    leak({ id: 'leak_trend:south', type: 'leak_trend', state: 'clear', ts: repairedTs + 2 * 24 * HOUR, dma: 'south', evidence: { leakM3h: 0.1, repairedTs, repairedDate: '2026-12-04', nightDropM3h: 2.9 } });
    expect((await dispatcher.get(`/api/v1/leak-repairs?alarmId=${encodeURIComponent(slow)}`)).json()).toEqual([
      { alarmId: slow, type: 'leak_trend', dma: 'south', seenTs: repairedTs + 2 * 24 * HOUR, nightDropM3h: 2.9, dropSource: 'night_drop', repairedTs },
    ]);
  });
});

describe('#12.4 the live clear of a repaired leak names its work order', () => {
  it('#12.4 socket.io room `alarms`: the clear of a leak the night flow confirms repaired carries the repair with its work order and drop; other transitions carry none', async () => {
    const broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0 });
    await broker.start();
    const feed = new BusTelemetrySubscriber({ brokerUrl: broker.url, clientId: `leaks-live-${process.pid}`, log: silentLogger });
    let gateway: LiveGateway | undefined;
    let socket: ClientSocket | undefined;
    try {
      await feed.start();
      await h.app.listen({ port: 0, host: '127.0.0.1' });
      const analytics = { ...h.dash.ctx.analytics()!, worker: feed } as unknown as AnalyticsService;
      gateway = await startLive(h.dash, { httpServer: h.app.server, analytics, log: silentLogger });
      const { port } = h.app.server.address() as { port: number };
      socket = ioClient(`http://127.0.0.1:${port}`, { path: '/socket.io', transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { cookie: dispatcher.cookie } });
      const seen: LiveAlarmTransition[] = [];
      socket.on('alarm', (m: LiveAlarmTransition) => seen.push(m));
      await new Promise<void>((resolve, reject) => { socket!.once('connect', () => resolve()); socket!.once('connect_error', reject); });
      expect(await socket.timeout(5000).emitWithAck('subscribe', { rooms: ['alarms'] })).toEqual({ ok: true, rooms: ['alarms'] });

      const ts = T0 + 80 * HOUR;
      const id = leak({ id: 'abrupt_leak:south:21', type: 'abrupt_leak', state: 'raise', ts, dma: 'south', evidence: { confirmed: true, sizeM3h: 5.2 } })!;
      const wo = (await dispatcher.send('POST', '/api/v1/work-orders', { alarmId: id })).json() as WorkOrder;
      leak({ id: 'abrupt_leak:south:21', type: 'abrupt_leak', state: 'clear', ts: ts + 30 * HOUR, dma: 'south', evidence: { sizeM3h: 5.2, repairTs: ts + 26 * HOUR, nightDropM3h: 4.9 } });
      await waitFor(() => seen.some((m) => m.alarm.id === id && m.kind === 'clear'), 10_000, 20, 'the clear on the socket');
      const mine = seen.filter((m) => m.alarm.id === id);
      expect(mine.map((m) => [m.kind, m.repair?.workOrderId ?? null])).toEqual([['raise', null], ['clear', wo.id]]);
      expect(mine[1].repair).toEqual({ alarmId: id, type: 'abrupt_leak', dma: 'south', seenTs: ts + 30 * HOUR, nightDropM3h: 4.9, dropSource: 'night_drop', repairedTs: ts + 26 * HOUR, workOrderId: wo.id });
      // the message holds to the contract (strict: no field it does not document)
      expect(liveMessages.alarm.safeParse(mine[1]).success).toBe(true);
    } finally {
      socket?.disconnect();
      await gateway?.stop();
      await feed.stop();
      await broker.stop();
    }
  });
});

describe('#12.4 a leak\'s work order counts the water it loses', () => {
  it('takes the leak\'s flow and counts from its start (a step\'s estimated start, a slow leak\'s halfway to its raise, a night rise\'s raise), following its updates', async () => {
    const ts = T0 + 200 * HOUR;
    const stepStart = ts - 10 * HOUR;
    const slowStart = ts - 8 * 24 * HOUR;
    const step = leak({ id: 'abrupt_leak:north:21', type: 'abrupt_leak', state: 'raise', ts, dma: 'north', evidence: { confirmed: true, sizeM3h: 6, estimatedStartTs: stepStart } })!;
    const slow = leak({ id: 'leak_trend:north:2', type: 'leak_trend', state: 'raise', ts, dma: 'north', evidence: { leakM3h: 4, estimatedStartTs: slowStart } })!;
    const rise = leak({ id: 'new_leak:south', type: 'new_leak', state: 'raise', ts, dma: 'south', evidence: { riseM3h: 3 } })!;
    h.alarms.advanceTo(ts + 2 * HOUR);
    const order = async (alarmId: string) => (await dispatcher.send('POST', '/api/v1/work-orders', { alarmId })).json() as WorkOrder;
    // two hours after the raise: the step has run 12 h at 6 m³/h; the slow leak grew for 8 days (as 4 days at 4 m³/h) and ran 2 h more; the night rise 2 h
    expect(await order(step)).toMatchObject({ dma: 'north', burstFlowM3h: 6, burstStart: stepStart, estimatedLossM3: 72 });
    expect(await order(slow)).toMatchObject({ burstFlowM3h: 4, burstStart: slowStart + 4 * 24 * HOUR, estimatedLossM3: 392 });
    expect(await order(rise)).toMatchObject({ dma: 'south', burstFlowM3h: 3, burstStart: ts, estimatedLossM3: 6 });
    // the slow leak's next day: its flow measured again; the work order's list follows it
    leak({ id: 'leak_trend:north:2', type: 'leak_trend', state: 'update', ts: ts + 24 * HOUR, dma: 'north', evidence: { leakM3h: 4.5, estimatedStartTs: slowStart } });
    const listed = ((await dispatcher.get('/api/v1/work-orders')).json() as WorkOrder[]).find((w) => w.alarmId === slow)!;
    expect(listed).toMatchObject({ burstFlowM3h: 4.5, estimatedLossM3: 4.5 * (4 * 24 + 24) });
  });
});
