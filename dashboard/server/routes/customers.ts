/**
 * Customer service's workspace (issue #14.2, customer-workspace.ts): the meter-anomaly queue, one
 * anomaly with its evidence, the case actions (`customers.act`: customer service and admin; every
 * signed-in user reads, as the lookup), and the page per customer. Every action is in the case's
 * history and, through audit.ts, in the audit log. The first action on an anomaly acknowledges its
 * alarm (customer service has taken it up), so it leaves the open alarm lists once the meter is normal again.
 */
import type { FastifyInstance } from 'fastify';
import { API } from '../../contract/index.ts';
import { auditTarget } from '../audit.ts';
import { ApiError, requireAnalytics, type DashboardContext } from '../context.ts';
import { CustomerCaseStore } from '../state/customer-cases.ts';
import type { CustomerNoticeService } from '../customer-notices.ts';
import { CustomerWorkspace, DEFAULT_PAGE_DAYS, MAX_PAGE_DAYS } from '../customer-workspace.ts';
import { serve, type ServeOptions } from '../schemas.ts';

const DAY = 86_400_000;

export function registerCustomerRoutes(app: FastifyInstance, ctx: DashboardContext, notices: CustomerNoticeService, opts: ServeOptions = {}): void {
  const cases = new CustomerCaseStore(ctx.db);
  const workspace = new CustomerWorkspace(ctx, cases, notices);
  const detail = async (id: string) => {
    const anomaly = workspace.anomaly(id);
    return { anomaly, ...(await workspace.evidence(anomaly)) };
  };

  serve(app, API.customers.anomalies, async (req) => workspace.anomalies(req.query.status ?? 'to_handle'), opts);

  serve(app, API.customers.anomaly, async (req) => detail(req.params.id), opts);

  serve(app, API.customers.act, async (req) => {
    const { id } = req.params;
    const before = workspace.anomaly(id);
    const by = req.dashUser!.username;
    const after = cases.act(id, before.customer.meter, req.body, by, Date.now());
    if (before.alarm.state === 'active-unacknowledged' || before.alarm.state === 'cleared-unacknowledged') {
      requireAnalytics(ctx).alarms.acknowledge(id, by, `customer service: ${req.body.action}`);
    }
    auditTarget(req, id, { account: before.customer.account, meter: before.customer.meter, state: [before.state, after.state] });
    return detail(id);
  }, opts);

  serve(app, API.customers.page, async (req) => {
    const to = req.query.to ?? ctx.now();
    const from = req.query.from ?? to - DEFAULT_PAGE_DAYS * DAY;
    if (to <= from) throw new ApiError('validation', 'querystring.to: must be after from', 'querystring.to');
    if (to - from > MAX_PAGE_DAYS * DAY) throw new ApiError('validation', `querystring.from: at most ${MAX_PAGE_DAYS} days before to`, 'querystring.from');
    return workspace.page(req.params.account, from, to);
  }, opts);
}
