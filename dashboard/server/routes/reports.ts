/**
 * Reports: KPIs for a period (the current quarter by default), as JSON or CSV. A report stops at its
 * next store read when its client goes away, and a user computes at most two at once (report-slots.ts).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { computeKpis, KNOWN_CAUSE_CODES, registerIncidentSource, type KpiReport, type Period } from '../../../analytics/kpi/index.ts';
import { toCsv } from '../../../analytics/kpi/format.ts';
import { API } from '../../contract/index.ts';
import { ApiError, type DashboardContext } from '../context.ts';
import { serve, type ContractRequest, type ServeOptions } from '../schemas.ts';
import { periodOrQuarter } from './period.ts';
import { inReportSlot } from './report-slots.ts';

/** The site's KPIs for a period, as the Reports view and the quarterly disclosure compute them; `signal` stops it at its next store read. */
export function siteKpis(ctx: DashboardContext, period: Period, opts: { excludeCauses?: readonly string[]; signal?: AbortSignal } = {}): Promise<KpiReport> {
  return computeKpis({
    store: ctx.store, topology: ctx.topology, incidents: registerIncidentSource(ctx.register()),
    from: period.from, to: period.to, timezone: period.timezone, label: period.label, excludeCauses: opts.excludeCauses, asOf: ctx.now(),
    leakage: ctx.config.leakage, signal: opts.signal,
  });
}

export function registerReportRoutes(app: FastifyInstance, ctx: DashboardContext, opts: ServeOptions = {}): void {
  const report = async (req: ContractRequest<typeof API.reports.kpis>, reply: FastifyReply) => {
    const q = req.query;
    const zone = ctx.config.site.timezone;
    const now = ctx.now();
    const period = periodOrQuarter(q, now, zone);
    let excludeCauses: string[] | undefined;
    if (q.exclude !== undefined) {
      excludeCauses = q.exclude.trim() === '' || q.exclude.trim() === 'none' ? [] : q.exclude.split(',').map((c) => c.trim()).filter(Boolean);
      const unknown = excludeCauses.filter((c) => !KNOWN_CAUSE_CODES.includes(c));
      if (unknown.length) throw new ApiError('validation', `querystring.exclude: unknown cause code(s) ${unknown.join(', ')} (known: ${KNOWN_CAUSE_CODES.join(', ')})`, 'querystring.exclude');
    }
    return inReportSlot(ctx, req, reply, (signal) => siteKpis(ctx, period, { excludeCauses, signal }));
  };

  serve(app, API.reports.kpis, report, opts);

  serve(app, API.reports.kpisCsv, async (req, reply) => {
    const r = await report(req, reply);
    reply.type(API.reports.kpisCsv.contentType).header('content-disposition', `attachment; filename="aquawatch-kpis-${r.period.label.replace(/[^A-Za-z0-9_.-]/g, '_')}.csv"`);
    return `\uFEFF${toCsv(r)}`;
  }, opts);
}
