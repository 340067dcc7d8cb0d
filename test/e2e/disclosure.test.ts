/**
 * The quarterly disclosure in chromium, against a dashboard started in-process on a small store
 * (test/support/dashboard.ts, as incidents.test.ts): the admin prepares 2026-Q3 (a sudden outage in
 * it), approves and publishes it; the public outage page lists it with the earlier quarters and
 * shows its page; the PDF downloads from the archive and names the quarter; the Reports view shows
 * the leakage corrections.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { eventually, startBrowserDashboard, type BrowserDashboard } from '../support/browser.ts';
import { password, type Harness } from '../support/dashboard.ts';

const H = 3_600_000;
const Q3_OUTAGE = Date.parse('2026-08-10T02:00:00Z');

let dashboard: BrowserDashboard;
let h: Harness;
let browser: Browser;
let base = '';

beforeAll(async () => {
  dashboard = await startBrowserDashboard({ config: { leakage: { residentialMeteredShare: 0.5, dn75PipeLengthKm: 20, annualMeanOutletPressureMpa: 0.4, maxFrozenSoilDepthM: 0.3 } } });
  ({ h, browser, base } = dashboard);
  h.register.recordIncident({ id: `north:${Q3_OUTAGE}`, dma: 'north', start: Q3_OUTAGE, end: Q3_OUTAGE + 3 * H, customersAffected: 1200, planned: false, cause: 'burst' });
}, 180_000);

afterAll(async () => {
  await dashboard?.close();
});

describe('quarterly disclosure in chromium', () => {
  it('the admin prepares, approves and publishes 2026-Q3; the public page and the archive list it; the PDF downloads', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1600, height: 1000 }, locale: 'zh-CN', timezoneId: 'UTC', acceptDownloads: true });
    const page = await ctx.newPage();
    await page.goto(`${base}/`);
    await page.fill('input[name="username"]', 'admin');
    await page.fill('input[name="password"]', password('admin'));
    await page.click('form.signin button[type="submit"]');
    await page.waitForSelector('.control-room[data-ready="yes"]', { timeout: 30_000 });
    await page.click('nav a[data-route="disclosure"]');
    await page.waitForSelector('.shell[data-view="disclosure"] [data-testid="disclosure-prepare"]');

    await page.fill('[data-testid="disclosure-prepare"] input[name="quarter"]', '2026-Q3');
    await page.click('[data-action="prepare"]');
    const detail = '[data-testid="disclosure-detail"][data-quarter="2026-Q3"]';
    await eventually(() => page.getAttribute(detail, 'data-status')).toBe('draft');
    // the draft shows the figures: one sudden outage of 3 h, 1200 × 3 customer-hours, and the corrected leakage rate's inputs
    const figures = await page.textContent(`${detail} [data-testid="disclosure-figures"]`);
    expect(figures).toMatch(/非计划停水次数1 次 · 3(\.0)? 小时 · 3,?600 户·小时/);
    expect(figures).toContain('R4 最大冻土深度');
    await page.fill(`${detail} textarea[name="remark"]`, '本季度数据经审核');
    await page.click(`${detail} [data-action="save-remark"]`);
    await eventually(async () => h.dash.ctx.disclosures.get('2026-Q3')?.remark).toBe('本季度数据经审核');
    await page.click(`${detail} [data-action="approve"]`);
    await eventually(() => page.getAttribute(detail, 'data-status')).toBe('approved');
    await page.click(`${detail} [data-action="publish"]`);
    await eventually(() => page.getAttribute(detail, 'data-status')).toBe('published');
    const row = '[data-testid="disclosure-archive"] tr[data-quarter="2026-Q3"]';
    expect(await page.getAttribute(row, 'data-status')).toBe('published');

    const [download] = await Promise.all([page.waitForEvent('download'), page.click(`${row} [data-action="pdf"]`)]);
    const pdf = readFileSync((await download.path())!);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.toString('latin1')).toContain('Quarterly water supply disclosure 2026-Q3');

    // the Reports view shows the basic and the corrected leakage rate with each correction
    await page.click('nav a[data-route="reports"]');
    await page.waitForSelector('[data-testid="leakage-corrections"] tr[data-correction="R4"]');
    expect(await page.textContent('[data-testid="leakage-corrections"] tr[data-correction="R3"]')).toContain('leakage.annualMeanOutletPressureMpa');

    const pub = await ctx.newPage();
    await pub.goto(`${base}/outages`);
    const listed = pub.locator('tr[data-quarter="2026-Q3"]');
    expect(await listed.textContent()).toContain(h.dash.ctx.disclosures.get('2026-Q3')!.pdfSha256!);
    await listed.locator('a', { hasText: '网页' }).click();
    await pub.waitForSelector('h1[data-quarter="2026-Q3"]');
    expect(await pub.textContent('body')).toContain('本季度数据经审核');
    await ctx.close();
  }, 60_000);
});
