/**
 * Compensation statements (issue #14.3): a customer's or an area's, for a period (default: the
 * current quarter), as JSON, CSV or a printable page; the rules in force. `compensation.read`
 * (customer service, admin): the statements name accounts and amounts owed to them.
 */
import type { FastifyInstance } from 'fastify';
import { API } from '../../contract/index.ts';
import { areaStatement, customerStatement, statementsHtml, statementsCsv, type CustomerStatement, type StatementSources } from '../compensation-statements.ts';
import { ApiError, type DashboardContext } from '../context.ts';
import { serve, type ServeOptions } from '../schemas.ts';
import { periodOrQuarter } from './period.ts';

export function registerCompensationRoutes(app: FastifyInstance, ctx: DashboardContext, opts: ServeOptions = {}): void {
  const sources = (): StatementSources => {
    const register = ctx.register();
    return { meters: ctx.topology.meters.values(), book: register.book, planned: (id) => register.getPlanned(id), rules: ctx.compensationRules };
  };
  const period = (q: { from?: number; to?: number }) => {
    const now = ctx.now();
    const p = periodOrQuarter(q, now, ctx.config.site.timezone);
    return { from: p.from, to: p.to, asOf: Math.min(p.to, now) };
  };
  const ofCustomer = (customer: string, q: { from?: number; to?: number }) => {
    const s = customerStatement(sources(), customer, period(q));
    if (!s) throw new ApiError('not_found', `customer: no meter has the account ${customer}`, 'querystring.customer');
    return s;
  };
  const ofArea = (dma: string, q: { from?: number; to?: number }) => {
    if (!ctx.topology.dmas.has(dma)) throw new ApiError('not_found', `dma: no area ${dma}`, 'querystring.dma');
    return areaStatement(sources(), dma, period(q));
  };
  /** The statements an export asks for: a customer's, or those of an area's customers. */
  const exported = (q: { from?: number; to?: number; customer?: string; dma?: string }): { statements: CustomerStatement[]; name: string } => {
    if ((q.customer === undefined) === (q.dma === undefined)) throw new ApiError('validation', 'querystring.customer: give a customer or a dma (one of them)', 'querystring.customer');
    if (q.customer !== undefined) return { statements: [ofCustomer(q.customer, q)], name: q.customer };
    return { statements: ofArea(q.dma!, q).statements, name: q.dma! };
  };
  const fileName = (name: string, from: number, ext: string) =>
    `aquawatch-compensation-${name.replace(/[^A-Za-z0-9_.-]/g, '_')}-${new Date(from).toISOString().slice(0, 10)}.${ext}`;

  serve(app, API.compensation.rules, async () => ({ ...ctx.compensationRules, excludeCauses: [...ctx.compensationRules.excludeCauses] }), opts);

  serve(app, API.compensation.customer, async (req) => ofCustomer(req.query.customer, req.query), opts);

  serve(app, API.compensation.area, async (req) => ofArea(req.query.dma, req.query), opts);

  serve(app, API.compensation.csv, async (req, reply) => {
    const { statements, name } = exported(req.query);
    reply.type(API.compensation.csv.contentType).header('content-disposition', `attachment; filename="${fileName(name, period(req.query).from, 'csv')}"`);
    return `\uFEFF${statementsCsv(statements)}`;
  }, opts);

  serve(app, API.compensation.html, async (req, reply) => {
    const { statements, name } = exported(req.query);
    reply.type(API.compensation.html.contentType);
    return statementsHtml(statements, { site: ctx.config.site.name, timezone: ctx.config.site.timezone, title: name });
  }, opts);
}
