/**
 * Customer service handles a meter anomaly in chromium (issue #14.2), against a dashboard started
 * in-process on a small store (test/support/dashboard.ts: real fastify, SQLite store and state
 * database, the live analytics' alarm manager and outage register), not the whole platform: opens
 * the anomaly from the customer-service view, sees the meter's readings as a chart, records a call,
 * closes the case with a reason; the customer's page then lists the anomaly closed and the outage of
 * their area with its minutes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { eventually, startBrowserDashboard, type BrowserDashboard } from '../support/browser.ts';
import { password, T0, type Harness } from '../support/dashboard.ts';

const H = 3_600_000;
const D = 24 * H;
const ANOMALY = `meter_high_use:M-1001@${new Date(T0).toISOString()}`;
const OUTAGE = `north:${T0 - 2 * D}`;

let dashboard: BrowserDashboard;
let h: Harness;
let browser: Browser;
let base = '';

beforeAll(async () => {
  dashboard = await startBrowserDashboard();
  ({ h, browser, base } = dashboard);
  // ten daily readings of ACC-778899's meter, the last day's use six times the usual
  await h.store.write(Array.from({ length: 10 }, (_, i) => ({
    measurement: 'meter', sensor: 'M-1001', ts: T0 - (9 - i) * D + 6 * H, value: 100 + 0.5 * i + (i === 9 ? 2.5 : 0), quality: 'good' as const, site: 'customers', dma: 'north',
  })));
  h.alarms.onCondition({ id: 'meter_high_use:M-1001', type: 'meter_high_use', state: 'raise', ts: T0, priority: 'low', dma: 'north', sensor: 'M-1001', message: 'high use', evidence: { customer: 'ACC-778899' } });
  h.register.recordIncident({ id: OUTAGE, dma: 'north', start: T0 - 2 * D, end: T0 - 2 * D + 90 * 60_000, customersAffected: 1200, planned: false, cause: 'burst' });
}, 180_000);

afterAll(async () => {
  await dashboard?.close();
});

describe('customer service in chromium', () => {
  it('handles a meter anomaly from the customer-service view', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1600, height: 1000 }, locale: 'zh-CN', timezoneId: 'UTC' });
    const page = await ctx.newPage();
    await page.goto(`${base}/#/customers`);
    await page.fill('input[name="username"]', 'service');
    await page.fill('input[name="password"]', password('service'));
    await page.click('form.signin button[type="submit"]');
    await page.waitForSelector('.shell[data-view="customers"]');

    const queue = page.locator('[data-testid="anomaly-queue"]');
    await queue.locator(`tr[data-anomaly="${ANOMALY}"]`).click();
    const detail = page.locator('[data-testid="anomaly-detail"]');
    await eventually(() => detail.locator('[data-testid="evidence"]').getAttribute('data-points')).toBe('10');
    await eventually(() => detail.locator('.evidence-chart canvas').count()).toBe(1);

    await detail.locator('[data-action="call"]').click();
    await detail.locator('[data-testid="case-call"] textarea[name="note"]').fill('客户在给泳池注水');
    await detail.locator('[data-testid="case-call"] button[type="submit"]').click();
    await eventually(() => detail.getAttribute('data-state')).toBe('contacted');

    await detail.locator('[data-action="close"]').click();
    const close = detail.locator('[data-testid="case-close"]');
    await close.locator('select[name="reason"]').selectOption('legitimate_use');
    await close.locator('textarea[name="note"]').fill('每年一次');
    await close.locator('button[type="submit"]').click();
    await eventually(() => detail.getAttribute('data-state')).toBe('closed');
    await eventually(() => detail.locator('[data-testid="case-history"] li').count()).toBe(2);
    // closed cases leave the queue of those to handle
    await eventually(() => queue.locator(`tr[data-anomaly="${ANOMALY}"]`).count()).toBe(0);

    await detail.locator('a[data-customer="ACC-778899"]').click();
    const customer = page.locator('[data-testid="customer-page"][data-account="ACC-778899"]');
    await eventually(() => customer.locator(`[data-testid="customer-anomalies"] tr[data-anomaly="${ANOMALY}"]`).getAttribute('data-state')).toBe('closed');
    await eventually(() => customer.locator(`[data-testid="customer-incidents"] tr[data-incident="${OUTAGE}"]`).getAttribute('data-minutes')).toBe('90');
    expect(await customer.locator('[data-testid="customer-incidents"]').getAttribute('data-outage-minutes')).toBe('90');
    expect(await customer.locator('[data-testid="consumption"]').getAttribute('data-step')).toBe('day');
    await eventually(() => customer.locator('.consumption-chart canvas').count()).toBe(1);
    await ctx.close();
  }, 60_000);
});
