/**
 * Attaches the live gateway (dashboard/server/live) to the dashboard's HTTP server, fed by the
 * dashboard's own derivations (area states, KPI tiles) and the session check. Analytics may start
 * later than the gateway (the demo starts it after its backfill): alarm transitions come through a
 * relay that the analytics joins when it starts, and incidents read as none until then.
 */
import { EventEmitter } from 'node:events';
import type { Server as HttpServer } from 'node:http';
import type { IClientOptions } from 'mqtt';
import type { Logger } from 'pino';
import type { AlarmTransition } from '../../analytics/alarms/manager.ts';
import type { AnalyticsService } from '../../analytics/service.ts';
import { LiveGateway } from './live/index.ts';
import type { DashboardHandle } from './index.ts';

export interface LiveWiring {
  gateway: LiveGateway;
  /** Analytics has started: its alarm transitions go live. */
  attachAnalytics(analytics: AnalyticsService): void;
  stop(): Promise<void>;
}

export async function startLive(dashboard: DashboardHandle, o: {
  httpServer: HttpServer; brokerUrl: string; connect?: IClientOptions; log: Logger; analytics?: AnalyticsService;
}): Promise<LiveWiring> {
  const relay = new EventEmitter<{ transition: [AlarmTransition] }>();
  let source: AnalyticsService | undefined;
  const forward = (t: AlarmTransition) => relay.emit('transition', t);
  const attachAnalytics = (analytics: AnalyticsService) => {
    if (source || !analytics.alarms) return;
    source = analytics;
    analytics.alarms.on('transition', forward);
  };
  const gateway = new LiveGateway({
    httpServer: o.httpServer,
    authenticate: (cookie) => dashboard.authenticate(cookie),
    brokerUrl: o.brokerUrl,
    connect: o.connect,
    topology: dashboard.ctx.topology,
    alarms: relay,
    register: { listIncidents: (from, to) => source?.register.listIncidents(from, to) ?? [] },
    dmaStates: () => dashboard.area.dmaStates(),
    kpiSummary: () => dashboard.area.kpiSummary(),
    busClockSkewMs: dashboard.ctx.config.ingest.maxFutureMs,
    log: o.log,
  });
  if (o.analytics?.alarms) attachAnalytics(o.analytics);
  await gateway.start();
  return {
    gateway,
    attachAnalytics,
    stop: async () => {
      source?.alarms.off('transition', forward);
      await gateway.stop();
    },
  };
}
