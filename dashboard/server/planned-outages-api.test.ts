/**
 * Review F18: a planned outage suppresses the dispatchers' pressure alarms in its areas and is
 * published, so one entered or re-timed by customer service waits for a dispatcher's approval, and
 * the public sees a reason chosen from templates, never the free text. Through the dashboard's real
 * routes and the analytics' live composition (register → planned-outage suppressions → alarm
 * manager), with conditions fed to the alarm manager as the worker feeds them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Condition } from '../../core/bus/messages/condition.ts';
import { Client, startHarness, T0, type Harness } from '../../test/support/dashboard.ts';
import type { PlannedOutageSaved } from '../contract/index.ts';

const harnesses: Harness[] = [];
afterEach(async () => { for (const h of harnesses.splice(0)) await h.close(); });
const start = async () => { const h = await startHarness(); harnesses.push(h); return h; };

const HOUR = 3_600_000;
const WINDOW = { start: T0 + 2 * HOUR, end: T0 + 6 * HOUR };
const ENTRY = { dmas: ['north'], ...WINDOW, notifiedAt: T0 - 48 * HOUR, cause: 'maintenance', reason: '更换阀门 call 400-123-4567 http://example.invalid' };

/** A low-pressure raise in North inside the window, as the worker hands the alarm manager a condition; whether it came suppressed. */
function lowPressureInNorth(h: Harness, n: number): boolean {
  const ts = WINDOW.start + n * 60_000;
  h.alarms.advanceTo(ts);
  const c: Condition = { id: `pressure_low:P-N1:${n}`, type: 'pressure_low', state: 'raise', ts, priority: 'medium', dma: 'north', sensor: 'P-N1', message: 'low' };
  h.alarms.onCondition(c);
  return h.alarms.openAlarms().find((a) => a.conditionId === c.id)!.suppressed !== undefined;
}

/** Suppressions still to run at the alarm manager's event time (an ended one keeps the part already past, as history). */
const ahead = (h: Harness) => h.alarms.suppressions().filter((s) => s.to > h.alarms.eventTime).map((s) => [s.dma, s.from, s.to]);

/** The body of an approval: the window and areas as the approver sees them now. */
function seen(h: Harness, id: string): { dmas: string[]; start: number; end: number } {
  const { dmas, start, end } = h.register.getPlanned(id)!;
  return { dmas, start, end };
}

async function enter(c: Client, body: Record<string, unknown> = ENTRY): Promise<PlannedOutageSaved['outage']> {
  const r = await c.send('POST', '/api/v1/planned-outages', body);
  expect(r.statusCode).toBe(201);
  return (r.json() as PlannedOutageSaved).outage;
}

