/** Maintenance: work orders (burst alarms create them; crews, status, notes). */
import type { FastifyInstance } from 'fastify';
import { API } from '../../contract/index.ts';
import { ApiError, requireAnalytics, type DashboardContext } from '../context.ts';
import { hasLossFlow, workOrderEvidence } from '../work-order-service.ts';
import { serve, type ServeOptions } from '../schemas.ts';
import { sendWorkOrderToCrew } from '../work-order-page.ts';

export function registerWorkOrderRoutes(app: FastifyInstance, ctx: DashboardContext, opts: ServeOptions = {}): void {
  /** A burst's flow estimate changes every minute without an alarm transition: read it (and a leak's) from the open alarm. */
  const refreshFlows = () => {
    const a = ctx.analytics();
    if (!a) return;
    for (const alarm of a.alarms.openAlarms()) {
      if (!hasLossFlow(alarm.type)) continue;
      const wo = ctx.workOrders.byAlarm(alarm.id);
      const flow = workOrderEvidence(alarm).burstFlowM3h;
      if (wo && wo.status !== 'resolved' && flow !== undefined && flow !== wo.burstFlowM3h) ctx.workOrders.updateBurstFlow(wo.id, flow);
    }
  };

  serve(app, API.workOrders.list, async (req) => {
    refreshFlows();
    return ctx.workOrders.list(ctx.now(), req.query.status);
  }, opts);

  serve(app, API.workOrders.create, async (req) => {
    const { alarmId, note } = req.body;
    const alarm = requireAnalytics(ctx).alarms.get(alarmId);
    if (!alarm) throw new ApiError('not_found', `alarmId: no alarm ${alarmId}`, 'body.alarmId');
    const now = ctx.now();
    const wo = ctx.workOrders.create({
      alarmId, dma: alarm.dma ?? '', by: req.dashUser!.username, at: now, note: note || undefined,
      ...workOrderEvidence(alarm),
    }, now);
    return wo;
  }, opts);

  serve(app, API.workOrders.update, async (req) => {
    const body = req.body;
    if (body.status === undefined && body.crew === undefined && !body.note) throw new ApiError('validation', 'body: give status, crew or note', 'body');
    const crewBefore = ctx.workOrders.get(req.params.id, ctx.now())?.crew;
    const wo = ctx.workOrders.update(req.params.id, body, req.dashUser!.username, ctx.now());
    if (wo.crew && wo.crew !== crewBefore) sendWorkOrderToCrew(ctx, wo);
    return wo;
  }, opts);
}
