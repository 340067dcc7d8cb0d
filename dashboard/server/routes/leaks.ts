/**
 * Leak alarms (issue #12.4): a dispatcher's acceptance of a raised leak (slow, abrupt, night-flow's
 * new leak) as a change of use (stored for the detectors, which re-base on it by event time), the decisions,
 * and the repairs the night flow confirmed with their work orders (leak-repairs.ts).
 */
import type { FastifyInstance } from 'fastify';
import { ACCEPTABLE_LEAK_TYPES, isAcceptableLeakType } from '../../../core/messages/alarm-texts.ts';
import { API } from '../../contract/index.ts';
import { auditTarget } from '../audit.ts';
import { ApiError, requireAnalytics, type DashboardContext } from '../context.ts';
import { serve, type ServeOptions } from '../schemas.ts';

export function registerLeakRoutes(app: FastifyInstance, ctx: DashboardContext, opts: ServeOptions = {}): void {
  const decisionsOf = () => {
    const store = requireAnalytics(ctx).leakDecisions;
    if (!store) throw new ApiError('unavailable', 'leak decisions: the analytics of this process keep none');
    return store;
  };

  serve(app, API.leaks.accept, async (req) => {
    const { id } = req.params;
    const alarm = requireAnalytics(ctx).alarms.get(id);
    if (!alarm) throw new ApiError('not_found', `id: no alarm ${id}`, 'params.id');
    if (!isAcceptableLeakType(alarm.type)) {
      throw new ApiError('validation', `id: a ${alarm.type} alarm cannot be accepted as a change of use (only ${ACCEPTABLE_LEAK_TYPES.join(', ')})`, 'params.id');
    }
    if (alarm.clearedAt !== undefined) throw new ApiError('conflict', `id: alarm ${id} has cleared; only a raised leak can be accepted`, 'params.id');
    const reason = req.body.reason.trim();
    if (!reason) throw new ApiError('validation', 'body.reason: must not be blank', 'body.reason');
    const decision = decisionsOf().accept({
      alarmId: alarm.id, conditionId: alarm.conditionId, type: alarm.type as (typeof ACCEPTABLE_LEAK_TYPES)[number], dma: alarm.dma ?? '',
      // event time: the detector applies it at this point of the data, live and in a replay alike
      effectiveTs: ctx.now(), reason, decidedBy: req.dashUser!.username, decidedAt: Date.now(),
    });
    auditTarget(req, alarm.id, { decisionId: decision.id, effectiveTs: decision.effectiveTs });
    return decision;
  }, opts);

  serve(app, API.leaks.decisions, async (req) => {
    const { dma, alarmId } = req.query;
    return decisionsOf().list(dma).filter((d) => !alarmId || d.alarmId === alarmId);
  }, opts);

  serve(app, API.leaks.repairs, async (req) => ctx.leakRepairs.list(req.query), opts);
}