describe('planned outages: approval before suppression (review F18)', () => {
  it('F18 an entry by customer service is pending: listed, but it suppresses nothing, classes nothing and is not public until a dispatcher approves it', async () => {
    const h = await start();
    const service = await Client.signIn(h.app, 'service');
    const dispatcher = await Client.signIn(h.app, 'dispatcher');
    const outage = await enter(service);
    expect(outage).toMatchObject({ status: 'pending', changedBy: 'service' });
    expect(outage.approvedBy).toBeUndefined();
    expect((await dispatcher.get('/api/v1/planned-outages')).json()).toEqual([expect.objectContaining({ id: outage.id, status: 'pending' })]);

    // nothing suppressed: the dispatchers hear the low pressure; the outage detector finds no planned outage there
    expect(h.alarms.suppressions()).toEqual([]);
    expect(lowPressureInNorth(h, 1)).toBe(false);
    expect(h.register.findPlanned('north', WINDOW.start + HOUR)).toBeUndefined();
    expect((await h.app.inject('/api/v1/public/outages')).json().planned).toEqual([]);

    const approved = await dispatcher.send('POST', `/api/v1/planned-outages/${outage.id}/approve`, seen(h, outage.id));
    expect(approved.statusCode).toBe(200);
    expect((approved.json() as PlannedOutageSaved).outage).toMatchObject({ status: 'approved', approvedBy: 'dispatcher', changedBy: 'service' });
    expect(h.alarms.suppressions()).toEqual([expect.objectContaining({ dma: 'north', from: WINDOW.start, to: WINDOW.end, types: ['pressure*', 'outage_warning'] })]);
    expect(lowPressureInNorth(h, 2)).toBe(true);
    expect(h.register.findPlanned('north', WINDOW.start + HOUR)?.id).toBe(outage.id);
    expect((await h.app.inject('/api/v1/public/outages')).json().planned).toHaveLength(1);
    expect(h.dash.ctx.audit.list({ action: 'outages.approvePlanned' })).toMatchObject([
      { username: 'dispatcher', target: outage.id, details: { status: 'approved', dmas: ['north'], start: WINDOW.start, end: WINDOW.end } },
    ]);
    // once is enough
    expect((await dispatcher.send('POST', `/api/v1/planned-outages/${outage.id}/approve`, seen(h, outage.id))).json()).toMatchObject({ error: { code: 'conflict' } });
  });

  it('F18 customer service cannot approve (403), nor can whoever made the pending change unless admin; a dispatcher\'s entry is approved as made', async () => {
    const h = await start();
    const service = await Client.signIn(h.app, 'service');
    const admin = await Client.signIn(h.app, 'admin');
    const dispatcher = await Client.signIn(h.app, 'dispatcher');
    const pending = await enter(service);
    const refused = await service.send('POST', `/api/v1/planned-outages/${pending.id}/approve`, seen(h, pending.id));
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: { code: 'forbidden' } });
    expect(h.register.getPlanned(pending.id)!.status).toBe('pending');
    expect(h.alarms.suppressions()).toEqual([]);

    // the author promoted to dispatcher still may not approve their own change: another person must
    expect((await admin.send('PATCH', '/api/v1/users/service', { role: 'dispatcher' })).statusCode).toBe(200);
    const promoted = await Client.signIn(h.app, 'service');
    const own = await promoted.send('POST', `/api/v1/planned-outages/${pending.id}/approve`, seen(h, pending.id));
    expect(own.json()).toMatchObject({ error: { code: 'forbidden', message: expect.stringContaining('another dispatcher approves it') } });
    expect((await admin.send('POST', `/api/v1/planned-outages/${pending.id}/approve`, seen(h, pending.id))).statusCode).toBe(200);

    const direct = await enter(dispatcher, { ...ENTRY, dmas: ['south'] });
    expect(direct).toMatchObject({ status: 'approved', approvedBy: 'dispatcher', changedBy: 'dispatcher' });
    expect(h.alarms.isSuppressed('south', WINDOW.start + HOUR, 'pressure_low')).toBe(true);
  });

  it('F18 editing an approved entry\'s window or areas sends it back to pending; other fields keep the approval; a dispatcher\'s re-timing is approved at once', async () => {
    const h = await start();
    const service = await Client.signIn(h.app, 'service');
    const dispatcher = await Client.signIn(h.app, 'dispatcher');
    const outage = await enter(dispatcher);
    expect(lowPressureInNorth(h, 1)).toBe(true);

    // customer service's wording change keeps it approved and suppressing
    const reworded = (await service.send('PUT', `/api/v1/planned-outages/${outage.id}`, { reason: '更换 DN300 阀门', publicReason: 'valve_works' })).json() as PlannedOutageSaved;
    expect(reworded.outage).toMatchObject({ status: 'approved', approvedBy: 'dispatcher', publicReason: 'valve_works' });
    expect(h.alarms.isSuppressed('north', WINDOW.start + HOUR, 'pressure_low')).toBe(true);

    // stretched by customer service: pending, and nothing suppressed any more (the old window neither)
    const stretched = (await service.send('PUT', `/api/v1/planned-outages/${outage.id}`, { end: WINDOW.end + 2 * HOUR })).json() as PlannedOutageSaved;
    expect(stretched.outage).toMatchObject({ status: 'pending', changedBy: 'service', end: WINDOW.end + 2 * HOUR });
    expect(stretched.outage.approvedBy).toBeUndefined();
    expect(ahead(h)).toEqual([]);
    expect(lowPressureInNorth(h, 2)).toBe(false);
    // the approval names the window the dispatcher saw: the one before the stretch is not approved unseen
    const stale = await dispatcher.send('POST', `/api/v1/planned-outages/${outage.id}/approve`, { dmas: ['north'], ...WINDOW });
    expect(stale.json()).toMatchObject({ error: { code: 'conflict', field: 'body', message: expect.stringContaining('was changed since') } });
    expect(ahead(h)).toEqual([]);
    // so are areas
    await dispatcher.send('POST', `/api/v1/planned-outages/${outage.id}/approve`, seen(h, outage.id));
    expect(h.alarms.isSuppressed('north', WINDOW.end + HOUR, 'pressure_low')).toBe(true);
    expect((await service.send('PUT', `/api/v1/planned-outages/${outage.id}`, { dmas: ['north', 'south'] })).json().outage.status).toBe('pending');
    expect(ahead(h)).toEqual([]);

    // a dispatcher's own re-timing carries their authority: approved by them, suppressing the new window
    const retimed = (await dispatcher.send('PUT', `/api/v1/planned-outages/${outage.id}`, { start: WINDOW.start + HOUR })).json() as PlannedOutageSaved;
    expect(retimed.outage).toMatchObject({ status: 'approved', approvedBy: 'dispatcher', changedBy: 'dispatcher' });
    expect(ahead(h)).toEqual([['north', WINDOW.start + HOUR, WINDOW.end + 2 * HOUR], ['south', WINDOW.start + HOUR, WINDOW.end + 2 * HOUR]]);
  });

  it('F18 the public page and feed show the chosen template, never the free text; a pending entry is not shown; its customer notice waits for the approval', async () => {
    const h = await start();
    const service = await Client.signIn(h.app, 'service');
    const dispatcher = await Client.signIn(h.app, 'dispatcher');
    h.alarms.advanceTo(T0);
    const approved = await enter(dispatcher);
    const pending = await enter(service, { ...ENTRY, dmas: ['south'], reason: 'pending: 南区 secret works' });
    const publicBodies = async () => [(await h.app.inject('/outages')).body, (await h.app.inject('/api/v1/public/outages')).body];
    for (const body of await publicBodies()) {
      expect(body).not.toContain('400-123-4567');
      expect(body).not.toContain('example.invalid');
      expect(body).not.toContain('更换阀门');
      expect(body).not.toContain('secret works');
      expect(body).not.toContain('南区 South');
    }
    // no template chosen: the neutral one
    expect((await publicBodies())[0]).toContain('计划施工 <small>Planned works</small>');

    expect((await dispatcher.send('PUT', `/api/v1/planned-outages/${approved.id}`, { publicReason: 'valve_works' })).statusCode).toBe(200);
    const [page, feed] = await publicBodies();
    expect(page).toContain('北区 North');
    expect(page).toContain('阀门检修 <small>Valve works</small>');
    expect(page).not.toContain('更换阀门');
    expect(JSON.parse(feed).planned).toEqual([{
      dmaNames: ['北区 North'], start: WINDOW.start, end: WINDOW.end, cause: 'maintenance', publicReason: 'valve_works',
      reasonText: { 'zh-CN': '阀门检修', en: 'Valve works' },
    }]);
    // the staff still read the free text
    expect((await dispatcher.get('/api/v1/planned-outages')).json()).toEqual(expect.arrayContaining([expect.objectContaining({ id: approved.id, reason: ENTRY.reason })]));
    // a template outside the list is refused
    expect((await dispatcher.send('POST', '/api/v1/planned-outages', { ...ENTRY, publicReason: 'see our website' })).statusCode).toBe(400);

    // the pending entry is not announced to its customers either
    const draft = (await service.send('POST', '/api/v1/notices', { plannedOutageId: pending.id })).json() as { id: string };
    expect((await dispatcher.send('POST', `/api/v1/notices/${draft.id}/approve`)).json())
      .toMatchObject({ error: { code: 'conflict', message: expect.stringContaining('waits for a dispatcher\'s approval') } });
  });
});
