/** Alarms: list, detail with history, acknowledge (one or many), shelve, unshelve. */
import type { FastifyInstance } from 'fastify';
import { ALARM_PRIORITIES, type AlarmPriority } from '../../../core/state/alarm-store.ts';
import { ApiError, requireAnalytics, type DashboardContext } from '../context.ts';
import { obj, str, ms, int, params } from '../schemas.ts';

export function registerAlarmRoutes(app: FastifyInstance, ctx: DashboardContext): void {
  app.get('/alarms', {
    schema: {
      tags: ['alarms'], summary: 'Alarms, newest first',
      querystring: obj({
        open: { type: 'boolean' }, from: ms, to: ms, dma: str(128, 1), type: str(128, 1),
        priority: { type: 'string', enum: [...ALARM_PRIORITIES] }, limit: int(1, 1000),
      }),
    },
  }, async (req) => {
    const q = req.query as { open?: boolean; from?: number; to?: number; dma?: string; type?: string; priority?: AlarmPriority; limit?: number };
    const a = requireAnalytics(ctx);
    const open = q.open ?? true;
    let list = open && q.from === undefined && q.to === undefined
      ? a.alarms.openAlarms().filter((x) => (!q.dma || x.dma === q.dma) && (!q.type || x.type === q.type))
      : a.alarms.list({ from: q.from, to: q.to, dma: q.dma, type: q.type, openOnly: open });
    if (q.priority) list = list.filter((x) => x.priority === q.priority);
    return list.sort((x, y) => y.raisedAt - x.raisedAt || y.id.localeCompare(x.id)).slice(0, q.limit ?? 500);
  });

  app.get('/alarms/:id', { schema: { tags: ['alarms'], summary: 'An alarm and its history', params: params('id') } }, async (req) => {
    const { id } = req.params as { id: string };
    const a = requireAnalytics(ctx);
    const alarm = a.alarms.get(id);
    if (!alarm) throw new ApiError(404, 'not_found', `id: no alarm ${id}`);
    return { alarm, history: a.alarms.history(id) };
  });

  app.post('/alarms/:id/ack', {
    config: { permission: 'alarms.ack' },
    schema: { tags: ['alarms'], summary: 'Acknowledge', params: params('id'), body: obj({ comment: str(500) }) },
  }, async (req) => {
    const { id } = req.params as { id: string };
    const { comment } = (req.body ?? {}) as { comment?: string };
    return requireAnalytics(ctx).alarms.acknowledge(id, req.dashUser!.username, comment || undefined);
  });

  app.post('/alarms/ack', {
    config: { permission: 'alarms.ack' },
    schema: {
      tags: ['alarms'], summary: 'Acknowledge several',
      body: obj({ ids: { type: 'array', minItems: 1, maxItems: 500, items: { type: 'string', minLength: 1, maxLength: 256 } }, comment: str(500) }, ['ids']),
    },
  }, async (req) => {
    const { ids, comment } = req.body as { ids: string[]; comment?: string };
    const a = requireAnalytics(ctx);
    const acknowledged: string[] = [];
    const failed: { id: string; message: string }[] = [];
    for (const id of new Set(ids)) {
      try { a.alarms.acknowledge(id, req.dashUser!.username, comment || undefined); acknowledged.push(id); } catch (e) { failed.push({ id, message: (e as Error).message }); }
    }
    return { acknowledged, failed };
  });

  app.post('/alarms/:id/shelve', {
    config: { permission: 'alarms.shelve' },
    schema: { tags: ['alarms'], summary: 'Shelve for a time', params: params('id'), body: obj({ minutes: int(1, 1440), reason: str(500, 1) }, ['minutes', 'reason']) },
  }, async (req) => {
    const { id } = req.params as { id: string };
    const { minutes, reason } = req.body as { minutes: number; reason: string };
    if (!reason.trim()) throw new ApiError(400, 'validation', 'body.reason: must not be blank');
    const a = requireAnalytics(ctx);
    return a.alarms.shelve(id, req.dashUser!.username, ctx.now() + minutes * 60_000, reason);
  });

  app.post('/alarms/:id/unshelve', {
    config: { permission: 'alarms.shelve' },
    schema: { tags: ['alarms'], summary: 'Unshelve', params: params('id'), body: obj({ comment: str(500) }) },
  }, async (req) => {
    const { id } = req.params as { id: string };
    const { comment } = (req.body ?? {}) as { comment?: string };
    return requireAnalytics(ctx).alarms.unshelve(id, req.dashUser!.username, comment || undefined);
  });
}
