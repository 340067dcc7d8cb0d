/**
 * Work orders to the crew's phones on a real composition (analytics/compose.ts with `notify:` and
 * `crews`, the WeCom fake, a real work-order store): a work order assigned to a configured crew
 * reaches each member with its location hint and a link to its phone page; the page's buttons move
 * it to in progress, then resolved, recorded as that member; a resolved order, a forged link or a
 * crew that is not configured change nothing. A leak's work order whose repair the night flow
 * confirmed (issue #12.4, the dashboard's linker on the analytics' alarm manager) says so, zh-CN and en;
 * one whose reported repair the nights after it did not confirm (the repair check) says that.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { parseConfig } from '../../core/config/load.ts';
import { buildAnalytics } from '../../analytics/compose.ts';
import type { AnalyticsService } from '../../analytics/service.ts';
import { startFakeWecom } from '../../test/support/fake-wecom.ts';
import { waitFor } from '../../test/support/ports.ts';
import type { DashboardContext } from './context.ts';
import { WorkOrderStore } from './state/work-orders.ts';
import { registerWorkOrderPage, sendWorkOrderToCrew } from './work-order-page.ts';
import { LeakRepairStore } from './state/leak-repairs.ts';
import { LeakRepairLinker } from './leak-repairs.ts';
import { silentLogger } from '../../core/log.ts';

const closers: (() => unknown)[] = [];
afterEach(async () => { for (const c of closers.splice(0).reverse()) await c(); vi.unstubAllEnvs(); });

/** A real composition with a crew of two (王工 in zh-CN, Li in en) on the WeCom fake, the state database's work orders and leak repairs, and the phone page. */
async function phoneRig() {
  vi.stubEnv('AW_WO_ACK_SECRET', 'a-work-order-test-secret-long-enough!');
  vi.stubEnv('AW_WO_WECOM', 'wk');
  const wecom = await startFakeWecom('wk');
  const dir = mkdtempSync(join(tmpdir(), 'aw-wo-page-'));
  closers.push(() => rmSync(dir, { recursive: true, force: true }), () => wecom.close());
  const config = parseConfig({
    dataDir: dir, topology: { dmas: [{ id: 'central' }] },
    notify: {
      publicUrl: 'https://scada.example.cn', ackSecret: '${AW_WO_ACK_SECRET}',
      people: { wang: { name: '王工' }, li: { name: 'Li', language: 'en' } },
      channels: [{ type: 'wecom', name: 'crew-phone', url: wecom.sendUrl, key: '${AW_WO_WECOM}' }],
      routing: { timeZone: 'Asia/Shanghai', rotas: { m: { weekly: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '00:00', people: ['wang'] }], dutyManager: 'wang' } },
        rules: [{ name: 'none', match: { types: ['nothing'] }, rota: 'm', channels: ['crew-phone'], escalateAfterMin: 60 }] },
      crews: { 抢修一队: { members: ['wang', 'li'], channels: ['crew-phone'] } },
    },
  }, 'site.yaml');
  const analytics = buildAnalytics({ config, statePath: join(dir, 'state.sqlite'), mode: 'live' });
  closers.push(() => analytics.close());
  const workOrders = new WorkOrderStore(join(dir, 'state.sqlite'));
  closers.push(() => workOrders.close());
  const leakRepairs = new LeakRepairStore(join(dir, 'state.sqlite'));
  closers.push(() => leakRepairs.close());
  const ctx = {
    config, workOrders, leakRepairs, log: silentLogger, now: () => Date.now(),
    analytics: () => ({ notifications: analytics.notifications, alarms: analytics.alarms }) as unknown as AnalyticsService,
  } as unknown as DashboardContext;
  const app = Fastify();
  closers.push(() => app.close());
  registerWorkOrderPage(app, ctx);
  /** The phone page links of the messages sent so far, by member name. */
  const links = () => Object.fromEntries(wecom.requests.map((r) => {
    const text = (JSON.parse(r.body) as { markdown: { content: string } }).markdown.content;
    return [text.includes('王工') ? 'wang' : 'li', /https:\/\/scada\.example\.cn(\/wo\/[^)\s]+)\)/.exec(text)![1]];
  }));
  return { wecom, analytics, workOrders, leakRepairs, ctx, app, links };
}

