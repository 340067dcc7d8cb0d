/**
 * Customer notices through the API on a real fastify app and SQLite state database: drafted by
 * customer service, approved by a dispatcher (role checked on the server, audit row), sent by the
 * real Alibaba SMS channel over HTTP to a local receiver that checks the vendor's format, with a
 * delivery log per customer; the 24 h flag counts from the sending.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Client, T0, type Harness } from '../../test/support/dashboard.ts';
import { startNoticeHarness } from '../../test/support/customer-notices.ts';
import type { FakeReceiver } from '../../test/support/fake-http-receiver.ts';
import type { CustomerNotice, PlannedOutageRow } from '../contract/index.ts';
import { CustomerNoticeService } from './customer-notices.ts';

const HOUR = 3_600_000;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => { for (const c of closers.splice(0).reverse()) await c(); vi.unstubAllEnvs(); });

async function startNotices(): Promise<{ h: Harness; sms: FakeReceiver }> {
  const started = await startNoticeHarness();
  closers.push(() => started.sms.close(), () => started.h.close());
  return started;
}

/** Polls the notice until every delivery has an outcome. */
async function settled(c: Client, query: string): Promise<CustomerNotice> {
  for (let i = 0; i < 400; i++) {
    const [n] = (await c.get(`/api/v1/notices?${query}`)).json() as CustomerNotice[];
    if (n.deliveries.length && n.deliveries.every((d) => d.state !== 'queued')) return n;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('deliveries still queued');
}

describe('customer notices', () => {
  it('planned outage: drafted, approved by a dispatcher, sent by SMS with a delivery log; the 24 h rule counts from the sending', async () => {
    const { h, sms } = await startNotices();
    const service = await Client.signIn(h.app, 'service');
    const dispatcher = await Client.signIn(h.app, 'dispatcher');
    // people act on the wall clock: the outage 30 h from now
    const before = Date.now();
    const start = before + 30 * HOUR;
    const outage = (await service.send('POST', '/api/v1/planned-outages', { dmas: ['north'], start, end: start + 4 * HOUR, cause: 'maintenance', reason: '更换阀门' })).json() as { outage: { id: string }; shortNotice: boolean };
    // entered but nobody told yet: flagged
    expect(outage.shortNotice).toBe(true);

    const draft = await service.send('POST', '/api/v1/notices', { plannedOutageId: outage.outage.id });
    expect(draft.statusCode).toBe(201);
    const notice = draft.json() as CustomerNotice;
    expect(notice).toMatchObject({ kind: 'planned', dmas: ['north'], createdBy: 'service', withoutPhone: 1, deliveries: [] });
    expect(notice.texts['zh-CN'].sms).toContain('北区 North');
    expect(notice.texts['zh-CN'].sms).toContain('停水');
    expect(notice.texts.en.sms).toMatch(/^\[示例水务 Example Water\] Water supply to 北区 North stops from \d+ \w{3}, \d\d:\d\d to \d+ \w{3}, \d\d:\d\d for network maintenance\./);

    // customer service may draft, not approve or send; nothing is sent unapproved
    expect((await service.send('POST', `/api/v1/notices/${notice.id}/approve`)).statusCode).toBe(403);
    expect((await dispatcher.send('POST', `/api/v1/notices/${notice.id}/send`)).json()).toMatchObject({ error: { code: 'conflict' } });
    // nor before the planned outage customer service entered is approved (review F18)
    expect((await dispatcher.send('POST', `/api/v1/notices/${notice.id}/approve`)).json()).toMatchObject({ error: { code: 'conflict' } });
    expect((await dispatcher.send('POST', `/api/v1/planned-outages/${outage.outage.id}/approve`, { dmas: ['north'], start, end: start + 4 * HOUR })).statusCode).toBe(200);
    const approved = (await dispatcher.send('POST', `/api/v1/notices/${notice.id}/approve`)).json() as CustomerNotice;
    expect(approved.approvedBy).toBe('dispatcher');
    expect(approved.approvedAt).toBeGreaterThanOrEqual(before);
    expect(h.dash.ctx.audit.list({ action: 'notices.approve' })).toMatchObject([{ username: 'dispatcher', target: notice.id }]);

    // the first customer's number is refused by the vendor: failed, with its answer; the other is sent
    sms.queueAnswer({ status: 400, body: { Code: 'isv.MOBILE_NUMBER_ILLEGAL', Message: 'invalid mobile number' } });
    const sending = (await dispatcher.send('POST', `/api/v1/notices/${notice.id}/send`)).json() as CustomerNotice;
    expect(sending.deliveries.map((d) => [d.meter, d.state])).toEqual([['M-1001', 'queued'], ['M-1002', 'queued']]);
    const first = await settled(dispatcher, `plannedOutageId=${outage.outage.id}`);
    expect(first.deliveries).toMatchObject([
      { meter: 'M-1001', phone: '+8613800000001', state: 'failed', attempts: 1, answer: expect.stringContaining('isv.MOBILE_NUMBER_ILLEGAL') },
      { meter: 'M-1002', state: 'sent', attempts: 1, answer: expect.stringContaining('"Code":"OK"') },
    ]);
    expect(first.sentBy).toBe('dispatcher');
    expect(first.sentAt).toBeGreaterThanOrEqual(approved.approvedAt!);
    const form = new URLSearchParams(sms.requests[1].body);
    expect(sms.problems[1]).toEqual([]);
    expect(form.get('PhoneNumbers')).toBe('13800000002');
    expect(form.get('TemplateCode')).toBe('SMS_460770011'); // the English customer's template
    expect(Object.keys(JSON.parse(form.get('TemplateParam')!))).toEqual(['area', 'start', 'end']);
    expect(JSON.parse(form.get('TemplateParam')!).start).toMatch(/^\d+ \w{3}, \d\d:\d\d$/);

    // told when the first SMS went out, 30 h ahead: the flag is gone
    const rows = (await service.get('/api/v1/planned-outages')).json() as PlannedOutageRow[];
    expect(rows.find((r) => r.id === outage.outage.id)).toMatchObject({ notifiedAt: first.sentAt, shortNotice: false });

    // sending again reaches only the customer not reached
    await dispatcher.send('POST', `/api/v1/notices/${notice.id}/send`);
    const second = await settled(dispatcher, `plannedOutageId=${outage.outage.id}`);
    expect(second.deliveries.map((d) => [d.meter, d.state, d.attempts])).toEqual([['M-1001', 'sent', 2], ['M-1002', 'sent', 1]]);
    expect(sms.requests).toHaveLength(3);
    const zh = new URLSearchParams(sms.requests[2].body);
    expect(zh.get('TemplateCode')).toBe('SMS_460770010');
    expect(JSON.parse(zh.get('TemplateParam')!)).toMatchObject({ area: '北区 North', cause: '管网维护', start: expect.stringMatching(/^\d+月\d+日 \d\d:\d\d$/) });
  });

  it('planned outage told less than 24 h ahead stays flagged once sent', async () => {
    const { h } = await startNotices();
    const dispatcher = await Client.signIn(h.app, 'dispatcher');
    const start = Date.now() + 10 * HOUR;
    const { outage } = (await dispatcher.send('POST', '/api/v1/planned-outages', { dmas: ['south'], start, end: start + 2 * HOUR, cause: 'repair', reason: '' })).json() as { outage: { id: string } };
    const notice = (await dispatcher.send('POST', '/api/v1/notices', { plannedOutageId: outage.id })).json() as CustomerNotice;
    await dispatcher.send('POST', `/api/v1/notices/${notice.id}/approve`);
    await dispatcher.send('POST', `/api/v1/notices/${notice.id}/send`);
    const sent = await settled(dispatcher, `plannedOutageId=${outage.id}`);
    expect(sent.deliveries).toMatchObject([{ meter: 'M-2002', state: 'sent' }]);
    expect(h.register.getPlanned(outage.id)).toMatchObject({ notifiedAt: sent.sentAt });
    expect(h.register.isShortNotice(h.register.getPlanned(outage.id)!)).toBe(true);
  });

  it('sudden outage: the notice during the repair carries the expected restoration', async () => {
    const { h, sms } = await startNotices();
    const dispatcher = await Client.signIn(h.app, 'dispatcher');
    h.register.recordIncident({ id: `north:${T0 - HOUR}`, dma: 'north', start: T0 - HOUR, customersAffected: 1200, planned: false, cause: 'burst' });
    const incidentId = `north:${T0 - HOUR}`;
    // no expected restoration yet: nothing to tell
    expect((await dispatcher.send('POST', '/api/v1/notices', { incidentId })).json()).toMatchObject({ error: { code: 'conflict' } });
    h.register.book.edit(incidentId, { expectedRestoration: T0 + 3 * HOUR, affected: { part: { meters: ['M-1001'] }, customers: 1 } }, 'dispatcher', T0);
    const notice = (await dispatcher.send('POST', '/api/v1/notices', { incidentId })).json() as CustomerNotice;
    expect(notice.kind).toBe('sudden');
    expect(notice.texts['zh-CN'].sms).toBe('【示例水务 Example Water】因爆管抢修，北区 North自11月30日09:00起停水，正在抢修，预计11月30日13:00恢复供水。');
    expect(notice.texts.en.sms).toContain('expected back by 30 Nov, 13:00');
    await dispatcher.send('POST', `/api/v1/notices/${notice.id}/approve`);
    await dispatcher.send('POST', `/api/v1/notices/${notice.id}/send`);
    // only the affected part's customer
    expect((await settled(dispatcher, `incidentId=${encodeURIComponent(incidentId)}`)).deliveries).toMatchObject([{ meter: 'M-1001', state: 'sent' }]);
    // the customer pages: the picked customer's lists the notice with its SMS, the customer left out of the part has none
    const page = async (account: string) => (await dispatcher.get(`/api/v1/customers/${account}?from=${T0 - 2 * HOUR}&to=${T0 + HOUR}`)).json();
    expect((await page('ACC-778899')).notices).toMatchObject([{ id: notice.id, kind: 'sudden', incidentId, delivery: { meter: 'M-1001', state: 'sent' } }]);
    expect((await page('ACC-778900')).notices).toEqual([]);
    expect((await page('ACC-778900')).incidents).toEqual([]);
    const form = new URLSearchParams(sms.requests[0].body);
    expect(form.get('TemplateCode')).toBe('SMS_460770020');
    // a server stopped while the SMS was still queued sends it when it starts again
    h.dash.ctx.db.prepare(`UPDATE customer_notice_deliveries SET state = 'queued' WHERE notice_id = ?`).run(notice.id);
    new CustomerNoticeService(h.dash.ctx);
    expect((await settled(dispatcher, `incidentId=${encodeURIComponent(incidentId)}`)).deliveries).toMatchObject([{ meter: 'M-1001', state: 'sent', attempts: 2 }]);
    expect(sms.requests).toHaveLength(2);
    expect(JSON.parse(form.get('TemplateParam')!)).toEqual({ area: '北区 North', start: '11月30日 09:00', restore: '11月30日 13:00' });
  });
});
