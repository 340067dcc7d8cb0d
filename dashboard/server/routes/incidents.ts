/**
 * Incidents people work with (issue #14.1): list with corrections, detail with history, corrections
 * (cause, part of the area with its customers recomputed, restoration, notes), manual entry, merge,
 * split, emergency supply; and the audit log for admins (#14.5). Roles: `outages.edit` (admin,
 * dispatcher, customer service) changes, every signed-in user reads; `audit.read` (admin) the log.
 */
import type { FastifyInstance } from 'fastify';
import { measurePart } from '../../../analytics/outages/affected-part.ts';
import type { IncidentRecord } from '../../../analytics/outages/types.ts';
import { API, type IncidentDetail } from '../../contract/index.ts';
import { auditCsv } from '../state/audit-log.ts';
import { auditTarget } from '../audit.ts';
import { ApiError, type DashboardContext } from '../context.ts';
import { serve, type ServeOptions } from '../schemas.ts';
import { readMapFile } from './network.ts';

export function registerIncidentRoutes(app: FastifyInstance, ctx: DashboardContext, opts: ServeOptions = {}): void {
  const book = () => ctx.register().book;
  let pipePoints: Map<string, [number, number][]> | undefined;
  /** The map's pipe vertices per DMA (read once): what a drawn polygon is measured against when the meters have no positions. */
  const pointsOf = (dma: string) => {
    if (!pipePoints) {
      pipePoints = new Map();
      const links = ctx.topology.config.map ? readMapFile(ctx.topology.config.map) : [];
      for (const l of links) if (l.dma) pipePoints.set(l.dma, [...(pipePoints.get(l.dma) ?? []), ...l.points]);
    }
    return pipePoints.get(dma) ?? [];
  };
  const metersOf = (dma: string) => [...ctx.topology.meters.values()].filter((m) => m.dma === dma);

  const detail = (incident: IncidentRecord): IncidentDetail => {
    const supply = book().listEmergency().find((s) => s.incidentId === incident.id);
    return {
      incident, history: book().history(incident.id), ...(supply ? { emergencySupply: supply } : {}),
      meters: metersOf(incident.dma).map((m) => ({ id: m.id, customer: m.customer, address: m.address ?? '', ...(m.x !== undefined && m.y !== undefined ? { x: m.x, y: m.y } : {}) })),
    };
  };
  const need = (id: string) => {
    const rec = book().get(id);
    if (!rec) throw new ApiError('not_found', `id: no incident ${id}`, 'params.id');
    return rec;
  };

  serve(app, API.incidents.records, async (req) => {
    const { from, to, kind } = req.query;
    return book().list(from ?? ctx.now() - 30 * 86_400_000, to ?? Infinity, { kind, includeMerged: true });
  }, opts);

  serve(app, API.incidents.get, async (req) => detail(need(req.params.id)), opts);

  serve(app, API.incidents.update, async (req) => {
    const { id } = req.params;
    const current = need(id);
    const { affected, ...rest } = req.body;
    const dma = ctx.topology.dmas.get(current.dma);
    const part = affected === null || affected === undefined ? affected
      : measurePart(affected, { customers: dma?.customers ?? current.detected.customersAffected, meters: metersOf(current.dma), points: pointsOf(current.dma) });
    const after = book().edit(id, { ...rest, ...(part !== undefined ? { affected: part } : {}) }, req.dashUser!.username, Date.now());
    auditTarget(req, id, { changes: book().history(id).at(-1)?.changes ?? {} });
    return detail(after);
  }, opts);

  serve(app, API.incidents.create, async (req) => {
    const b = req.body;
    const dma = ctx.topology.dmas.get(b.dma);
    if (!dma) throw new ApiError('validation', `body.dma: unknown DMA ${b.dma}`, 'body.dma');
    const rec = book().createManual({ ...b, customersAffected: b.customersAffected ?? dma.customers }, req.dashUser!.username, Date.now());
    auditTarget(req, rec.id);
    return detail(rec);
  }, opts);

  serve(app, API.incidents.merge, async (req) => {
    const rec = book().merge(need(req.params.id).id, req.body.incidents, req.dashUser!.username, Date.now());
    return detail(rec);
  }, opts);

  serve(app, API.incidents.split, async (req) => {
    const { first, second } = book().split(need(req.params.id).id, req.body.at, req.body.customersAfter, req.dashUser!.username, Date.now());
    auditTarget(req, first.id, { second: second.id });
    return { first, second };
  }, opts);

  serve(app, API.incidents.emergencySupplies, async (req) => book().listEmergency({ open: req.query.open === 'true' }), opts);

  serve(app, API.incidents.updateEmergencySupply, async (req) => book().updateEmergency(req.params.id, req.body, req.dashUser!.username, Date.now()), opts);

  serve(app, API.incidents.audit, async (req) => ctx.audit.list(req.query), opts);

  serve(app, API.incidents.auditCsv, async (req, reply) => {
    reply.type(API.incidents.auditCsv.contentType).header('content-disposition', 'attachment; filename="aquawatch-audit.csv"');
    return `\uFEFF${auditCsv(ctx.audit.list({ ...req.query, limit: req.query.limit ?? 10_000 }))}`;
  }, opts);
}
