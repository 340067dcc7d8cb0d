/**
 * Prometheus metrics of the analytics service: how far behind the analysis runs, whether it hears
 * the bus, what it dropped, which alarms are open and what was raised, whether alarms still reach
 * people, and how long the site calendar lasts. A worker that has stopped analysing serves its
 * dashboard as before, so "no alarm" would read as "nothing happened": these are what say otherwise
 * (deploy/monitoring/aquawatch-alerts.yml turns them into the operators' own alerts).
 *
 * Gauges and the worker's counts are read at scrape time from the live objects (no timer of its own);
 * alarm transitions are counted as the alarm manager emits them.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AlarmTransition } from '../core/bus/messages/alarm.ts';
import type { AlarmRecord } from '../core/state/alarm-store.ts';
import { ALARM_PRIORITIES } from '../core/state/alarm-store.ts';
import type { WorkerStats } from './worker.ts';

export interface AnalyticsMetricsSources {
  worker: { readonly stats: WorkerStats; readonly connected: boolean };
  alarms: {
    on(event: 'transition', listener: (t: AlarmTransition) => void): unknown;
    off(event: 'transition', listener: (t: AlarmTransition) => void): unknown;
    openAlarms(): readonly AlarmRecord[];
  };
  /** Notification channels counted as down now (a `notify:` section); none without one. */
  downChannels?: () => readonly string[];
  /** Whole days from today (the site's) to the calendar's last named day; leave out for a site that keeps no calendar. */
  calendarDaysLeft?: () => number;
  /** Default Date.now. */
  wallClock?: () => number;
}

/** Counts the worker keeps since start, as counters: name → [help, field]. */
const WORKER_COUNTS = [
  ['aquawatch_analytics_readings_total', 'Readings given to the detectors', 'readings'],
  ['aquawatch_analytics_readings_late_total', 'Readings dropped as older than the watermark (stored, not analysed live)', 'late'],
  ['aquawatch_analytics_readings_unknown_sensor_total', 'Readings of sensors not in the topology', 'unknownSensor'],
  ['aquawatch_analytics_detector_errors_total', 'Detector calls that threw (the step went on without that detector)', 'detectorErrors'],
  ['aquawatch_analytics_condition_errors_total', 'Conditions the alarm manager refused', 'conditionErrors'],
  ['aquawatch_analytics_forced_advances_total', 'Times the watermark was forced on because too many readings were buffered', 'forcedAdvances'],
  ['aquawatch_analytics_derived_dropped_total', 'Derived points dropped because the store did not take them in time', 'derivedDropped'],
] as const satisfies readonly (readonly [string, string, keyof WorkerStats])[];

/** Register the analytics metrics in `registry`; returns the function that stops counting transitions. */
export function registerAnalyticsMetrics(registry: Registry, s: AnalyticsMetricsSources): () => void {
  const registers = [registry];
  const now = s.wallClock ?? Date.now;
  const watermarkKnown = () => Number.isFinite(s.worker.stats.watermark);

  new Gauge({
    name: 'aquawatch_analytics_watermark_seconds', help: 'Event time up to which the detectors have seen all input (Unix seconds)', registers,
    collect() { if (watermarkKnown()) this.set(s.worker.stats.watermark / 1000); },
  });
  new Gauge({
    name: 'aquawatch_analytics_behind_seconds', help: 'Wall clock minus the watermark: how far behind live the analysis runs', registers,
    collect() { if (watermarkKnown()) this.set(Math.max(0, (now() - s.worker.stats.watermark) / 1000)); },
  });
  new Gauge({
    name: 'aquawatch_analytics_bus_connected', help: '1 while the analytics worker is connected to the telemetry bus', registers,
    collect() { this.set(s.worker.connected ? 1 : 0); },
  });
  new Gauge({
    name: 'aquawatch_analytics_buffered_readings', help: 'Readings held until the watermark passes them', registers,
    collect() { this.set(s.worker.stats.buffered); },
  });
  new Gauge({
    name: 'aquawatch_analytics_feeds', help: 'Feeds (sensors with a source address) the watermark follows, by whether they hold it now', labelNames: ['state'], registers,
    collect() {
      const { feeds, activeFeeds } = s.worker.stats;
      this.set({ state: 'active' }, activeFeeds);
      this.set({ state: 'idle' }, feeds - activeFeeds);
    },
  });
  for (const [name, help, field] of WORKER_COUNTS) {
    new Counter({
      name, help, registers,
      collect() { this.reset(); this.inc(s.worker.stats[field]); },
    });
  }
  new Counter({
    name: 'aquawatch_analytics_bus_dropped_total', help: 'Bus messages dropped by the trust checks, by reason', labelNames: ['reason'], registers,
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(s.worker.stats.busDropped)) this.inc({ reason }, n);
    },
  });

  new Gauge({
    name: 'aquawatch_alarms_open', help: 'Open alarms by priority and whether anyone has acknowledged them (shelved and suppressed ones apart)', labelNames: ['priority', 'acknowledged'], registers,
    collect() {
      this.reset();
      for (const priority of ALARM_PRIORITIES) for (const acknowledged of ['true', 'false']) this.set({ priority, acknowledged }, 0);
      for (const a of s.alarms.openAlarms()) {
        if (!a.state.startsWith('active') || a.shelved || a.suppressed) continue;
        this.inc({ priority: a.priority, acknowledged: a.state === 'active-acknowledged' ? 'true' : 'false' });
      }
    },
  });
  const transitions = new Counter({
    name: 'aquawatch_alarm_transitions_total', help: 'Alarm transitions since start, by alarm type and kind (raise, clear, acknowledge, …)', labelNames: ['type', 'kind'], registers,
  });
  const onTransition = (t: AlarmTransition) => transitions.inc({ type: t.alarm.type, kind: t.kind });
  s.alarms.on('transition', onTransition);

  if (s.downChannels) {
    const downChannels = s.downChannels;
    new Gauge({
      name: 'aquawatch_notify_channels_down', help: 'Notification channels whose deliveries keep failing (their people get alarms on their other channels only)', registers,
      collect() { this.set(downChannels().length); },
    });
  }
  if (s.calendarDaysLeft) {
    const daysLeft = s.calendarDaysLeft;
    new Gauge({
      name: 'aquawatch_calendar_days_left', help: 'Days from today to the last day the site calendar names (past it, holidays are compared as working days)', registers,
      collect() { this.set(daysLeft()); },
    });
  }
  return () => { s.alarms.off('transition', onTransition); };
}
