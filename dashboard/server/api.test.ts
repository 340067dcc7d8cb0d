/** The dashboard API on a real fastify app and a real SQLite state database. */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { parseConfig } from '../../core/config/load.ts';
import { ENDPOINTS } from '../contract/index.ts';
import { Client, password, startHarness, T0, type Harness } from '../../test/support/dashboard.ts';
import { WEB_BUILD_STAMP } from '../web/build.ts';

const harnesses: Harness[] = [];
afterEach(async () => { for (const h of harnesses.splice(0)) await h.close(); });
const start = async (...a: Parameters<typeof startHarness>) => { const h = await startHarness(...a); harnesses.push(h); return h; };

const HOUR = 3_600_000;

function raiseBurst(h: Harness, dma = 'north', flow = 36, estimatedStart = T0 - 30 * 60_000) {
  h.alarms.onCondition({
    id: `burst:${dma}`, type: 'burst', state: 'raise', ts: T0, priority: 'high', dma,
    message: `Possible burst in DMA ${dma}`, evidence: { burstFlowM3h: flow, estimatedStart, locationHint: 'P-N1' },
  });
  return h.alarms.openAlarms().find((a) => a.type === 'burst' && a.dma === dma)!;
}

describe('sign-in and sessions', () => {
  it('signs in with the right password, sets a strict http-only cookie, and answers /auth/me', async () => {
    const h = await start();
    const anon = await h.app.inject({ method: 'GET', url: '/api/v1/auth/me' });
    expect(anon.statusCode).toBe(401);
    expect(anon.json()).toMatchObject({ error: { code: 'unauthorized' } });

    const r = await h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'dispatcher', password: password('dispatcher') } });
    expect(r.statusCode).toBe(200);
    const cookie = String(r.headers['set-cookie']);
    expect(cookie).toMatch(/^aw_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/');
    // demo mode, plain http on loopback: no Secure (the browser would drop the cookie)
    expect(cookie).not.toContain('Secure');
    const body = r.json() as { user: { username: string; role: string; permissions: string[] }; csrfToken: string };
    expect(body.user).toMatchObject({ username: 'dispatcher', role: 'dispatcher' });
    expect(body.user.permissions).toEqual(expect.arrayContaining(['alarms.ack', 'alarms.shelve']));
    expect(body.user.permissions).not.toContain('users.manage');

    const me = await h.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: cookie.split(';')[0] } });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual({ user: body.user, csrfToken: body.csrfToken });

    const c = Object.assign(new Client(h.app), { cookie: cookie.split(';')[0], csrf: body.csrfToken });
    expect((await c.send('POST', '/api/v1/auth/logout')).json()).toEqual({ ok: true });
    expect((await c.get('/api/v1/auth/me')).statusCode).toBe(401);
  });

  it('sets Secure on the cookie in production mode', async () => {
    const h = await start({ config: { mode: 'production', auth: { admin: { username: 'root', password: 'correct horse battery' } } } });
    const r = await h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'root', password: 'correct horse battery' } });
    expect(r.statusCode).toBe(200);
    expect(String(r.headers['set-cookie'])).toContain('Secure');
  });

  it('refuses a wrong password with 401 and rate-limits after 5 failures per username and address', async () => {
    const h = await start();
    const c = new Client(h.app);
    for (let i = 0; i < 5; i++) {
      const r = await c.login('viewer', 'wrong password!');
      expect(r.statusCode).toBe(401);
      expect(r.json()).toMatchObject({ error: { code: 'bad_credentials' } });
    }
    const limited = await c.login('viewer', password('viewer'));
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ error: { code: 'rate_limited' } });
    expect(limited.headers['retry-after']).toBeDefined();
    // another user from the same address is not locked out
    expect((await c.login('dispatcher', password('dispatcher'))).statusCode).toBe(200);
    // unknown users fail like wrong passwords
    expect((await c.login('nobody', 'whatever it is')).statusCode).toBe(401);
  });

  it('logs a failed sign-in with a short hash of the typed username, never the name itself (review L2)', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => { lines.push(line); } });
    const h = await start({ log });
    // a password typed into the username field is what the log must not keep
    const typed = 'Tr0ub4dor&3-secret';
    expect((await new Client(h.app).login(typed, 'wrong password!')).statusCode).toBe(401);
    const failed = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'dashboard sign-in failed');
    expect(failed).toBeDefined();
    expect(JSON.stringify(failed)).not.toContain(typed);
    expect(failed!.usernameHash).toMatch(/^[0-9a-f]{12}$/);
    // the same name gives the same hash, so repeated failures for one account can still be told apart
    await new Client(h.app).login(typed, 'wrong password!');
    const hashes = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'dashboard sign-in failed').map((l) => l.usernameHash);
    expect(hashes).toEqual([failed!.usernameHash, failed!.usernameHash]);
  });

  it('lists the demo users in demo mode only', async () => {
    const demo = await start();
    const info = (await demo.app.inject({ method: 'GET', url: '/api/v1/auth/info' })).json() as { mode: string; demoUsers: { username: string; role: string }[] };
    expect(info.mode).toBe('demo');
    expect(info.demoUsers.map((u) => u.role).sort()).toEqual(['admin', 'customer_service', 'dispatcher', 'maintenance', 'viewer']);
    const prod = await start({ config: { mode: 'production', auth: { admin: { password: 'correct horse battery' } } } });
    const pinfo = (await prod.app.inject({ method: 'GET', url: '/api/v1/auth/info' })).json() as Record<string, unknown>;
    expect(pinfo.mode).toBe('production');
    expect(pinfo.demoUsers).toBeUndefined();
    expect((await new Client(prod.app).login('viewer', password('viewer'))).statusCode).toBe(401);
    expect((await new Client(prod.app).login('admin', 'correct horse battery')).statusCode).toBe(200);
  });

  it('resolves the topology\'s map file against the config file', () => {
    expect(parseConfig({ topology: { map: 'maps/net.json' } }, '/etc/aquawatch/config.yaml', {}).topology.map).toBe('/etc/aquawatch/maps/net.json');
    expect(parseConfig({ topology: { map: '/srv/net.json' } }, '/etc/aquawatch/config.yaml', {}).topology.map).toBe('/srv/net.json');
  });

  it('production mode refuses to start without a configured admin', () => {
    expect(() => parseConfig({ mode: 'production' }, 'prod.yaml', {})).toThrowError(/auth\.admin: production mode needs a configured administrator/);
    expect(() => parseConfig({ mode: 'production', auth: { admin: { password: 'short' } } }, 'prod.yaml', {})).toThrowError(/auth\.admin\.password: must be at least 12 characters/);
    expect(() => parseConfig({ mode: 'production', auth: { admin: { password: '${AQUAWATCH_ADMIN_PASSWORD}' } } }, 'prod.yaml', {}))
      .toThrowError(/auth\.admin\.password: environment variable AQUAWATCH_ADMIN_PASSWORD is not set/);
  });
});

