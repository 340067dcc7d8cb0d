/**
 * Work orders on the crew's phones. A work order assigned to a crew of `notify.crews` is sent to
 * every member (`sendWorkOrderToCrew`, called by the work-order route on a crew change) with a link
 * to `/wo/<token>`, a phone-sized page: the area, the location hint with a link to the dashboard's
 * map, the burst flow and loss, for a leak's work order the repair the night flow confirmed (issue
 * #12.4: "flow confirms the repair: night flow −X m³/h on <date>", or, while the repair check's alarm
 * stands, that the flow does not), and buttons that move it to in
 * progress or resolved. The signed, expiring token names the work order and the member
 * (analytics/notify/ack/work-order-links.ts), so no sign-in is needed; each change is recorded with
 * the member's name and a note. As with the acknowledgement page, only a button's POST changes
 * anything (a chat app's link preview does not).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TextLanguage } from '../../core/messages/alarm-texts.ts';
import type { DashboardContext } from './context.ts';
import type { WorkOrder } from './state/work-orders.ts';

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The states a crew member may move a work order to from the phone. */
const PHONE_STATUSES = ['in_progress', 'resolved'] as const;
type PhoneStatus = (typeof PHONE_STATUSES)[number];

const WORDS = {
  'zh-CN': {
    title: '抢修工单', area: '区域', location: '位置提示', map: '在地图上查看', flow: '估计漏水量', loss: '估计损失水量', status: '状态', crew: '班组',
    unknown: '待查', in_progress: '开始处理', resolved: '已修复', changed: '已更新', by: '操作人',
    statuses: { new: '新建', assigned: '已派工', in_progress: '处理中', resolved: '已修复' },
    malformed: '链接无效。', 'bad-signature': '链接无效。', expired: '链接已过期,请在调度台操作。', unavailable: '工单服务未运行。', missing: '工单不存在。',
    isResolved: '工单已修复,无需操作。', note: '经手机链接更新',
    nightDrop: (drop: string, date: string) => `流量印证修复：${date} 夜间流量下降 ${drop} m³/h`,
    leakFlowGone: (drop: string, date: string) => `流量印证修复：截至 ${date}，夜间流量中已无此前测得的漏失流量 ${drop} m³/h`,
    notConfirmed: (nights: string) => `流量未印证修复：报修复 ${nights} 夜后漏损告警仍未消除，可能未修到漏点`,
  },
  en: {
    title: 'Work order', area: 'Area', location: 'Location hint', map: 'Show on the map', flow: 'Estimated burst flow', loss: 'Estimated water lost', status: 'Status', crew: 'Crew',
    unknown: 'to be found', in_progress: 'Start work', resolved: 'Repaired', changed: 'Updated', by: 'By',
    statuses: { new: 'new', assigned: 'assigned', in_progress: 'in progress', resolved: 'resolved' },
    malformed: 'This link is not valid.', 'bad-signature': 'This link is not valid.', expired: 'This link has expired; use the dashboard.',
    unavailable: 'The work order service is not running.', missing: 'No such work order.', isResolved: 'The work order is resolved; nothing to do.', note: 'updated from the phone link',
    nightDrop: (drop: string, date: string) => `Flow confirms the repair: night flow −${drop} m³/h on ${date}`,
    leakFlowGone: (drop: string, date: string) => `Flow confirms the repair: the leak flow last measured, ${drop} m³/h, gone from the night flow by ${date}`,
    notConfirmed: (nights: string) => `Flow does not confirm the repair: the leak alarm is still raised ${nights} nights after the repair was reported; the repair may have missed the leak`,
  },
} as const;
type Problem = 'malformed' | 'bad-signature' | 'expired' | 'unavailable' | 'missing' | 'isResolved';

/** A work order's crew changed: send it to the crew's phones (when the crew is configured). Returns how many members it goes to. */
export function sendWorkOrderToCrew(ctx: DashboardContext, wo: WorkOrder): number {
  const notifications = ctx.analytics()?.notifications;
  if (!notifications || !wo.crew) return 0;
  return notifications.dispatchWorkOrder({ id: wo.id, alarmId: wo.alarmId, dma: wo.dma, locationHint: wo.locationHint, burstFlowM3h: wo.burstFlowM3h, crew: wo.crew });
}

