/**
 * Fake WeCom group robot (企业微信群机器人), checking the documented request
 * (developer.work.weixin.qq.com/document/path/91770): POST /cgi-bin/webhook/send?key=KEY, JSON
 * `{"msgtype":"markdown","markdown":{"content":"..."}}`, content ≤ 4096 bytes. Answers `{errcode, errmsg}`
 * like the real one: 93000 for a wrong key, 40008 for a bad message type, 40058 for missing content.
 */
import { parseJsonBody, startFakeReceiver, type FakeReceiver } from './fake-http-receiver.ts';

export async function startFakeWecom(key: string): Promise<FakeReceiver & { sendUrl: string }> {
  const fake = await startFakeReceiver((req) => {
    const problems: string[] = [];
    if (req.method !== 'POST') problems.push(`method ${req.method}`);
    if (req.url.pathname !== '/cgi-bin/webhook/send') problems.push(`path ${req.url.pathname}`);
    if (!String(req.headers['content-type']).startsWith('application/json')) problems.push(`content-type ${req.headers['content-type']}`);
    if (req.url.searchParams.get('key') !== key) {
      problems.push('wrong key');
      return { problems, answer: { body: { errcode: 93000, errmsg: 'invalid webhook url' } } };
    }
    const body = parseJsonBody(req.body, problems) as { msgtype?: unknown; markdown?: { content?: unknown } } | undefined;
    if (body?.msgtype !== 'markdown') {
      problems.push(`msgtype ${String(body?.msgtype)}`);
      return { problems, answer: { body: { errcode: 40008, errmsg: 'invalid message type' } } };
    }
    const content = body.markdown?.content;
    if (typeof content !== 'string' || content === '') problems.push('markdown.content missing');
    else if (Buffer.byteLength(content) > 4096) problems.push('markdown.content over 4096 bytes');
    if (problems.length) return { problems, answer: { body: { errcode: 40058, errmsg: problems.join('; ') } } };
    return { problems, answer: { body: { errcode: 0, errmsg: 'ok' } } };
  });
  return Object.assign(fake, { sendUrl: `${fake.url}/cgi-bin/webhook/send` });
}
