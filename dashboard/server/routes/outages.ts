/** Customer service: current outages, incidents, planned outages with notices, lookup, the public feed. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sameWindow, type PlannedAuthor, type PlannedOutage } from '../../../analytics/outages/register.ts';
import { PUBLIC_REASON_TEXTS } from '../../../core/messages/public-reasons.ts';
import { API, type CurrentOutage, type LookupRow, type PlannedOutageSaved, type PublicOutages } from '../../contract/index.ts';
import { auditTarget } from '../audit.ts';
import { ApiError, type DashboardContext } from '../context.ts';
import { outageNotice } from '../notice.ts';
import { serve, type ServeOptions } from '../schemas.ts';

/**
 * A planned outage suppresses the dispatchers' pressure and outage-warning alarms in its areas and its
 * reason is published (review F18): one entered or changed here is capped in length, lead time and
 * DMAs (config incidents.planned*), refused with 400 naming the field. The register itself takes any
 * (the demo and replays enter scenario outages directly).
 */
function checkPlannedLimits(ctx: DashboardContext, p: { dmas: string[]; start: number; end: number }): void {
  const { plannedMaxHours, plannedMaxLeadDays, plannedMaxDmas } = ctx.config.incidents;
  if (p.end - p.start > plannedMaxHours * 3_600_000) {
    throw new ApiError('validation', `end: a planned outage lasts at most ${plannedMaxHours} h (incidents.plannedMaxHours)`, 'body.end');
  }
  if (p.start > ctx.now() + plannedMaxLeadDays * 86_400_000) {
    throw new ApiError('validation', `start: a planned outage starts at most ${plannedMaxLeadDays} days ahead (incidents.plannedMaxLeadDays)`, 'body.start');
  }
  if (new Set(p.dmas).size > plannedMaxDmas) {
    throw new ApiError('validation', `dmas: a planned outage covers at most ${plannedMaxDmas} DMAs (incidents.plannedMaxDmas)`, 'body.dmas');
  }
}

/**
 * The signed-in user as the author of a planned outage's change (review F18): with `outages.approve`
 * (dispatcher, admin) their entries and re-timings are approved as made; customer service's wait,
 * pending. People act on the wall clock.
 */
function authorOf(req: FastifyRequest): PlannedAuthor {
  const user = req.dashUser!;
  return { username: user.username, approves: user.permissions.includes('outages.approve'), at: Date.now() };
}

/** The window and areas an approval is about, for the audit log. */
const windowOf = (o: PlannedOutage) => ({ status: o.status, dmas: o.dmas, start: o.start, end: o.end });

export function plannedWithNotice(ctx: DashboardContext, outage: PlannedOutage): PlannedOutageSaved {
  const register = ctx.register();
  return {
    outage,
    shortNotice: register.isShortNotice(outage),
    notice: outageNotice(outage, {
      siteName: ctx.config.site.name, timezone: ctx.config.site.timezone,
      areaName: (dma) => ctx.topology.dmas.get(dma)?.name ?? dma,
    }),
  };
}

/** What the public may see: area names, times, causes; no customer counts or ids. */
export function publicOutages(ctx: DashboardContext): PublicOutages {
  const now = ctx.now();
  const areaName = (dma: string) => ctx.topology.dmas.get(dma)?.name ?? dma;
  const planned = ctx.register().listPlanned(now, now + 14 * 86_400_000);
  const acknowledged = new Set((ctx.analytics()?.openAlarms() ?? []).filter((a) => a.state.endsWith('-acknowledged')).map((a) => a.id));
  const delayMs = ctx.config.incidents.publicDelayMinutes * 60_000;
  // planned works, areas an operator confirmed (alarm acknowledged) and those lasting past the delay
  const published = (o: CurrentOutage) => o.planned || (o.alarmId !== undefined && acknowledged.has(o.alarmId)) || now - o.since >= delayMs;
  return {
    site: ctx.config.site.name,
    timezone: ctx.config.site.timezone,
    updatedAt: now,
    current: ctx.area.currentOutages(ctx.register().listPlanned(now - 86_400_000, now + 86_400_000)).filter(published).map((o) => ({
      dmaName: o.name, kind: o.kind, since: o.since, ...(o.expectedRestoration ? { expectedRestoration: o.expectedRestoration } : {}), cause: o.cause,
    })),
    // approved ones only (listPlanned), and the template chosen for the public, never the staff's free text
    planned: planned.filter((p) => p.end > now).map((p) => ({
      dmaNames: p.dmas.map(areaName), start: p.start, end: p.end, cause: p.cause, publicReason: p.publicReason, reasonText: PUBLIC_REASON_TEXTS[p.publicReason],
    })),
  };
}

