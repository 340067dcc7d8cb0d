/**
 * Keeps the incidents people work with in step with the detectors (config `incidents`):
 * - low-pressure incidents (供水不足) from the `pressure_low` alarms at network-end sensors, once the
 *   pressure has stayed below the minimum for `lowPressureMinutes` (analytics/outages/low-pressure.ts);
 * - the emergency-supply record of an outage reaching `emergencySupplyHours` (24 h), open until
 *   supply is restored (analytics/outages/incident-book.ts `sweepEmergencySupply`).
 * Both run on every alarm transition and once a minute of wall clock (an outage entered by hand has
 * no alarm), at the alarm manager's event time. Everything is derived from stored state, so a
 * restart catches up on its first sweep.
 */
import type { AlarmTransition } from '../../analytics/alarms/manager.ts';
import type { AnalyticsService } from '../../analytics/service.ts';
import { LowPressureIncidents } from '../../analytics/outages/low-pressure.ts';
import type { DashboardContext } from './context.ts';

const SWEEP_EVERY_MS = 60_000;

export class IncidentService {
  private analytics?: AnalyticsService;
  private lowPressure?: LowPressureIncidents;
  private timer?: NodeJS.Timeout;
  private readonly onTransition = (t: AlarmTransition) => {
    if (t.alarm.type === 'outage' || t.alarm.type === 'emergency_supply_required' || this.lowPressure?.follows(t.alarm)) this.sweep([t.alarm]);
  };

  constructor(private readonly ctx: Pick<DashboardContext, 'config' | 'topology' | 'log' | 'now'>) {}

  attach(analytics: AnalyticsService): void {
    this.analytics = analytics;
    this.lowPressure = new LowPressureIncidents({
      book: analytics.register.book, topology: this.ctx.topology, minMs: this.ctx.config.incidents.lowPressureMinutes * 60_000,
    });
    analytics.alarms.on('transition', this.onTransition);
    this.timer = setInterval(() => this.sweep(), SWEEP_EVERY_MS);
    this.timer.unref();
    this.sweep();
  }

  detach(): void {
    this.analytics?.alarms.off('transition', this.onTransition);
    clearInterval(this.timer);
  }

  /** One pass; `changed` are alarms just transitioned (a cleared alarm may have left the open list). */
  sweep(changed: readonly AlarmTransition['alarm'][] = []): void {
    const a = this.analytics;
    if (!a) return;
    try {
      const now = this.ctx.now();
      this.lowPressure!.sweep(now, [...a.alarms.openAlarms(), ...changed]);
      a.register.book.sweepEmergencySupply(now, this.ctx.config.incidents.emergencySupplyHours * 3_600_000);
    } catch (e) {
      this.ctx.log.warn({ err: String(e) }, 'incident sweep failed');
    }
  }
}
