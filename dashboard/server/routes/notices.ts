/** Customer notices of outages: draft, approve (dispatcher), send by SMS, delivery log (customer-notices.ts). */
import type { FastifyInstance } from 'fastify';
import { API } from '../../contract/index.ts';
import type { DashboardContext } from '../context.ts';
import { auditTarget } from '../audit.ts';
import { CustomerNoticeService } from '../customer-notices.ts';
import { serve, type ServeOptions } from '../schemas.ts';

export function registerNoticeRoutes(app: FastifyInstance, ctx: DashboardContext, opts: ServeOptions = {}): CustomerNoticeService {
  const notices = new CustomerNoticeService(ctx);

  serve(app, API.notices.list, async (req) => notices.list(req.query), opts);

  serve(app, API.notices.create, async (req) => {
    const notice = notices.create(req.body, req.dashUser!.username);
    auditTarget(req, notice.id, { kind: notice.kind });
    return notice;
  }, opts);

  serve(app, API.notices.approve, async (req) => notices.approve(req.params.id, req.dashUser!.username), opts);

  serve(app, API.notices.send, async (req) => {
    const notice = notices.send(req.params.id, req.dashUser!.username);
    auditTarget(req, notice.id, { queued: notice.deliveries.filter((d) => d.state === 'queued').length });
    return notice;
  }, opts);
  return notices;
}
