/**
 * Attaches the live gateway (dashboard/server/live) to the dashboard's HTTP server: live values
 * from the analytics worker's telemetry feed (one bus subscription and one decode for analytics and
 * the browsers), alarm transitions (a leak alarm's clear with its repair and work order) and
 * incidents from the analytics, area states and KPI tiles from the dashboard's derivations, and the
 * dashboard's session check (a sign-out reaches the sockets at once).
 */
import type { Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import type { AnalyticsService } from '../../analytics/service.ts';
import { LiveGateway } from './live/index.ts';
import type { DashboardHandle } from './index.ts';

export async function startLive(dashboard: DashboardHandle, o: { httpServer: HttpServer; analytics: AnalyticsService; log: Logger }): Promise<LiveGateway> {
  const gateway = new LiveGateway({
    httpServer: o.httpServer,
    authenticate: (cookie) => dashboard.authenticate(cookie),
    onSessionsEnded: (listener) => dashboard.ctx.sessions.onEnded(listener),
    telemetry: o.analytics.worker,
    topology: dashboard.ctx.topology,
    alarms: o.analytics.alarms,
    // a leak alarm's clear names its repair and work order (recorded by whichever listener asks first)
    repairOf: (t) => dashboard.leakRepairs.repairOn(t),
    register: o.analytics.register,
    dmaStates: () => dashboard.area.dmaStates(),
    kpiSummary: () => dashboard.area.kpiSummary(),
    log: o.log,
  });
  await gateway.start();
  return gateway;
}
