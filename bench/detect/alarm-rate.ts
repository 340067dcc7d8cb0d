/**
 * Alarm rate per operator on the scenario suite (ISA-18.2): every suite scenario through the worker
 * (every detector of the registry) and the alarm manager, with the planned-outage register filled
 * from the scenario's planned closures and their suppressions wired as the platform wires them
 * (analytics/compose.ts). Counted: alarms presented to the operator, that is raises annunciated
 * (not suppressed, shelved or linked under a parent) and suppressed alarms announced when their
 * window ends while still active, from the scenario's start on (the lead-in only warms the detectors,
 * as warmUp does on a live site). One control room watches the whole town, so the rate is per site.
 * Customer meters are left out: their anomalies go to customer service, not to the control room's
 * operator (and the simulator's 15-min registers are no PDA round).
 *
 * - `detect.max_alarms_per_10min`: the most presented in any 10 minutes, over every scenario (≤ 10);
 * - `detect.flood_episodes`: floods (ISA-18.2: more than 10 in 10 minutes, over when the rate falls
 *   below 5 in 10 minutes), summed over the suite (0).
 *
 * Each scenario runs for its first 3 days after a lead-in of `leadInDays` quiet days (default 7, so
 * the time-of-week baselines are warm and the pressure deviation rule is armed as on a live site).
 *
 *   npm run bench -- detect:alarm-rate          (FINGERPRINT_ONLY=network-event,burst: those only)
 */
import { readdirSync } from 'node:fs';
import type { AlarmTransition } from '../../analytics/alarms/manager.ts';
import { OutageRegister, type CauseCode } from '../../analytics/outages/register.ts';
import { PlannedOutageSuppressions } from '../../analytics/outages/suppressions.ts';
import { Simulation } from '../../simulators/engine.ts';
import { driveScenario, SUITE_DIR } from './fingerprint.ts';

const MIN = 60_000;
const DAY = 86_400_000;
const WINDOW = 10 * MIN;
const FLOOD_ABOVE = 10;
const FLOOD_ENDS_BELOW = 5;

export interface AlarmRate {
  presented: number;
  maxPer10Min: number;
  floodEpisodes: number;
  /** The busiest 10 minutes: when they start and what was presented then. */
  busiest: { from: number; alarms: string[] };
}

/** A transition that puts an alarm in front of the operator. */
export function isPresented(t: AlarmTransition): boolean {
  if (!t.annunciate) return false;
  if (t.kind === 'raise') return true;
  // a suppression or shelving over while the alarm is still active announces it then
  return (t.kind === 'unsuppress' || t.kind === 'unshelve') && t.toState.startsWith('active');
}

/** The ISA-18.2 figures of presentation times (ms), with what was presented at each. */
export function alarmRate(presented: readonly { ts: number; alarm: string }[]): AlarmRate {
  const times = presented.map((p) => p.ts).sort((a, b) => a - b);
  let max = 0;
  let busiestFrom = NaN;
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while (times[lo] <= times[hi] - WINDOW) lo++;
    if (hi - lo + 1 > max) { max = hi - lo + 1; busiestFrom = times[lo]; }
  }
  // a flood starts when the trailing 10 minutes hold more than 10 and ends when they hold fewer than 5,
  // checked at each presentation and at the instant each one leaves the window
  const checks = [...times.map((t) => ({ t, entering: true })), ...times.map((t) => ({ t: t + WINDOW, entering: false }))]
    .sort((a, b) => a.t - b.t || Number(a.entering) - Number(b.entering));
  let episodes = 0;
  let flooding = false;
  let inWindow = 0;
  for (const c of checks) {
    inWindow += c.entering ? 1 : -1;
    if (!flooding && inWindow > FLOOD_ABOVE) { flooding = true; episodes++; }
    else if (flooding && inWindow < FLOOD_ENDS_BELOW) flooding = false;
  }
  const alarms = presented.filter((p) => p.ts >= busiestFrom && p.ts < busiestFrom + WINDOW).map((p) => p.alarm);
  return { presented: times.length, maxPer10Min: max, floodEpisodes: episodes, busiest: { from: busiestFrom, alarms } };
}

/** One scenario: its alarm rate, with the planned closures of the file in the register. */
export async function measureScenarioAlarmRate(scenario: string, leadInDays = 7, days = 3): Promise<AlarmRate> {
  const probe = new Simulation({ scenario, now: Date.parse('2024-05-13T00:00:00+08:00') });
  const { start } = probe.scenario;
  const truth = probe.groundTruth;
  const dmas = probe.topology().dmas.map((d) => d.id);
  probe.close();
  const register = new OutageRegister(':memory:', { knownDmas: dmas });
  for (const g of truth) {
    if (g.type !== 'planned_outage') continue;
    // a closure that cuts no area off (a PRV of the main zone) changes pressures everywhere downstream:
    // its works notice names every area, as the utility cannot tell beforehand which will see it
    const areas = (g.expect.dmas as string[]).length ? g.expect.dmas as string[] : dmas;
    register.createPlanned({
      id: g.id, dmas: areas, start: g.start, end: g.end ?? g.start + DAY, notifiedAt: g.expect.noticeAt as number,
      cause: (g.expect.cause ?? 'maintenance') as CauseCode, reason: g.id,
    });
  }
  const presented: { ts: number; alarm: string }[] = [];
  try {
    await driveScenario(scenario, {
      stepMs: MIN, days, from: start - leadInDays * DAY, register, meters: false,
      setup: (alarms, alarmStore) => new PlannedOutageSuppressions(alarmStore.db, alarms, register).syncAll(start - leadInDays * DAY),
      onTransition: (t) => { if (t.eventTs >= start && isPresented(t)) presented.push({ ts: t.eventTs, alarm: t.alarm.conditionId }); },
    });
  } finally {
    register.close();
  }
  return alarmRate(presented);
}

/** Every suite scenario (or those in FINGERPRINT_ONLY): the worst 10 minutes and the floods. */
export async function measureAlarmRate(log: (line: string) => void): Promise<Record<string, number>> {
  const only = process.env.FINGERPRINT_ONLY?.split(',');
  const files = readdirSync(SUITE_DIR).filter((f) => f.endsWith('.yaml') && (!only || only.includes(f.replace(/\.yaml$/, '')))).sort();
  let max = 0;
  let floods = 0;
  for (const f of files) {
    const r = await measureScenarioAlarmRate(`${SUITE_DIR}${f}`);
    max = Math.max(max, r.maxPer10Min);
    floods += r.floodEpisodes;
    log(`${f}: ${r.presented} alarms presented, at most ${r.maxPer10Min} in 10 min${Number.isNaN(r.busiest.from) ? '' : ` (from ${new Date(r.busiest.from).toISOString()}: ${r.busiest.alarms.join(' ')})`}, ${r.floodEpisodes} flood episodes`);
  }
  return { 'detect.max_alarms_per_10min': max, 'detect.flood_episodes': floods };
}
