/**
 * The quarterly disclosure (季度公示, issue #14.4) for admins: prepare a quarter's draft (figures
 * computed now from the KPIs, shown with their coverage), add a remark, approve, publish. Publication
 * renders the page and the PDF once and stores them with their SHA-256 and the time (the public page
 * serves them from there, public-page.ts); a quarter must have ended to be published. Every step is in
 * the audit log (audit.ts, with the quarter as target).
 */
import { existsSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { PeriodError, quarterPeriod } from '../../../analytics/kpi/index.ts';
import { API } from '../../contract/index.ts';
import { auditTarget } from '../audit.ts';
import { ApiError, type DashboardContext } from '../context.ts';
import { disclosureFigures, type DisclosureComplaints } from '../disclosure-figures.ts';
import { renderPublication } from '../disclosure-document.ts';
import { serve, type ServeOptions } from '../schemas.ts';
import { siteKpis } from './reports.ts';
import { inReportSlot } from './report-slots.ts';

/** The complaint ledger's counts of the complaints received in the quarter (state/complaints.ts). */
function complaintCounts(ctx: DashboardContext, from: number, to: number): DisclosureComplaints {
  const { total, closed, unresolved, byChannel, byCategory } = ctx.complaints.counts(from, to);
  return { total, closed, unresolved, byChannel, byCategory };
}

export function registerDisclosureRoutes(app: FastifyInstance, ctx: DashboardContext, opts: ServeOptions = {}): void {
  const periodOf = (quarter: string, field: string) => {
    try {
      return quarterPeriod(quarter, ctx.config.site.timezone);
    } catch (e) {
      if (e instanceof PeriodError) throw new ApiError('validation', `${field}: ${e.message}`, field);
      throw e;
    }
  };
  const found = (quarter: string) => {
    const d = ctx.disclosures.get(quarter);
    if (!d) throw new ApiError('not_found', `params.quarter: no disclosure of ${quarter} has been prepared`, 'params.quarter');
    return d;
  };

  serve(app, API.disclosures.list, async () => ctx.disclosures.list(), opts);

  serve(app, API.disclosures.get, async (req) => found(req.params.quarter), opts);

  serve(app, API.disclosures.prepare, async (req, reply) => {
    const { quarter, remark } = req.body;
    const period = periodOf(quarter, 'body.quarter');
    if (period.from > ctx.now()) throw new ApiError('validation', `body.quarter: ${quarter} has not begun`, 'body.quarter');
    const report = await inReportSlot(ctx, req, reply, (signal) => siteKpis(ctx, period, { signal }));
    const figures = disclosureFigures(period.label, report, complaintCounts(ctx, period.from, period.to), Date.now());
    const d = ctx.disclosures.prepare(figures, req.dashUser!.username, Date.now(), remark);
    auditTarget(req, quarter, { status: d.status });
    return d;
  }, opts);

  serve(app, API.disclosures.setRemark, async (req) => {
    found(req.params.quarter);
    auditTarget(req, req.params.quarter);
    return ctx.disclosures.setRemark(req.params.quarter, req.body.remark);
  }, opts);

  serve(app, API.disclosures.approve, async (req) => {
    found(req.params.quarter);
    auditTarget(req, req.params.quarter);
    return ctx.disclosures.approve(req.params.quarter, req.dashUser!.username, Date.now());
  }, opts);

  serve(app, API.disclosures.publish, async (req) => {
    const { quarter } = req.params;
    const d = found(quarter);
    const period = periodOf(quarter, 'params.quarter');
    if (period.to > ctx.now()) throw new ApiError('conflict', `params.quarter: ${quarter} has not ended; it can be published from its end on`, 'params.quarter');
    if (d.status !== 'approved') throw new ApiError('conflict', `params.quarter: ${quarter} must be approved before it is published (it is ${d.status})`, 'params.quarter');
    const font = ctx.config.disclosure;
    if (!existsSync(font.fontPath)) {
      throw new ApiError('unavailable', `disclosure.fontPath: ${font.fontPath} does not exist: install the font (Debian: fonts-wqy-microhei) or name another in the configuration`);
    }
    const doc = await renderPublication(d, ctx.config.site.name, Date.now(), font);
    const published = ctx.disclosures.publish(quarter, req.dashUser!.username, doc);
    auditTarget(req, quarter, { pdfSha256: doc.pdfSha256, jsonSha256: doc.jsonSha256, publishedAt: doc.publishedAt });
    ctx.log.info({ quarter, by: req.dashUser!.username, pdfSha256: doc.pdfSha256 }, 'quarterly disclosure published');
    return published;
  }, opts);
}
