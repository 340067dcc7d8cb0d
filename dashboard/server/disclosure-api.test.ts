/**
 * The quarterly disclosure over the API: an admin prepares 2026-Q3 (figures from the KPIs, the
 * correction inputs named when missing), approves and publishes it; the publication is stored with
 * its PDF and hashes and never changes; the public page lists it; every step is in the audit log.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, startHarness, type Harness } from '../../test/support/dashboard.ts';
import { localizeReportNote } from '../../core/messages/report-notes.ts';

const H = 3_600_000;
const Q3_OUTAGE = Date.parse('2026-08-10T02:00:00Z');
let h: Harness;
let admin: Client; let dispatcher: Client;
beforeAll(async () => {
  h = await startHarness({ config: { leakage: { residentialMeteredShare: 0.5, dn75PipeLengthKm: 20, annualMeanOutletPressureMpa: 0.4 } } });
  [admin, dispatcher] = await Promise.all(['admin', 'dispatcher'].map((u) => Client.signIn(h.app, u)));
  const service = await Client.signIn(h.app, 'service');
  for (const receivedAt of [Q3_OUTAGE + H, Date.parse('2026-10-02T00:00:00Z')]) {
    const r = await service.send('POST', '/api/v1/complaints', { channel: 'hotline_12345', receivedAt, category: 'no_water', text: '北区停水', customer: 'ACC-778899' });
    if (r.statusCode !== 201) throw new Error(`complaint: ${r.body}`);
  }
  // a sudden outage in the quarter: 1200 customers × 3 h; a planned one: 800 × 2 h
  h.register.recordIncident({ id: `north:${Q3_OUTAGE}`, dma: 'north', start: Q3_OUTAGE, end: Q3_OUTAGE + 3 * H, customersAffected: 1200, planned: false, cause: 'burst' });
  h.register.recordIncident({ id: `south:${Q3_OUTAGE}`, dma: 'south', start: Q3_OUTAGE + 24 * H, end: Q3_OUTAGE + 26 * H, customersAffected: 800, planned: true, cause: 'maintenance' });
}, 60_000);
afterAll(async () => { await h?.close(); });

describe('quarterly disclosure over the API', () => {
  it('is prepared, approved and published by an admin, frozen with its PDF and hashes, listed on the public page and audited', async () => {
    expect((await dispatcher.send('POST', '/api/v1/disclosures', { quarter: '2026-Q3' })).statusCode).toBe(403);
    expect((await admin.send('POST', '/api/v1/disclosures', { quarter: '2026-Q5' })).json().error.field).toBe('body.quarter');

    const draft = (await admin.send('POST', '/api/v1/disclosures', { quarter: '2026-Q3', remark: '第三季度 Q3' })).json();
    expect(draft).toMatchObject({ quarter: '2026-Q3', status: 'draft', remark: '第三季度 Q3', preparedBy: 'admin' });
    const f = draft.figures;
    expect(f.suddenOutages).toEqual({ count: 1, hours: 3, customerHours: 3600 });
    expect(f.plannedOutages).toEqual({ count: 1, hours: 2, customerHours: 1600 });
    // maintenance is left out by the Sanya rule: 1200 × 180 min ÷ 2000 customers
    expect(f.averageOutageMinutesPerCustomer).toBeCloseTo(108, 9);
    expect(f.excludedCauses).toContain('maintenance');
    // no flow stored here: no system input for the pipe-length term; the frozen-soil depth is not configured
    expect(f.leakage.missing).toEqual(['system input volume (the water balance gives none)', 'leakage.maxFrozenSoilDepthM']);
    // one complaint on the hotline in the quarter, one after it
    expect(f.complaints).toMatchObject({ total: 1, unresolved: 1, byChannel: { hotline_12345: 1, own_line: 0 }, byCategory: { no_water: 1 } });

    // not approved yet; the current quarter has not ended
    expect((await admin.send('POST', '/api/v1/disclosures/2026-Q3/publish')).json().error.code).toBe('conflict');
    expect((await admin.send('PATCH', '/api/v1/disclosures/2026-Q3', { remark: '经审核 reviewed' })).json().remark).toBe('经审核 reviewed');
    expect((await admin.send('POST', '/api/v1/disclosures/2026-Q3/approve')).json()).toMatchObject({ status: 'approved', approvedBy: 'admin' });
    // without its font the PDF cannot be made: said, and nothing is published
    const font = h.config.disclosure.fontPath;
    h.config.disclosure.fontPath = '/nonexistent/font.ttc';
    expect((await admin.send('POST', '/api/v1/disclosures/2026-Q3/publish')).json().error).toMatchObject({ code: 'unavailable', message: expect.stringContaining('disclosure.fontPath: /nonexistent/font.ttc does not exist') });
    h.config.disclosure.fontPath = font;
    const published = await admin.send('POST', '/api/v1/disclosures/2026-Q3/publish');
    expect(published.statusCode).toBe(200);
    const p = published.json();
    expect(p).toMatchObject({ status: 'published', publishedBy: 'admin', pdfSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(p.figures).toEqual(draft.figures);

    const pdf = await h.app.inject('/outages/disclosure/2026-Q3.pdf');
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    expect(createHash('sha256').update(pdf.rawPayload).digest('hex')).toBe(p.pdfSha256);
    expect(pdf.rawPayload.toString('latin1')).toContain('Quarterly water supply disclosure 2026-Q3');
    const page = await h.app.inject('/outages/disclosure/2026-Q3');
    expect(page.body).toContain('供水服务季度公示 2026-Q3');
    expect(page.body).toContain('经审核 reviewed');
    // the figures' notes (what a figure lacks) read in both languages, like every other row
    expect(draft.figures.notes.length).toBeGreaterThan(0);
    for (const note of draft.figures.notes) expect(page.body).toContain(`${localizeReportNote(note, 'zh-CN')} ${note}`);
    expect((await h.app.inject('/outages/disclosure/2026-Q2')).statusCode).toBe(404);
    expect((await h.app.inject('/outages')).body).toMatch(/<tr data-quarter="2026-Q3">.*\/outages\/disclosure\/2026-Q3\.pdf/s);

    // published means frozen: no new figures, remark or approval; a new incident changes nothing published
    for (const [method, url, body] of [['POST', '/api/v1/disclosures', { quarter: '2026-Q3' }], ['PATCH', '/api/v1/disclosures/2026-Q3', { remark: 'x' }],
      ['POST', '/api/v1/disclosures/2026-Q3/approve', undefined]] as const) {
      expect((await admin.send(method, url, body)).json().error.code, url).toBe('conflict');
    }
    h.register.recordIncident({ id: `north:${Q3_OUTAGE + 48 * H}`, dma: 'north', start: Q3_OUTAGE + 48 * H, end: Q3_OUTAGE + 50 * H, customersAffected: 1200, planned: false, cause: 'burst' });
    expect((await admin.get('/api/v1/disclosures/2026-Q3')).json().figures).toEqual(draft.figures);
    expect((await h.app.inject('/outages/disclosure/2026-Q3.pdf')).rawPayload.equals(pdf.rawPayload)).toBe(true);

    const q4 = await admin.send('POST', '/api/v1/disclosures', { quarter: '2026-Q4' });
    expect(q4.json().figures.notes).toContain('the quarter has not ended: figures so far');
    await admin.send('POST', '/api/v1/disclosures/2026-Q4/approve');
    expect((await admin.send('POST', '/api/v1/disclosures/2026-Q4/publish')).json().error.message).toMatch(/2026-Q4 has not ended/);
    expect((await admin.get('/api/v1/disclosures')).json().map((d: { quarter: string; status: string }) => `${d.quarter} ${d.status}`)).toEqual(['2026-Q4 approved', '2026-Q3 published']);

    const audit = (await admin.get('/api/v1/audit?action=disclosures.')).json() as { action: string; target: string; details: Record<string, unknown> }[];
    expect(audit.filter((e) => e.target === '2026-Q3').map((e) => e.action).reverse()).toEqual(['disclosures.prepare', 'disclosures.setRemark', 'disclosures.approve', 'disclosures.publish']);
    expect(audit.find((e) => e.action === 'disclosures.publish')!.details.pdfSha256).toBe(p.pdfSha256);
  });
});