describe('work orders on the crew\'s phones', () => {
  it('goes to each crew member with the location hint and a link whose page moves it to in progress and resolved', async () => {
    const { wecom, analytics, workOrders, ctx, app } = await phoneRig();
    const created = workOrders.create({ alarmId: 'burst:central@1', dma: 'central', locationHint: 'P-n464', burstFlowM3h: 33, by: 'system', at: Date.now() });
    expect(sendWorkOrderToCrew(ctx, workOrders.update(created.id, { crew: '另一队' }, 'dispatcher', Date.now()))).toBe(0);
    const assigned = workOrders.update(created.id, { crew: '抢修一队' }, 'dispatcher', Date.now());
    expect(sendWorkOrderToCrew(ctx, assigned)).toBe(2);
    await waitFor(() => wecom.requests.length === 2, 10_000, 25, 'the work order on both phones');
    const texts = wecom.requests.map((r) => (JSON.parse(r.body) as { markdown: { content: string } }).markdown.content);
    const zh = texts.find((t) => t.includes('王工'))!;
    expect(zh).toContain('抢修工单');
    expect(zh).toContain('位置提示: P-n464');
    expect(texts.find((t) => t.includes('> Li'))).toContain('Location hint: P-n464');
    const path = /https:\/\/scada\.example\.cn(\/wo\/[^)\s]+)\)/.exec(zh)![1];
    // the delivery is in the burst alarm's history
    await analytics.notifications!.settled();
    expect(analytics.notifications!.history('burst:central@1').map((d) => d.recipientId).sort()).toEqual(['li', 'wang']);

    const shown = await app.inject({ method: 'GET', url: path });
    expect(shown.statusCode).toBe(200);
    expect(shown.body).toContain('<meta name="viewport"');
    expect(shown.body).toContain('P-n464');
    expect(shown.body).toContain('data-action="in_progress"');
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const started = await app.inject({ method: 'POST', url: path, headers: form, payload: 'status=in_progress' });
    expect(started.body).toContain('data-changed="in_progress"');
    expect(workOrders.get(created.id, Date.now())).toMatchObject({ status: 'in_progress', notes: [expect.objectContaining({ by: '王工', text: '经手机链接更新' })] });
    expect((await app.inject({ method: 'POST', url: path, headers: form, payload: 'status=new' })).statusCode).toBe(400);
    await app.inject({ method: 'POST', url: path, headers: form, payload: 'status=resolved' });
    expect(workOrders.get(created.id, Date.now())!.status).toBe('resolved');
    expect((await app.inject({ method: 'POST', url: path, headers: form, payload: 'status=in_progress' })).statusCode).toBe(409);
    expect(workOrders.get(created.id, Date.now())!.status).toBe('resolved');
    expect((await app.inject({ method: 'GET', url: path.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) })).statusCode).toBe(400);
  });

  it('#12.4 a leak\'s work order whose repair the night flow confirmed says so on the crew\'s page, in zh-CN and en', async () => {
    const { analytics, workOrders, ctx, app, links, wecom } = await phoneRig();
    // the dashboard's link of leak alarms to their work orders, on the analytics' alarm manager
    const linker = new LeakRepairLinker(ctx);
    linker.attach(analytics);
    closers.push(() => linker.detach());
    const ts = Date.parse('2026-11-28T18:00:00Z');
    analytics.alarms.advanceTo(ts);
    analytics.alarms.onCondition({ id: 'abrupt_leak:central:3', type: 'abrupt_leak', state: 'raise', ts, dma: 'central', priority: 'medium', message: 'abrupt leak', evidence: { confirmed: true, sizeM3h: 6.3 } });
    const alarmId = analytics.alarms.openAlarms().find((a) => a.conditionId === 'abrupt_leak:central:3')!.id;
    const created = workOrders.create({ alarmId, dma: 'central', by: 'dispatcher', at: ts });
    expect(sendWorkOrderToCrew(ctx, workOrders.update(created.id, { crew: '抢修一队' }, 'dispatcher', ts))).toBe(2);
    await waitFor(() => wecom.requests.length === 2, 10_000, 25, 'the work order on both phones');
    const { wang, li } = links();
    // not repaired yet: no such line
    expect((await app.inject({ method: 'GET', url: wang })).body).not.toContain('data-repair-confirmed');

    // the leak-change detector's repair: the step down began 2 December 03:00 in Shanghai, 5.9 m³/h off the night flow
    const repairTs = Date.parse('2026-12-01T19:00:00Z');
    analytics.alarms.onCondition({ id: 'abrupt_leak:central:3', type: 'abrupt_leak', state: 'clear', ts: repairTs + 30 * 3_600_000, dma: 'central', priority: 'medium', message: 'repaired', evidence: { sizeM3h: 6.3, repairTs, nightDropM3h: 5.9 } });
    const zh = (await app.inject({ method: 'GET', url: wang })).body;
    expect(zh).toContain('data-repair-confirmed="night_drop"');
    expect(zh).toContain('流量印证修复：2026年12月2日 夜间流量下降 5.9 m³/h');
    const en = (await app.inject({ method: 'GET', url: li })).body;
    expect(en).toContain('Flow confirms the repair: night flow −5.9 m³/h on 2 Dec 2026');
    expect((await app.inject({ method: 'GET', url: `${wang}?lang=en` })).body).toContain('night flow −5.9 m³/h on 2 Dec 2026');
  });

  it('#12.4 a leak\'s work order whose reported repair the nights after it did not confirm says so on the crew\'s page', async () => {
    const { analytics, workOrders, ctx, app, links, wecom } = await phoneRig();
    const ts = Date.parse('2026-11-28T18:00:00Z');
    analytics.alarms.advanceTo(ts);
    analytics.alarms.onCondition({ id: 'leak_trend:central', type: 'leak_trend', state: 'raise', ts, dma: 'central', priority: 'medium', message: 'slow leak', evidence: { leakM3h: 4.2 } });
    const alarmId = analytics.alarms.openAlarms().find((a) => a.conditionId === 'leak_trend:central')!.id;
    const created = workOrders.create({ alarmId, dma: 'central', by: 'dispatcher', at: ts });
    sendWorkOrderToCrew(ctx, workOrders.update(created.id, { crew: '抢修一队' }, 'dispatcher', ts));
    await waitFor(() => wecom.requests.length === 2, 10_000, 25, 'the work order on both phones');
    const { wang, li } = links();
    workOrders.update(created.id, { status: 'resolved' }, '王工', ts + 3_600_000);
    // the repair check of the real composition, the watermark moving on a quarter hour at a time until its nights are over
    const check = analytics.detectors.all.find((d) => d.name === 'repair-check')!;
    for (let t = ts; !analytics.alarms.openAlarms().some((a) => a.type === 'repair_unconfirmed') && t < ts + 10 * 86_400_000; t += 900_000) {
      analytics.alarms.advanceTo(t);
      for (const c of check.onTime(t)) analytics.alarms.onCondition(c);
    }
    const zh = (await app.inject({ method: 'GET', url: wang })).body;
    expect(zh).toContain(`data-repair-unconfirmed="repair_unconfirmed:${created.id}@`);
    expect(zh).toContain('流量未印证修复：报修复 7 夜后漏损告警仍未消除，可能未修到漏点');
    expect(zh).not.toContain('data-repair-confirmed');
    expect((await app.inject({ method: 'GET', url: li })).body).toContain('Flow does not confirm the repair: the leak alarm is still raised 7 nights after the repair was reported');
    // the second repair works: the slow leak clears, and so does the line
    const after = analytics.alarms.eventTime + 3_600_000;
    analytics.alarms.onCondition({ id: 'leak_trend:central', type: 'leak_trend', state: 'clear', ts: after, dma: 'central', message: 'repaired' });
    for (const c of check.onTime(after + 900_000)) analytics.alarms.onCondition(c);
    expect((await app.inject({ method: 'GET', url: wang })).body).not.toContain('data-repair-unconfirmed');
  });
});