export function registerOutageRoutes(app: FastifyInstance, ctx: DashboardContext, opts: ServeOptions = {}): void {
  serve(app, API.outages.current, async () => {
    const now = ctx.now();
    return ctx.area.currentOutages(ctx.register().listPlanned(now - 86_400_000, now + 86_400_000));
  }, opts);

  serve(app, API.outages.incidents, async (req) => {
    const { from, to } = req.query;
    return ctx.register().listIncidents(from ?? ctx.now() - 30 * 86_400_000, to ?? Infinity);
  }, opts);

  serve(app, API.outages.listPlanned, async (req) => {
    const { from, to } = req.query;
    const register = ctx.register();
    return register.listPlanned(from ?? ctx.now() - 7 * 86_400_000, to ?? Infinity, { withPending: true }).map((p) => ({ ...p, shortNotice: register.isShortNotice(p) }));
  }, opts);

  serve(app, API.outages.createPlanned, async (req) => {
    const b = req.body;
    // not told yet unless the dispatcher says when (a notice by other means): no notice counts as told
    // at the start, so the outage is flagged short-notice until its notice is sent (customer-notices.ts)
    const notifiedAt = b.notifiedAt ?? b.start;
    checkPlannedLimits(ctx, b);
    const author = authorOf(req);
    const approval = author.approves ? { status: 'approved' as const, approvedBy: author.username, approvedAt: author.at } : { status: 'pending' as const };
    const { outage } = ctx.register().createPlanned({ ...b, notifiedAt, changedBy: author.username, ...approval });
    auditTarget(req, outage.id, windowOf(outage));
    ctx.log.info({ id: outage.id, dmas: outage.dmas, by: author.username, status: outage.status }, 'planned outage entered');
    return plannedWithNotice(ctx, outage);
  }, opts);

  serve(app, API.outages.updatePlanned, async (req) => {
    const current = ctx.register().getPlanned(req.params.id);
    if (current) checkPlannedLimits(ctx, { ...current, ...req.body });
    const { outage } = ctx.register().updatePlanned(req.params.id, req.body, authorOf(req));
    auditTarget(req, outage.id, windowOf(outage));
    return plannedWithNotice(ctx, outage);
  }, opts);

  serve(app, API.outages.approvePlanned, async (req) => {
    const { id } = req.params;
    const user = req.dashUser!;
    const current = ctx.register().getPlanned(id);
    if (!current) throw new ApiError('not_found', `id: no planned outage ${id}`, 'params.id');
    // four eyes: the change that made it pending is approved by someone else; an admin, who may give
    // themselves any role anyway, is not held to it (a small utility may have one person doing both)
    if (current.changedBy === user.username && user.role !== 'admin') {
      throw new ApiError('forbidden', `id: ${user.username} made the pending change of planned outage ${id}; another dispatcher approves it`, 'params.id');
    }
    // what the approver saw is what gets approved: a change made meanwhile goes back to them first
    if (!sameWindow(req.body, current)) {
      throw new ApiError('conflict', `body: planned outage ${id} was changed since (now ${current.dmas.join(', ')} from ${new Date(current.start).toISOString()} to ${new Date(current.end).toISOString()}); look at it again`, 'body');
    }
    const { outage } = ctx.register().approvePlanned(id, user.username, Date.now());
    auditTarget(req, id, windowOf(outage));
    ctx.log.info({ id, dmas: outage.dmas, by: user.username }, 'planned outage approved');
    return plannedWithNotice(ctx, outage);
  }, opts);

  serve(app, API.outages.deletePlanned, async (req) => {
    const { id } = req.params;
    if (!ctx.register().deletePlanned(id)) throw new ApiError('not_found', `id: no planned outage ${id}`, 'params.id');
    return { ok: true } as const;
  }, opts);

  serve(app, API.outages.lookup, async (req) => {
    const q = req.query.q.trim().toLowerCase();
    if (q.length < 2) throw new ApiError('validation', 'querystring.q: at least 2 characters', 'querystring.q');
    const states = new Map(ctx.area.dmaStates().map((s) => [s.dma, s]));
    const out: LookupRow[] = [];
    for (const m of ctx.topology.meters.values()) {
      if (!(m.id.toLowerCase().includes(q) || m.customer.toLowerCase().includes(q) || (m.address ?? '').toLowerCase().includes(q))) continue;
      const s = m.dma ? states.get(m.dma) : undefined;
      out.push({ meter: m.id, customer: m.customer, address: m.address ?? '', dma: m.dma ?? '', dmaName: s?.name ?? m.dma ?? '', dmaState: s?.state ?? 'normal' });
      if (out.length >= 50) break;
    }
    return out;
  }, opts);

  serve(app, API.outages.publicFeed, async () => publicOutages(ctx), opts);
}
