/** Incidents people work with, emergency supply, work orders by burst priority, and the audit log, over the API. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, startHarness, T0, TOPOLOGY, type Harness } from '../../test/support/dashboard.ts';

const H = 3_600_000;
let h: Harness;
let dispatcher: Client; let service: Client; let viewer: Client; let admin: Client;
beforeAll(async () => {
  // North's meters on the map (south's has no position): a polygon drawn around some of them selects them
  const northMeters = [[2, 2], [4, 4], [20, 20], [22, 22]].map(([x, y], i) => ({ id: `M-10${i + 1}`, customer: `ACC-10${i + 1}`, dma: 'north', x, y }));
  h = await startHarness({ config: { topology: { ...TOPOLOGY, meters: [...northMeters, TOPOLOGY.meters[1]] } } });
  [dispatcher, service, viewer, admin] = await Promise.all(['dispatcher', 'service', 'viewer', 'admin'].map((u) => Client.signIn(h.app, u)));
}, 60_000);
afterAll(async () => { await h?.close(); });

const saidi = async () => ((await viewer.get(`/api/v1/kpis?from=${T0 - H}&to=${T0 + 10 * H}`)).json() as { outages: { saidiMinutes: number } }).outages.saidiMinutes;

describe('incidents over the API', () => {
  it('corrects a detected outage\'s cause (the Sanya rule then leaves it out), records a partial area, keeps the history; a viewer may only read', async () => {
    const id = `south:${T0}`;
    h.register.recordIncident({ id, dma: 'south', start: T0, end: T0 + 2 * H, customersAffected: 800, planned: false, cause: 'unknown' });
    expect(await saidi()).toBeCloseTo((800 * 120) / 2000);
    expect((await viewer.send('PATCH', `/api/v1/incidents/${encodeURIComponent(id)}`, { cause: 'power_failure' })).statusCode).toBe(403);

    const r = await dispatcher.send('PATCH', `/api/v1/incidents/${encodeURIComponent(id)}`, { cause: 'power_failure', notes: '=HYPERLINK("x") 市政停电' });
    expect(r.statusCode).toBe(200);
    expect(r.json().incident).toMatchObject({ cause: 'power_failure', detected: { cause: 'unknown' } });
    expect(await saidi()).toBe(0);

    const part = await service.send('PATCH', `/api/v1/incidents/${encodeURIComponent(id)}`, { cause: null, affected: { meters: ['M-2002'] } });
    expect(part.statusCode).toBe(200);
    // the area has one meter in the topology: all of its 800 customers
    expect(part.json().incident).toMatchObject({ cause: 'unknown', customersAffected: 800, affectedPart: { meters: ['M-2002'] } });
    // null takes a correction back (not a time of 0)
    const cleared = await service.send('PATCH', `/api/v1/incidents/${encodeURIComponent(id)}`, { actualRestoration: null, expectedRestoration: null });
    expect(cleared.statusCode).toBe(200);
    expect(cleared.json().incident.end).toBe(T0 + 2 * H);
    const wrong = await service.send('PATCH', `/api/v1/incidents/${encodeURIComponent(id)}`, { affected: { meters: ['M-1001'] } });
    expect(wrong.json().error).toMatchObject({ code: 'validation', message: 'affected.meters[0]: meter M-1001 is not in this area' });

    const detail = (await viewer.get(`/api/v1/incidents/${encodeURIComponent(id)}`)).json();
    expect(detail.history.map((c: { by: string; action: string }) => `${c.by} ${c.action}`)).toEqual(['dispatcher edit', 'service edit']);
    expect(detail.history[0].changes.cause).toEqual(['unknown', 'power_failure']);
    expect(detail.meters).toEqual([{ id: 'M-2002', customer: 'ACC-112233', address: '南湖路 8 号 8 Nanhu Rd' }]);
  });

  it('selects the meters inside a drawn polygon and recomputes the customers itself; a client\'s own selection is refused', async () => {
    const id = `north:${T0 + 20 * H}`;
    h.register.recordIncident({ id, dma: 'north', start: T0 + 20 * H, end: T0 + 21 * H, customersAffected: 1200, planned: false, cause: 'unknown' });
    const url = `/api/v1/incidents/${encodeURIComponent(id)}`;
    const polygon = [[0, 0], [5, 0], [5, 5], [0, 5]];
    const r = await service.send('PATCH', url, { affected: { polygon } });
    expect(r.statusCode).toBe(200);
    expect(r.json().incident).toMatchObject({ customersAffected: 600, affectedPart: { polygon, meters: ['M-101', 'M-102'] } });
    // the detail gives the editor the meters' positions to draw
    expect((await viewer.get(url)).json().meters[0]).toEqual({ id: 'M-101', customer: 'ACC-101', address: '', x: 2, y: 2 });
    // the server selects: meters sent beside the polygon are not taken, nor is a count
    expect((await service.send('PATCH', url, { affected: { polygon: [[0, 0], [1, 0], [1, 1]], meters: ['M-101', 'M-102', 'M-103'] } })).statusCode).toBe(400);
    const none = await service.send('PATCH', url, { affected: { polygon: [[100, 100], [101, 100], [101, 101]] } });
    expect(none.json().error).toMatchObject({ code: 'validation', message: 'affected.polygon: the polygon holds none of this area\'s meters' });
    const history = (await viewer.get(url)).json().history;
    expect(history).toHaveLength(1);
    expect(history[0].changes).toMatchObject({ customersAffected: [1200, 600], affectedPart: [null, { polygon, meters: ['M-101', 'M-102'] }] });
  });

  it('enters a phoned-in outage with the area\'s customers, and refuses an unknown area', async () => {
    const r = await service.send('POST', '/api/v1/incidents', { dma: 'north', start: T0 + 3 * H, cause: 'third_party_damage', expectedRestoration: T0 + 5 * H, notes: '12345 来电' });
    expect(r.statusCode).toBe(201);
    expect(r.json().incident).toMatchObject({ origin: 'manual', kind: 'outage', dma: 'north', customersAffected: 1200, cause: 'third_party_damage' });
    expect((await viewer.get(`/api/v1/incidents?from=${T0}`)).json().map((i: { id: string }) => i.id)).toContain(r.json().incident.id);
    // customer service's current outages (and the public page) say when supply is expected back
    expect((await viewer.get('/api/v1/outages/current')).json()).toContainEqual(expect.objectContaining({ dma: 'north', kind: 'outage', expectedRestoration: T0 + 5 * H }));
    const bad = await service.send('POST', '/api/v1/incidents', { dma: 'nowhere', start: T0, cause: 'other' });
    expect(bad.json().error.message).toBe('body.dma: unknown DMA nowhere');
  });

  it('merges and splits over the API, and opens the emergency-supply record of an outage reaching 24 h', async () => {
    const a = `south:${T0 + 5 * H}`; const b = `south:${T0 + 6 * H}`;
    h.register.recordIncident({ id: a, dma: 'south', start: T0 + 5 * H, end: T0 + 5.5 * H, customersAffected: 800, planned: false, cause: 'burst' });
    h.register.recordIncident({ id: b, dma: 'south', start: T0 + 6 * H, end: T0 + 7 * H, customersAffected: 800, planned: false, cause: 'burst' });
    const merged = await dispatcher.send('POST', `/api/v1/incidents/${encodeURIComponent(a)}/merge`, { incidents: [b] });
    expect(merged.json().incident).toMatchObject({ start: T0 + 5 * H, end: T0 + 7 * H, merged: [b] });
    const split = await dispatcher.send('POST', `/api/v1/incidents/${encodeURIComponent(a)}/split`, { at: T0 + 6 * H });
    expect(split.json().error).toMatchObject({ code: 'conflict' }); // split before merging

    h.register.recordIncident({ id: `north:${T0 - 25 * H}`, dma: 'north', start: T0 - 25 * H, customersAffected: 1200, planned: false, cause: 'unknown' });
    // the outage alarm's transition makes the server look again
    h.alarms.onCondition({ id: 'outage:north', type: 'outage', state: 'raise', ts: T0, priority: 'high', dma: 'north', message: 'no water' });
    const open = (await viewer.get('/api/v1/emergency-supplies?open=true')).json() as { id: string; incidentId: string; openedAt: number }[];
    expect(open).toEqual([expect.objectContaining({ incidentId: `north:${T0 - 25 * H}`, openedAt: T0 - H })]);
    const truck = { kind: 'water_truck', place: '人民路口', detail: '5 t', from: T0 };
    expect((await viewer.send('PATCH', `/api/v1/emergency-supplies/${encodeURIComponent(open[0].id)}`, { measures: [truck] })).statusCode).toBe(403);
    const saved = await dispatcher.send('PATCH', `/api/v1/emergency-supplies/${encodeURIComponent(open[0].id)}`, { measures: [truck] });
    expect(saved.json().measures).toEqual([truck]);
  });

  it('opens a work order by itself only for a burst of a configured priority', async () => {
    h.alarms.onCondition({ id: 'burst:south', type: 'burst', state: 'raise', ts: T0 + 4 * H, priority: 'low', dma: 'south', message: 'small burst', evidence: { burstFlowM3h: 1.2 } });
    const small = h.alarms.openAlarms().find((a) => a.conditionId === 'burst:south')!;
    expect(h.dash.ctx.workOrders.byAlarm(small.id)).toBeUndefined();
    // the dispatcher decides
    expect((await dispatcher.send('POST', '/api/v1/work-orders', { alarmId: small.id })).statusCode).toBe(201);
  });

  it('logs every change with who and what, shows it to admins only, and exports CSV with formulas neutralised', async () => {
    expect((await dispatcher.get('/api/v1/audit')).statusCode).toBe(403);
    const entries = (await admin.get('/api/v1/audit')).json() as { username: string; action: string; target?: string; details: Record<string, unknown> }[];
    // refused requests changed nothing: not logged
    expect(entries.map((e) => `${e.username} ${e.action}`)).toEqual([
      'dispatcher workOrders.create', 'dispatcher incidents.updateEmergencySupply', 'dispatcher incidents.merge', 'service incidents.create', 'service incidents.update', 'service incidents.update', 'service incidents.update', 'dispatcher incidents.update',
    ]);
    // the drawn part with the meters the server selected
    expect(entries.find((e) => e.target === `north:${T0 + 20 * H}`)?.details).toMatchObject({ changes: { affectedPart: [null, { meters: ['M-101', 'M-102'] }] } });
    expect(entries.at(-1)).toMatchObject({ target: `south:${T0}`, details: { changes: { cause: ['unknown', 'power_failure'] } } });
    await admin.send('POST', '/api/v1/users', { username: 'clerk', role: 'viewer', password: 'a-long-password-1' });
    const users = (await admin.get('/api/v1/audit?action=admin.')).json();
    expect(users[0]).toMatchObject({ action: 'admin.createUser', details: { request: { username: 'clerk', password: '[hidden]' } } });
    const csv = await admin.get('/api/v1/audit.csv');
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.body).not.toContain('a-long-password-1');
    expect(csv.body).toMatch(/^\uFEFFseq,time_utc,username,role,action,target,details\r\n/);
    expect(csv.body).toContain('HYPERLINK'); // inside the details cell, which starts with {, not =
    expect(csv.body.split('\r\n').every((line) => !/(^|,)=/.test(line))).toBe(true);
  });
});
