/**
 * The one composition of analytics, for the live platform (`aquawatch start`, `aquawatch server`)
 * and for replay (`aquawatch analyze`): the detectors of the registry with their options
 * (`analytics.detectors`), the alarm manager with its rules (`analytics.alarms`), the
 * planned-outage register and the planned-outage suppressions, wired the same way in both, so a
 * replay classes outages planned or unplanned and suppresses alarms exactly as live would.
 *
 * - live: alarms and the register in the state database; the register records incidents and the
 *   suppressions follow its edits.
 * - live with a `notify:` section: the notifier follows the alarm manager (analytics/notify/alarm-feed.ts).
 * - the dispatchers' acceptances of leak alarms (analytics/detectors/leak-change/decisions.ts): live
 *   in the state database, read by the leak-change detector by event time; a replay reads live's.
 * - replay: alarms in the analysis database (`alarmsPath`), and a register there too: the live
 *   register's planned outages around the period copied in (the live register is only read, never
 *   written: no incident of a replay reaches the live KPIs), and the incidents the replay detects
 *   recorded in it, so `aquawatch report --state <analysis database>` gives the replayed period's KPIs.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { LoadedConfig } from '../core/config/load.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import { Topology } from '../core/topology/topology.ts';
import { AlarmStore } from '../core/state/alarm-store.ts';
import { AlarmManager } from './alarms/manager.ts';
import { DayCalendar } from './baseline/calendar.ts';
import { calendarExpiryWarning, localDateOf } from '../core/config/calendar.ts';
import { createDetectors, type Detectors } from './detectors/index.ts';
import { AlarmNotifications } from './notify/alarm-feed.ts';
import { createNotifier } from './notify/notifier.ts';
import { detectorOptionsSchema } from './detectors/options.ts';
import { parseDetectorOptions } from './detectors/parse-options.ts';
import { OutageRegister } from './outages/register.ts';
import { LeakDecisionStore, readLeakDecisions } from './detectors/leak-change/decisions.ts';
import { liveReportedRepairs, readReportedRepairs } from './detectors/repair-check/reported-repairs.ts';
import { PlannedOutageSuppressions } from './outages/suppressions.ts';
import type { OpenAlarm } from './types.ts';

export type AnalyticsMode = 'live' | 'replay';

export interface BuildAnalyticsOptions {
  config: LoadedConfig;
  /** The state database (alarms, planned outages, incidents). */
  statePath: string;
  mode: AnalyticsMode;
  /**
   * replay: the analysis database the replayed alarms go to (never the live alarms), and the
   * period replayed: its earlier alarms there are replaced, and its planned outages suppress.
   */
  replay?: { alarmsPath: string; from: number; to: number };
  /** Default: the configuration's topology. */
  topology?: Topology;
  log?: Logger;
}

export interface Analytics {
  mode: AnalyticsMode;
  topology: Topology;
  detectors: Detectors;
  alarmStore: AlarmStore;
  alarms: AlarmManager;
  /** live: the register (edited by the dashboard). replay: the analysis database's (planned outages copied from live, the replay's incidents). */
  register: OutageRegister;
  /** live: dispatchers' acceptances of leak alarms (written by the dashboard). replay reads live's, read-only, and has none here. */
  leakDecisions?: LeakDecisionStore;
  suppressions: PlannedOutageSuppressions;
  /** live with a `notify:` section: alarms to people (analytics/notify). Never in replay: a replay sends nothing. */
  notifications?: AlarmNotifications;
  /** live: the alarms whose condition was active when the platform stopped, for the worker to reconcile after its warm-up. */
  openAlarms?: () => readonly OpenAlarm[];
  /** replay: alarms of an earlier replay of the same period, deleted. */
  replacedAlarms: number;
  /** replay: incidents of an earlier replay starting in the period, deleted. */
  replacedIncidents: number;
  close(): void;
}

/**
 * A register on the live state database opened read-only (replay must not write to it), or one in
 * memory with no planned outage when there is no state database yet (history imported from CSV).
 */
function openRegisterReadOnly(statePath: string, topology: Topology, log: Logger): OutageRegister {
  const knownDmas = topology.dmas.keys();
  if (!existsSync(statePath)) return new OutageRegister(':memory:', { knownDmas });
  const db = new Database(statePath, { readonly: true, fileMustExist: true });
  try {
    const register = new OutageRegister(db, { knownDmas });
    const close = register.close.bind(register);
    register.close = () => { close(); db.close(); };
    return register;
  } catch (e) {
    // a state database from before the register (its tables cannot be created read-only)
    db.close();
    log.warn({ statePath, err: String(e) }, 'no planned-outage register in the state database; replay classes every outage unplanned');
    return new OutageRegister(':memory:', { knownDmas });
  }
}

const DAY_MS = 86_400_000;

/**
 * The replay's register, in the analysis database: the live register's planned outages overlapping
 * the period (± a day, the outage detector's tolerance) copied in, those an earlier replay copied
 * that live no longer has removed, and the incidents an earlier replay found starting in the period
 * deleted (the replay records them again).
 */
