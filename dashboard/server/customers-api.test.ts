/**
 * Customer service's workspace over the API: the meter-anomaly queue with the customer, the meter's
 * readings as evidence, the case actions (customer service and admin; a dispatcher is refused), the
 * history and the audit log; the customer page's consumption, anomalies, minutes and notices.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, startHarness, T0, type Harness } from '../../test/support/dashboard.ts';

const H = 3_600_000;
const D = 24 * H;
const ANOMALY = `meter_high_use:M-1001@${new Date(T0).toISOString()}`;
let h: Harness;
let service: Client; let dispatcher: Client; let admin: Client;

beforeAll(async () => {
  h = await startHarness();
  [service, dispatcher, admin] = await Promise.all(['service', 'dispatcher', 'admin'].map((u) => Client.signIn(h.app, u)));
  // a reading a day at 08:00 UTC up to T0 + 6 h: 0.5 m³ a day, then 3 m³ on the last day
  const readings = Array.from({ length: 10 }, (_, i) => ({ ts: T0 - (9 - i) * D + 6 * H, value: 100 + 0.5 * i + (i === 9 ? 2.5 : 0) }));
  await h.store.write(readings.map((r) => ({ measurement: 'meter', sensor: 'M-1001', ts: r.ts, value: r.value, quality: 'good' as const, site: 'customers', dma: 'north' })));
  h.alarms.onCondition({ id: 'meter_high_use:M-1001', type: 'meter_high_use', state: 'raise', ts: T0, priority: 'low', dma: 'north', sensor: 'M-1001', message: 'high use', evidence: { customer: 'ACC-778899' } });
  h.register.recordIncident({ id: `north:${T0 - 2 * D}`, dma: 'north', start: T0 - 2 * D, end: T0 - 2 * D + 90 * 60_000, customersAffected: 1200, planned: false, cause: 'burst' });
  h.register.recordIncident({ id: `south:${T0 - D}`, dma: 'south', start: T0 - D, end: T0 - D + H, customersAffected: 800, planned: false, cause: 'burst' });
}, 60_000);
afterAll(async () => { await h?.close(); });

const url = (id: string, action = '') => `/api/v1/meter-anomalies/${encodeURIComponent(id)}${action}`;

describe('meter anomalies for customer service', () => {
  it('lists the anomaly with its customer and evidence, records a call and a close, acknowledges the alarm, logs every action', async () => {
    const queue = (await service.get('/api/v1/meter-anomalies')).json();
    expect(queue).toHaveLength(1);
    expect(queue[0]).toMatchObject({ state: 'open', alarm: { id: ANOMALY, type: 'meter_high_use' },
      customer: { account: 'ACC-778899', meter: 'M-1001', address: '人民路 12 号 12 Renmin Rd', dma: 'north', dmaName: '北区 North' } });
    const detail = (await service.get(url(ANOMALY))).json();
    expect(detail.readings).toHaveLength(10);
    expect(detail.readings.at(-1)).toEqual([T0 + 6 * H, 107]);

    expect((await dispatcher.send('POST', url(ANOMALY, '/actions'), { action: 'call', note: 'x' })).statusCode).toBe(403);
    const noNote = await service.send('POST', url(ANOMALY, '/actions'), { action: 'call' });
    expect(noNote.json().error).toMatchObject({ code: 'validation', field: 'note' });
    const called = await service.send('POST', url(ANOMALY, '/actions'), { action: 'call', note: '客户说在给泳池注水 filling a pool' });
    expect(called.statusCode).toBe(200);
    expect(called.json().anomaly).toMatchObject({ state: 'contacted', alarm: { state: 'active-acknowledged', ackedBy: 'service' } });
    const closed = await admin.send('POST', url(ANOMALY, '/actions'), { action: 'close', reason: 'legitimate_use', note: 'once a year' });
    expect(closed.json().anomaly.case).toMatchObject({ state: 'closed', closeReason: 'legitimate_use', history: [{ by: 'service', action: 'call' }, { by: 'admin', action: 'close' }] });
    const again = await service.send('POST', url(ANOMALY, '/actions'), { action: 'field_visit' });
    expect(again.statusCode).toBe(409);

    expect((await service.get('/api/v1/meter-anomalies')).json()).toEqual([]);
    expect((await service.get('/api/v1/meter-anomalies?status=closed')).json().map((a: { alarm: { id: string } }) => a.alarm.id)).toEqual([ANOMALY]);
    const audit = (await admin.get(`/api/v1/audit?target=${encodeURIComponent(ANOMALY)}`)).json();
    expect(audit.map((e: { username: string; action: string }) => `${e.username} ${e.action}`)).toEqual(['admin customers.act', 'service customers.act']);
    expect(audit[1].details).toMatchObject({ request: { action: 'call' }, account: 'ACC-778899', state: ['open', 'contacted'] });
    expect((await service.get(url('meter_high_use:M-404@x'))).statusCode).toBe(404);
  });

  it('gives a customer\'s page: daily use, the anomaly closed, the outage of their area with its minutes', async () => {
    const page = (await dispatcher.get(`/api/v1/customers/ACC-778899?from=${T0 - 5 * D}&to=${T0 + D}`)).json();
    expect(page.meters).toEqual([expect.objectContaining({ account: 'ACC-778899', meter: 'M-1001', dmaName: '北区 North', active: true, large: false })]);
    expect(page.consumption.step).toBe('day');
    expect(page.consumption.series[0].rows.map((r: { m3: number }) => r.m3)).toEqual([0.5, 0.5, 0.5, 0.5, 0.5, 3]);
    expect(page.consumption.totalM3).toBe(5.5);
    expect(page.anomalies).toEqual([expect.objectContaining({ state: 'closed', alarm: expect.objectContaining({ id: ANOMALY }) })]);
    expect(page.incidents.map((i: { incident: { id: string }; minutes: number }) => [i.incident.id, i.minutes])).toEqual([[`north:${T0 - 2 * D}`, 90]]);
    expect(page.minutes).toEqual({ outage: 90, low_pressure: 0 });
    expect(page.notices).toEqual([]);
    expect((await service.get('/api/v1/customers/ACC-nobody')).json().error).toMatchObject({ code: 'not_found', field: 'params.account' });
    expect((await service.get(`/api/v1/customers/ACC-778899?from=${T0}&to=${T0 - 1}`)).statusCode).toBe(400);
  });
});
