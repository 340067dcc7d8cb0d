/**
 * The dashboard in a real browser (Debian's chromium through playwright-core) against the whole
 * platform started with simulators as a child process on free ports, as `npm start` runs it:
 * every role signs in; live values move; the demo scenario's burst shows as an alarm and on the
 * map within seconds of the detector raising it; a viewer cannot acknowledge it; it reaches the
 * on-call maintenance user on the demo's WeCom phone inbox in Chinese, and the message's link, opened
 * in a phone-sized browser, acknowledges it as that user, which the dashboard then shows; an alarm
 * nobody acknowledges reaches the duty manager (the dispatcher) after the demo's delay, and the
 * dispatcher acknowledges it with a comment;
 * customer service sees the outage area with its customer count; a planned outage announced less
 * than 24 h ahead is flagged; the language switch works and is remembered. Each view is saved as a
 * screenshot under test/e2e/artifacts/.
 *
 * One platform start is shared by the tests, which run in order: the scenario's events begin in the
 * last minutes of the 7-day backfill and are in progress when it has caught up, so the fast checks
 * run first while it builds up.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { freePort, waitFor } from '../support/ports.ts';
import { ensureWebBuilt } from '../../dashboard/web/build.ts';
import { loadCity } from '../../simulators/city/index.ts';
import { readScenarioFile } from '../../simulators/scenarios/load.ts';
import { resolveScenario } from '../../simulators/scenarios/resolve.ts';
import { DEMO_ESCALATE_AFTER_MIN } from '../../bin/commands/demo-notify.ts';
import { DEMO_USERS } from '../../dashboard/server/index.ts';

const ARTIFACTS = join(import.meta.dirname, 'artifacts');
// chromium.launch gives every run a fresh temporary profile (user-data dir)
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const DEMO_SCENARIO = join(import.meta.dirname, '../../simulators/scenarios/suite/demo.yaml');
/** Upper bound for the 7-day backfill to catch up (about 2 min on an idle machine, up to 9 on a loaded one). */
const BACKFILL_WAIT_MS = 600_000;

const DEMO = {
  admin: 'demo-admin-2026', dispatcher: 'demo-dispatcher-2026', maintenance: 'demo-maintenance-2026',
  service: 'demo-service-2026', viewer: 'demo-viewer-2026',
} as const;
type DemoUser = keyof typeof DEMO;
/** Who the demo's acknowledgement link acknowledges as: the maintenance user's name (bin/commands/demo-notify.ts). */
const MAINTENANCE_NAME = DEMO_USERS.find((u) => u.username === 'maintenance')!.displayName;

interface AlarmRow { id: string; type: string; dma?: string; state: string; raisedAt: number }