function replayRegister(statePath: string, analysisDb: Database.Database, period: { from: number; to: number }, topology: Topology, log: Logger): { register: OutageRegister; replacedIncidents: number } {
  const live = openRegisterReadOnly(statePath, topology, log);
  const register = new OutageRegister(analysisDb, { knownDmas: topology.dmas.keys() });
  try {
    // pending ones too, with their approval: the replay acts on what live would (approved only)
    const planned = live.listPlanned(period.from - DAY_MS, period.to + DAY_MS, { withPending: true });
    const ids = new Set(planned.map((p) => p.id));
    for (const p of register.listPlanned(period.from - DAY_MS, period.to + DAY_MS, { withPending: true })) if (!ids.has(p.id)) register.deletePlanned(p.id);
    for (const p of planned) {
      try {
        register.copyPlanned(p);
      } catch (e) {
        log.warn({ plannedOutage: p.id, err: String(e) }, 'planned outage of the live register left out of the replay');
      }
    }
  } finally {
    live.close();
  }
  return { register, replacedIncidents: register.deleteIncidentsStartingBetween(period.from, period.to) };
}

export function buildAnalytics(o: BuildAnalyticsOptions): Analytics {
  const { config, mode } = o;
  const log = o.log ?? silentLogger;
  const topology = o.topology ?? new Topology(config.topology, config.file);
  const timezone = config.site.timezone;
  if (mode === 'replay' && !o.replay) throw new Error('buildAnalytics: replay needs replay.alarmsPath and the period');
  const alarmStore = new AlarmStore(mode === 'live' ? o.statePath : o.replay!.alarmsPath);
  // before the manager loads its state: a replay of the same period starts from a clean slate
  const replacedAlarms = o.replay ? alarmStore.deleteRaisedBetween(o.replay.from, o.replay.to) : 0;
  const { alarms: alarmOptions, detectors: detectorOptions } = config.analytics;
  const alarms = new AlarmManager({ store: alarmStore, rules: alarmOptions.rules, links: alarmOptions.links });
  const { register, replacedIncidents } = mode === 'live'
    ? { register: new OutageRegister(o.statePath, { knownDmas: topology.dmas.keys() }), replacedIncidents: 0 }
    : replayRegister(o.statePath, alarmStore.db, o.replay!, topology, log);
  // each section through its detector's schema here too: a config loaded without it (checked only for its shape) is checked now
  const options = parseDetectorOptions('analytics.detectors', detectorOptionsSchema, detectorOptions);
  // replay applies live's decisions at their event times, as live did
  const leakDecisions = mode === 'live' ? new LeakDecisionStore(o.statePath) : undefined;
  // live: the alarms active when the platform stopped. A restart takes up the leaks whose alarms outlived
  // the history it replays, and reconciles the rest with what its warm-up found (the manager reloads
  // their tracks). A replay starts its tracks afresh, so an alarm of an earlier run is not continued.
  const openAlarms = mode === 'live' ? () => alarmStore.openAlarms().filter((a) => a.state.startsWith('active')) : undefined;
  // the calendar is kept one year at a time: a live platform says when it runs out
  const calendarExpiry = mode === 'live' ? calendarExpiryWarning(config.calendar, localDateOf(Date.now(), timezone)) : undefined;
  if (calendarExpiry) log.warn({ key: 'calendar' }, calendarExpiry);
  const detectors = createDetectors({
    topology, timezone, calendar: new DayCalendar(config.calendar), options, register, leakDecisions: leakDecisions ?? readLeakDecisions(o.statePath),
    // the crews' reports: live on the state database the dashboard resolves work orders in, a replay live's read once
    reportedRepairs: mode === 'live' ? liveReportedRepairs(alarmStore.db) : readReportedRepairs(o.statePath),
    alarm: (id) => alarms.get(id),
    openAlarms,
    // live: facts the detectors keep across restarts (the days a model was learned on), beside the alarms
    memory: mode === 'live' ? alarmStore : undefined,
  });
  // the suppressions' bookkeeping sits beside the alarms they made (state or analysis database)
  const suppressions = new PlannedOutageSuppressions(alarmStore.db, alarms, register, log);
  if (mode === 'live') suppressions.follow(register);
  else suppressions.syncAll(o.replay!.from);
  const notifications = mode === 'live' && config.notify ? new AlarmNotifications({
    notifier: createNotifier(config.notify, { db: alarmStore.db }), config: config.notify, alarms,
    storedAlarm: (id) => alarmStore.getAlarm(id), log: log.child({ component: 'notify' }),
  }) : undefined;
  notifications?.start();
  return {
    mode, topology, detectors, alarmStore, alarms, suppressions, openAlarms, replacedAlarms, replacedIncidents, notifications, register, leakDecisions,
    close: () => {
      if (mode === 'live') suppressions.unfollow(register);
      void notifications?.stop();
      register.close();
      leakDecisions?.close();
      alarmStore.close();
    },
  };
}
