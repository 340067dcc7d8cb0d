/**
 * The acknowledgement page of a notification's link, `/ack/<token>`, sized for a phone: no sign-in,
 * the signed, expiring, single-use token is the credential (analytics/notify/ack). GET shows the
 * alarm and a button; only the button's POST acknowledges, because chat apps fetch links to preview
 * them and a GET that acknowledged would be used up by the robot, not the person. The alarm is
 * acknowledged as the person the link was sent to, with the time, in its history. In the
 * recipient's language (zh-CN or en), or `?lang=`.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { alarmTypeName, type TextLanguage } from '../../core/messages/alarm-texts.ts';
import type { AlarmRecord } from '../../core/state/alarm-store.ts';
import type { DashboardContext } from './context.ts';

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const WORDS = {
  'zh-CN': {
    title: '告警确认', ack: '确认告警', acked: '已确认', by: '确认人', at: '时间', area: '区域', priority: '优先级', raised: '发生时间', state: '状态',
    malformed: '链接无效。', 'bad-signature': '链接无效。', expired: '链接已过期,请在调度台确认。', used: '此链接已使用过。',
    closed: '告警已结束,无需确认。', 'already-acknowledged': '告警已被确认。', unavailable: '告警服务未运行。',
    states: { 'active-unacknowledged': '未确认', 'active-acknowledged': '已确认', 'cleared-unacknowledged': '已恢复,未确认', cleared: '已关闭' },
    priorities: { low: '低', medium: '中', high: '高', critical: '紧急' },
  },
  en: {
    title: 'Acknowledge alarm', ack: 'Acknowledge', acked: 'Acknowledged', by: 'By', at: 'At', area: 'Area', priority: 'Priority', raised: 'Raised', state: 'State',
    malformed: 'This link is not valid.', 'bad-signature': 'This link is not valid.', expired: 'This link has expired; acknowledge in the dashboard.',
    used: 'This link has been used already.', closed: 'The alarm is over; nothing to acknowledge.', 'already-acknowledged': 'The alarm is already acknowledged.',
    unavailable: 'The alarm service is not running.',
    states: { 'active-unacknowledged': 'not acknowledged', 'active-acknowledged': 'acknowledged', 'cleared-unacknowledged': 'back to normal, not acknowledged', cleared: 'closed' },
    priorities: { low: 'low', medium: 'medium', high: 'high', critical: 'critical' },
  },
} as const;

type Problem = Exclude<keyof (typeof WORDS)['en'], 'title' | 'ack' | 'acked' | 'by' | 'at' | 'area' | 'priority' | 'raised' | 'state' | 'states' | 'priorities'>;

export function registerAckPage(app: FastifyInstance, ctx: DashboardContext): void {
  const fmt = new Intl.DateTimeFormat('zh-CN', { timeZone: ctx.config.site.timezone, dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23' });
  const notifications = () => ctx.analytics()?.notifications;
  const chosen = (query: unknown): TextLanguage | undefined => {
    const l = (query as { lang?: string }).lang;
    return l === 'en' || l === 'zh-CN' ? l : undefined;
  };

  function page(reply: FastifyReply, lang: TextLanguage, body: { alarm?: AlarmRecord; problem?: Problem; form?: string; done?: { by: string; at: number } }, status = 200) {
    const w = WORDS[lang];
    const a = body.alarm;
    const details = a ? `<h2>${esc(alarmTypeName(a.type, lang))}${a.dma ? ` · ${esc(a.dma)}` : ''}</h2>
<p class="text">${esc(a.localized?.[lang] ?? a.message)}</p>
<dl><dt>${w.priority}</dt><dd>${esc(w.priorities[a.priority])}</dd><dt>${w.raised}</dt><dd>${esc(fmt.format(a.raisedAt))}</dd>
<dt>${w.state}</dt><dd data-state="${esc(a.state)}">${esc(w.states[a.state])}</dd>${a.ackedBy ? `<dt>${w.by}</dt><dd data-acked-by>${esc(a.ackedBy)}</dd>` : ''}</dl>` : '';
    const html = `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${w.title}</title>
<style>body{font:16px system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:0 auto;padding:1em;max-width:30em;color:#123}
h1{font-size:1.3em}h2{font-size:1.15em}dl{display:grid;grid-template-columns:auto 1fr;gap:.3em 1em}dt{color:#567}dd{margin:0}
button{font-size:1.1em;width:100%;padding:.8em;background:#c62828;color:#fff;border:0;border-radius:.4em}
.problem{color:#b71c1c}.done{color:#1b5e20;font-weight:bold}</style></head><body>
<h1>${w.title}</h1>
${body.problem ? `<p class="problem" data-problem="${esc(body.problem)}">${esc(w[body.problem])}</p>` : ''}
${body.done ? `<p class="done" data-acknowledged>${w.acked} · ${w.by} ${esc(body.done.by)} · ${esc(fmt.format(body.done.at))}</p>` : ''}
${details}
${body.form ?? ''}
</body></html>`;
    return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').send(html);
  }

  // a wildcard, not :token: a token is longer than the router's limit for a parameter
  app.get<{ Params: { '*': string } }>('/ack/*', { schema: { hide: true } }, async (req, reply) => {
    const n = notifications();
    if (!n) return page(reply, chosen(req.query) ?? 'zh-CN', { problem: 'unavailable' }, 503);
    const seen = n.inspectLink(req.params['*']);
    if (!seen.ok) return page(reply, chosen(req.query) ?? 'zh-CN', { problem: seen.reason }, seen.reason === 'used' || seen.reason === 'expired' ? 410 : 400);
    const lang = chosen(req.query) ?? seen.language;
    const alarm = seen.alarm;
    if (!alarm || alarm.state === 'cleared') return page(reply, lang, { alarm, problem: 'closed' });
    if (alarm.state === 'active-acknowledged') return page(reply, lang, { alarm, problem: 'already-acknowledged' });
    const form = `<form method="post" action="/ack/${esc(encodeURIComponent(req.params['*']))}?lang=${lang}"><button type="submit" data-action="ack">${WORDS[lang].ack}</button></form>`;
    return page(reply, lang, { alarm, form });
  });

  // The form posts an empty urlencoded body: the token in the path is all there is to it.
  app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    scope.post<{ Params: { '*': string } }>('/ack/*', { schema: { hide: true } }, async (req, reply) => {
      const n = notifications();
      if (!n) return page(reply, chosen(req.query) ?? 'zh-CN', { problem: 'unavailable' }, 503);
      const result = n.acknowledgeByLink(req.params['*']);
      const lang = chosen(req.query) ?? 'zh-CN';
      if (!result.ok) return page(reply, lang, { alarm: result.alarm, problem: result.reason }, result.reason === 'used' || result.reason === 'expired' ? 410 : 400);
      return page(reply, lang, { alarm: result.alarm, done: { by: result.by, at: result.alarm.ackedAt ?? Date.now() } });
    });
  });
}
