/** Customer service: current outages, incidents, planned outages with notices, lookup, the public feed. */
import type { FastifyInstance } from 'fastify';
import { CAUSE_CODES, type PlannedOutage } from '../../../analytics/outages/register.ts';
import { ApiError, type DashboardContext } from '../context.ts';
import { outageNotice } from '../notice.ts';
import { obj, str, ms, params } from '../schemas.ts';

const plannedFields = {
  dmas: { type: 'array', minItems: 1, maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 128 } },
  start: ms, end: ms, notifiedAt: ms,
  cause: { type: 'string', enum: [...CAUSE_CODES] },
  reason: str(500),
};

export function plannedWithNotice(ctx: DashboardContext, outage: PlannedOutage) {
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
export function publicOutages(ctx: DashboardContext) {
  const now = ctx.now();
  const areaName = (dma: string) => ctx.topology.dmas.get(dma)?.name ?? dma;
  const planned = ctx.register().listPlanned(now, now + 14 * 86_400_000);
  return {
    site: ctx.config.site.name,
    timezone: ctx.config.site.timezone,
    updatedAt: now,
    current: ctx.area.currentOutages(ctx.register().listPlanned(now - 86_400_000, now + 86_400_000)).map((o) => ({
      dmaName: o.name, kind: o.kind, since: o.since, ...(o.expectedRestoration ? { expectedRestoration: o.expectedRestoration } : {}), cause: o.cause,
    })),
    planned: planned.filter((p) => p.end > now).map((p) => ({ dmaNames: p.dmas.map(areaName), start: p.start, end: p.end, reason: p.reason, cause: p.cause })),
  };
}

export function registerOutageRoutes(app: FastifyInstance, ctx: DashboardContext): void {
  app.get('/outages/current', { schema: { tags: ['outages'], summary: 'Areas without water or with low pressure now' } }, async () => {
    const now = ctx.now();
    return ctx.area.currentOutages(ctx.register().listPlanned(now - 86_400_000, now + 86_400_000));
  });

  app.get('/incidents', {
    schema: { tags: ['outages'], summary: 'Outage incidents', querystring: obj({ from: ms, to: ms }) },
  }, async (req) => {
    const { from, to } = req.query as { from?: number; to?: number };
    return ctx.register().listIncidents(from ?? ctx.now() - 30 * 86_400_000, to ?? Infinity);
  });

  app.get('/planned-outages', {
    schema: { tags: ['outages'], summary: 'Planned outages with the short-notice flag', querystring: obj({ from: ms, to: ms }) },
  }, async (req) => {
    const { from, to } = req.query as { from?: number; to?: number };
    const register = ctx.register();
    return register.listPlanned(from ?? ctx.now() - 7 * 86_400_000, to ?? Infinity).map((p) => ({ ...p, shortNotice: register.isShortNotice(p) }));
  });

  app.post('/planned-outages', {
    config: { permission: 'outages.edit' },
    schema: { tags: ['outages'], summary: 'Enter a planned outage (notice texts in Chinese)', body: obj(plannedFields, ['dmas', 'start', 'end', 'cause', 'reason']) },
  }, async (req, reply) => {
    const b = req.body as Omit<PlannedOutage, 'id' | 'notifiedAt'> & { notifiedAt?: number };
    // notified now unless told otherwise: the notice goes out when it is entered
    const notifiedAt = b.notifiedAt ?? Math.min(Date.now(), b.start);
    const { outage } = ctx.register().createPlanned({ ...b, notifiedAt });
    ctx.log.info({ id: outage.id, dmas: outage.dmas, by: req.dashUser!.username }, 'planned outage entered');
    ctx.onPlannedChanged(outage.id);
    return reply.code(201).send(plannedWithNotice(ctx, outage));
  });

  app.put('/planned-outages/:id', {
    config: { permission: 'outages.edit' },
    schema: { tags: ['outages'], summary: 'Change a planned outage', params: params('id'), body: obj(plannedFields) },
  }, async (req) => {
    const { id } = req.params as { id: string };
    const { outage } = ctx.register().updatePlanned(id, req.body as Partial<PlannedOutage>);
    ctx.onPlannedChanged(outage.id);
    return plannedWithNotice(ctx, outage);
  });

  app.delete('/planned-outages/:id', {
    config: { permission: 'outages.edit' },
    schema: { tags: ['outages'], summary: 'Delete a planned outage', params: params('id') },
  }, async (req) => {
    const { id } = req.params as { id: string };
    if (!ctx.register().deletePlanned(id)) throw new ApiError(404, 'not_found', `id: no planned outage ${id}`);
    ctx.onPlannedChanged(id);
    return { ok: true };
  });

  app.get('/lookup', {
    schema: { tags: ['outages'], summary: 'Find a meter by id, account or address', querystring: obj({ q: str(200, 2) }, ['q']) },
  }, async (req) => {
    const q = (req.query as { q: string }).q.trim().toLowerCase();
    if (q.length < 2) throw new ApiError(400, 'validation', 'querystring.q: at least 2 characters');
    const states = new Map(ctx.area.dmaStates().map((s) => [s.dma, s]));
    const out = [];
    for (const m of ctx.topology.meters.values()) {
      if (!(m.id.toLowerCase().includes(q) || m.customer.toLowerCase().includes(q) || (m.address ?? '').toLowerCase().includes(q))) continue;
      const s = m.dma ? states.get(m.dma) : undefined;
      out.push({ meter: m.id, customer: m.customer, address: m.address ?? '', dma: m.dma ?? '', dmaName: s?.name ?? m.dma ?? '', dmaState: s?.state ?? 'normal' });
      if (out.length >= 50) break;
    }
    return out;
  });

  app.get('/public/outages', { config: { public: true }, schema: { tags: ['public'], summary: 'Public outage feed (no customer data)', security: [] } }, async () => publicOutages(ctx));
}