export function registerWorkOrderPage(app: FastifyInstance, ctx: DashboardContext): void {
  const fmt = new Intl.DateTimeFormat('zh-CN', { timeZone: ctx.config.site.timezone, dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23' });
  const dayFmt = { 'zh-CN': new Intl.DateTimeFormat('zh-CN', { timeZone: ctx.config.site.timezone, dateStyle: 'medium' }), en: new Intl.DateTimeFormat('en-GB', { timeZone: ctx.config.site.timezone, dateStyle: 'medium' }) };
  /** The line of a leak's work order whose reported repair the nights after it did not confirm (the repair check's alarm, analytics/detectors/repair-check). */
  const unconfirmedLine = (wo: WorkOrder, lang: TextLanguage): string => {
    const check = ctx.analytics()?.alarms?.openAlarms().find((a) => a.conditionId === `repair_unconfirmed:${wo.id}` && a.state.startsWith('active'));
    if (!check) return '';
    return `<p class="problem" data-repair-unconfirmed="${esc(check.id)}">${esc(WORDS[lang].notConfirmed(String(check.evidence?.nights ?? '')))}</p>`;
  };
  /** The line of a leak's work order whose repair the night flow confirmed (leak-repairs.ts): the measured drop and its day, or the last leak flow gone. */
  const repairLine = (wo: WorkOrder, lang: TextLanguage): string => {
    const r = ctx.leakRepairs.list({ workOrderId: wo.id })[0];
    if (!r) return unconfirmedLine(wo, lang);
    const say = r.dropSource === 'night_drop' ? WORDS[lang].nightDrop : WORDS[lang].leakFlowGone;
    return `<p class="repair" data-repair-confirmed="${esc(r.dropSource)}">${esc(say(r.nightDropM3h.toFixed(1), dayFmt[lang].format(r.repairedTs ?? r.seenTs)))}</p>`;
  };
  const chosen = (query: unknown): TextLanguage | undefined => {
    const l = (query as { lang?: string }).lang;
    return l === 'en' || l === 'zh-CN' ? l : undefined;
  };

  function page(reply: FastifyReply, lang: TextLanguage, body: { wo?: WorkOrder; token?: string; problem?: Problem; done?: { by: string; status: PhoneStatus } }, status = 200) {
    const w = WORDS[lang];
    const wo = body.wo;
    const details = wo ? `<h2>${esc(wo.id)} · ${esc(wo.dma)}</h2>
<dl><dt>${w.status}</dt><dd data-status="${esc(wo.status)}">${esc(w.statuses[wo.status])}</dd>
<dt>${w.location}</dt><dd>${esc(wo.locationHint ?? w.unknown)} <a href="/maintenance">${w.map}</a></dd>
${wo.burstFlowM3h !== undefined ? `<dt>${w.flow}</dt><dd>${esc(wo.burstFlowM3h.toFixed(1))} m³/h</dd>` : ''}
<dt>${w.loss}</dt><dd>${esc(Math.round(wo.estimatedLossM3))} m³</dd>${wo.crew ? `<dt>${w.crew}</dt><dd>${esc(wo.crew)}</dd>` : ''}</dl>
${repairLine(wo, lang)}` : '';
    const buttons = wo && body.token && wo.status !== 'resolved'
      ? PHONE_STATUSES.filter((s) => s !== wo.status).map((s) => `<form method="post" action="/wo/${esc(encodeURIComponent(body.token!))}?lang=${lang}">
<input type="hidden" name="status" value="${s}"><button type="submit" data-action="${s}" class="${s}">${w[s]}</button></form>`).join('')
      : '';
    const html = `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${w.title}</title>
<style>body{font:16px system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:0 auto;padding:1em;max-width:30em;color:#123}
h1{font-size:1.3em}h2{font-size:1.15em}dl{display:grid;grid-template-columns:auto 1fr;gap:.3em 1em}dt{color:#567}dd{margin:0}
button{font-size:1.1em;width:100%;padding:.8em;margin:.3em 0;color:#fff;border:0;border-radius:.4em;background:#1565c0}button.resolved{background:#2e7d32}
.problem{color:#b71c1c}.done,.repair{color:#1b5e20;font-weight:bold}</style></head><body>
<h1>${w.title}</h1>
${body.problem ? `<p class="problem" data-problem="${esc(body.problem)}">${esc(w[body.problem])}</p>` : ''}
${body.done ? `<p class="done" data-changed="${body.done.status}">${w.changed}: ${esc(w.statuses[body.done.status])} · ${w.by} ${esc(body.done.by)} · ${esc(fmt.format(Date.now()))}</p>` : ''}
${details}
${buttons}
</body></html>`;
    return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').send(html);
  }

  /** The link's work order, or the page saying why not. */
  function open(token: string, query: unknown) {
    const n = ctx.analytics()?.notifications;
    if (!n) return { problem: 'unavailable' as const, status: 503, lang: chosen(query) ?? 'zh-CN' as TextLanguage };
    const seen = n.inspectWorkOrderLink(token);
    if (!seen.ok) return { problem: seen.reason, status: seen.reason === 'expired' ? 410 : 400, lang: chosen(query) ?? 'zh-CN' as TextLanguage };
    const lang = chosen(query) ?? seen.language;
    const wo = ctx.workOrders.get(seen.workOrderId, ctx.now());
    if (!wo) return { problem: 'missing' as const, status: 404, lang };
    return { wo, by: seen.by, lang };
  }

  // a wildcard, not :token: a token is longer than the router's limit for a parameter
  app.get<{ Params: { '*': string } }>('/wo/*', { schema: { hide: true } }, async (req, reply) => {
    const o = open(req.params['*'], req.query);
    if (!('wo' in o) || !o.wo) return page(reply, o.lang, { problem: o.problem }, o.status);
    return page(reply, o.lang, { wo: o.wo, token: req.params['*'], problem: o.wo.status === 'resolved' ? 'isResolved' : undefined });
  });

  app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    scope.post<{ Params: { '*': string }; Body: string }>('/wo/*', { schema: { hide: true } }, async (req, reply) => {
      const o = open(req.params['*'], req.query);
      if (!('wo' in o) || !o.wo) return page(reply, o.lang, { problem: o.problem }, o.status);
      if (o.wo.status === 'resolved') return page(reply, o.lang, { wo: o.wo, problem: 'isResolved' }, 409);
      const status = new URLSearchParams(typeof req.body === 'string' ? req.body : '').get('status');
      if (!(PHONE_STATUSES as readonly (string | null)[]).includes(status)) return page(reply, o.lang, { wo: o.wo, token: req.params['*'], problem: 'malformed' }, 400);
      const updated = ctx.workOrders.update(o.wo.id, { status: status!, note: WORDS[o.lang].note }, o.by, ctx.now());
      return page(reply, o.lang, { wo: updated, token: req.params['*'], done: { by: o.by, status: status as PhoneStatus } });
    });
  });
}