describe('CSRF and roles', () => {
  it('refuses a state change without or with a wrong CSRF token', async () => {
    const h = await start();
    const alarm = raiseBurst(h);
    const c = await Client.signIn(h.app, 'dispatcher');
    const none = await c.send('POST', `/api/v1/alarms/${encodeURIComponent(alarm.id)}/ack`, {}, null);
    expect(none.statusCode).toBe(403);
    expect(none.json()).toMatchObject({ error: { code: 'csrf' } });
    const wrong = await c.send('POST', `/api/v1/alarms/${encodeURIComponent(alarm.id)}/ack`, {}, 'x'.repeat(43));
    expect(wrong.statusCode).toBe(403);
    // another session's token is not this session's
    const other = await Client.signIn(h.app, 'admin');
    expect((await c.send('POST', `/api/v1/alarms/${encodeURIComponent(alarm.id)}/ack`, {}, other.csrf)).statusCode).toBe(403);
    expect(h.alarms.get(alarm.id)!.state).toBe('active-unacknowledged');
  });

  it('a dispatcher acknowledges and shelves; a viewer may read but not acknowledge', async () => {
    const h = await start();
    const alarm = raiseBurst(h);
    const viewer = await Client.signIn(h.app, 'viewer');
    const list = await viewer.get('/api/v1/alarms');
    expect(list.statusCode).toBe(200);
    expect((list.json() as { id: string }[]).map((a) => a.id)).toContain(alarm.id);
    const refused = await viewer.send('POST', `/api/v1/alarms/${encodeURIComponent(alarm.id)}/ack`, { comment: 'seen' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: { code: 'forbidden' } });
    expect(refused.json().error.message).toContain('alarms.ack');

    const dispatcher = await Client.signIn(h.app, 'dispatcher');
    // no body at all is an empty one
    expect((await dispatcher.send('POST', '/api/v1/alarms/nope/ack')).json()).toEqual({ error: { code: 'not_found', message: 'alarmId: no alarm nope' } });
    const acked = await dispatcher.send('POST', `/api/v1/alarms/${encodeURIComponent(alarm.id)}/ack`, { comment: 'crew informed' });
    expect(acked.statusCode).toBe(200);
    expect(acked.json()).toMatchObject({ state: 'active-acknowledged', ackedBy: 'dispatcher', ackComment: 'crew informed' });
    const again = await dispatcher.send('POST', `/api/v1/alarms/${encodeURIComponent(alarm.id)}/ack`, {});
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('conflict');
    const shelved = await dispatcher.send('POST', `/api/v1/alarms/${encodeURIComponent(alarm.id)}/shelve`, { minutes: 30, reason: 'known works' });
    expect(shelved.statusCode).toBe(200);
    expect(shelved.json().shelved).toMatchObject({ until: T0 + 30 * 60_000, by: 'dispatcher', reason: 'known works' });
    const detail = (await viewer.get(`/api/v1/alarms/${encodeURIComponent(alarm.id)}`)).json() as { history: { kind: string; user: string }[] };
    expect(detail.history.map((e) => [e.kind, e.user])).toEqual([['raise', 'system'], ['acknowledge', 'dispatcher'], ['shelve', 'dispatcher']]);
    expect((await viewer.send('POST', `/api/v1/alarms/${encodeURIComponent(alarm.id)}/unshelve`, {})).statusCode).toBe(403);
    // notification deliveries: none without a notify: section; an unknown alarm is 404
    const deliveries = await viewer.get(`/api/v1/alarms/${encodeURIComponent(alarm.id)}/deliveries`);
    expect([deliveries.statusCode, deliveries.json()]).toEqual([200, []]);
    expect((await viewer.get('/api/v1/alarms/nope/deliveries')).statusCode).toBe(404);
  });

  it('bulk acknowledge reports what failed', async () => {
    const h = await start();
    const a = raiseBurst(h, 'north');
    const b = raiseBurst(h, 'south');
    const c = await Client.signIn(h.app, 'admin');
    const r = await c.send('POST', '/api/v1/alarms/ack', { ids: [a.id, b.id, 'nope'], comment: 'bulk' });
    expect(r.statusCode).toBe(200);
    expect(r.json().acknowledged.sort()).toEqual([a.id, b.id].sort());
    expect(r.json().failed).toEqual([{ id: 'nope', message: 'alarmId: no alarm nope' }]);
  });

  it('caps planned outages: duration, lead time and DMAs, with a 400 naming the field (review F18)', async () => {
    const h = await start({ config: { incidents: { plannedMaxDmas: 1 } } });
    const service = await Client.signIn(h.app, 'service');
    const now = h.dash.ctx.now();
    const ok = { dmas: ['north'], start: now + 2 * HOUR, end: now + 6 * HOUR, notifiedAt: now, cause: 'maintenance', reason: '更换阀门' };
    const refusal = async (body: Record<string, unknown>) => (await service.send('POST', '/api/v1/planned-outages', body)).json().error as { code: string; field: string; message: string };
    // a suppression of the dispatchers' pressure alarms without end: at most 72 h by default
    expect(await refusal({ ...ok, end: ok.start + 73 * HOUR })).toMatchObject({ code: 'validation', field: 'body.end', message: expect.stringContaining('incidents.plannedMaxHours') });
    expect(await refusal({ ...ok, start: now + 31 * 24 * HOUR, end: now + 31 * 24 * HOUR + HOUR })).toMatchObject({ code: 'validation', field: 'body.start', message: expect.stringContaining('incidents.plannedMaxLeadDays') });
    expect(await refusal({ ...ok, dmas: ['north', 'south'] })).toMatchObject({ code: 'validation', field: 'body.dmas', message: expect.stringContaining('incidents.plannedMaxDmas') });
    const created = await service.send('POST', '/api/v1/planned-outages', { ...ok, end: ok.start + 72 * HOUR });
    expect(created.statusCode).toBe(201);
    // a change cannot stretch it past the caps either
    const changed = await service.send('PUT', `/api/v1/planned-outages/${created.json().outage.id}`, { end: ok.start + 100 * HOUR });
    expect(changed.json().error).toMatchObject({ code: 'validation', field: 'body.end' });
  });

  it('customer service enters a planned outage (short notice flagged, Chinese notices); a viewer may not', async () => {
    const h = await start();
    const body = { dmas: ['north'], start: T0 + 2 * HOUR, end: T0 + 6 * HOUR, notifiedAt: T0, cause: 'maintenance', reason: '更换阀门' };
    const viewer = await Client.signIn(h.app, 'viewer');
    expect((await viewer.send('POST', '/api/v1/planned-outages', body)).statusCode).toBe(403);

    const cs = await Client.signIn(h.app, 'service');
    const r = await cs.send('POST', '/api/v1/planned-outages', body);
    expect(r.statusCode).toBe(201);
    const res = r.json() as { outage: { id: string; dmas: string[] }; shortNotice: boolean; notice: { sms: string; web: string; smsSegments: number } };
    expect(res.shortNotice).toBe(true);
    expect(res.outage.dmas).toEqual(['north']);
    // 02:00Z + 2 h and + 6 h = 12:00 and 16:00 in Asia/Shanghai
    expect(res.notice.sms).toBe('【示例水务 Example Water】因管网维护，北区 North将于11月30日12:00至16:00停水，请提前储水。');
    expect([...res.notice.sms].length).toBeLessThanOrEqual(70);
    expect(res.notice.smsSegments).toBe(1);
    expect(res.notice.web).toContain('管网维护（更换阀门）');
    expect(res.notice.web).toContain('预计停水约4小时');

    // 48 h notice: not short; editing moves the flag
    const edited = await cs.send('PUT', `/api/v1/planned-outages/${res.outage.id}`, { notifiedAt: T0 - 48 * HOUR });
    expect(edited.statusCode).toBe(200);
    expect(edited.json().shortNotice).toBe(false);
    const listed = (await viewer.get(`/api/v1/planned-outages?from=${T0}`)).json() as { id: string; shortNotice: boolean }[];
    expect(listed).toEqual([expect.objectContaining({ id: res.outage.id, shortNotice: false, status: 'pending' })]);
    // once a dispatcher approved it (review F18), its area's pressure alarms are suppressed for the window
    expect(h.alarms.suppressions()).toEqual([]);
    const dispatcher = await Client.signIn(h.app, 'dispatcher');
    expect((await dispatcher.send('POST', `/api/v1/planned-outages/${res.outage.id}/approve`, { dmas: ['north'], start: body.start, end: body.end })).statusCode).toBe(200);
    expect(h.alarms.suppressions()).toEqual([expect.objectContaining({ dma: 'north', from: T0 + 2 * HOUR, to: T0 + 6 * HOUR, types: ['pressure*', 'outage_warning'] })]);
    expect(h.alarms.isSuppressed('north', T0 + 3 * HOUR, 'pressure_low')).toBe(true);
    expect(h.alarms.isSuppressed('north', T0 + 3 * HOUR, 'quality_chlorine')).toBe(false);

    expect((await cs.send('DELETE', `/api/v1/planned-outages/${res.outage.id}`)).json()).toEqual({ ok: true });
    expect(h.alarms.isSuppressed('north', T0 + 3 * HOUR, 'pressure_low')).toBe(false);
    expect((await cs.send('DELETE', `/api/v1/planned-outages/${res.outage.id}`)).statusCode).toBe(404);
  });

  it('a burst alarm creates a work order; maintenance updates it; a viewer may not', async () => {
    const h = await start();
    const alarm = raiseBurst(h, 'north', 36, T0 - 30 * 60_000);
    const viewer = await Client.signIn(h.app, 'viewer');
    const list = (await viewer.get('/api/v1/work-orders')).json() as { id: string; alarmId: string; status: string; dma: string; locationHint: string; estimatedLossM3: number }[];
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ alarmId: alarm.id, status: 'new', dma: 'north', locationHint: 'P-N1', burstFlowM3h: 36 });
    expect(list[0].estimatedLossM3).toBe(18); // 36 m³/h × 0.5 h, at the manager's event time
    h.alarms.advanceTo(T0 + 30 * 60_000);
    expect(((await viewer.get('/api/v1/work-orders')).json() as { estimatedLossM3: number }[])[0].estimatedLossM3).toBe(36);

    expect((await viewer.send('PATCH', `/api/v1/work-orders/${list[0].id}`, { crew: 'Crew 3' })).statusCode).toBe(403);
    const m = await Client.signIn(h.app, 'maintenance');
    const assigned = await m.send('PATCH', `/api/v1/work-orders/${list[0].id}`, { crew: 'Crew 3', note: '出发 on our way' });
    expect(assigned.statusCode).toBe(200);
    expect(assigned.json()).toMatchObject({ crew: 'Crew 3', status: 'assigned', notes: [{ by: 'maintenance', text: '出发 on our way' }] });
    const resolved = await m.send('PATCH', `/api/v1/work-orders/${list[0].id}`, { status: 'resolved' });
    expect(resolved.json()).toMatchObject({ status: 'resolved', resolvedAt: T0 + 30 * 60_000, estimatedLossM3: 36 });
    h.alarms.advanceTo(T0 + 2 * HOUR);
    expect(((await m.get('/api/v1/work-orders?status=resolved')).json() as { estimatedLossM3: number }[])[0].estimatedLossM3).toBe(36);
    // one per alarm
    const dup = await m.send('POST', '/api/v1/work-orders', { alarmId: alarm.id });
    expect(dup.statusCode).toBe(409);
  });

  it('only an admin manages users and device tokens', async () => {
    const h = await start();
    const d = await Client.signIn(h.app, 'dispatcher');
    expect((await d.get('/api/v1/users')).statusCode).toBe(403);
    expect((await d.send('POST', '/api/v1/users', { username: 'op2', role: 'dispatcher', password: 'a long password' })).statusCode).toBe(403);
    expect((await d.send('POST', '/api/v1/device-tokens', { device: 'pda-9' })).statusCode).toBe(403);

    const admin = await Client.signIn(h.app, 'admin');
    const created = await admin.send('POST', '/api/v1/users', { username: 'op2', displayName: '王工', role: 'dispatcher', password: 'a long password' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ username: 'op2', displayName: '王工', role: 'dispatcher', disabled: false });
    expect(JSON.stringify((await admin.get('/api/v1/users')).json())).not.toMatch(/scrypt|password/);
    const op2 = await Client.signIn(h.app, 'op2', 'a long password');
    expect((await admin.send('PATCH', '/api/v1/users/op2', { disabled: true })).json()).toMatchObject({ disabled: true });
    expect((await op2.get('/api/v1/auth/me')).statusCode).toBe(401);
    expect((await new Client(h.app).login('op2', 'a long password')).statusCode).toBe(401);
    // the last admin cannot be demoted
    expect((await admin.send('PATCH', '/api/v1/users/admin', { role: 'viewer' })).statusCode).toBe(409);
    // L1: a common or guessable new password is refused, naming the rule the dashboard translates
    const common = await admin.send('POST', '/api/v1/users', { username: 'op3', role: 'viewer', password: 'Summer2026!!!' });
    expect(common.statusCode).toBe(400);
    expect(common.json()).toEqual({ error: { code: 'validation', field: 'password', rule: 'common',
      message: 'password: refused by the password rule common: a commonly used password, or one with digits or symbols added' } });
    expect((await admin.send('PATCH', '/api/v1/users/op2', { password: 'op2-Aquawatch-2026' })).json().error).toMatchObject({ rule: 'context' });
    expect((await admin.send('PATCH', '/api/v1/users/op2', { password: 'river-lamp-orbit-42' })).statusCode).toBe(200);

    const token = await admin.send('POST', '/api/v1/device-tokens', { device: 'pda-9', note: 'route 9' });
    expect(token.statusCode).toBe(201);
    expect(token.json().token).toMatch(/^[A-Za-z0-9_-]{32,}$/);
    expect((await admin.get('/api/v1/device-tokens')).json()).toEqual([expect.objectContaining({ deviceId: 'pda-9', note: 'route 9' })]);
    expect((await admin.send('DELETE', '/api/v1/device-tokens/pda-9')).json()).toEqual({ ok: true });
    expect((await admin.send('DELETE', '/api/v1/device-tokens/pda-9')).statusCode).toBe(404);
  });
});

