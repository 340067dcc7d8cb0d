/**
 * The demo's phone inbox with the demo's own `notify:` section (bin/commands/demo-notify.ts) on a
 * real composition: the notifier's WeCom channel posts over HTTP to the inbox served by the same
 * app, which shows the on-call maintenance user the burst in Chinese with a working ack link; the
 * robot endpoint answers like WeCom (a wrong key is refused, the message not kept).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { parseConfig } from '../../core/config/load.ts';
import { alarmText } from '../../core/messages/alarm-texts.ts';
import { buildAnalytics } from '../../analytics/compose.ts';
import type { AnalyticsService } from '../../analytics/service.ts';
import { demoNotifyConfig, withDemoPhones, DEMO_ACK_SECRET_ENV, DEMO_DUTY_MANAGER, DEMO_ON_CALL, DEMO_SMS_KEY_ID_ENV, DEMO_SMS_KEY_SECRET_ENV, DEMO_WECOM_KEY_ENV } from '../../bin/commands/demo-notify.ts';
import { createChannel } from '../../analytics/notify/channels/index.ts';
import { freePort, waitFor } from '../../test/support/ports.ts';
import type { DashboardContext } from './context.ts';
import { registerAckPage } from './ack-page.ts';
import { DEMO_PHONE_PATH, DEMO_PHONE_WECOM_PATH, registerDemoPhone, wecomMarkdownToHtml } from './demo-phone.ts';

const closers: (() => unknown)[] = [];
afterEach(async () => { for (const c of closers.splice(0).reverse()) await c(); vi.unstubAllEnvs(); });

describe('the demo phone inbox', () => {
  it('receives the demo notifier\'s WeCom message for the on-call user, in Chinese, with the ack link', async () => {
    // the demo generates its secrets into the environment unless set: set here, so they are put back after
    vi.stubEnv(DEMO_ACK_SECRET_ENV, '');
    vi.stubEnv(DEMO_WECOM_KEY_ENV, '');
    vi.stubEnv(DEMO_SMS_KEY_ID_ENV, '');
    vi.stubEnv(DEMO_SMS_KEY_SECRET_ENV, '');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const dir = mkdtempSync(join(tmpdir(), 'aw-demo-phone-'));
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    const notify = demoNotifyConfig(base, 'Asia/Shanghai');
    expect(notify.routing.rotas.crew).toMatchObject({ dutyManager: DEMO_DUTY_MANAGER, weekly: [{ people: [DEMO_ON_CALL] }] });
    const config = parseConfig({ dataDir: dir, topology: { dmas: [{ id: 'central' }] }, notify }, '(demo)');
    const analytics = buildAnalytics({ config, statePath: join(dir, 'state.sqlite'), mode: 'live' });
    closers.push(() => analytics.close());

    const app = Fastify();
    closers.push(() => app.close());
    const messages = registerDemoPhone(app, config.notify, 'Asia/Shanghai');
    registerAckPage(app, { config, analytics: () => ({ notifications: analytics.notifications }) as unknown as AnalyticsService } as DashboardContext);
    await app.listen({ host: '127.0.0.1', port });

    analytics.alarms.onCondition({ id: 'burst:central', type: 'burst', state: 'raise', ts: Date.now(), priority: 'high', dma: 'central', text: alarmText('burst.raise', { dma: 'central', flow: '40.0', share: 15 }) });
    await waitFor(() => messages.length > 0, 10_000, 25, 'the WeCom message in the inbox');
    const page = await (await fetch(`${base}${DEMO_PHONE_PATH}`)).text();
    expect(page).toContain('central 分区疑似爆管');
    expect(page).toContain('维修班');
    const ackLink = /<a href="([^"]+)" data-ack-link>确认告警<\/a>/.exec(page)![1];
    expect(ackLink.startsWith(`${base}/ack/`)).toBe(true);
    const ackPage = await (await fetch(ackLink)).text();
    expect(ackPage).toContain('data-action="ack"');

    const wrongKey = await fetch(`${base}${DEMO_PHONE_PATH}${DEMO_PHONE_WECOM_PATH}?key=nope`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ msgtype: 'markdown', markdown: { content: 'x' } }) });
    expect(await wrongKey.json()).toEqual({ errcode: 93000, errmsg: 'invalid webhook url' });
    const notMarkdown = await fetch(`${base}${DEMO_PHONE_PATH}${DEMO_PHONE_WECOM_PATH}?key=${process.env[DEMO_WECOM_KEY_ENV]}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ msgtype: 'text', text: { content: 'x' } }) });
    expect(await notMarkdown.json()).toMatchObject({ errcode: 40008 });
    expect(messages).toHaveLength(1);
  });

  it('receives a customer notice by the real Alibaba SMS channel, signed, and shows the text a customer reads', async () => {
    for (const name of [DEMO_ACK_SECRET_ENV, DEMO_WECOM_KEY_ENV, DEMO_SMS_KEY_ID_ENV, DEMO_SMS_KEY_SECRET_ENV]) vi.stubEnv(name, '');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const config = parseConfig({ dataDir: tmpdir(), topology: { dmas: [{ id: 'central' }] }, notify: demoNotifyConfig(base, 'Asia/Shanghai') }, '(demo)');
    const app = Fastify();
    closers.push(() => app.close());
    const messages = registerDemoPhone(app, config.notify, 'Asia/Shanghai');
    await app.listen({ host: '127.0.0.1', port });
    const smsConfig = config.notify!.channels.find((c) => c.name === config.notify!.customerNotices!.channel)!;
    const message = {
      id: 'customer-notice/n-1/M-1', title: '', text: '',
      sms: { template: 'outage_planned', params: { cause: '管网维护', area: '中心区', start: '12月5日 08:00', end: '12月5日 12:00' } },
    };
    const to = { id: 'M-1', name: 'C-1', phone: '+8613900000101', language: 'zh-CN' as const };
    const sent = await createChannel(smsConfig, process.env).send(message, to);
    expect(sent).toMatchObject({ ok: true, state: 'sent' });
    expect(messages.map((m) => m.content)).toEqual(['**短信 SMS → 139••••0101**\n\n【演示水务】因管网维护，中心区将于12月5日 08:00至12月5日 12:00停水，请提前储水。']);
    // signed with another secret: refused like the vendor does, nothing shown
    const forged = await createChannel(smsConfig, { ...process.env, [DEMO_SMS_KEY_SECRET_ENV]: 'not-the-secret' }).send(message, to);
    expect(forged).toMatchObject({ ok: false, answer: expect.stringContaining('SignatureDoesNotMatch') });
    expect(messages).toHaveLength(1);
  });

  it('gives a few customers per area a demo phone number, each its own', () => {
    const meters = ['a', 'a', 'a', 'b'].map((dma, i) => ({ id: `M-${i}`, customer: `C-${i}`, dma, active: true, large: false }));
    const phones = withDemoPhones(meters).map((m) => m.phone);
    expect(phones).toEqual(['+8613900000101', '+8613900000102', undefined, '+8613900000201']);
  });

  it('renders the channel\'s markdown: bold, quotes and only http(s) links, everything else as text', () => {
    const html = wecomMarkdownToHtml('**告警: 爆管**\n\n> <script>x</script>\n\n[确认告警](https://a.example/ack/t.s)\n\n[bad](javascript:alert(1))');
    expect(html).toBe('<p><strong>告警: 爆管</strong></p><blockquote>&#60;script&#62;x&#60;/script&#62;</blockquote>'
      + '<p><a href="https://a.example/ack/t.s" data-ack-link>确认告警</a></p><p>[bad](javascript:alert(1))</p>');
  });
});
