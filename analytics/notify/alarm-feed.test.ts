/**
 * The notifier on the live composition (analytics/compose.ts with a `notify:` section), against the
 * WeCom fake and a real state database, on the wall clock: the on-call person gets a burst in
 * Chinese (the detector's message code rendered for them) with a link; the link acknowledges it in the alarm's history as that person, once; nobody
 * acknowledging brings it to the duty manager after the configured delay; an alarm suppressed by a
 * planned outage, or raised long ago (a backfill), gets no message; replay sends nothing; a restart
 * resumes an unacknowledged alarm's escalations and repeats from when its routing began.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../core/config/load.ts';
import { startFakeWecom } from '../../test/support/fake-wecom.ts';
import type { FakeReceiver } from '../../test/support/fake-http-receiver.ts';
import { alarmText } from '../../core/messages/alarm-texts.ts';
import { buildAnalytics, type Analytics } from '../compose.ts';
import { notifyConfigSchema } from '../../core/config/notify.ts';
import { createNotifier } from './notifier.ts';
import { AlarmNotifications } from './alarm-feed.ts';

const ENV = { AW_TEST_ACK_SECRET: 'a-test-ack-secret-that-is-long-enough', AW_TEST_WECOM_KEY: 'wk' };
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => { for (const c of closers.splice(0).reverse()) await c(); vi.unstubAllEnvs(); });

/** The `notify:` section: 王工 on call all week, Chen the duty manager, one WeCom robot; `rule` sets the delays. */
function notifySection(sendUrl: string, rule: { escalateAfterMin: number; repeatEveryMin?: number }): Parameters<typeof createNotifier>[0] {
  return {
    publicUrl: 'https://scada.example.cn', ackSecret: '${AW_TEST_ACK_SECRET}',
    people: { wang: { name: '王工' }, boss: { name: 'Chen', language: 'en' } },
    channels: [{ type: 'wecom', name: 'ops', url: sendUrl, key: '${AW_TEST_WECOM_KEY}' }],
    routing: {
      timeZone: 'Asia/Shanghai',
      rotas: { maintenance: { weekly: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '00:00', people: ['wang'] }], dutyManager: 'boss' } },
      rules: [{ name: 'all', rota: 'maintenance', channels: ['ops'], ...rule }],
    },
  };
}

async function setup(opts: { escalateAfterMin?: number } = {}) {
  for (const [k, v] of Object.entries(ENV)) vi.stubEnv(k, v);
  const wecom = await startFakeWecom('wk');
  const dir = mkdtempSync(join(tmpdir(), 'aw-notify-feed-'));
  closers.push(() => rmSync(dir, { recursive: true, force: true }), () => wecom.close());
  const config = parseConfig({
    dataDir: dir,
    topology: { dmas: [{ id: 'central' }, { id: 'south' }] },
    notify: notifySection(wecom.sendUrl, { escalateAfterMin: opts.escalateAfterMin ?? 60 }),
  }, 'site.yaml', { ...process.env, ...ENV });
  const analytics = buildAnalytics({ config, statePath: join(dir, 'state.sqlite'), mode: 'live' });
  closers.push(() => analytics.close());
  return { wecom, analytics };
}

const texts = (f: FakeReceiver) => f.requests.map((r) => (JSON.parse(r.body) as { markdown: { content: string } }).markdown.content);
async function until<T>(what: string, f: () => T | undefined | false): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const v = f();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}
function raise(analytics: Analytics, id: string, dma: string, ts = Date.now()) {
  analytics.alarms.onCondition({ id, type: 'burst', state: 'raise', ts, priority: 'high', dma, text: alarmText('burst.raise', { dma, flow: '40.0', share: 15 }) });
  return analytics.alarms.openAlarms().find((a) => a.conditionId === id)!;
}

