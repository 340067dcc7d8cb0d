/**
 * The demo's phone inbox (demo mode only): a WeCom group robot endpoint that keeps what it receives
 * and a phone-sized page that shows it, so a visitor of `npm start` sees the alarm messages the
 * on-call crew would get on 企业微信, in Chinese, and can tap their acknowledgement links.
 *
 * The robot endpoint speaks the vendor's documented protocol (developer.work.weixin.qq.com/document/
 * path/91770: POST JSON `{"msgtype":"markdown","markdown":{"content":...}}` to
 * `<url>/cgi-bin/webhook/send?key=KEY`, answer `{errcode, errmsg}`), so the demo's notifier uses the
 * real WeCom channel over HTTP; it stands in for the vendor only because the vendor cannot be
 * reached from a demo. Customer notices come the same way to its Alibaba SMS endpoint (SendSms,
 * signature checked), shown filled into the demo's template texts (DEMO_SMS_TEMPLATES).
 * Messages are kept in memory (the latest DEMO_PHONE_KEEP).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { NotifyConfig } from '../../core/config/notify.ts';
import { resolveSecret } from '../../analytics/notify/channels/channel.ts';
import { aliyunSignature } from '../../analytics/notify/channels/sms-aliyun.ts';

export const DEMO_PHONE_PATH = '/demo-phone';
export const DEMO_PHONE_WECOM_PATH = '/cgi-bin/webhook/send';
export const DEMO_PHONE_KEEP = 200;
/** The demo's Alibaba SMS endpoint (customer notices): the vendor's SendSms protocol, shown in the inbox. */
export const DEMO_PHONE_SMS_PATH = '/sms';
/**
 * The texts of the demo's SMS templates, as the vendor would hold them once registered (Alibaba's
 * `${param}` placeholders; the vendor puts the signature 【SignName】 first): the inbox shows the SMS a customer would read.
 */
export const DEMO_SMS_TEMPLATES: Record<string, string> = {
  SMS_900000001: '因${cause}，${area}将于${start}至${end}停水，请提前储水。',
  SMS_900000002: 'Water supply to ${area} stops from ${start} to ${end} for ${cause}. Please store water.',
  SMS_900000003: '因${cause}，${area}自${start}起停水，正在抢修，预计${restore}恢复供水。',
};
const WECOM_MARKDOWN_MAX_BYTES = 4096;

export interface DemoPhoneMessage { n: number; receivedAt: number; content: string }

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The WeCom markdown our channel sends (bold, links, quotes, paragraphs) as HTML; everything else stays text. */
export function wecomMarkdownToHtml(content: string): string {
  return content.split(/\n\n+/).map((para) => {
    const quote = para.startsWith('> ');
    let html = esc(quote ? para.slice(2) : para)
      .replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>')
      .replace(/\[([^\]]+)\]\((https?:\/\/[^)\s]+)\)/g, (_m, text: string, url: string) => `<a href="${url}" data-ack-link>${text}</a>`);
    html = html.replace(/\n/g, '<br>');
    return quote ? `<blockquote>${html}</blockquote>` : `<p>${html}</p>`;
  }).join('');
}

/** The robot key of the notify channel that points at this inbox, or undefined when none does. */
function inboxKey(notify: NotifyConfig | undefined, env: Record<string, string | undefined>): string | undefined {
  const channel = notify?.channels.find((c) => c.type === 'wecom' && new URL(c.url).pathname === `${DEMO_PHONE_PATH}${DEMO_PHONE_WECOM_PATH}`);
  return channel?.type === 'wecom' ? resolveSecret(channel.key, env) : undefined;
}

/** The access key pair of the SMS channel that points at this inbox, or undefined when none does. */
function inboxSmsKeys(notify: NotifyConfig | undefined, env: Record<string, string | undefined>): { id: string; secret: string } | undefined {
  const channel = notify?.channels.find((c) => c.type === 'sms-aliyun' && new URL(c.endpoint).pathname === `${DEMO_PHONE_PATH}${DEMO_PHONE_SMS_PATH}`);
  return channel?.type === 'sms-aliyun' ? { id: resolveSecret(channel.accessKeyId, env), secret: resolveSecret(channel.accessKeySecret, env) } : undefined;
}

/** A customer's number shown masked, 138••••0001 (asterisks would read as bold in the inbox's markdown). */
const maskedPhone = (n: string) => (n.length >= 11 ? `${n.slice(0, 3)}••••${n.slice(-4)}` : n);

/**
 * Serve the inbox page, and the robot endpoint when the demo's `notify:` section has a WeCom
 * channel pointing at it (without one the page says so: the dashboard links it in every demo).
 * Returns the messages kept, newest last.
 */
