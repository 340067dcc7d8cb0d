/**
 * The detector registry: every detector of the platform, wired together (analytics/compose.ts
 * builds it for the live worker and for replay, `aquawatch analyze`). Order matters: sensor health runs first, so the others already
 * skip a sensor whose fault arrives in the same batch.
 */
import type { Topology } from '../../core/topology/topology.ts';
import type { Detector, DetectorMemory, OpenAlarm } from '../types.ts';
import { SensorHealthDetector } from './sensor-health/index.ts';
import { BurstDetector } from './burst/index.ts';
import { PressureDetector } from './pressure/index.ts';
import { NightFlowDetector } from './night-flow/index.ts';
import { LeakChangeDetector } from './leak-change/index.ts';
import type { LeakDecisionLookup } from './leak-change/decisions.ts';
import { PressureModelDetector } from './pressure-model/index.ts';
import { OutageDetector, type OutageOptions } from './outage/index.ts';
import { QualityDetector } from './quality/index.ts';
import { MeterAnomalyDetector } from './meters/index.ts';
import { RepairCheckDetector, type AlarmView } from './repair-check/index.ts';
import type { ReportedRepairLookup } from './repair-check/reported-repairs.ts';
import type { DetectorOptions } from './options.ts';
import type { DayCalendar } from '../baseline/calendar.ts';

export interface DetectorSetup {
  topology: Topology;
  timezone: string;
  /** The site's holidays and make-up working days (config `calendar:`), for the time-of-week baselines. */
  calendar?: DayCalendar;
  /** The planned outage register: outages are classed planned/unplanned against it and recorded in it. */
  register?: OutageOptions['register'];
  /** Dispatchers' acceptances of leak alarms as changes of use (leak-change/decisions.ts), read by event time. */
  leakDecisions?: LeakDecisionLookup;
  /** The crews' reported repairs (resolved work orders), read by event time, for the repair check. */
  reportedRepairs?: ReportedRepairLookup;
  /** The alarm manager's record of an alarm now (the repair check asks whether a leak's alarm is still raised). */
  alarm?: (alarmId: string) => AlarmView | undefined;
  /** The alarms open now: a restart takes up the leaks whose alarms outlived the history it replays. */
  openAlarms?: () => readonly OpenAlarm[];
  /** Live: what detectors keep across restarts beside the alarms (the state database's key-value table). */
  memory?: DetectorMemory;
  /** The detectors' options by name (`analytics.detectors` of the site config); each defaults to today's constants. */
  options?: DetectorOptions;
}

export interface Detectors {
  all: Detector[];
  health: SensorHealthDetector;
  burst: BurstDetector;
}

export function createDetectors(setup: DetectorSetup): Detectors {
  const { topology, timezone, calendar } = setup;
  const o = setup.options ?? {};
  const health = new SensorHealthDetector({ topology }, o['sensor-health']);
  const ctx = { topology, health, timezone, calendar };
  const burst = new BurstDetector(ctx, o.burst);
  const stationDmas: Record<string, string[]> = {};
  for (const site of topology.sites.values()) if (site.supplies?.length) stationDmas[site.id] = site.supplies;
  const all: Detector[] = [
    health,
    burst,
    // pressure drops in a DMA with an active burst are linked to it (one burst, one alarm); a planned
    // operation in the register explains a network event
    new PressureDetector(ctx, { ...o.pressure, bursts: burst, planned: setup.register }),
    new NightFlowDetector(ctx, o['night-flow'], { decisions: setup.leakDecisions, openAlarms: setup.openAlarms }),
    // a step that began with a burst still raised is that burst (its report goes under the burst's alarm)
    new LeakChangeDetector(ctx, o['leak-change'], { decisions: setup.leakDecisions, openAlarms: setup.openAlarms, bursts: burst }),
    // a burst already explains its DMA's pressure loss (one event, one alarm)
    new PressureModelDetector(ctx, { ...o['pressure-model'], bursts: burst, openAlarms: setup.openAlarms, memory: setup.memory }),
    new OutageDetector(ctx, {
      ...o.outage,
      register: setup.register,
      causeHint: (dma) => (burst.activeBurst(dma) ? 'burst' : undefined),
      stationDmas,
    }),
    new QualityDetector(ctx, o.quality),
    new MeterAnomalyDetector({ topology }, o.meters),
    // last: it reads the alarms the others raised
    new RepairCheckDetector(ctx, o['repair-check'], { repairs: setup.reportedRepairs, alarm: setup.alarm }),
  ];
  return { all, health, burst };
}
