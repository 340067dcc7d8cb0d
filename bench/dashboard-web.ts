/**
 * The browser figures of the dashboard (called by bench/dashboard.ts):
 * - `dashboard.js_gzip_kb`: gzip size of the JavaScript the control-room view loads on a cold first
 *   visit (every script response chromium receives until the view is ready), target ≤ 500 kB;
 * - `dashboard.first_load_ms`: from chromium's navigation start to the signed-in control room with
 *   the map and the tiles drawn (the app's `aw:control-ready` performance mark), cold cache, on
 *   localhost; median of `runs`, target ≤ 1.5 s.
 * The platform runs as `npm start` does (simulators, free ports); the figures are taken after the
 * 7-day backfill so the backfill's CPU use does not count.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { freePort, waitFor } from '../test/support/ports.ts';
import { ensureWebBuilt } from '../dashboard/web/build.ts';
import { median, type Figure } from './run.ts';

// chromium.launch gives every run a fresh temporary profile (user-data dir)
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function measureWebFigures(opts: { runs: number; quick: boolean }): Promise<Figure[]> {
  await ensureWebBuilt();
  const dataDir = mkdtempSync(join(tmpdir(), 'aw-bench-web-'));
  const httpPort = await freePort();
  const mqttPort = await freePort();
  const child = spawn(process.execPath, ['bin/aquawatch.js', 'start', '--data-dir', dataDir, '--http-port', String(httpPort), '--mqtt-port', String(mqttPort)],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AQUAWATCH_LOG_LEVEL: 'info' } });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; if (out.length > 1e6) out = out.slice(-1e5); });
  child.stderr!.on('data', () => {});
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    await waitFor(() => out.includes('dashboard:'), 90_000, 100, 'the platform to start');
    const base = `http://127.0.0.1:${httpPort}`;
    // after the backfill (or 2 min), so the figure is the dashboard's, not the simulator's
    await waitFor(() => out.includes('backfill done'), 120_000, 250, 'the end of the backfill').catch(() => undefined);
    const login = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'dispatcher', password: 'demo-dispatcher-2026' }) });
    if (!login.ok) throw new Error(`sign-in for the benchmark failed: ${login.status} ${await login.text()}`);
    const [name, value] = (login.headers.get('set-cookie') ?? '').split(';')[0].split('=');

    const loadMs: number[] = [];
    let jsGzipBytes = 0;
    const runs = Math.max(1, opts.runs) + 1; // the first is a warm-up of the server (not counted)
    for (let i = 0; i < runs; i++) {
      const ctx = await browser.newContext({ viewport: { width: 1600, height: 1000 } }); // cold cache each time
      await ctx.addCookies([{ name, value, url: base }]);
      const page = await ctx.newPage();
      const scripts: Promise<number>[] = [];
      page.on('response', (r) => {
        if (r.request().resourceType() === 'script') scripts.push(r.body().then((b) => gzipSync(b).length, () => 0));
      });
      await page.goto(`${base}/`);
      await page.waitForFunction(() => performance.getEntriesByName('aw:control-ready').length > 0, undefined, { timeout: 60_000 });
      const ms = await page.evaluate(() => performance.getEntriesByName('aw:control-ready')[0].startTime);
      const bytes = (await Promise.all(scripts)).reduce((a, b) => a + b, 0);
      if (i > 0) loadMs.push(ms);
      jsGzipBytes = bytes;
      await ctx.close();
    }
    return [
      { bench: 'dashboard.js_gzip_kb', value: Math.round(jsGzipBytes / 102.4) / 10, unit: 'kB', target: '≤ 500' },
      { bench: 'dashboard.first_load_ms', value: Math.round(median(loadMs)), unit: 'ms', target: '≤ 1500', runs: loadMs },
    ];
  } finally {
    await browser.close();
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}