export function registerDemoPhone(app: FastifyInstance, notify: NotifyConfig | undefined, siteTimeZone: string, env: Record<string, string | undefined> = process.env): DemoPhoneMessage[] {
  const key = inboxKey(notify, env);
  const messages: DemoPhoneMessage[] = [];
  let received = 0;
  const keep = (content: string) => {
    messages.push({ n: ++received, receivedAt: Date.now(), content });
    if (messages.length > DEMO_PHONE_KEEP) messages.shift();
  };
  const fmt = new Intl.DateTimeFormat('zh-CN', { timeZone: siteTimeZone, dateStyle: 'short', timeStyle: 'medium', hourCycle: 'h23' });

  // The vendor's answers: 93000 wrong key, 40008 not a markdown message, 40058 content missing or too long.
  if (key) app.post<{ Querystring: { key?: string } }>(`${DEMO_PHONE_PATH}${DEMO_PHONE_WECOM_PATH}`, { schema: { hide: true } }, async (req) => {
    if (req.query.key !== key) return { errcode: 93000, errmsg: 'invalid webhook url' };
    const body = req.body as { msgtype?: unknown; markdown?: { content?: unknown } } | undefined;
    if (body?.msgtype !== 'markdown') return { errcode: 40008, errmsg: 'invalid message type' };
    const content = body.markdown?.content;
    if (typeof content !== 'string' || content === '' || Buffer.byteLength(content) > WECOM_MARKDOWN_MAX_BYTES) return { errcode: 40058, errmsg: 'invalid markdown content' };
    keep(content);
    return { errcode: 0, errmsg: 'ok' };
  });

  // Alibaba SendSms (form POST, signed): the vendor's answers for a wrong key, signature or template.
  const sms = inboxSmsKeys(notify, env);
  if (sms) void app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    scope.post(`${DEMO_PHONE_PATH}${DEMO_PHONE_SMS_PATH}`, { schema: { hide: true } }, async (req, reply) => {
      const form = Object.fromEntries(new URLSearchParams(String(req.body ?? '')));
      const { Signature: signature, ...signed } = form;
      const refuse = (Code: string) => reply.code(400).send({ Code, Message: Code, RequestId: randomUUID() });
      if (form.AccessKeyId !== sms.id) return refuse('InvalidAccessKeyId.NotFound');
      if (aliyunSignature('POST', signed, sms.secret) !== signature) return refuse('SignatureDoesNotMatch');
      const template = DEMO_SMS_TEMPLATES[form.TemplateCode];
      if (!template) return refuse('isv.SMS_TEMPLATE_ILLEGAL');
      let params: Record<string, string>;
      try { params = JSON.parse(form.TemplateParam || '{}') as Record<string, string>; } catch { return refuse('isv.INVALID_JSON_PARAM'); }
      const text = template.replace(/\$\{(\w+)\}/g, (_m, k: string) => params[k] ?? '');
      keep(`**短信 SMS → ${maskedPhone(form.PhoneNumbers ?? '')}**\n\n【${form.SignName ?? ''}】${text}`);
      return { Code: 'OK', Message: 'OK', BizId: `${Date.now()}^0`, RequestId: randomUUID() };
    });
  });

  app.get(DEMO_PHONE_PATH, { schema: { hide: true } }, async (_req, reply) => {
    const empty = key ? '还没有消息 No messages yet' : '此演示未配置通知(npm start 的演示城市才有) This demo runs without notifications (the simulated city of npm start has them)';
    const list = [...messages].reverse().map((m) => `<article class="msg" data-message="${m.n}">
<time>${esc(fmt.format(m.receivedAt))}</time>${wecomMarkdownToHtml(m.content)}</article>`).join('\n');
    const html = `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>演示手机 Demo phone</title>
<style>body{font:15px system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:0 auto;max-width:26em;background:#ededed;color:#111}
header{background:#2b6cb0;color:#fff;padding:.8em 1em;position:sticky;top:0}header a{color:#fff;float:right}
.hint{font-size:.85em;color:#555;padding:.5em 1em}.msg{background:#fff;margin:.7em;padding:.6em .9em;border-radius:.4em}
.msg time{font-size:.8em;color:#888}.msg p{margin:.4em 0}blockquote{margin:.4em 0;padding-left:.6em;border-left:3px solid #ccc;color:#555}
.msg a{display:inline-block;margin:.2em 0;padding:.4em .8em;background:#c62828;color:#fff;border-radius:.3em;text-decoration:none}</style></head><body>
<header>企业微信 · 抢修群 <a href="${DEMO_PHONE_PATH}">刷新 Refresh</a></header>
<p class="hint">演示手机:平台发给值班人员的企业微信机器人消息。点“确认告警”即以收件人身份确认。客户停水通知短信也显示在这里。<br>Demo phone: the WeCom robot messages the platform sends to the people on call; the link acknowledges as the recipient. Customers' outage notices by SMS show here too.</p>
<main data-testid="demo-phone" data-count="${messages.length}">${list || `<p class="hint" data-empty>${empty}</p>`}</main>
</body></html>`;
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').send(html);
  });
  return messages;
}
