/**
 * Fake DingTalk custom robot (钉钉自定义机器人) with 加签, checking the documented request
 * (open.dingtalk.com/document/robots/customize-robot-security-settings, custom-robot-access):
 * POST /robot/send?access_token=T&timestamp=MS&sign=S where S is Base64(HMAC-SHA256(key=secret,
 * "MS\nsecret")), URL-encoded; timestamp within an hour of the receiver's clock; JSON
 * `{"msgtype":"markdown","markdown":{"title","text"}}`. Answers errcode 310000 for a bad signature,
 * like the real one. The signature is recomputed here independently of the channel's code.
 */
import crypto from 'node:crypto';
import { parseJsonBody, startFakeReceiver, type FakeReceiver } from './fake-http-receiver.ts';

export async function startFakeDingtalk(accessToken: string, secret: string, clock: () => number): Promise<FakeReceiver & { sendUrl: string }> {
  const fake = await startFakeReceiver((req) => {
    const problems: string[] = [];
    if (req.method !== 'POST' || req.url.pathname !== '/robot/send') problems.push(`${req.method} ${req.url.pathname}`);
    if (req.url.searchParams.get('access_token') !== accessToken) {
      return { problems: [...problems, 'wrong access_token'], answer: { body: { errcode: 300001, errmsg: 'token is not exist' } } };
    }
    // The raw query still holds the URL-encoded sign: a Base64 '+' sent unencoded would arrive as a space.
    const rawSign = /[?&]sign=([^&]*)/.exec(req.url.search)?.[1] ?? '';
    const timestamp = req.url.searchParams.get('timestamp') ?? '';
    const mac = crypto.createHmac('sha256', Buffer.from(secret, 'utf8'));
    mac.update(Buffer.from(timestamp + '\n' + secret, 'utf8'));
    const expected = mac.digest().toString('base64');
    if (decodeURIComponent(rawSign) !== expected || /[+/=]/.test(rawSign)) problems.push('sign does not match');
    if (!/^\d{13}$/.test(timestamp) || Math.abs(clock() - Number(timestamp)) > 3600_000) problems.push('timestamp outside one hour');
    if (problems.length) return { problems, answer: { body: { errcode: 310000, errmsg: `sign not match, more: ${problems.join('; ')}` } } };
    const body = parseJsonBody(req.body, problems) as { msgtype?: unknown; markdown?: { title?: unknown; text?: unknown }; at?: { atMobiles?: unknown } } | undefined;
    if (body?.msgtype !== 'markdown') problems.push(`msgtype ${String(body?.msgtype)}`);
    if (typeof body?.markdown?.title !== 'string' || body.markdown.title === '') problems.push('markdown.title missing');
    if (typeof body?.markdown?.text !== 'string' || body.markdown.text === '') problems.push('markdown.text missing');
    if (problems.length) return { problems, answer: { body: { errcode: 40035, errmsg: problems.join('; ') } } };
    return { problems, answer: { body: { errcode: 0, errmsg: 'ok' } } };
  });
  return Object.assign(fake, { sendUrl: `${fake.url}/robot/send` });
}
