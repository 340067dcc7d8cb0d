/**
 * Each channel against a local receiver that checks the vendor's documented request format and
 * verifies the signature with its own implementation (fakes in test/support: the vendors cannot
 * be reached from here), and e-mail against a real SMTP server (smtp-server) on loopback.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { startFakeReceiver, type FakeReceiver } from '../../../test/support/fake-http-receiver.ts';
import { startFakeWecom } from '../../../test/support/fake-wecom.ts';
import { startFakeDingtalk } from '../../../test/support/fake-dingtalk.ts';
import { aliyunReferenceSignature, startFakeAliyunSms } from '../../../test/support/fake-aliyun-sms.ts';
import { startFakeTencentSms } from '../../../test/support/fake-tencent-sms.ts';
import type { NotifyMessage, Recipient } from './channel.ts';
import { resolveSecret } from './channel.ts';
import { channelConfigSchema } from '../../../core/config/notify.ts';
import { createChannel } from './index.ts';
import { aliyunSignature } from './sms-aliyun.ts';

const NOW = Date.parse('2026-12-03T02:15:00Z');
const clock = () => NOW;

const message: NotifyMessage = {
  id: 'burst:dma-3@2026-12-03T02:14:00.000Z/wang/1',
  alarmId: 'burst:dma-3@2026-12-03T02:14:00.000Z',
  title: '爆管告警 DMA-3',
  text: '**爆管告警** DMA-3 流量突增 ~40 m³/h\n[确认](https://aquawatch.example/ack/abc)',
  sms: { template: 'alarm', params: { type: '爆管', area: 'DMA-3', time: '10:14', link: 'https://aquawatch.example/ack/abc' } },
  ackUrl: 'https://aquawatch.example/ack/abc',
};
const wang: Recipient = { id: 'wang', name: '王工', phone: '+8613800000001', email: 'wang@water.example', language: 'zh-CN' };

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => { for (const c of closers.splice(0)) await c(); });
async function track<T extends { close(): Promise<unknown> }>(p: Promise<T>): Promise<T> {
  const x = await p;
  closers.push(() => x.close());
  return x;
}
const build = (config: unknown, env: Record<string, string>) => createChannel(channelConfigSchema.parse(config), env, clock);

describe('secrets', () => {
  it('are only ${ENV} references in the config, resolved from the environment', () => {
    expect(channelConfigSchema.safeParse({ type: 'wecom', name: 'ops', key: 'literal-key' }).success).toBe(false);
    expect(() => build({ type: 'wecom', name: 'ops', key: '${WECOM_KEY}' }, {})).toThrow(/WECOM_KEY is not set/);
    expect(resolveSecret('${WECOM_KEY}', { WECOM_KEY: 'k' })).toBe('k');
  });
});

describe('generic webhook', () => {
  async function hook(): Promise<FakeReceiver> {
    return track(startFakeReceiver(() => ({ problems: [], answer: { status: 204, body: '' } })));
  }

  it('POSTs the message as JSON with an HMAC-SHA256 signature of the raw body', async () => {
    const fake = await hook();
    const channel = build({ type: 'webhook', name: 'ops-hook', url: `${fake.url}/in`, secret: '${HOOK_SECRET}' }, { HOOK_SECRET: 's3cret' });
    const result = await channel.send(message, wang);
    expect(result).toMatchObject({ ok: true, state: 'delivered', status: 204 });
    const [req] = fake.requests;
    expect(req.headers['x-aquawatch-signature']).toBe(`sha256=${createHmac('sha256', 's3cret').update(req.body).digest('hex')}`);
    expect(req.headers['x-aquawatch-delivery']).toBe(message.id);
    expect(JSON.parse(req.body)).toMatchObject({ id: message.id, alarmId: message.alarmId, title: message.title, ackUrl: message.ackUrl, recipient: { id: 'wang' } });
  });

  it('hands Retry-After to the caller on 429/503, and does not retry a 4xx or pretend on a refused connection', async () => {
    const fake = await hook();
    const channel = build({ type: 'webhook', name: 'ops-hook', url: `${fake.url}/in` }, {});
    fake.queueAnswer({ status: 503, headers: { 'retry-after': '7' }, body: 'busy' });
    fake.queueAnswer({ status: 429, headers: { 'retry-after': new Date(Date.now() + 60_000).toUTCString() }, body: 'slow down' });
    fake.queueAnswer({ status: 404, body: 'no such hook' });
    expect(await channel.send(message, wang)).toMatchObject({ ok: false, retryable: true, retryAfterMs: 7000, status: 503, answer: 'busy' });
    const dated = await channel.send(message, wang);
    expect(dated).toMatchObject({ ok: false, retryable: true, status: 429 });
    expect(dated.retryAfterMs).toBeGreaterThan(55_000);
    expect(await channel.send(message, wang)).toMatchObject({ ok: false, retryable: false, status: 404 });
    await fake.close();
    expect(await channel.send(message, wang)).toMatchObject({ ok: false, retryable: true, answer: expect.stringMatching(/ECONNREFUSED|closed/) });
  });
});

describe('WeCom group robot', () => {
  it('sends markdown to the webhook URL with its key; the fake checks the documented format', async () => {
    const fake = await track(startFakeWecom('wk-123'));
    const channel = build({ type: 'wecom', name: 'wecom-ops', url: fake.sendUrl, key: '${WECOM_KEY}' }, { WECOM_KEY: 'wk-123' });
    expect(await channel.send(message, wang)).toMatchObject({ ok: true, state: 'delivered', answer: '{"errcode":0,"errmsg":"ok"}' });
    expect(fake.problems).toEqual([[]]);
    const body = JSON.parse(fake.requests[0].body) as { markdown: { content: string } };
    expect(body.markdown.content).toContain('**爆管告警** DMA-3');
    expect(body.markdown.content).toContain('王工');
  });

  it('a wrong key is a failure not worth retrying; the robot rate limit (45009) is', async () => {
    const fake = await track(startFakeWecom('wk-123'));
    const wrong = build({ type: 'wecom', name: 'wecom-ops', url: fake.sendUrl, key: '${WECOM_KEY}' }, { WECOM_KEY: 'other' });
    expect(await wrong.send(message, wang)).toMatchObject({ ok: false, retryable: false, answer: expect.stringContaining('93000') });
    fake.queueAnswer({ body: { errcode: 45009, errmsg: 'api freq out of limit' } });
    const right = build({ type: 'wecom', name: 'wecom-ops', url: fake.sendUrl, key: '${WECOM_KEY}' }, { WECOM_KEY: 'wk-123' });
    expect(await right.send(message, wang)).toMatchObject({ ok: false, retryable: true });
  });

  it('cuts a long text to 4096 bytes of UTF-8 without breaking a character', async () => {
    const fake = await track(startFakeWecom('wk-123'));
    const channel = build({ type: 'wecom', name: 'wecom-ops', url: fake.sendUrl, key: '${WECOM_KEY}' }, { WECOM_KEY: 'wk-123' });
    expect(await channel.send({ ...message, text: '漏'.repeat(3000) }, wang)).toMatchObject({ ok: true });
    expect(fake.problems).toEqual([[]]);
  });
});

describe('DingTalk robot', () => {
  it('signs timestamp+"\\n"+secret with HMAC-SHA256 (Base64, URL-encoded) and sends markdown with an @mention', async () => {
    const fake = await track(startFakeDingtalk('dt-token', 'SECabc+/=', clock));
    const channel = build({ type: 'dingtalk', name: 'dingtalk-ops', url: fake.sendUrl, accessToken: '${DT_TOKEN}', secret: '${DT_SECRET}' },
      { DT_TOKEN: 'dt-token', DT_SECRET: 'SECabc+/=' });
    expect(await channel.send(message, wang)).toMatchObject({ ok: true, state: 'delivered' });
    expect(fake.problems).toEqual([[]]);
    expect(fake.requests[0].url.searchParams.get('timestamp')).toBe(String(NOW));
    const body = JSON.parse(fake.requests[0].body) as { markdown: { title: string; text: string }; at: { atMobiles: string[] } };
    expect(body.markdown.title).toBe(message.title);
    expect(body.at.atMobiles).toEqual(['13800000001']);
    expect(body.markdown.text).toContain('@13800000001');
  });

  it('a wrong secret gets errcode 310000 and is not retried', async () => {
    const fake = await track(startFakeDingtalk('dt-token', 'SECright', clock));
    const channel = build({ type: 'dingtalk', name: 'dingtalk-ops', url: fake.sendUrl, accessToken: '${T}', secret: '${S}' }, { T: 'dt-token', S: 'SECwrong' });
    expect(await channel.send(message, wang)).toMatchObject({ ok: false, retryable: false, answer: expect.stringContaining('310000') });
    expect(fake.problems[0]).toContain('sign does not match');
  });
});

describe('Alibaba Cloud SMS', () => {
  const config = (endpoint: string) => ({
    type: 'sms-aliyun', name: 'sms-aliyun', endpoint, accessKeyId: '${ALI_ID}', accessKeySecret: '${ALI_SECRET}', signName: '某市水务',
    templates: { alarm: { id: 'SMS_460770001', params: ['type', 'area', 'time', 'link'] } },
  });

  it('computes the documented example signature (help.aliyun.com/document_detail/101343.html)', () => {
    // The example request of the SMS signature document: AccessKeySecret "testSecret", GET.
    const example: Record<string, string> = {
      AccessKeyId: 'testId', Action: 'SendSms', Format: 'XML', OutId: '123', PhoneNumbers: '15300000001', RegionId: 'cn-hangzhou',
      SignName: '阿里云短信测试专用', SignatureMethod: 'HMAC-SHA1', SignatureNonce: '45e25e9b-0a6f-4070-8c85-2956eda1b466',
      SignatureVersion: '1.0', TemplateCode: 'SMS_71390007', TemplateParam: '{"customer":"test"}', Timestamp: '2017-07-12T02:42:19Z', Version: '2017-05-25',
    };
    expect(aliyunSignature('GET', example, 'testSecret')).toBe('zJDF+Lrzhj/ThnlvIToysFRq6t4=');
    expect(aliyunReferenceSignature('GET', Object.entries(example), 'testSecret')).toBe('zJDF+Lrzhj/ThnlvIToysFRq6t4=');
  });

  it('sends SendSms with the template code and JSON parameters; the fake verifies the signature', async () => {
    const fake = await track(startFakeAliyunSms('LTAI-id', 'ali-secret', clock));
    const channel = build(config(fake.url + '/'), { ALI_ID: 'LTAI-id', ALI_SECRET: 'ali-secret' });
    const result = await channel.send(message, wang);
    expect(result).toMatchObject({ ok: true, state: 'sent', answer: expect.stringContaining('"Code":"OK"') });
    expect(fake.problems).toEqual([[]]);
    const form = new URLSearchParams(fake.requests[0].body);
    expect(form.get('PhoneNumbers')).toBe('13800000001');
    expect(form.get('TemplateCode')).toBe('SMS_460770001');
    expect(form.get('SignName')).toBe('某市水务');
    expect(JSON.parse(form.get('TemplateParam')!)).toEqual(message.sms.params);
  });

  it('a wrong secret is SignatureDoesNotMatch (not retried); flow control is retried; a missing template is a config error', async () => {
    const fake = await track(startFakeAliyunSms('LTAI-id', 'ali-secret', clock));
    const wrong = build(config(fake.url + '/'), { ALI_ID: 'LTAI-id', ALI_SECRET: 'nope' });
    expect(await wrong.send(message, wang)).toMatchObject({ ok: false, retryable: false, status: 400, answer: expect.stringContaining('SignatureDoesNotMatch') });
    const right = build(config(fake.url + '/'), { ALI_ID: 'LTAI-id', ALI_SECRET: 'ali-secret' });
    fake.queueAnswer({ body: { Code: 'isv.BUSINESS_LIMIT_CONTROL', Message: '触发分钟级流控Permits:1' } });
    expect(await right.send(message, wang)).toMatchObject({ ok: false, retryable: true });
    expect(await right.send({ ...message, sms: { template: 'summary', params: {} } }, wang)).toMatchObject({ ok: false, retryable: false, answer: expect.stringContaining('no SMS template') });
    expect(await right.send(message, { ...wang, phone: undefined })).toMatchObject({ ok: false, retryable: false });
  });
});

describe('Tencent Cloud SMS', () => {
  const config = (endpoint: string) => ({
    type: 'sms-tencent', name: 'sms-tencent', endpoint, secretId: '${TC_ID}', secretKey: '${TC_KEY}', smsSdkAppId: '1400006666', signName: '某市水务',
    templates: { alarm: { id: '1234567', params: ['type', 'area', 'time'] } },
  });

  it('sends SendSms 2021-01-11 signed with TC3-HMAC-SHA256; the fake verifies it independently', async () => {
    const fake = await track(startFakeTencentSms('AKIDtest', 'tc-key', clock));
    const channel = build(config(fake.url + '/'), { TC_ID: 'AKIDtest', TC_KEY: 'tc-key' });
    expect(await channel.send(message, wang)).toMatchObject({ ok: true, state: 'sent', answer: expect.stringContaining('"Code":"Ok"') });
    expect(fake.problems).toEqual([[]]);
    const req = fake.requests[0];
    expect(req.headers['x-tc-action']).toBe('SendSms');
    expect(req.headers['x-tc-timestamp']).toBe(String(NOW / 1000));
    expect(JSON.parse(req.body)).toMatchObject({ PhoneNumberSet: ['+8613800000001'], SmsSdkAppId: '1400006666', TemplateId: '1234567', TemplateParamSet: ['爆管', 'DMA-3', '10:14'] });
  });

  it('a wrong key is AuthFailure.SignatureFailure, not retried; RequestLimitExceeded is retried', async () => {
    const fake = await track(startFakeTencentSms('AKIDtest', 'tc-key', clock));
    const wrong = build(config(fake.url + '/'), { TC_ID: 'AKIDtest', TC_KEY: 'other' });
    expect(await wrong.send(message, wang)).toMatchObject({ ok: false, retryable: false, answer: expect.stringContaining('AuthFailure.SignatureFailure') });
    fake.queueAnswer({ body: { Response: { Error: { Code: 'RequestLimitExceeded', Message: 'too many' }, RequestId: 'r' } } });
    const right = build(config(fake.url + '/'), { TC_ID: 'AKIDtest', TC_KEY: 'tc-key' });
    expect(await right.send(message, wang)).toMatchObject({ ok: false, retryable: true });
  });
});

describe('e-mail over SMTP (real local smtp-server)', () => {
  interface Mail { from: string; to: string[]; raw: string; user?: string }
  async function smtp(reject?: { code: number; text: string }): Promise<{ port: number; mails: Mail[] }> {
    const mails: Mail[] = [];
    const server = new SMTPServer({
      disabledCommands: ['STARTTLS'], allowInsecureAuth: true, authMethods: ['PLAIN', 'LOGIN'],
      onAuth(auth, _session, cb) {
        if (auth.username === 'alarms' && auth.password === 'mail-pass') cb(null, { user: 'alarms' });
        else cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      },
      onRcptTo(address, _session, cb) {
        if (reject) cb(Object.assign(new Error(reject.text), { responseCode: reject.code }));
        else cb();
        void address;
      },
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
          mails.push({ from, to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8'), user: session.user as string | undefined });
          cb();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return { port: (server.server.address() as AddressInfo).port, mails };
  }
  const config = (port: number) => ({ type: 'email', name: 'mail', host: '127.0.0.1', port, user: 'alarms', password: '${SMTP_PASSWORD}', from: 'aquawatch <alarms@water.example>' });

  it('logs in and sends the message to the recipient, with the acknowledgement link', async () => {
    const server = await smtp();
    const channel = build(config(server.port), { SMTP_PASSWORD: 'mail-pass' });
    closers.push(() => channel.close!());
    const english = { ...message, title: 'Burst DMA-3', text: 'Burst alarm in DMA-3: flow up ~40 m3/h' };
    const result = await channel.send(english, { ...wang, language: 'en' });
    expect(result).toMatchObject({ ok: true, state: 'sent', answer: expect.stringMatching(/^250 /) });
    expect(server.mails).toHaveLength(1);
    const [mail] = server.mails;
    expect(mail).toMatchObject({ from: 'alarms@water.example', to: ['wang@water.example'], user: 'alarms' });
    expect(mail.raw).toMatch(/^Subject: Burst DMA-3\r$/m);
    expect(mail.raw).toMatch(/^X-Aquawatch-Delivery: /m);
    expect(mail.raw).toContain('Burst alarm in DMA-3: flow up ~40 m3/h');
    expect(mail.raw).toContain('https://aquawatch.example/ack/abc');
  });

  it('a 4xx reply is retried, a 5xx (no such mailbox) is not, a wrong password is not', async () => {
    const busy = await smtp({ code: 451, text: 'try again later' });
    const a = build(config(busy.port), { SMTP_PASSWORD: 'mail-pass' });
    closers.push(() => a.close!());
    expect(await a.send(message, wang)).toMatchObject({ ok: false, retryable: true, status: 451 });
    const refused = await smtp({ code: 550, text: 'no such mailbox' });
    const b = build(config(refused.port), { SMTP_PASSWORD: 'mail-pass' });
    closers.push(() => b.close!());
    expect(await b.send(message, wang)).toMatchObject({ ok: false, retryable: false, status: 550 });
    const c = build(config(refused.port), { SMTP_PASSWORD: 'wrong' });
    closers.push(() => c.close!());
    expect(await c.send(message, wang)).toMatchObject({ ok: false, retryable: false, status: 535 });
  });
});