describe('error codes', () => {
  it('maps each domain refusal by its code: not found 404, conflict 409, invalid 400, with the field', async () => {
    const h = await start();
    const c = await Client.signIn(h.app, 'admin');
    const missing = await c.send('PUT', '/api/v1/planned-outages/nope', { reason: 'x' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: { code: 'not_found', message: 'id: no planned outage nope', field: 'id' } });
    const user = { username: 'crew1', role: 'maintenance', password: 'a long enough password' };
    expect((await c.send('POST', '/api/v1/users', user)).statusCode).toBe(201);
    const twice = await c.send('POST', '/api/v1/users', user);
    expect(twice.statusCode).toBe(409);
    expect(twice.json()).toEqual({ error: { code: 'conflict', message: 'username: crew1 already exists', field: 'username' } });
    const backwards = await c.send('POST', '/api/v1/planned-outages', { dmas: ['north'], start: T0 + HOUR, end: T0, cause: 'maintenance', reason: 'x' });
    expect(backwards.statusCode).toBe(400);
    expect(backwards.json().error).toMatchObject({ code: 'validation', field: 'end' });
    const noWorkOrder = await c.send('PATCH', '/api/v1/work-orders/nope', { crew: 'A' });
    expect(noWorkOrder.statusCode).toBe(404);
    expect(noWorkOrder.json().error).toMatchObject({ code: 'not_found', field: 'id' });
  });
});

