/** The complaint ledger and compensation statements over the API (roles, links, closure, counts, exports, audit). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, startHarness, T0, TOPOLOGY, type Harness } from '../../test/support/dashboard.ts';

const H = 3_600_000;
let h: Harness;
let service: Client; let dispatcher: Client; let viewer: Client; let admin: Client;
const NORTH = ['M-1001', 'M-1002'];
beforeAll(async () => {
  h = await startHarness({
    config: {
      compensation: { outage: { rate: { amount: 6, per: 'hour' }, minimumMinutes: 60 } },
      complaints: { channels: [{ id: 'wechat', name: '微信 WeChat' }] },
      topology: { ...TOPOLOGY, meters: [...NORTH.map((id, i) => ({ id, customer: `ACC-N${i + 1}`, dma: 'north', address: `北街 ${i + 1} 号` })), TOPOLOGY.meters[1]] },
    },
  });
  [service, dispatcher, viewer, admin] = await Promise.all(['service', 'dispatcher', 'viewer', 'admin'].map((u) => Client.signIn(h.app, u)));
  // a burst in north 3 h (M-1002 only), a municipal power failure in north 2 h (whole area)
  h.register.recordIncident({ id: `north:${T0}`, dma: 'north', start: T0, end: T0 + 3 * H, customersAffected: 1200, planned: false, cause: 'burst' });
  h.register.book.edit(`north:${T0}`, { affected: { part: { meters: ['M-1002'] }, customers: 600 } }, 'service', T0);
  h.register.recordIncident({ id: `north:${T0 + 5 * H}`, dma: 'north', start: T0 + 5 * H, end: T0 + 7 * H, customersAffected: 1200, planned: false, cause: 'power_failure' });
}, 60_000);
afterAll(async () => { await h?.close(); });

describe('complaint ledger over the API', () => {
  it('customer service records a complaint linked to an incident (its area taken from it), closes it; others read or are refused; the audit log has each step', async () => {
    const body = { channel: 'hotline_12345', receivedAt: T0 + H, category: 'no_water', text: '北街 2 号停水', customer: 'ACC-N2', incidentId: `north:${T0}` };
    expect((await dispatcher.send('POST', '/api/v1/complaints', body)).statusCode).toBe(403);
    const created = await service.send('POST', '/api/v1/complaints', body);
    expect(created.statusCode).toBe(201);
    const { complaint } = created.json();
    expect(complaint).toMatchObject({ status: 'open', dma: 'north', incidentId: `north:${T0}`, createdBy: 'service' });
    expect((await service.send('POST', '/api/v1/complaints', { ...body, incidentId: 'nope' })).json().error).toMatchObject({ code: 'validation', field: 'body.incidentId' });
    expect((await service.send('POST', '/api/v1/complaints', { ...body, channel: 'fax' })).json().error.message).toContain('unknown channel "fax"');

    const url = `/api/v1/complaints/${complaint.id}`;
    expect((await service.send('POST', `${url}/status`, { status: 'closed' })).json().error).toMatchObject({ code: 'validation', field: 'resolution' });
    const closed = await admin.send('POST', `${url}/status`, { status: 'closed', resolution: '抢修完成，已回访' });
    expect(closed.json().complaint).toMatchObject({ status: 'closed', resolution: '抢修完成，已回访' });
    expect(closed.json().history.map((c: { action: string }) => c.action)).toEqual(['create', 'close']);
    expect((await dispatcher.get(url)).json().complaint.status).toBe('closed');
    expect((await viewer.send('POST', `${url}/status`, { status: 'open', note: 'x' })).statusCode).toBe(403);

    const channels = (await viewer.get('/api/v1/complaints/channels')).json();
    expect(channels).toEqual([{ id: 'hotline_12345' }, { id: 'own_line' }, { id: 'wechat', name: '微信 WeChat' }]);
    const counts = (await viewer.get(`/api/v1/complaints/counts?from=${T0 - 24 * H}&to=${T0 + 24 * H}`)).json();
    expect(counts).toMatchObject({ total: 1, closed: 1, byChannel: { hotline_12345: 1, own_line: 0, wechat: 0 }, byCategory: { no_water: 1 } });
    const audit = (await admin.get(`/api/v1/audit?target=${complaint.id}`)).json() as { action: string; username: string }[];
    expect(audit.map((a) => [a.action, a.username])).toEqual([['complaints.setStatus', 'admin'], ['complaints.create', 'service']]);
  });
});

describe('compensation statements over the API', () => {
  const period = `from=${T0 - 24 * H}&to=${T0 + 24 * H}`;
  it('a customer inside the partial area: the burst paid after its first hour, the power failure excluded', async () => {
    const r = await service.get(`/api/v1/compensation/customer?customer=ACC-N2&${period}`);
    expect(r.statusCode).toBe(200);
    const s = r.json();
    expect(s.lines.map((l: { cause: string; excluded: boolean; paidMinutes: number; amount: number; partial?: string }) => [l.cause, l.excluded, l.paidMinutes, l.amount, l.partial]))
      .toEqual([['burst', false, 120, 12, 'meters'], ['power_failure', true, 0, 0, undefined]]);
    expect(s.totals).toMatchObject({ affectedMinutes: 300, excludedMinutes: 120, amount: 12 });
    // ACC-N1 is outside the part the burst affected: only the (excluded) power failure
    const other = (await service.get(`/api/v1/compensation/customer?customer=ACC-N1&${period}`)).json();
    expect(other.lines.map((l: { cause: string }) => l.cause)).toEqual(['power_failure']);
    expect(other.totals.amount).toBe(0);
  });

  it('an area\'s statements, the exports, and who may read them', async () => {
    const area = (await admin.get(`/api/v1/compensation/area?dma=north&${period}`)).json();
    expect(area.totals).toEqual({ customers: 2, affectedCustomers: 2, amount: 12 });
    const csv = await service.get(`/api/v1/compensation/statement.csv?dma=north&${period}`);
    expect(csv.headers['content-type']).toContain('text/csv');
    const rows = csv.body.replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(rows[0]).toMatch(/^customer,address,incident,/);
    expect(rows.filter((l) => l.startsWith('ACC-N2,')).map((l) => l.split(',').at(-2))).toEqual(['12.00', '0.00', '12.00']);
    const html = await service.get(`/api/v1/compensation/statement.html?customer=ACC-N2&${period}`);
    expect(html.headers['content-type']).toContain('text/html');
    expect(html.body).toContain('data-customer="ACC-N2"');
    expect(html.body).toContain('停电 (power_failure)');
    expect((await service.get(`/api/v1/compensation/statement.csv?${period}`)).json().error.field).toBe('querystring.customer');
    expect((await service.get(`/api/v1/compensation/customer?customer=ACC-NONE&${period}`)).statusCode).toBe(404);
    expect((await dispatcher.get(`/api/v1/compensation/customer?customer=ACC-N2&${period}`)).statusCode).toBe(403);
    expect((await service.get('/api/v1/compensation/rules')).json()).toMatchObject({ currency: 'CNY', outage: { rate: { amount: 6, per: 'hour' }, minimumMinutes: 60 } });
  });
});
