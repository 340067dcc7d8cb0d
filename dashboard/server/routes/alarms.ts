/** Alarms: list, detail with history, acknowledge (one or many), shelve, unshelve. */
import type { FastifyInstance } from 'fastify';
import { API } from '../../contract/index.ts';
import { ApiError, requireAnalytics, type DashboardContext } from '../context.ts';
import { serve, type ServeOptions } from '../schemas.ts';

export function registerAlarmRoutes(app: FastifyInstance, ctx: DashboardContext, opts: ServeOptions = {}): void {
  serve(app, API.alarms.list, async (req) => {
    const q = req.query;
    const a = requireAnalytics(ctx);
    const open = q.open ?? true;
    const limit = q.limit ?? 500;
    // the open alarms are in memory; past ones come from the database, newest first and at most `limit` of them (F9)
    const list = open && q.from === undefined && q.to === undefined
      ? a.alarms.openAlarms().filter((x) => (!q.dma || x.dma === q.dma) && (!q.type || x.type === q.type) && (!q.priority || x.priority === q.priority))
      : a.alarms.list({ from: q.from, to: q.to, dma: q.dma, type: q.type, priority: q.priority, openOnly: open, newestFirst: true, limit });
    return list.sort((x, y) => y.raisedAt - x.raisedAt || y.id.localeCompare(x.id)).slice(0, limit);
  }, opts);

  serve(app, API.alarms.get, async (req) => {
    const { id } = req.params;
    const a = requireAnalytics(ctx);
    const alarm = a.alarms.get(id);
    if (!alarm) throw new ApiError('not_found', `id: no alarm ${id}`, 'params.id');
    const repair = ctx.leakRepairs.ofAlarm(id);
    return { alarm, history: a.alarms.history(id), ...(repair ? { repair } : {}) };
  }, opts);

  serve(app, API.alarms.deliveries, async (req) => {
    const { id } = req.params;
    const a = requireAnalytics(ctx);
    if (!a.alarms.get(id)) throw new ApiError('not_found', `id: no alarm ${id}`, 'params.id');
    return a.notifications?.history(id) ?? [];
  }, opts);

  serve(app, API.alarms.ack, async (req) => {
    const { comment } = req.body;
    return requireAnalytics(ctx).alarms.acknowledge(req.params.id, req.dashUser!.username, comment || undefined);
  }, opts);

  serve(app, API.alarms.ackMany, async (req) => {
    const { ids, comment } = req.body;
    const a = requireAnalytics(ctx);
    const acknowledged: string[] = [];
    const failed: { id: string; message: string }[] = [];
    for (const id of new Set(ids)) {
      try { a.alarms.acknowledge(id, req.dashUser!.username, comment || undefined); acknowledged.push(id); } catch (e) { failed.push({ id, message: (e as Error).message }); }
    }
    return { acknowledged, failed };
  }, opts);

  serve(app, API.alarms.shelve, async (req) => {
    const { minutes, reason } = req.body;
    if (!reason.trim()) throw new ApiError('validation', 'body.reason: must not be blank', 'body.reason');
    const a = requireAnalytics(ctx);
    return a.alarms.shelve(req.params.id, req.dashUser!.username, ctx.now() + minutes * 60_000, reason);
  }, opts);

  serve(app, API.alarms.unshelve, async (req) => {
    const { comment } = req.body;
    return requireAnalytics(ctx).alarms.unshelve(req.params.id, req.dashUser!.username, comment || undefined);
  }, opts);
}