describe('alarm notifications on the live composition (F22: alarms reach people without an open dashboard)', () => {
  it('the on-call person gets the burst in Chinese; the link acknowledges it as that person, once', async () => {
    const { wecom, analytics } = await setup();
    const alarm = raise(analytics, 'burst:central', 'central');
    // the dashboard shows the alarm in its user's language: the record carries both renderings
    expect(alarm.localized).toEqual({ 'zh-CN': expect.stringContaining('central 分区疑似爆管'), en: expect.stringContaining('Possible burst in DMA central') });
    expect(alarm.message).toBe(alarm.localized!.en);
    const text = await until('the WeCom message', () => texts(wecom)[0]);
    expect(text).toContain('爆管');
    expect(text).toContain('central 分区疑似爆管:净进水量高于基线 40.0 m³/h');
    const token = /\/ack\/([^)\s]+)\)/.exec(text)![1];
    const notifications = analytics.notifications!;
    expect(notifications.inspectLink(token)).toMatchObject({ ok: true, by: '王工', alarm: { id: alarm.id, state: 'active-unacknowledged' } });
    expect(notifications.acknowledgeByLink(token)).toMatchObject({ ok: true, by: '王工', alarm: { state: 'active-acknowledged', ackedBy: '王工' } });
    const ack = analytics.alarmStore.events(alarm.id).find((e) => e.kind === 'acknowledge')!;
    expect(ack).toMatchObject({ user: '王工', comment: expect.stringContaining('wang') });
    expect(ack.wallTs).toBeGreaterThan(0);
    expect(notifications.acknowledgeByLink(token)).toMatchObject({ ok: false, reason: 'used' });
    await notifications.settled();
    expect(notifications.history(alarm.id)).toEqual([expect.objectContaining({ channel: 'ops', recipientId: 'wang', state: 'delivered' })]);
  });

  it('nobody acknowledges: the duty manager gets it after the configured delay', async () => {
    const { wecom, analytics } = await setup({ escalateAfterMin: 0.02 });
    const raisedAt = Date.now();
    raise(analytics, 'burst:central', 'central');
    await until('the escalation to the duty manager', () => texts(wecom).find((t) => t.includes('Escalated')));
    expect(Date.now() - raisedAt).toBeGreaterThanOrEqual(0.02 * 60_000);
    expect(texts(wecom)[0]).toContain('爆管');
  });

  it('an alarm suppressed by a planned outage, or raised long before now, gets no message', async () => {
    const { wecom, analytics } = await setup();
    const now = Date.now();
    analytics.alarms.suppressArea('south', now - 60_000, now + 3_600_000, 'planned works');
    raise(analytics, 'burst:south', 'south', now);
    raise(analytics, 'burst:old', 'central', now - 3 * 3_600_000);
    // a message sent after both: had either gone out, it would be there first
    raise(analytics, 'burst:central', 'central', now);
    await until('the message of the live alarm', () => texts(wecom).length > 0);
    await analytics.notifications!.settled();
    expect(wecom.requests).toHaveLength(1);
    expect(analytics.notifications!.history(analytics.alarms.openAlarms().find((a) => a.conditionId === 'burst:south')!.id)).toEqual([]);
  });

  it('a restart resumes an unacknowledged alarm from when its routing began: escalations and repeats due meanwhile go out once, its first message not again', async () => {
    for (const [k, v] of Object.entries(ENV)) vi.stubEnv(k, v);
    const wecom = await startFakeWecom('wk');
    const dir = mkdtempSync(join(tmpdir(), 'aw-notify-restart-'));
    closers.push(() => rmSync(dir, { recursive: true, force: true }), () => wecom.close());
    const notify = notifySection(wecom.sendUrl, { escalateAfterMin: 60, repeatEveryMin: 30 });
    const config = parseConfig({ dataDir: dir, topology: { dmas: [{ id: 'central' }] } }, 'site.yaml', { ...process.env, ...ENV });
    // the notifications' wall clock, moved by the test: the platform is down for two hours
    let clock = Date.now();
    const run = () => {
      const analytics = buildAnalytics({ config, statePath: join(dir, 'state.sqlite'), mode: 'live' });
      const notifications = new AlarmNotifications({
        notifier: createNotifier(notify, { db: analytics.alarmStore.db, env: ENV }), config: notifyConfigSchema.parse(notify),
        alarms: analytics.alarms, storedAlarm: (id) => analytics.alarmStore.getAlarm(id), now: () => clock,
      });
      notifications.start();
      closers.push(() => analytics.close(), () => notifications.stop());
      return { analytics, notifications };
    };
    const first = run();
    const alarm = raise(first.analytics, 'burst:central', 'central', clock);
    await until('the first message', () => texts(wecom).length === 1);
    await first.notifications.stop();
    first.analytics.close();
    clock += 125 * 60_000;

    const second = run();
    await until('the messages that fell due while it was down', () => texts(wecom).length >= 4);
    await second.notifications.settled();
    // the escalation to the duty manager (due at 60 min) and one repeat (the fourth, due at 120 min) to both
    const ids = second.notifications.history(alarm.id).map((d) => d.messageId.slice(alarm.id.length + 1)).sort();
    expect(ids).toEqual(['boss/escalation/1', 'boss/repeat/4', 'wang/alarm/0', 'wang/repeat/4']);
    expect(texts(wecom)).toHaveLength(4);
    expect(texts(wecom).filter((t) => t.includes('Escalated'))).toHaveLength(1);
  });
});
