/**
 * The analytics service of the server process: the live composition (analytics/compose.ts:
 * detectors, alarm manager with its SQLite state, planned outage register and its suppressions) in
 * an event-time worker fed by the telemetry bus.
 */
import type { Logger } from 'pino';
import type { LoadedConfig } from '../core/config/load.ts';
import { Topology } from '../core/topology/topology.ts';
import type { TimeSeriesStore } from '../core/tsdb/types.ts';
import { mqttConnectOptions } from '../core/bus/mqtt-client.ts';
import type { AlarmRecord, AlarmStore } from '../core/state/alarm-store.ts';
import { stateDbPath } from '../core/state/state-db.ts';
import type { AlarmManager } from './alarms/manager.ts';
import type { OutageRegister } from './outages/register.ts';
import type { LeakDecisionStore } from './detectors/leak-change/decisions.ts';
import { buildAnalytics, type Analytics } from './compose.ts';
import type { AlarmNotifications } from './notify/alarm-feed.ts';
import { AnalyticsWorker, type WorkerHealth, type WorkerStats } from './worker.ts';
import type { Registry } from 'prom-client';
import { registerAnalyticsMetrics } from './metrics.ts';
import { calendarExtent, daysBetween, localDateOf } from '../core/config/calendar.ts';

export interface AnalyticsServiceOptions {
  config: LoadedConfig;
  store: TimeSeriesStore;
  brokerUrl: string;
  log: Logger;
  /**
   * Event time to start from without warming up: for a platform whose history arrives through the
   * bus right after start (the demo's backfill). Default: warm up from the store up to now.
   */
  startAt?: number;
}

export class AnalyticsService {
  readonly topology: Topology;
  alarmStore!: AlarmStore;
  alarms!: AlarmManager;
  register!: OutageRegister;
  worker!: AnalyticsWorker;
  private parts?: Analytics;
  private readonly unregister: (() => void)[] = [];

  constructor(private readonly o: AnalyticsServiceOptions) {
    this.topology = new Topology(o.config.topology, o.config.file);
  }

  async start(): Promise<void> {
    const { config, log } = this.o;
    const parts = this.parts = buildAnalytics({
      config, statePath: stateDbPath(config), mode: 'live', topology: this.topology, log: log.child({ component: 'analytics' }),
    });
    this.alarmStore = parts.alarmStore;
    this.alarms = parts.alarms;
    this.register = parts.register!;
    this.worker = new AnalyticsWorker({
      topology: this.topology, store: this.o.store, detectors: parts.detectors.all, alarms: this.alarms,
      timezone: config.site.timezone, busClockSkewMs: config.ingest.maxFutureMs, sensorClockLagMs: config.analytics.sensorClockLagMinutes * 60_000,
      sensorStatus: parts.detectors.health, openAlarms: parts.openAlarms, log: log.child({ component: 'analytics' }),
    });
    this.alarms.on('transition', (t) => {
      if (t.kind !== 'raise' && t.kind !== 'clear') return;
      const level = t.alarm.priority === 'high' || t.alarm.priority === 'critical' ? 'info' : 'debug';
      log[level]({ alarm: t.alarmId, kind: t.kind, type: t.alarm.type, priority: t.alarm.priority, dma: t.alarm.dma }, t.alarm.message);
    });
    if (this.o.startAt !== undefined) this.worker.startAt(this.o.startAt);
    else await this.worker.warmUp(Date.now());
    // planned outages entered while analytics was down
    parts.suppressions.syncAll();
    await this.worker.start(this.o.brokerUrl, {
      connect: mqttConnectOptions({ ...config.broker, url: this.o.brokerUrl }),
      clientId: `aquawatch-analytics-${process.pid}`,
    });
  }

  /** Dispatchers' acceptances of leak alarms as changes of use (the dashboard writes them, leak-change reads them). */
  get leakDecisions(): LeakDecisionStore | undefined {
    return this.parts?.leakDecisions;
  }

  /** Alarms to people (with a `notify:` section): delivery history, acknowledgement links. */
  get notifications(): AlarmNotifications | undefined {
    return this.parts?.notifications;
  }

  openAlarms(): AlarmRecord[] {
    return this.alarms?.openAlarms() ?? [];
  }

  /** The worker's state for /health: bus connection, how far behind the analysis runs, and its counts. */
  health(): WorkerHealth & { stats: WorkerStats } {
    return { ...this.worker.health(), stats: this.worker.stats };
  }

  /** Put the analytics metrics (analytics/metrics.ts) in `registry`: the server's own, or ingest's in `start`. Call after start(). */
  registerMetrics(registry: Registry): void {
    const { config } = this.o;
    const notifications = this.parts?.notifications;
    // the calendar does not change while the process runs; a site that keeps none has no days left to report
    const { lastDate } = calendarExtent(config.calendar);
    this.unregister.push(registerAnalyticsMetrics(registry, {
      worker: this.worker, alarms: this.alarms,
      downChannels: notifications ? () => notifications.downChannels() : undefined,
      calendarDaysLeft: lastDate === undefined ? undefined : () => daysBetween(localDateOf(Date.now(), config.site.timezone), lastDate),
    }));
  }

  async stop(): Promise<void> {
    for (const u of this.unregister.splice(0)) u();
    await this.worker?.stop();
    this.parts?.close();
  }
}
