/**
 * The notifier put together from config, against the WeCom and Alibaba SMS fakes and a real SQLite
 * database, with time driven explicitly: the on-call person gets the alarm in Chinese with a working
 * acknowledgement link, the next person after the escalation delay, nobody after the link is used;
 * a failing channel raises notify.channel_down on the other channel. And the README's example config
 * is valid.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { parse } from 'yaml';
import { startFakeWecom } from '../../test/support/fake-wecom.ts';
import { startFakeAliyunSms } from '../../test/support/fake-aliyun-sms.ts';
import type { FakeReceiver } from '../../test/support/fake-http-receiver.ts';
import { notifyConfigSchema } from '../../core/config/notify.ts';
import { createNotifier, type Notifier } from './notifier.ts';

const MIN = 60_000;
const T0 = Date.parse('2026-12-03T10:00:00+08:00');
const ENV = { ACK_SECRET: 'a-test-ack-secret-that-is-long-enough', WECOM_KEY: 'wk', ALI_ID: 'LTAI-id', ALI_SECRET: 'ali-secret' };

const closers: (FakeReceiver | Notifier)[] = [];
afterEach(async () => { for (const c of closers.splice(0)) await c.close(); });

async function setup(env: Record<string, string> = ENV) {
  const wecom = await startFakeWecom('wk');
  // The SMS request is signed with the real clock (the provider checks it), not the test's event time.
  const sms = await startFakeAliyunSms('LTAI-id', 'ali-secret', Date.now);
  const db = new Database(':memory:');
  const notifier = createNotifier({
    publicUrl: 'https://scada.water.example.cn/',
    ackSecret: '${ACK_SECRET}',
    people: {
      wang: { name: '王工', phone: '+8613800000001' },
      li: { name: '李工', phone: '+8613800000002' },
      boss: { name: 'Chen', phone: '+8613800000009', language: 'en' },
    },
    channels: [
      { type: 'wecom', name: 'wecom-ops', url: wecom.sendUrl, key: '${WECOM_KEY}' },
      { type: 'sms-aliyun', name: 'sms', endpoint: `${sms.url}/`, accessKeyId: '${ALI_ID}', accessKeySecret: '${ALI_SECRET}', signName: '某市水务',
        templates: { alarm: { id: 'SMS_1', params: ['type', 'area', 'link'] }, escalation: { id: 'SMS_2', params: ['type', 'area', 'link'] }, channel_down: { id: 'SMS_5', params: ['channel', 'time'] } } },
    ],
    routing: {
      timeZone: 'Asia/Shanghai',
      rotas: { maintenance: { weekly: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '00:00', people: ['wang', 'li'] }], dutyManager: 'boss' } },
      rules: [{ name: 'bursts', match: { types: ['burst'] }, rota: 'maintenance', channels: ['wecom-ops', 'sms'], escalateAfterMin: 15 }],
    },
    delivery: { channelDownAfter: 3 },
  }, { db, env });
  closers.push(wecom, sms, notifier);
  return { wecom, sms, db, notifier };
}

const burst = (id: string) => ({ id, type: 'burst', priority: 'high' as const, area: 'DMA-3', message: '夜间流量突增 ~40 m³/h' });
const wecomText = (f: FakeReceiver, i: number) => (JSON.parse(f.requests[i].body) as { markdown: { content: string } }).markdown.content;

describe('createNotifier', () => {
  it('the on-call person gets the burst in Chinese with a link that acknowledges it; escalation stops after that', async () => {
    const { wecom, sms, notifier } = await setup();
    notifier.raise(burst('burst:DMA-3@1'), T0);
    await notifier.tick(T0);
    expect(wecom.requests).toHaveLength(1);
    const text = wecomText(wecom, 0);
    expect(text).toContain('告警: 爆管 DMA-3');
    expect(text).toContain('夜间流量突增');
    expect(text).toContain('王工');
    const form = new URLSearchParams(sms.requests[0].body);
    expect(form.get('PhoneNumbers')).toBe('13800000001');
    expect(form.get('TemplateCode')).toBe('SMS_1');
    expect([...wecom.problems, ...sms.problems].flat()).toEqual([]);
    expect(notifier.history('burst:DMA-3@1').map((d) => `${d.recipientId}:${d.channel}:${d.state}`)).toEqual(['wang:wecom-ops:delivered', 'wang:sms:sent']);

    expect(notifier.nextDueAt()).toBe(T0 + 15 * MIN);
    await notifier.tick(T0 + 15 * MIN);
    expect(wecomText(wecom, 1)).toContain('告警升级');
    expect(new URLSearchParams(sms.requests[1].body).get('PhoneNumbers')).toBe('13800000002');

    const link = /\((https:\/\/scada\.water\.example\.cn\/ack\/[^)]+)\)/.exec(text)![1];
    const token = link.split('/ack/')[1];
    expect(JSON.parse(new URLSearchParams(sms.requests[0].body).get('TemplateParam')!).link).toBe(link);
    expect(notifier.verifyLink(token, T0 + 20 * MIN)).toMatchObject({ ok: true, claim: { alarmId: 'burst:DMA-3@1', recipientId: 'wang' } });
    expect(notifier.acknowledgeByLink(token, T0 + 20 * MIN)).toMatchObject({ ok: true, claim: { recipientId: 'wang' } });
    expect(notifier.acknowledgeByLink(token, T0 + 21 * MIN)).toEqual({ ok: false, reason: 'used' });
    await notifier.tick(T0 + 60 * MIN);
    expect(wecom.requests).toHaveLength(2); // the duty manager never got it
    expect(notifier.nextDueAt()).toBeUndefined();
  });

  it('when nobody acknowledges, the duty manager gets it in English after the second delay', async () => {
    const { wecom, notifier } = await setup();
    notifier.raise(burst('burst:DMA-3@2'), T0);
    for (let t = notifier.nextDueAt(); t !== undefined; t = notifier.nextDueAt()) await notifier.tick(t);
    expect(wecom.requests).toHaveLength(3);
    expect(wecomText(wecom, 2)).toContain('Escalated (not acknowledged): Burst DMA-3');
    expect(wecomText(wecom, 2)).toContain('Time: 2026-12-03 10:30');
  });

  it('a channel that keeps failing raises notify.channel_down to the duty manager on the other channel (F22: failed deliveries alarm)', async () => {
    const { sms, notifier } = await setup({ ...ENV, WECOM_KEY: 'revoked' });
    for (const i of [1, 2, 3]) notifier.raise(burst(`burst:DMA-3@x${i}`), T0);
    await notifier.tick(T0);
    const codes = sms.requests.map((r) => new URLSearchParams(r.body).get('TemplateCode'));
    expect(codes).toEqual(['SMS_1', 'SMS_1', 'SMS_1', 'SMS_5']);
    const down = new URLSearchParams(sms.requests[3].body);
    expect(down.get('PhoneNumbers')).toBe('13800000009');
    expect(JSON.parse(down.get('TemplateParam')!)).toEqual({ channel: 'wecom-ops', time: '10:00' });
    expect(notifier.history('burst:DMA-3@x1').find((d) => d.channel === 'wecom-ops')).toMatchObject({ state: 'failed', answer: expect.stringContaining('93000') });
  });

  it('refuses a rule naming an unknown channel and a rota naming an unknown person', () => {
    const bad = notifyConfigSchema.safeParse({
      publicUrl: 'https://x.example', ackSecret: '${S}', people: {}, channels: [{ type: 'wecom', name: 'w', key: '${K}' }],
      routing: { timeZone: 'Asia/Shanghai', rotas: { r: { weekly: [{ days: ['mon'], from: '08:00', to: '18:00', people: ['ghost'] }], dutyManager: 'ghost' } },
        rules: [{ name: 'x', rota: 'r', channels: ['nope'], escalateAfterMin: 5 }] },
    });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.message)).toEqual(expect.arrayContaining(['no channel named nope', 'no person ghost in people']));
  });

  it('the README example of notify: is valid and shows every channel type', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const yaml = /### Notifications \(`notify:`\)[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)![1];
    const result = notifyConfigSchema.safeParse((parse(yaml) as { notify: unknown }).notify);
    expect(result.error?.issues ?? []).toEqual([]);
    expect(result.data!.channels.map((c) => c.type)).toEqual(['wecom', 'dingtalk', 'sms-aliyun', 'sms-tencent', 'email', 'webhook']);
  });
});