describe('schemas', () => {
  it('refuses unknown and missing fields, naming them', async () => {
    const h = await start();
    const c = await Client.signIn(h.app, 'admin');
    const extra = await c.send('POST', '/api/v1/planned-outages', { dmas: ['north'], start: T0, end: T0 + HOUR, cause: 'maintenance', reason: 'x', colour: 'red' });
    expect(extra.statusCode).toBe(400);
    expect(extra.json()).toEqual({ error: { code: 'validation', message: 'body.colour: unknown field', field: 'body.colour' } });
    const missing = await c.send('POST', '/api/v1/planned-outages', { dmas: ['north'], start: T0, end: T0 + HOUR, reason: 'x' });
    expect(missing.json().error.message).toBe('body.cause: required');
    const badItem = await c.send('POST', '/api/v1/planned-outages', { dmas: [''], start: T0, end: T0 + HOUR, cause: 'maintenance', reason: 'x' });
    expect(badItem.json().error.message).toMatch(/^body\.dmas\[0\]: /);
    const unknownDma = await c.send('POST', '/api/v1/planned-outages', { dmas: ['mars'], start: T0, end: T0 + HOUR, cause: 'maintenance', reason: 'x' });
    expect(unknownDma.json()).toEqual({ error: { code: 'validation', message: 'dmas[0]: unknown DMA mars', field: 'dmas[0]' } });
    const q = await c.get('/api/v1/alarms?nonsense=1');
    expect(q.statusCode).toBe(400);
    expect(q.json().error.message).toBe('querystring.nonsense: unknown field');
    expect((await c.get('/api/v1/alarms?limit=5000')).json().error.message).toMatch(/^querystring\.limit: must be <= 1000/);
    expect((await c.send('POST', '/api/v1/users', { username: 'x1', role: 'viewer', password: 'short' })).json().error.message).toMatch(/^body\.password: /);
  });

  it('serves the OpenAPI document at /docs: exactly the contract\'s routes, each with its answer schema', async () => {
    const h = await start();
    type Operation = { responses: Record<string, { content?: Record<string, { schema?: object }> }> };
    const doc = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json() as { openapi: string; paths: Record<string, Record<string, Operation>> };
    expect(doc.openapi).toMatch(/^3\./);
    const documented = Object.entries(doc.paths).filter(([p]) => p.startsWith('/api/v1/'))
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).sort();
    const contract = ENDPOINTS.map((e) => `${e.method} /api/v1${e.url.replace(/:(\w+)/g, '{$1}')}`).sort();
    expect(documented).toEqual(contract);
    for (const e of ENDPOINTS) {
      const op = doc.paths[`/api/v1${e.url.replace(/:(\w+)/g, '{$1}')}`][e.method.toLowerCase()];
      const answer = op.responses[String(e.status ?? 200)]?.content?.[e.contentType ?? 'application/json']?.schema;
      expect(answer, `${e.method} ${e.url}`).toBeDefined();
      expect(op.responses['4XX']?.content?.['application/json']?.schema, `${e.method} ${e.url} error body`).toBeDefined();
    }
    expect(JSON.stringify(doc.paths['/api/v1/planned-outages'])).toContain('"additionalProperties":false');
    const ui = await h.app.inject({ method: 'GET', url: '/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain('swagger-ui');
  });
});

describe('areas, outages, public page', () => {
  it('derives area states, current outages and the KPI tiles from alarms and incidents', async () => {
    const h = await start();
    const viewer = await Client.signIn(h.app, 'viewer');
    expect(((await viewer.get('/api/v1/dmas/state')).json() as { state: string }[]).map((s) => s.state)).toEqual(['normal', 'normal']);
    h.register.recordIncident({ id: `south:${T0}`, dma: 'south', start: T0, customersAffected: 800, planned: false, cause: 'unknown' });
    h.alarms.onCondition({ id: 'outage:south', type: 'outage', state: 'raise', ts: T0 + 60_000, priority: 'high', dma: 'south', message: 'no water', evidence: { cause: 'unknown' } });
    h.alarms.onCondition({ id: 'pressure_low:P-N1', type: 'pressure_low', state: 'raise', ts: T0 + 60_000, priority: 'medium', dma: 'north', sensor: 'P-N1', message: 'low' });
    h.alarms.onCondition({ id: 'quality_chlorine:CL-N', type: 'quality_chlorine', state: 'raise', ts: T0 + 60_000, priority: 'high', dma: 'north', sensor: 'CL-N', message: 'low chlorine' });
    const states = (await viewer.get('/api/v1/dmas/state')).json();
    expect(states).toEqual([
      { dma: 'north', name: '北区 North', state: 'low_pressure', openAlarms: 2, customers: 1200, customersAffected: 1200, since: T0 + 60_000 },
      { dma: 'south', name: '南区 South', state: 'outage', openAlarms: 1, customers: 800, customersAffected: 800, since: T0 },
    ]);
    const current = (await viewer.get('/api/v1/outages/current')).json();
    expect(current).toEqual([
      expect.objectContaining({ dma: 'south', kind: 'outage', since: T0, planned: false, cause: 'unknown', customersAffected: 800 }),
      expect.objectContaining({ dma: 'north', kind: 'low_pressure', customersAffected: 1200 }),
    ]);
    await h.store.write([{ measurement: 'flow', sensor: 'PLANT.flow', site: 'plant', dma: '', ts: T0, value: 412.5, quality: 'good' }]);
    const kpis = (await viewer.get('/api/v1/kpis/summary')).json();
    expect(kpis).toEqual({
      alarmsByPriority: { low: 0, medium: 1, high: 2, critical: 0 }, areasWithoutWater: 1, customersWithoutWater: 800,
      totalInflowM3h: 412.5, qualityCompliancePct: 0,
    });
    // the lookup names customers: customer service's, not the viewer's (review L5)
    expect((await viewer.get(`/api/v1/lookup?q=${encodeURIComponent('南湖')}`)).statusCode).toBe(403);
    const service = await Client.signIn(h.app, 'service');
    const lookup = (await service.get(`/api/v1/lookup?q=${encodeURIComponent('南湖')}`)).json();
    expect(lookup).toEqual([{ meter: 'M-2002', customer: 'ACC-112233', address: '南湖路 8 号 8 Nanhu Rd', dma: 'south', dmaName: '南区 South', dmaState: 'outage' }]);
    expect((await service.get('/api/v1/lookup?q=ACC-7788')).json()).toHaveLength(1);
    expect((await service.get('/api/v1/lookup?q=x')).statusCode).toBe(400);

    // the public feed (review L8): a detection is published once an operator acknowledged its alarm or
    // after incidents.publicDelayMinutes (30), not at once
    const publicFeed = async () => (await h.app.inject({ method: 'GET', url: '/api/v1/public/outages' })).json() as { current: { dmaName: string }[] };
    expect((await publicFeed()).current).toEqual([]);
    const dispatcher = await Client.signIn(h.app, 'dispatcher');
    const southAlarm = h.alarms.openAlarms().find((a) => a.dma === 'south' && a.type === 'outage')!;
    expect((await dispatcher.send('POST', `/api/v1/alarms/${encodeURIComponent(southAlarm.id)}/ack`, { comment: 'confirmed by phone' })).statusCode).toBe(200);
    expect((await publicFeed()).current.map((o) => o.dmaName)).toEqual(['南区 South']);
    h.alarms.advanceTo(T0 + 60_000 + 30 * 60_000);

    // the public page: no sign-in, area names and times, no customer data
    const page = await h.app.inject({ method: 'GET', url: '/outages' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('南区 South');
    expect(page.body).toContain('停水');
    for (const secret of ['ACC-', 'M-2002', '800', '人民路', 'customers']) expect(page.body).not.toContain(secret);
    const feed = await h.app.inject({ method: 'GET', url: '/api/v1/public/outages' });
    expect(feed.statusCode).toBe(200);
    expect(feed.json().current).toEqual([expect.objectContaining({ dmaName: '南区 South', kind: 'outage', since: T0 }), expect.objectContaining({ dmaName: '北区 North', kind: 'low_pressure' })]);
    expect(feed.body).not.toMatch(/customers|ACC-|800/);
  });

  it('serves the map in the network\'s coordinates and the sensor catalogue', async () => {
    const h = await start();
    const v = await Client.signIn(h.app, 'viewer');
    const map = (await v.get('/api/v1/map')).json();
    expect(map.links).toEqual([{ dma: 'north', points: [[0, 0], [5, 15], [12, 22]] }, { points: [[5, 15], [25, 8]] }]);
    expect(map.bounds).toEqual({ minX: 0, minY: 0, maxX: 30, maxY: 25 });
    expect(map.dmas[0]).toEqual({ id: 'north', name: '北区 North', x: 10, y: 20, customers: 1200 });
    expect(map.sensors.find((s: { id: string }) => s.id === 'P-N1')).toMatchObject({ kind: 'pressure', unit: 'MPa', dma: 'north', x: 12, y: 22, thresholds: { low: 0.14 } });
    expect(map.sensors.map((s: { id: string }) => s.id)).not.toContain('M-1001');
    await h.store.write([{ measurement: 'pressure', sensor: 'P-N1', site: 'net', dma: 'north', ts: T0, value: 0.31, quality: 'good' }]);
    const sensors = (await v.get('/api/v1/sensors')).json() as { id: string; latest?: { value: number }; health: { state: string } }[];
    expect(sensors.find((s) => s.id === 'P-N1')).toMatchObject({ latest: { ts: T0, value: 0.31, quality: 'good' }, health: { state: 'ok' } });
    expect(sensors.find((s) => s.id === 'CL-N')!.health.state).toBe('offline');
  });

  it('reports KPIs for a period as JSON and CSV', async () => {
    const h = await start();
    h.register.recordIncident({ id: `south:${T0}`, dma: 'south', start: T0, end: T0 + HOUR, customersAffected: 800, planned: false, cause: 'repair' });
    const v = await Client.signIn(h.app, 'viewer');
    const r = await v.get(`/api/v1/kpis?from=${T0 - HOUR}&to=${T0 + 2 * HOUR}&exclude=none`);
    expect(r.statusCode).toBe(200);
    expect(r.json().outages.incidents).toHaveLength(1);
    const csv = await v.get(`/api/v1/kpis.csv?from=${T0 - HOUR}&to=${T0 + 2 * HOUR}`);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.body.startsWith('\uFEFFsection,area,item,metric,value,unit')).toBe(true);
    expect((await v.get(`/api/v1/kpis?from=${T0}`)).json().error.message).toBe('querystring.to: required with from');
    expect((await v.get(`/api/v1/kpis?from=${T0}&to=${T0 + HOUR}&exclude=weather`)).json().error.message).toMatch(/^querystring\.exclude: unknown cause code\(s\) weather/);
  });
});

describe('web app, headers, late analytics', () => {
  it('answers / with a 503 page saying how to build when the web app is missing; serves it with SPA fallback once built', async () => {
    const h = await start();
    const missing = await h.app.inject({ method: 'GET', url: '/' });
    expect(missing.statusCode).toBe(503);
    expect(missing.body).toContain('npm run build:web');
    const dist = join(h.dir, 'no-dist');
    mkdirSync(join(dist, 'assets'), { recursive: true });
    writeFileSync(join(dist, 'index.html'), '<!doctype html><div id="app"></div><script type="module" src="/assets/app-1.js"></script>');
    writeFileSync(join(dist, 'assets', 'app-1.js'), 'console.log(1)');
    // files without the build's list of what it wrote (its stamp) are not served
    expect((await h.app.inject({ method: 'GET', url: '/' })).statusCode).toBe(503);
    writeFileSync(join(dist, WEB_BUILD_STAMP), JSON.stringify({ builtAt: new Date(T0).toISOString(), files: ['assets/app-1.js', 'index.html'] }));
    const index = await h.app.inject({ method: 'GET', url: '/' });
    expect(index.statusCode).toBe(200);
    expect(index.body).toContain('id="app"');
    const spa = await h.app.inject({ method: 'GET', url: '/alarms?filter=high' });
    expect(spa.statusCode).toBe(200);
    expect(spa.body).toContain('id="app"');
    const asset = await h.app.inject({ method: 'GET', url: '/assets/app-1.js' });
    expect(asset.body).toBe('console.log(1)');
    expect(asset.headers['cache-control']).toContain('immutable');
    expect((await h.app.inject({ method: 'GET', url: '/assets/../../config.yaml' })).statusCode).toBe(404);
    const api404 = await h.app.inject({ method: 'GET', url: '/api/v1/nothing-here' });
    expect(api404.statusCode).toBe(401); // not signed in comes first
    const c = await Client.signIn(h.app, 'viewer');
    expect((await c.get('/api/v1/nothing-here')).json()).toEqual({ error: { code: 'not_found', message: 'no route GET /api/v1/nothing-here' } });
  });

  it('sends security headers with a CSP that allows only the app\'s own scripts', async () => {
    const h = await start();
    const r = await h.app.inject({ method: 'GET', url: '/api/v1/auth/info' });
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['x-frame-options']).toBe('SAMEORIGIN');
  });

  it('tells every signed-in role whether the analysis keeps up: ok, then behind live in codes and figures (the app words them)', async () => {
    const h = await start();
    const v = await Client.signIn(h.app, 'viewer');
    expect((await h.app.inject({ method: 'GET', url: '/api/v1/analysis/status' })).statusCode).toBe(401);
    expect((await v.get('/api/v1/analysis/status')).json()).toEqual({ status: 'ok', busConnected: false, analysedUpTo: T0, behindSeconds: 0, problems: [] });
    // the wall clock 40 min past the watermark: more than its waiting rules hold it (13 min)
    h.analysisClock.wall = T0 + 40 * 60_000;
    expect((await v.get('/api/v1/analysis/status')).json()).toEqual({
      status: 'degraded', busConnected: false, analysedUpTo: T0, behindSeconds: 2400, problems: [{ code: 'behind', minutes: 40, maxMinutes: 13 }],
    });
  });

  it('without analytics in the process: alarm and outage routes answer 503 unavailable, areas read normal', async () => {
    const h = await start({ analytics: false });
    const c = await Client.signIn(h.app, 'dispatcher');
    expect((await c.get('/api/v1/analysis/status')).json()).toEqual({ status: 'not_running', busConnected: false, analysedUpTo: null, behindSeconds: null, problems: [] });
    const alarms = await c.get('/api/v1/alarms');
    expect(alarms.statusCode).toBe(503);
    expect(alarms.json()).toMatchObject({ error: { code: 'unavailable' } });
    expect(((await c.get('/api/v1/dmas/state')).json() as { state: string }[]).every((s) => s.state === 'normal')).toBe(true);
    const r = await c.send('POST', '/api/v1/planned-outages', { dmas: ['south'], start: Date.now() + 48 * HOUR, end: Date.now() + 50 * HOUR, cause: 'retrofit', reason: '管网改造' });
    expect(r.statusCode).toBe(503);
  });
});

// A caller who is not signed in is refused before the request's body is read or parsed (review F12).
describe('authentication before the body', () => {
  it('answers 401 to a caller without a session, without parsing what it sent', async () => {
    const h = await start();
    const post = (payload: string) => h.app.inject({ method: 'POST', url: '/api/v1/alarms/ack', headers: { 'content-type': 'application/json' }, payload });
    for (const res of [await post('{not json'), await post(JSON.stringify({ ids: ['x'.repeat(2 * 1024 * 1024)] }))]) {
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ error: { code: 'unauthorized' } });
    }
    // signed in, the same bad body is the body's problem
    const login = await h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'admin', password: password('admin') } });
    expect(login.statusCode).toBe(200);
    const { csrfToken } = login.json() as { csrfToken: string };
    const cookie = String(login.headers['set-cookie']).split(';')[0];
    const bad = await h.app.inject({ method: 'POST', url: '/api/v1/alarms/ack', headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken }, payload: '{not json' });
    expect(bad.statusCode).toBe(400);
  });
});
