/**
 * The public outage page `GET /outages` for the utility's website: current outages and the planned
 * ones ahead, server-rendered (no script), in Chinese with English, no sign-in and no customer data
 * (area names, times, causes only; a planned outage once approved, with the reason template chosen for
 * the public, never the staff's free text: review F18); and the quarterly disclosures published (季度公示, issue #14.4),
 * newest first with the earlier quarters listed, each at `/outages/disclosure/<quarter>` with its PDF
 * at `/outages/disclosure/<quarter>.pdf`, served exactly as stored at publication.
 */
import type { FastifyInstance } from 'fastify';
import type { DashboardContext } from './context.ts';
import { publicOutages } from './routes/outages.ts';
import { CAUSE_ZH } from './notice.ts';

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function registerPublicOutagePage(app: FastifyInstance, ctx: DashboardContext): void {
  const fmt = new Intl.DateTimeFormat('zh-CN', { timeZone: ctx.config.site.timezone, dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23' });
  const cause = (c: string) => `${esc(CAUSE_ZH[c] ?? c)} <small>${esc(c.replace(/_/g, ' '))}</small>`;
  app.get('/outages', { schema: { hide: true } }, async (_req, reply) => {
    const p = publicOutages(ctx);
    const current = p.current.map((o) => `<tr><td>${esc(o.dmaName)}</td><td>${o.kind === 'outage' ? '停水 <small>no water</small>' : '水压偏低 <small>low pressure</small>'}</td>
<td>${esc(fmt.format(o.since))}</td><td>${o.expectedRestoration ? esc(fmt.format(o.expectedRestoration)) : '抢修中 <small>being repaired</small>'}</td><td>${cause(o.cause)}</td></tr>`).join('');
    const planned = p.planned.map((o) => `<tr><td>${esc(o.dmaNames.join('、'))}</td><td>${esc(fmt.format(o.start))}</td><td>${esc(fmt.format(o.end))}</td><td>${cause(o.cause)}<br>${esc(o.reasonText['zh-CN'])} <small>${esc(o.reasonText.en)}</small></td></tr>`).join('');
    const disclosures = ctx.disclosures.list().filter((d) => d.status === 'published').map((d) => `<tr data-quarter="${esc(d.quarter)}"><td>${esc(d.quarter)}</td>
<td>${esc(fmt.format(d.publishedAt!))}</td><td><a href="/outages/disclosure/${esc(d.quarter)}">网页 page</a> · <a href="/outages/disclosure/${esc(d.quarter)}.pdf">PDF</a></td><td><small><code>${esc(d.pdfSha256)}</code></small></td></tr>`).join('');
    const html = `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="refresh" content="60"><title>停水公告 Water supply interruptions · ${esc(p.site)}</title>
<style>body{font:15px system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:0 auto;padding:1.5em;max-width:60em;color:#123}
h1{font-size:1.5em}table{border-collapse:collapse;width:100%;margin:.5em 0 2em}td,th{border-bottom:1px solid #ccd;padding:.5em;text-align:left;vertical-align:top}
small{color:#567}.none{color:#070}</style></head><body>
<h1>${esc(p.site)} · 停水公告 <small>Water supply interruptions</small></h1>
<p>更新时间 Updated: ${esc(fmt.format(p.updatedAt))} (${esc(p.timezone)})</p>
<h2>当前停水 <small>Now</small></h2>
${current ? `<table><tr><th>区域 Area</th><th>情况 Situation</th><th>开始 Since</th><th>预计恢复 Expected back</th><th>原因 Cause</th></tr>${current}</table>` : '<p class="none">目前供水正常。 Supply is normal everywhere.</p>'}
<h2>计划停水 <small>Planned</small></h2>
${planned ? `<table><tr><th>区域 Area</th><th>开始 From</th><th>结束 To</th><th>原因 Reason</th></tr>${planned}</table>` : '<p class="none">近期无计划停水。 No planned interruptions.</p>'}
<h2>季度公示 <small>Quarterly disclosure</small></h2>
${disclosures ? `<table><tr><th>季度 Quarter</th><th>发布时间 Published</th><th>文件 Documents</th><th>SHA-256 (PDF)</th></tr>${disclosures}</table>` : '<p class="none">尚无公示。 Nothing published yet.</p>'}
<p><small>JSON: <a href="/api/v1/public/outages">/api/v1/public/outages</a></small></p>
</body></html>`;
    return reply.type('text/html; charset=utf-8').header('cache-control', 'public, max-age=30').send(html);
  });

  app.get<{ Params: { file: string } }>('/outages/disclosure/:file', { schema: { hide: true } }, async (req, reply) => {
    const m = /^(\d{4}-Q[1-4])(\.pdf)?$/.exec(req.params.file);
    const published = m ? ctx.disclosures.published(m[1]) : undefined;
    if (!m || !published) return reply.code(404).type('text/plain; charset=utf-8').send('未公示 not published');
    // what was published never changes: cache it for good
    reply.header('cache-control', 'public, max-age=86400, immutable');
    if (m[2]) return reply.type('application/pdf').header('content-disposition', `inline; filename="disclosure-${m[1]}.pdf"`).send(published.pdf);
    return reply.type('text/html; charset=utf-8').send(published.html);
  });
}
