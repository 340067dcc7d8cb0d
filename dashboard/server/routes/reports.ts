/** Reports: KPIs for a period (the current quarter by default), as JSON or CSV. */
import type { FastifyInstance } from 'fastify';
import { computeKpis, explicitPeriod, KNOWN_CAUSE_CODES, quarterOf, registerIncidentSource } from '../../../analytics/kpi/index.ts';
import { toCsv } from '../../../analytics/kpi/format.ts';
import { ApiError, type DashboardContext } from '../context.ts';
import { obj, ms, str } from '../schemas.ts';

const query = obj({ from: ms, to: ms, exclude: str(500) });

export function registerReportRoutes(app: FastifyInstance, ctx: DashboardContext): void {
  const report = async (q: { from?: number; to?: number; exclude?: string }) => {
    const zone = ctx.config.site.timezone;
    const now = ctx.now();
    if ((q.from === undefined) !== (q.to === undefined)) throw new ApiError(400, 'validation', `querystring.${q.from === undefined ? 'from' : 'to'}: required with ${q.from === undefined ? 'to' : 'from'}`);
    if (q.from !== undefined && q.to! <= q.from) throw new ApiError(400, 'validation', 'querystring.to: must be after from');
    const period = q.from !== undefined ? explicitPeriod(q.from, q.to!, zone) : quarterOf(now, zone);
    let excludeCauses: string[] | undefined;
    if (q.exclude !== undefined) {
      excludeCauses = q.exclude.trim() === '' || q.exclude.trim() === 'none' ? [] : q.exclude.split(',').map((c) => c.trim()).filter(Boolean);
      const unknown = excludeCauses.filter((c) => !KNOWN_CAUSE_CODES.includes(c));
      if (unknown.length) throw new ApiError(400, 'validation', `querystring.exclude: unknown cause code(s) ${unknown.join(', ')} (known: ${KNOWN_CAUSE_CODES.join(', ')})`);
    }
    return computeKpis({
      store: ctx.store, topology: ctx.topology, incidents: registerIncidentSource(ctx.register()),
      from: period.from, to: period.to, timezone: zone, label: period.label, excludeCauses, asOf: now,
    });
  };

  app.get('/kpis', { schema: { tags: ['reports'], summary: 'KPIs for a period (default: the current quarter)', querystring: query } },
    async (req) => report(req.query as { from?: number; to?: number; exclude?: string }));

  app.get('/kpis.csv', { schema: { tags: ['reports'], summary: 'KPIs as CSV (UTF-8 with BOM, for Excel)', querystring: query } }, async (req, reply) => {
    const r = await report(req.query as { from?: number; to?: number; exclude?: string });
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="aquawatch-kpis-${r.period.label.replace(/[^A-Za-z0-9_.-]/g, '_')}.csv"`)
      .send(`\uFEFF${toCsv(r)}`);
  });
}
