/**
 * The analysis status in chromium, against a dashboard started in-process (test/support/dashboard.ts,
 * with a real analytics worker whose wall clock the test moves): while the analysis keeps up, no
 * strip; when it falls further behind live than its waiting rules hold it, every view says alarms
 * may be late and by how much, in Chinese or English, on the wall display too; caught up, the strip
 * goes. A quiet alarm list must not be read as a quiet network while the analysis is behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { T0 } from '../support/dashboard.ts';
import { eventually, openView as open, startBrowserDashboard, type BrowserDashboard } from '../support/browser.ts';

const MIN = 60_000;
/** The strip is read every 15 s: what it shows follows the server within one read. */
const ONE_READ_MS = 30_000;

let b: BrowserDashboard;
beforeAll(async () => { b = await startBrowserDashboard(); }, 180_000);
afterAll(async () => { await b?.close(); });

describe('analysis status strip', () => {
  it('says alarms may be late while the analysis is behind live, in both languages and on every view, and goes when it has caught up', async () => {
    b.h.analysisClock.wall = T0;
    const page = await b.signIn('dispatcher');
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const strip = page.locator('[data-testid="analysis-status"]');
    expect(await strip.count()).toBe(0);

    b.h.analysisClock.wall = T0 + 47 * MIN;
    await eventually(() => strip.count(), ONE_READ_MS).toBe(1);
    expect(await strip.getAttribute('data-status')).toBe('degraded');
    expect(await strip.locator('[data-problem="behind"]').textContent()).toBe('分析滞后实时数据 47 分钟：报警将延迟同样时间');
    expect(await strip.locator('b').textContent()).toBe('报警可能延迟');

    await page.selectOption('[data-testid="lang-switch"]', 'en');
    await eventually(() => page.locator('[data-testid="analysis-status"] [data-problem="behind"]').textContent(), ONE_READ_MS)
      .toBe('the analysis is 47 min behind live: alarms come that much late');
    await open(page, 'alarms');
    await eventually(() => page.locator('[data-testid="analysis-status"]').count(), ONE_READ_MS).toBe(1);
    // the control room's wall display (?wall), read from across the room
    await page.goto(`${b.base}/?wall`);
    await page.waitForSelector('.shell.wall .control-room[data-ready="yes"]', { timeout: 30_000 });
    await eventually(() => page.locator('.shell.wall [data-testid="analysis-status"] [data-problem="behind"]').count(), ONE_READ_MS).toBe(1);

    // caught up: the strip goes
    b.h.analysisClock.wall = T0 + 2 * MIN;
    await eventually(() => page.locator('[data-testid="analysis-status"]').count(), ONE_READ_MS).toBe(0);
    expect(errors).toEqual([]);
    await page.context().close();
  }, 180_000);
});
