/**
 * The platform's status page (at `/status` since the dashboard took `/`): which sources are
 * connected, how deep the outbox is, the latest value of every sensor. A plain server-rendered page
 * that refreshes itself.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { LoadedConfig } from '../../core/config/load.ts';
import type { IngestView } from '../../core/ingest-view.ts';
import type { AnalyticsService } from '../../analytics/service.ts';
import { calendarExpiryWarning, describeCalendar, localDateOf } from '../../core/config/calendar.ts';

/** How far behind the wall clock, in words: "40 s behind", "3 min behind", "2.5 h behind". */
function formatBehind(seconds: number): string {
  if (seconds < 120) return `${seconds} s behind`;
  if (seconds < 2 * 3600) return `${Math.round(seconds / 60)} min behind`;
  return `${(seconds / 3600).toFixed(1)} h behind`;
}

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function registerStatusPage(app: FastifyInstance, deps: {
  config: LoadedConfig; ingest: IngestView; analytics?: AnalyticsService;
  /** Where it is served; default `/status`. */
  path?: string;
  /** Who may see it (production: signed-in users); default everyone. */
  allow?: (req: FastifyRequest) => boolean;
}): void {
  const { config, ingest, analytics } = deps;
  const fmtTime = new Intl.DateTimeFormat('zh-CN', { timeZone: config.site.timezone, dateStyle: 'short', timeStyle: 'medium' });
  app.get(deps.path ?? '/status', { schema: { hide: true } }, async (req, reply) => {
    if (deps.allow && !deps.allow(req)) return reply.code(401).type('text/html; charset=utf-8').send('<!doctype html><p>Sign in at <a href="/">the dashboard</a> first.</p>');
    const h = await ingest.health();
    const kinds = [...new Set([...ingest.topology.networkSensors()].map((s) => s.kind))];
    const latest = (await Promise.all(kinds.map((k) => ingest.store.latest(k)))).flat()
      .sort((a, b) => a.sensor.localeCompare(b.sensor)).slice(0, 500);
    const expiry = calendarExpiryWarning(config.calendar, localDateOf(Date.now(), config.site.timezone));
    const worker = analytics?.worker ? analytics.health() : undefined;
    const row = (cells: unknown[]) => `<tr>${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`;
    const html = `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>aquawatch · ${esc(config.site.name)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#123}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccd;padding:4px 8px;text-align:left}
.ok{color:#070}.degraded{color:#a60}.down{color:#b00}</style></head><body>
<h1>aquawatch · ${esc(config.site.name)}</h1>
<p>状态 Status: <b class="${esc(h.status)}">${esc(h.status)}</b> · 模式 Mode: ${esc(config.mode)} · 存储 Store: ${esc((h.store as { describe: string }).describe)}
 · 缓存 Outbox: ${esc((h.outbox as { depth: number }).depth)} / ${esc((h.outbox as { capacity: number }).capacity)}</p>
<p>节假日历 Calendar: ${esc(describeCalendar(config.calendar))}${expiry ? ` · <b class="degraded">${esc(expiry)}</b>` : ''}</p>
${worker ? `<p>分析 Analytics: <b class="${esc(worker.status)}">${esc(worker.status)}</b> · 已分析至 Analysed up to: ${worker.watermark ? esc(fmtTime.format(new Date(worker.watermark))) : '—'}${worker.behindSeconds !== null ? ` (${esc(formatBehind(worker.behindSeconds))})` : ''} · 总线 Bus: ${worker.busConnected ? 'connected' : '<b class="down">disconnected</b>'}${worker.problems.map((p) => `<br><b class="degraded">${esc(p.message)}</b>`).join('')}</p>` : ''}
<h2>数据源 Sources</h2><table><tr><th>name</th><th>type</th><th>state</th><th>last data</th></tr>
${h.sources.map((s) => row([s.name, s.type, s.state, s.lastDataAt ? fmtTime.format(s.lastDataAt) : '—'])).join('')}</table>
<h2>告警 Alarms</h2><table><tr><th>priority</th><th>type</th><th>area</th><th>sensor</th><th>raised</th><th>state</th><th>message</th></tr>
${(analytics?.alarms ? analytics.openAlarms() : []).sort((a, b) => b.raisedAt - a.raisedAt).slice(0, 200).map((a) => row([a.priority, a.type, a.dma ?? '', a.sensor ?? '', fmtTime.format(a.raisedAt), a.state, a.message])).join('') || '<tr><td colspan="7">none</td></tr>'}</table>
<h2>采集告警条件 Ingest conditions</h2><table><tr><th>id</th><th>since</th><th>message</th></tr>
${h.conditions.map((c) => row([c.id, fmtTime.format(c.ts), c.message])).join('') || '<tr><td colspan="3">none</td></tr>'}</table>
<h2>最新值 Latest values</h2><table><tr><th>sensor</th><th>kind</th><th>value</th><th>quality</th><th>time (${esc(config.site.timezone)})</th></tr>
${latest.map((l) => row([l.sensor, l.measurement, Number(l.value.toFixed(4)), l.quality, fmtTime.format(l.ts)])).join('') || '<tr><td colspan="5">no readings yet</td></tr>'}</table>
<p><a href="/health">/health</a> · <a href="/metrics">/metrics</a></p></body></html>`;
    return reply.type('text/html; charset=utf-8').send(html);
  });
}