describe('dashboard in chromium on the running platform', () => {
  let child: ChildProcess | undefined;
  let browser: Browser | undefined;
  let base = '';
  let out = '';
  let dataDir = '';
  /** Wall time of the platform's start: the demo scenario is loaded just after it. */
  let startedAt = 0;
  /** Onset of the demo scenario's burst, resolved against `startedAt` (the platform's is the same or a little later). */
  let scenarioBurstOnset = 0;
  const contexts: BrowserContext[] = [];
  let apiCookie = '';

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await ensureWebBuilt({ log: () => {} });
    dataDir = mkdtempSync(join(tmpdir(), 'aw-dash-'));
    const httpPort = await freePort();
    const mqttPort = await freePort();
    startedAt = Date.now();
    const demo = resolveScenario(readScenarioFile(DEMO_SCENARIO), loadCity('demo'), { now: startedAt });
    scenarioBurstOnset = demo.groundTruth.find((t) => t.type === 'burst' && t.dma === 'central')!.start;
    child = spawn(process.execPath, ['bin/aquawatch.js', 'start', '--data-dir', dataDir, '--http-port', String(httpPort), '--mqtt-port', String(mqttPort)],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AQUAWATCH_LOG_LEVEL: 'warn' } });
    child.stdout!.on('data', (d) => { out += d; });
    child.stderr!.on('data', (d) => { out += d; });
    await waitFor(() => out.includes('dashboard:'), 90_000, 100, 'the platform to print the dashboard address');
    base = `http://127.0.0.1:${httpPort}`;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    // a plain HTTP client for the test's own view of the server (what the detector raised, when)
    const login = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'viewer', password: DEMO.viewer }) });
    expect(login.status).toBe(200);
    apiCookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
  }, 150_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 30_000);

  const apiGet = async <T,>(path: string): Promise<T> => {
    const r = await fetch(`${base}/api/v1${path}`, { headers: { cookie: apiCookie } });
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return await r.json() as T;
  };

  /** A fresh browser context (own cookies and storage) signed in as `user`. */
  const signIn = async (user: DemoUser, opts: { viaForm?: boolean; lang?: 'zh-CN' | 'en' } = {}): Promise<Page> => {
    const ctx = await browser!.newContext({ viewport: { width: 1600, height: 1000 }, locale: 'zh-CN', timezoneId: 'UTC' });
    contexts.push(ctx);
    if (opts.lang) await ctx.addInitScript((l) => { if (!sessionStorage.getItem('aw-test-lang')) { localStorage.setItem('aquawatch.lang', l); sessionStorage.setItem('aw-test-lang', '1'); } }, opts.lang);
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    (page as Page & { errors?: string[] }).errors = errors;
    await page.goto(`${base}/`);
    if (opts.viaForm) {
      await page.fill('input[name="username"]', user);
      await page.fill('input[name="password"]', DEMO[user]);
      await page.click('form.signin button[type="submit"]');
    } else {
      await page.click(`[data-demo-user="${user}"]`);
    }
    await page.waitForSelector('.control-room[data-ready="yes"]', { timeout: 30_000 });
    return page;
  };

  const open = async (page: Page, view: string) => {
    await page.click(`nav a[data-route="${view}"]`);
    await page.waitForSelector(`.shell[data-view="${view}"]`);
  };

  /**
   * What the page shows, polled until it matches: a rendered text, attribute or count can still be
   * changing when first read (a heading half-translated, a list still filling), so every assertion on
   * the page waits for the expected state (up to `timeout`), never for a fixed time.
   */
  const eventually = <T,>(read: () => Promise<T>, timeout = 15_000) => expect.poll(read, { timeout, interval: 100 });

  /** The demo's phone inbox (/demo-phone) in a phone-sized browser context. */
  const openDemoPhone = async (): Promise<Page> => {
    const ctx = await browser!.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    contexts.push(ctx);
    const page = await ctx.newPage();
    await page.goto(`${base}/demo-phone`);
    return page;
  };

  /** The acknowledgement links on the phone now (reloaded), with the alarm and recipient their signed token names. */
  const ackLinksOnPhone = async (phone: Page) => {
    await phone.goto(`${base}/demo-phone`);
    const hrefs = await phone.$$eval('a[data-ack-link]', (as) => as.map((a) => a.getAttribute('href') ?? ''));
    return hrefs.map((href) => {
      const claim = JSON.parse(Buffer.from(href.split('/ack/')[1].split('.')[0], 'base64url').toString('utf8')) as { a: string; r: string };
      return { href, alarmId: claim.a, recipientId: claim.r };
    });
  };

  const shot = async (page: Page, name: string) => {
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: false });
  };

  it('shows the demo users on the sign-in page and refuses a wrong password', async () => {
    const ctx = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(ctx);
    const page = await ctx.newPage();
    await page.goto(`${base}/`);
    await page.waitForSelector('[data-demo-user="dispatcher"]');
    await eventually(() => page.locator('[data-demo-user]').count()).toBe(5);
    await page.fill('input[name="username"]', 'dispatcher');
    await page.fill('input[name="password"]', 'not-the-password');
    await page.click('form.signin button[type="submit"]');
    await eventually(() => page.locator('form.signin .error').textContent()).toContain('用户名或密码错误');
    await shot(page, 'signin');
  }, 60_000);

  it('signs in as each role and shows only the views and buttons the role may use', async () => {
    const expectNav: Record<DemoUser, boolean> = { admin: true, dispatcher: false, maintenance: false, service: false, viewer: false };
    const roleOf: Record<DemoUser, string> = { admin: 'admin', dispatcher: 'dispatcher', maintenance: 'maintenance', service: 'customer_service', viewer: 'viewer' };
    for (const user of Object.keys(DEMO) as DemoUser[]) {
      const page = await signIn(user, { viaForm: user === 'dispatcher' });
      await eventually(() => page.getAttribute('.user', 'data-role')).toBe(roleOf[user]);
      await eventually(() => page.locator('nav a[data-route="admin"]').count()).toBe(expectNav[user] ? 1 : 0);
      // planned outages: the create button only for roles with outages.edit
      await open(page, 'customers');
      await page.waitForSelector('[data-testid="planned-outages"]');
      const mayEdit = user === 'admin' || user === 'dispatcher' || user === 'service';
      await eventually(() => page.locator('[data-action="new-planned"]').count()).toBe(mayEdit ? 1 : 0);
      expect((page as Page & { errors?: string[] }).errors).toEqual([]);
      await page.context().close();
    }
  }, 120_000);

  it('switches the language, remembers it, and formats the UI in both', async () => {
    const page = await signIn('viewer');
    await eventually(() => page.textContent('nav a[data-route="alarms"]')).toBe('报警');
    await page.selectOption('[data-testid="lang-switch"]', 'en');
    await eventually(() => page.textContent('nav a[data-route="alarms"]')).toBe('Alarms');
    await eventually(() => page.getAttribute('html', 'lang')).toBe('en');
    await page.reload();
    await page.waitForSelector('.control-room[data-ready="yes"]');
    await eventually(() => page.textContent('nav a[data-route="alarms"]')).toBe('Alarms');
    await eventually(() => page.textContent('[data-testid="trend-pressure"] h2')).toBe('Network pressure (MPa)');
    await shot(page, 'control-room-en');
    await page.selectOption('[data-testid="lang-switch"]', 'zh-CN');
    await eventually(() => page.textContent('nav a[data-route="alarms"]')).toBe('报警');
    // the heading's unit appears once the map's sensors have loaded: read it only when complete
    await eventually(() => page.textContent('[data-testid="trend-pressure"] h2')).toBe('管网压力趋势 (MPa)');
  }, 60_000);

  it('flags a planned outage announced less than 24 h ahead and shows the Chinese notice text', async () => {
    const page = await signIn('service');
    await open(page, 'customers');
    await page.click('[data-action="new-planned"]');
    const form = page.locator('[data-testid="planned-form"]');
    await form.locator('input[type="checkbox"][value="east"]').check();
    // start in 3 hours, customers notified now: short notice
    const start = await page.evaluate(() => Date.now() + 3 * 3_600_000);
    const local = (ts: number) => page.evaluate(([t]) => {
      const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(t).map((x) => [x.type, x.value]));
      return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
    }, [ts] as const);
    await form.locator('input[name="start"]').fill(await local(start));
    await form.locator('input[name="end"]').fill(await local(start + 2 * 3_600_000));
    await form.locator('input[name="reason"]').fill('更换阀门 valve replacement');
    await eventually(() => page.locator('[data-testid="short-notice-preview"]').count()).toBe(1);
    await form.locator('button[type="submit"]').click();
    const saved = page.locator('[data-testid="saved-notice"]');
    await saved.waitFor();
    await eventually(() => saved.getAttribute('data-short-notice')).toBe('yes');
    await eventually(() => page.textContent('[data-testid="notice-sms"]')).toMatch(/[\u4e00-\u9fff]/);
    await eventually(() => page.locator('[data-testid="planned-outages"] tr[data-short-notice="yes"]').count()).toBeGreaterThan(0);
    await shot(page, 'customer-service-planned');
  }, 60_000);

  it('moves live values on the control room and draws the map and the tiles', async () => {
    const page = await signIn('dispatcher');
    await page.waitForSelector('[data-testid="trend-pressure"][data-loaded="yes"]', { timeout: 30_000 });
    const stamps = () => page.$$eval('[data-testid="trend-pressure"] li[data-sensor]', (els) => els.map((e) => Number(e.getAttribute('data-ts') || 0)));
    const before = (await waitFor(async () => { const s = await stamps(); return s.length > 0 ? s : undefined; }, 15_000, 100, 'the pressure trend\'s sensor list'))!;
    // a reading reaches the open page over socket.io: some sensor's latest timestamp moves forward
    // (trends show the last hour: live values count once the 7-day backfill has caught up)
    await waitFor(async () => (await stamps()).some((ts, i) => ts > (before[i] ?? 0)), BACKFILL_WAIT_MS, 500, 'a live pressure value on the page');
    await eventually(() => page.locator('.area-map canvas').count()).toBeGreaterThan(0);
    await eventually(() => page.locator('[data-testid="dma-states"] li').count()).toBe(5);
    await eventually(() => page.textContent('[data-kpi="inflow"] .tile-value')).toMatch(/\d/);
    await shot(page, 'control-room');
  }, BACKFILL_WAIT_MS + 60_000);

  it('shows the scenario burst as an alarm and on the map within seconds; a dispatcher acks it, a viewer cannot', async () => {
    const dispatcher = await signIn('dispatcher');
    const viewer = await signIn('viewer');
    await open(viewer, 'alarms');
    // the test's own look at the server: the moment the detector's burst alarm exists. The demo's
    // burst is in Central, raised (event time) after its onset near the end of the backfill;
    // analytics also ran over the rest of the backfilled week, whose alarms (already cleared, still
    // unacknowledged) are open too.
    const isScenarioBurst = (a: AlarmRow) => a.type === 'burst' && a.dma === 'central' && a.raisedAt >= scenarioBurstOnset && a.state.startsWith('active');
    const burst = (await waitFor(async () => (await apiGet<AlarmRow[]>('/alarms?open=true')).find(isScenarioBurst), BACKFILL_WAIT_MS, 500, 'the scenario burst alarm'))!;
    const raisedSeen = Date.now();
    // on the control room's map: the burst area turns to burst
    await dispatcher.waitForSelector(`[data-testid="dma-states"] li[data-dma="${burst.dma}"][data-state="burst"]`, { timeout: 15_000 });
    await dispatcher.waitForSelector('[data-testid="alarm-banner"].prio-critical, [data-testid="alarm-banner"].prio-high', { timeout: 15_000 });
    // in the viewer's open alarms view, live
    await viewer.waitForSelector(`tr[data-alarm-id="${burst.id}"]`, { timeout: 15_000 });
    const delayMs = Date.now() - raisedSeen;
    expect(delayMs).toBeLessThan(15_000);
    await shot(dispatcher, 'control-room-burst');

    // the viewer has no ack button, and the server refuses the viewer's ack
    await eventually(() => viewer.locator(`tr[data-alarm-id="${burst.id}"] [data-action="ack"]`).count()).toBe(0);
    const status = await viewer.evaluate(async (id) => {
      const me = await (await fetch('/api/v1/auth/me')).json() as { csrfToken: string };
      const r = await fetch(`/api/v1/alarms/${encodeURIComponent(id)}/ack`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrfToken }, body: '{}' });
      return r.status;
    }, burst.id);
    expect(status).toBe(403);

    // the on-call maintenance user gets it on the demo phone (the WeCom robot the demo notifies) in
    // Chinese; the message's link, opened in a phone-sized browser, acknowledges it as that person
    const phone = await openDemoPhone();
    const link = (await waitFor(async () => (await ackLinksOnPhone(phone)).find((l) => l.alarmId === burst.id && l.recipientId === 'maintenance'), 60_000, 500, 'the burst on the maintenance user\'s phone'))!;
    const message = phone.locator('article.msg', { has: phone.locator(`a[href="${link.href}"]`) });
    await eventually(() => message.textContent()).toMatch(/爆管[\s\S]*central[\s\S]*维修班/);
    await shot(phone, 'demo-phone');
    await message.locator('a[data-ack-link]').click();
    await phone.waitForSelector('[data-action="ack"]');
    await phone.click('[data-action="ack"]');
    await eventually(() => phone.textContent('[data-acknowledged]')).toContain(MAINTENANCE_NAME);
    await shot(phone, 'demo-phone-acknowledged');
    // the dashboard shows it acknowledged by that person, live
    await eventually(() => viewer.locator(`tr[data-alarm-id="${burst.id}"]`).getAttribute('data-state')).toBe('active-acknowledged');
    const after = await apiGet<{ alarm: { ackedBy?: string } }>(`/alarms/${encodeURIComponent(burst.id)}`);
    expect(after.alarm.ackedBy).toBe(MAINTENANCE_NAME);
    const deliveries = await apiGet<{ recipientId: string; channel: string; state: string }[]>(`/alarms/${encodeURIComponent(burst.id)}/deliveries`);
    expect(deliveries).toContainEqual(expect.objectContaining({ recipientId: 'maintenance', channel: 'demo-phone', state: 'delivered' }));
    await open(dispatcher, 'alarms');
    const row = dispatcher.locator(`tr[data-alarm-id="${burst.id}"]`);
    await eventually(() => row.getAttribute('data-state')).toBe('active-acknowledged');
    await row.locator('button', { hasText: '历史' }).click();
    await dispatcher.waitForSelector('[data-testid="alarm-detail"] tbody tr');
    await dispatcher.waitForSelector('[data-testid="alarm-deliveries"] tbody tr');
    await shot(dispatcher, 'alarms');

    // maintenance: the burst became a work order
    const maint = await signIn('maintenance');
    await open(maint, 'maintenance');
    await maint.waitForSelector('[data-wo]', { timeout: 15_000 });
    await shot(maint, 'maintenance');
  }, BACKFILL_WAIT_MS + 120_000);

  it('shows customer service the outage area with its customer count', async () => {
    const page = await signIn('service');
    await open(page, 'customers');
    type Outage = { dma: string; kind: string; customersAffected: number };
    const current = (await waitFor(async () => (await apiGet<Outage[]>('/outages/current')).find((o) => o.customersAffected > 0), BACKFILL_WAIT_MS, 1000, 'an area without water or on low pressure'))!;
    const row = page.locator(`[data-testid="current-outages"] tr[data-dma="${current.dma}"]`).first();
    await row.waitFor({ timeout: 15_000 });
    // the count can change while the outage spreads: poll until the row shows what the server says now
    const shownAndServed = async () => {
      const served = (await apiGet<Outage[]>('/outages/current')).find((o) => o.dma === current.dma)?.customersAffected;
      const shown = Number(await row.getAttribute('data-customers'));
      const text = (await row.textContent()) ?? '';
      return served !== undefined && shown === served && text.includes(served.toLocaleString('zh-CN'));
    };
    await eventually(shownAndServed).toBe(true);
    await shot(page, 'customer-service');
  }, BACKFILL_WAIT_MS + 60_000);

  it('brings an alarm nobody acknowledged to the duty manager after the configured delay; the dispatcher acks it with a comment', async () => {
    // alarms of the scenario nobody acknowledged (the chlorine excursion; the short-notice planned
    // outage entered above, raised when the analytics catch up with its notice time) escalate from
    // the maintenance user to the duty manager, the dispatcher, the demo's delay after they were sent
    type Delivery = { messageId: string; recipientId: string; queuedAt: number; state: string };
    const escalated = (await waitFor(async () => {
      for (const a of (await apiGet<AlarmRow[]>('/alarms?open=true')).filter((x) => x.raisedAt >= scenarioBurstOnset && x.state === 'active-unacknowledged')) {
        const d = await apiGet<Delivery[]>(`/alarms/${encodeURIComponent(a.id)}/deliveries`);
        const first = d.find((x) => x.recipientId === 'maintenance');
        const manager = d.find((x) => x.recipientId === 'dispatcher' && x.messageId.includes('/escalation/') && x.state === 'delivered');
        if (first && manager) return { alarm: a, first, manager };
      }
      return undefined;
    }, BACKFILL_WAIT_MS, 1000, 'an escalation to the duty manager'))!;
    expect(escalated.manager.queuedAt - escalated.first.queuedAt).toBeGreaterThanOrEqual(DEMO_ESCALATE_AFTER_MIN * 60_000);
    const phone = await openDemoPhone();
    await waitFor(async () => (await ackLinksOnPhone(phone)).some((l) => l.alarmId === escalated.alarm.id && l.recipientId === 'dispatcher'), 15_000, 500, 'the escalation on the phone');
    await eventually(() => phone.locator('article.msg', { hasText: '告警升级' }).filter({ hasText: '调度员' }).count()).toBeGreaterThan(0);

    // the dispatcher acknowledges it in the dashboard with a comment; a viewer's page follows live
    const dispatcher = await signIn('dispatcher');
    const viewer = await signIn('viewer');
    await open(viewer, 'alarms');
    await open(dispatcher, 'alarms');
    const row = dispatcher.locator(`tr[data-alarm-id="${escalated.alarm.id}"]`);
    await row.locator('[data-action="ack"]').click();
    await dispatcher.fill('[data-testid="ack-form"] input[name="comment"]', '已派抢修队 crew sent');
    await dispatcher.click('[data-testid="ack-form"] button[type="submit"]');
    await eventually(() => row.getAttribute('data-state')).toBe('active-acknowledged');
    await eventually(() => viewer.locator(`tr[data-alarm-id="${escalated.alarm.id}"]`).getAttribute('data-state')).toBe('active-acknowledged');
    const after = await apiGet<{ alarm: { ackedBy?: string; ackComment?: string } }>(`/alarms/${encodeURIComponent(escalated.alarm.id)}`);
    expect(after.alarm.ackedBy).toBe('dispatcher');
    expect(after.alarm.ackComment).toBe('已派抢修队 crew sent');
  }, BACKFILL_WAIT_MS + 60_000);

  it('renders the reports, sensors and administration views', async () => {
    const page = await signIn('admin');
    await open(page, 'reports');
    await page.waitForSelector('[data-testid="kpi-report"]', { timeout: 30_000 });
    await eventually(() => page.getAttribute('[data-action="csv"]', 'href')).toContain('/api/v1/kpis.csv');
    await shot(page, 'reports');
    await open(page, 'sensors');
    await page.waitForSelector('[data-testid="sensors-table"] tr[data-sensor]');
    await eventually(() => page.locator('[data-testid="sensors-table"] tr[data-sensor]').count()).toBeGreaterThan(10);
    await shot(page, 'sensors');
    await open(page, 'admin');
    await page.waitForSelector('[data-testid="users-table"] tr[data-user="viewer"]');
    await shot(page, 'admin');
    expect((page as Page & { errors?: string[] }).errors).toEqual([]);
  }, 90_000);
});
