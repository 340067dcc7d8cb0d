/**
 * The complaint ledger (issue #14.2): record, correct, link to an area and an incident, assign, and
 * follow to closure; counts per channel and category for a period. `complaints.edit` (customer
 * service, admin) changes; every signed-in user reads. The audit log gets every change (audit.ts).
 */
import type { FastifyInstance } from 'fastify';
import { API, type ComplaintDetail } from '../../contract/index.ts';
import type { Complaint, ComplaintPatch } from '../state/complaints.ts';
import { auditTarget } from '../audit.ts';
import { ApiError, type DashboardContext } from '../context.ts';
import { serve, type ServeOptions } from '../schemas.ts';
import { periodOrQuarter } from './period.ts';

export function registerComplaintRoutes(app: FastifyInstance, ctx: DashboardContext, opts: ServeOptions = {}): void {
  const ledger = ctx.complaints;
  const detail = (c: Complaint): ComplaintDetail => ({ complaint: c, history: ledger.history(c.id) });
  const need = (id: string) => {
    const c = ledger.get(id);
    if (!c) throw new ApiError('not_found', `id: no complaint ${id}`, 'params.id');
    return c;
  };
  /**
   * The area and incident a complaint names must exist; when it names no area, the incident's area
   * or the area of the customer's meter is taken.
   */
  const linked = <T extends Pick<ComplaintPatch, 'dma' | 'incidentId' | 'customer'>>(b: T, current?: Complaint): T => {
    const out = { ...b };
    if (b.dma && !ctx.topology.dmas.has(b.dma)) throw new ApiError('validation', `body.dma: unknown area ${b.dma}`, 'body.dma');
    if (b.incidentId) {
      const incident = ctx.analytics() ? ctx.register().book.get(b.incidentId) : undefined;
      if (!incident) throw new ApiError('validation', `body.incidentId: no incident ${b.incidentId}`, 'body.incidentId');
      if (b.dma === undefined && !current?.dma) out.dma = incident.dma;
    }
    if (b.customer && out.dma === undefined && !current?.dma) {
      const meter = [...ctx.topology.meters.values()].find((m) => m.customer === b.customer && m.dma);
      if (meter) out.dma = meter.dma;
    }
    return out;
  };

  serve(app, API.complaints.list, async (req) => ledger.list(req.query), opts);

  serve(app, API.complaints.channels, async () => {
    const named = new Map(ctx.config.complaints.channels.map((c) => [c.id, c.name]));
    return ledger.channels.map((id) => ({ id, ...(named.has(id) ? { name: named.get(id)! } : {}) }));
  }, opts);

  serve(app, API.complaints.counts, async (req) => {
    const period = periodOrQuarter(req.query, ctx.now(), ctx.config.site.timezone);
    return ledger.counts(period.from, period.to);
  }, opts);

  serve(app, API.complaints.get, async (req) => detail(need(req.params.id)), opts);

  serve(app, API.complaints.create, async (req) => {
    const c = ledger.record(linked(req.body), req.dashUser!.username, Date.now());
    auditTarget(req, c.id);
    return detail(c);
  }, opts);

  serve(app, API.complaints.update, async (req) => {
    const current = need(req.params.id);
    return detail(ledger.edit(current.id, linked(req.body, current), req.dashUser!.username, Date.now()));
  }, opts);

  serve(app, API.complaints.setStatus, async (req) => {
    const { status, resolution, note } = req.body;
    return detail(ledger.setStatus(need(req.params.id).id, status, { resolution, note }, req.dashUser!.username, Date.now()));
  }, opts);
}
