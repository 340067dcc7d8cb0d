/** Maintenance: work orders (burst alarms create them; crews, status, notes). */
import type { FastifyInstance } from 'fastify';
import { WORK_ORDER_STATUSES, type WorkOrderStatus } from '../../../core/state/work-orders.ts';
import { ApiError, requireAnalytics, type DashboardContext } from '../context.ts';
import { burstEvidence, WORK_ORDER_ALARM_TYPES } from '../work-order-service.ts';
import { obj, str, params } from '../schemas.ts';

export function registerWorkOrderRoutes(app: FastifyInstance, ctx: DashboardContext): void {
  /** The burst's flow estimate changes every minute without an alarm transition: read it from the open alarm. */
  const refreshFlows = () => {
    const a = ctx.analytics();
    if (!a) return;
    for (const alarm of a.alarms.openAlarms()) {
      if (!WORK_ORDER_ALARM_TYPES.includes(alarm.type)) continue;
      const wo = ctx.workOrders.byAlarm(alarm.id);
      const flow = burstEvidence(alarm).burstFlowM3h;
      if (wo && wo.status !== 'resolved' && flow !== undefined && flow !== wo.burstFlowM3h) ctx.workOrders.updateBurstFlow(wo.id, flow);
    }
  };

  app.get('/work-orders', {
    schema: { tags: ['work orders'], summary: 'Work orders, newest first', querystring: obj({ status: { type: 'string', enum: [...WORK_ORDER_STATUSES] } }) },
  }, async (req) => {
    refreshFlows();
    return ctx.workOrders.list(ctx.now(), (req.query as { status?: WorkOrderStatus }).status);
  });

  app.post('/work-orders', {
    config: { permission: 'workorders.edit' },
    schema: { tags: ['work orders'], summary: 'Create a work order for an alarm', body: obj({ alarmId: str(256, 1), note: str(2000) }, ['alarmId']) },
  }, async (req, reply) => {
    const { alarmId, note } = req.body as { alarmId: string; note?: string };
    const alarm = requireAnalytics(ctx).alarms.get(alarmId);
    if (!alarm) throw new ApiError(404, 'not_found', `alarmId: no alarm ${alarmId}`);
    const now = ctx.now();
    const wo = ctx.workOrders.create({
      alarmId, dma: alarm.dma ?? '', by: req.dashUser!.username, at: now, note: note || undefined,
      ...(WORK_ORDER_ALARM_TYPES.includes(alarm.type) ? burstEvidence(alarm) : alarm.sensor ? { locationHint: alarm.sensor } : {}),
    }, now);
    return reply.code(201).send(wo);
  });

  app.patch('/work-orders/:id', {
    config: { permission: 'workorders.edit' },
    schema: {
      tags: ['work orders'], summary: 'Assign a crew, change the status, add a note', params: params('id'),
      body: obj({ status: { type: 'string', enum: [...WORK_ORDER_STATUSES] }, crew: str(200), note: str(2000) }),
    },
  }, async (req) => {
    const { id } = req.params as { id: string };
    const body = req.body as { status?: string; crew?: string; note?: string };
    if (body.status === undefined && body.crew === undefined && !body.note) throw new ApiError(400, 'validation', 'body: give status, crew or note');
    return ctx.workOrders.update(id, body, req.dashUser!.username, ctx.now());
  });
}
