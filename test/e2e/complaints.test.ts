/**
 * The complaint ledger and compensation statements in chromium, against a dashboard started
 * in-process (test/support/dashboard.ts: real fastify, SQLite, the live analytics' outage register),
 * not the whole platform. Customer service records a complaint from the 12345 hotline linked to an
 * outage and closes it with a resolution; then computes a customer's compensation statement for the
 * quarter: the burst paid after its unpaid first hour, the municipal power failure excluded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, openView, startBrowserDashboard, type BrowserDashboard } from '../support/browser.ts';
import { T0, TOPOLOGY } from '../support/dashboard.ts';

const H = 3_600_000;
const BURST = `north:${T0}`;

let d: BrowserDashboard;

beforeAll(async () => {
  d = await startBrowserDashboard({
    config: {
      compensation: { outage: { rate: { amount: 6, per: 'hour' }, minimumMinutes: 60 } },
      topology: { ...TOPOLOGY, meters: [{ id: 'M-1001', customer: 'ACC-N1', dma: 'north', address: '北街 1 号' }, TOPOLOGY.meters[1]] },
    },
  });
  d.h.register.recordIncident({ id: BURST, dma: 'north', start: T0, end: T0 + 3 * H, customersAffected: 1200, planned: false, cause: 'burst' });
  d.h.register.recordIncident({ id: `north:${T0 + 5 * H}`, dma: 'north', start: T0 + 5 * H, end: T0 + 7 * H, customersAffected: 1200, planned: false, cause: 'power_failure' });
}, 180_000);

afterAll(async () => { await d?.close(); });

describe('complaints and compensation in chromium', () => {
  it('customer service records a 12345 complaint linked to an outage, closes it, and computes a customer\'s statement', async () => {
    const page = await d.signIn('service');
    await openView(page, 'complaints');
    await page.click('[data-action="new-complaint"]');
    const form = page.locator('[data-testid="complaint-form"]');
    await form.locator('select[name="channel"]').selectOption('hotline_12345');
    await form.locator('select[name="category"]').selectOption('no_water');
    await form.locator('input[name="customer"]').fill('ACC-N1');
    await eventually(() => form.locator(`select[name="incidentId"] option[value="${BURST}"]`).count()).toBe(1);
    await form.locator('select[name="incidentId"]').selectOption(BURST);
    await form.locator('textarea[name="text"]').fill('北街 1 号停水，12345 转来');
    await form.locator('[data-action="save-complaint"]').click();

    const panel = page.locator('[data-testid="complaint-panel"]');
    await eventually(() => panel.getAttribute('data-status')).toBe('open');
    // the list is read again after the save, apart from the panel: its row comes when that answer does
    await eventually(() => page.locator('tr[data-complaint] td', { hasText: BURST }).count()).toBe(1);
    await panel.locator('input[name="resolution"]').fill('抢修完成，已电话回访');
    await panel.locator('[data-action="close-complaint"]').click();
    await eventually(() => panel.getAttribute('data-status')).toBe('closed');
    await eventually(() => page.locator('[data-testid="complaint-history"] li').count()).toBe(2);
    await eventually(() => page.getAttribute('[data-testid="complaint-counts"]', 'data-total')).toBe('1');

    await openView(page, 'compensation');
    await page.fill('[data-testid="compensation-form"] input[name="customer"]', 'ACC-N1');
    await page.click('[data-action="compute-statement"]');
    const statement = page.locator('[data-testid="statement"][data-customer="ACC-N1"]');
    // the burst: 3 h, its first hour unpaid, 120 min × 6/h = 12; the power failure pays nothing
    await eventually(() => statement.getAttribute('data-amount')).toBe('12');
    await expect(statement.locator('[data-testid="statement-amount"]').textContent()).resolves.toContain('12.00 CNY');
    const excluded = statement.locator(`tr[data-incident="north:${T0 + 5 * H}"]`);
    await expect(excluded.getAttribute('data-excluded')).resolves.toBe('yes');
    await expect(excluded.textContent()).resolves.toContain('原因不予补偿');
    await expect(page.getAttribute('[data-action="statement-csv"]', 'href')).resolves.toContain('customer=ACC-N1');
    await page.context().close();
  }, 60_000);
});
