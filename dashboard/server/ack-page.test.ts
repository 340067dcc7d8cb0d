/**
 * The acknowledgement page on a real composition (analytics/compose.ts with `notify:`, the WeCom
 * fake): the link from the message shows the alarm on a phone page in the recipient's language;
 * only the button acknowledges (a link preview does not), as that person; the link then is used.
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
import { startFakeWecom } from '../../test/support/fake-wecom.ts';
import type { DashboardContext } from './context.ts';
import { registerAckPage } from './ack-page.ts';

const closers: (() => unknown)[] = [];
afterEach(async () => { for (const c of closers.splice(0).reverse()) await c(); vi.unstubAllEnvs(); });

describe('the acknowledgement page /ack/<token>', () => {
  it('shows the alarm in the recipient\'s language; the button acknowledges it as that person, once', async () => {
    vi.stubEnv('AW_ACK_PAGE_SECRET', 'an-ack-page-test-secret-long-enough!');
    vi.stubEnv('AW_ACK_PAGE_WECOM', 'wk');
    const wecom = await startFakeWecom('wk');
    const dir = mkdtempSync(join(tmpdir(), 'aw-ack-page-'));
    closers.push(() => rmSync(dir, { recursive: true, force: true }), () => wecom.close());
    const config = parseConfig({
      dataDir: dir, topology: { dmas: [{ id: 'central' }] },
      notify: {
        publicUrl: 'https://scada.example.cn', ackSecret: '${AW_ACK_PAGE_SECRET}', people: { wang: { name: '王工' } },
        channels: [{ type: 'wecom', name: 'ops', url: wecom.sendUrl, key: '${AW_ACK_PAGE_WECOM}' }],
        routing: { timeZone: 'Asia/Shanghai', rotas: { m: { weekly: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '00:00', people: ['wang'] }], dutyManager: 'wang' } },
          rules: [{ name: 'all', rota: 'm', channels: ['ops'], escalateAfterMin: 60 }] },
      },
    }, 'site.yaml');
    const analytics = buildAnalytics({ config, statePath: join(dir, 'state.sqlite'), mode: 'live' });
    closers.push(() => analytics.close());
    const app = Fastify();
    closers.push(() => app.close());
    registerAckPage(app, { config, analytics: () => ({ notifications: analytics.notifications }) as unknown as AnalyticsService } as DashboardContext);

    analytics.alarms.onCondition({ id: 'burst:central', type: 'burst', state: 'raise', ts: Date.now(), priority: 'high', dma: 'central', text: alarmText('burst.raise', { dma: 'central', flow: '40.0', share: 15 }) });
    const alarm = analytics.alarms.openAlarms()[0];
    let message: string | undefined;
    for (let i = 0; i < 400 && !message; i++) {
      message = wecom.requests[0]?.body;
      if (!message) await new Promise((r) => setTimeout(r, 25));
    }
    const path = /https:\/\/scada\.example\.cn(\/ack\/[^)\s"\\]+)/.exec(message!)![1];

    const shown = await app.inject({ method: 'GET', url: path });
    expect(shown.statusCode).toBe(200);
    expect(shown.body).toContain('<meta name="viewport"');
    expect(shown.body).toContain('确认告警');
    expect(shown.body).toContain('central 分区疑似爆管');
    expect(analytics.alarmStore.getAlarm(alarm.id)!.state).toBe('active-unacknowledged');
    expect((await app.inject({ method: 'GET', url: `${path}?lang=en` })).body).toContain('Possible burst in DMA central');

    const acked = await app.inject({ method: 'POST', url: `${path}?lang=zh-CN`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '' });
    expect(acked.statusCode).toBe(200);
    expect(acked.body).toContain('data-acknowledged');
    expect(acked.body).toContain('王工');
    expect(analytics.alarmStore.getAlarm(alarm.id)).toMatchObject({ state: 'active-acknowledged', ackedBy: '王工' });
    expect(analytics.alarmStore.events(alarm.id).find((e) => e.kind === 'acknowledge')).toMatchObject({ user: '王工' });

    const again = await app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '' });
    expect(again.statusCode).toBe(410);
    expect((await app.inject({ method: 'GET', url: path.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) })).statusCode).toBe(400);
  });
});
