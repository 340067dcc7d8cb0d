/**
 * A browser test's dashboard: the in-process harness (dashboard.ts) serving the built web app on a
 * loopback port, and one chromium (Debian's, driven by playwright-core) for the whole file; signing
 * in as a demo user at 1600×1000 in zh-CN, opening a view from the navigation, and polling for a
 * state (never waiting for time).
 */
import { expect } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureWebBuilt } from '../../dashboard/web/build.ts';
import { password, startHarness, type Harness } from './dashboard.ts';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface BrowserDashboard {
  h: Harness;
  browser: Browser;
  base: string;
  /** A new browser context signed in as `user`, on the control room once it is ready. */
  signIn(user: string): Promise<Page>;
  close(): Promise<void>;
}

export async function startBrowserDashboard(opts: { config?: Record<string, unknown> } = {}): Promise<BrowserDashboard> {
  const { dist } = await ensureWebBuilt({ log: () => {} });
  const h = await startHarness({ webDist: dist, config: opts.config });
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const address = h.app.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  return {
    h, browser, base,
    signIn: async (user) => {
      const ctx = await browser.newContext({ viewport: { width: 1600, height: 1000 }, locale: 'zh-CN', timezoneId: 'UTC' });
      const page = await ctx.newPage();
      await page.goto(`${base}/`);
      await page.fill('input[name="username"]', user);
      await page.fill('input[name="password"]', password(user));
      await page.click('form.signin button[type="submit"]');
      await page.waitForSelector('.control-room[data-ready="yes"]', { timeout: 30_000 });
      return page;
    },
    close: async () => {
      await browser.close();
      await h.close();
    },
  };
}

/** Polls `read` until the assertion that follows holds. */
export const eventually = <T,>(read: () => Promise<T>, timeout = 15_000) => expect.poll(read, { timeout, interval: 100 });

/** Opens a view from the navigation and waits for it. */
export async function openView(page: Page, view: string): Promise<void> {
  await page.click(`nav a[data-route="${view}"]`);
  await page.waitForSelector(`.shell[data-view="${view}"]`);
}
