/**
 * Replayed alarms scored against a utility's own event log (issue #12, BattLeDIM-style, flows only).
 *
 * An alarm of a leak type finds a leak when it is raised at or after the leak's start, before its end,
 * and at most `windowDays` (14) after its start (abrupt) or after its peak (incipient: a leak that grows
 * for months is found when it is found before it has stopped growing for two weeks). Further alarms
 * inside a found leak's window are repeats and not counted. Every other alarm of a leak type is a
 * false alarm. Leaks already running at the start of the data are background: not to be found, and an
 * alarm inside one's window is neither a find nor a false alarm.
 *
 * Delays run from the leak's start for both kinds (the time the network lost water unseen).
 * When the windows of several leaks hold an alarm that estimates when its leak began (`estimatedStart`:
 * an abrupt leak's step, a slow leak's first day, a burst's onset), the alarm is about the one begun
 * nearest that estimate, as BattLeDIM matched a team's report to the leak nearest the place it named:
 * its find, or a repeat when that leak was found already. An alarm without an estimate finds the
 * earliest-started leak not yet found.
 * An alarm matches a leak in space when the leak names the alarm's area, or names a pipe that the
 * network model (`pipeAreas`, pipe-areas.ts) places in the alarm's area. A pipe the model has but
 * places in no single area (a border pipe, a trunk main), or any pipe when there is no model (a
 * one-area replay such as BattLeDIM's), matches alarms of every area; a pipe the model does not have
 * does too, and is reported (`unknownPipes`).
 */
import type { AlarmEventRecord } from '../../core/state/alarm-store.ts';
import type { PipeAreas } from './pipe-areas.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;

export type LeakKind = 'abrupt' | 'incipient';

export interface TruthEvent {
  /** A stable name for the report: the pipe, else the area, with the start. */
  id: string;
  area?: string;
  pipe?: string;
  kind: LeakKind;
  start: number;
  /** undefined: still running at the end of the log. */
  end?: number;
  /** Incipient leaks: when the leak reached its largest flow (default: its end, else its start). */
  peak?: number;
}

export interface ScoredAlarm {
  id: string;
  type: string;
  dma?: string;
  raisedAt: number;
  /** When the alarm says its leak began (epoch ms), if it says. */
  estimatedStart?: number;
  /**
   * When its detector took it back as no leak (epoch ms): an `abrupt_leak` reported by day that the
   * next night did not confirm. It still counts as raised (the issue's rule scores alarms raised);
   * the report says so beside the find.
   */
  retractedAt?: number;
  /** When it was cleared (epoch ms), for any reason: a repair seen, its event over, or a retraction. */
  clearedAt?: number;
}

/**
 * The start an alarm's evidence estimates, epoch ms: `estimatedStartTs` (abrupt_leak, leak_trend) or a
 * numeric `estimatedStart` (burst); undefined when it gives none (night-flow's new_leak).
 */
export function estimatedStartOf(evidence: Record<string, unknown> | undefined): number | undefined {
  const v = evidence?.estimatedStartTs ?? evidence?.estimatedStart;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * When the alarm was retracted: the time of its clear whose evidence says `retracted`; undefined
 * when it was not (still raised, or cleared as over or repaired). The alarm keeps the evidence it
 * was raised or updated with, so the retraction is read from its clear event.
 */
export function retractedAtIn(store: { events(alarmId: string): AlarmEventRecord[] }, alarmId: string): number | undefined {
  const clear = store.events(alarmId).find((e) => e.kind === 'clear');
  return isRetraction(clear?.data?.evidence) ? clear!.eventTs : undefined;
}

/** A clear's evidence that takes its alarm back as no leak (leak-change's `retracted`). */
export function isRetraction(evidence: unknown): boolean {
  return (evidence as { retracted?: unknown } | undefined)?.retracted === true;
}

/**
 * Alarm types that claim a leak: bursts, new leaks at night, leak trends and abrupt leaks. The
 * detectors' own names; a type not listed (sensor health, pressure, quality, outage) is neither a
 * find nor a false alarm here.
 */
export const LEAK_ALARM_TYPES: readonly string[] = ['burst', 'new_leak', 'leak_trend', 'abrupt_leak'];

export interface ScoreOptions {
  /** Start of the replayed data: leaks that started before it are background. */
  dataStart: number;
  /** End of the replayed data (leaks still running end here). */
  dataEnd: number;
  /** Days after the start (abrupt) or the peak (incipient) within which an alarm finds the leak. Default 14. */
  windowDays?: number;
  leakTypes?: readonly string[];
  /** The network model's pipes with their areas; without it a pipe matches alarms of every area. */
  pipeAreas?: PipeAreas;
}

export interface EventScore {
  event: TruthEvent;
  background: boolean;
  found: boolean;
  /** The first alarm that found it. */
  foundBy?: ScoredAlarm;
  delayMs?: number;
  /** Alarms inside its window after the finding one. */
  repeats: number;
  /** The finding alarm and its repeats: what a dispatcher sees of this leak. */
  alarms: ScoredAlarm[];
  /** A found leak's alarms against its end (`repairOf`); undefined when not found. */
  repair?: RepairScore;
  /** [from, to): when an alarm can find it. */
  window: { from: number; to: number };
  /** The area its alarms must be in: the log's, or its pipe's in the network model; undefined: any. */
  area?: string;
}

/**
 * What a found leak's alarms did about its end (the log's `end`: the repair). Retracted alarms are
 * left out (taken back as no leak, they said nothing of a repair).
 * - `clearedWhileLeaking`: alarms cleared (not retracted) before the leak ended, or while it still
 *   ran at the end of the data: a dispatcher was told the leak was over while it ran.
 * - `seen`: the leak ended within the data and every alarm of it still raised then was cleared
 *   after the end and by the end of the data; `seenAfterMs` the last of those clears, from the end.
 * - `leftOpen`: the leak ended within the data and some of its alarms were still raised at the end
 *   of the data: the repair was not seen.
 */
export interface RepairScore {
  ended: boolean;
  seen: boolean;
  seenAfterMs?: number;
  leftOpen: number;
  clearedWhileLeaking: number;
}

export interface ScoreReport {
  events: EventScore[];
  /** New leaks: started inside the data. */
  leaks: number;
  found: number;
  /** Of the found ones, those whose finding alarm its detector later retracted. */
  foundByRetracted: number;
  missed: number;
  falseAlarms: ScoredAlarm[];
  repeats: number;
  /** Alarms in a background leak's window. */
  backgroundAlarms: number;
  /** Alarm types other than the leak types, ignored. */
  otherAlarms: number;
  /** Median delay of the found abrupt leaks, h (NaN when none was found). */
  delayAbruptMedianH: number;
  /** Median delay of the found incipient leaks, days (NaN when none was found). */
  delayIncipientMedianD: number;
  /** Pipes the log names that the network model does not have (scored against every area). */
  unknownPipes: string[];
  /** Found new leaks that ended (were repaired) within the data. */
  repairsEnded: number;
  /** Of those, the ones whose alarms all cleared after the end (`RepairScore.seen`). */
  repairsSeen: number;
  /** Median time from a seen repair to its last clear, h (NaN when none). */
  repairSeenMedianH: number;
  /** Alarms of found new leaks cleared while their leak still ran. */
  clearedWhileLeaking: number;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The interval in which an alarm finds the event. */
export function findWindow(e: TruthEvent, dataEnd: number, windowDays = 14): { from: number; to: number } {
  const anchor = e.kind === 'abrupt' ? e.start : (e.peak ?? e.end ?? e.start);
  return { from: e.start, to: Math.min(e.end ?? dataEnd, anchor + windowDays * DAY) };
}

function sameArea(s: EventScore, a: ScoredAlarm): boolean {
  return s.area === undefined || a.dma === undefined || a.dma === s.area;
}

export function scoreAlarms(truth: readonly TruthEvent[], alarms: readonly ScoredAlarm[], o: ScoreOptions): ScoreReport {
  const leakTypes = new Set(o.leakTypes ?? LEAK_ALARM_TYPES);
  const unknownPipes = new Set<string>();
  const areaOf = (e: TruthEvent): string | undefined => {
    if (e.area !== undefined || e.pipe === undefined || !o.pipeAreas) return e.area;
    if (!o.pipeAreas.has(e.pipe)) unknownPipes.add(e.pipe);
    return o.pipeAreas.get(e.pipe);
  };
  const events: EventScore[] = [...truth].sort((a, b) => a.start - b.start).map((event) => {
    const area = areaOf(event);
    return {
      event, background: event.start < o.dataStart, found: false, repeats: 0, alarms: [], window: findWindow(event, o.dataEnd, o.windowDays),
      ...(area !== undefined ? { area } : {}),
    };
  });
  const falseAlarms: ScoredAlarm[] = [];
  let repeats = 0;
  let backgroundAlarms = 0;
  let otherAlarms = 0;
  for (const a of [...alarms].sort((x, y) => x.raisedAt - y.raisedAt)) {
    if (!leakTypes.has(a.type)) { otherAlarms++; continue; }
    const matching = events.filter((s) => a.raisedAt >= s.window.from && a.raisedAt < s.window.to && sameArea(s, a));
    // an alarm that estimates its leak's start is about the leak begun nearest it: a find, a repeat or
    // on a background leak; one without an estimate finds the earliest-started leak not yet found
    const nearest = a.estimatedStart === undefined ? undefined : nearestTo(matching, a.estimatedStart);
    if (nearest?.background) { backgroundAlarms++; continue; }
    if (nearest?.found) { nearest.repeats++; nearest.alarms.push(a); repeats++; continue; }
    const finds = nearest ?? matching.find((s) => !s.background && !s.found);
    if (finds) {
      finds.found = true;
      finds.foundBy = a;
      finds.delayMs = a.raisedAt - finds.event.start;
      finds.alarms.push(a);
      continue;
    }
    const repeated = matching.find((s) => s.found);
    if (repeated) { repeated.repeats++; repeated.alarms.push(a); repeats++; continue; }
    if (matching.some((s) => s.background)) { backgroundAlarms++; continue; }
    falseAlarms.push(a);
  }
  const fresh = events.filter((s) => !s.background);
  for (const s of fresh) if (s.found) s.repair = repairOf(s, o.dataEnd);
  const repairs = fresh.map((s) => s.repair).filter((r): r is RepairScore => r !== undefined);
  const seen = repairs.filter((r) => r.seen);
  const delays = (kind: LeakKind, unit: number) => fresh.filter((s) => s.found && s.event.kind === kind).map((s) => s.delayMs! / unit);
  return {
    events, leaks: fresh.length, found: fresh.filter((s) => s.found).length,
    foundByRetracted: fresh.filter((s) => s.foundBy?.retractedAt !== undefined).length, missed: fresh.filter((s) => !s.found).length,
    falseAlarms, repeats, backgroundAlarms, otherAlarms,
    delayAbruptMedianH: median(delays('abrupt', HOUR)),
    delayIncipientMedianD: median(delays('incipient', DAY)),
    unknownPipes: [...unknownPipes].sort(),
    repairsEnded: repairs.filter((r) => r.ended).length, repairsSeen: seen.length,
    repairSeenMedianH: median(seen.map((r) => r.seenAfterMs! / HOUR)),
    clearedWhileLeaking: repairs.reduce((n, r) => n + r.clearedWhileLeaking, 0),
  };
}

/** What a found leak's alarms (retractions left out) did about its end: see `RepairScore`. */
export function repairOf(s: EventScore, dataEnd: number): RepairScore {
  const end = s.event.end !== undefined && s.event.end < dataEnd ? s.event.end : undefined;
  const stood = s.alarms.filter((a) => a.retractedAt === undefined);
  const clearedWhileLeaking = stood.filter((a) => a.clearedAt !== undefined && a.clearedAt <= dataEnd && (end === undefined || a.clearedAt < end)).length;
  if (end === undefined) return { ended: false, seen: false, leftOpen: 0, clearedWhileLeaking };
  const atEnd = stood.filter((a) => a.clearedAt === undefined || a.clearedAt >= end);
  const leftOpen = atEnd.filter((a) => a.clearedAt === undefined || a.clearedAt > dataEnd).length;
  const seen = atEnd.length > 0 && leftOpen === 0;
  return {
    ended: true, seen, leftOpen, clearedWhileLeaking,
    ...(seen ? { seenAfterMs: Math.max(...atEnd.map((a) => a.clearedAt!)) - end } : {}),
  };
}

/** Of the leaks (oldest first), the one whose start is nearest `estimatedStart` (the oldest on a tie); undefined when none. */
function nearestTo(leaks: readonly EventScore[], estimatedStart: number): EventScore | undefined {
  let best = leaks[0];
  for (const s of leaks) if (Math.abs(s.event.start - estimatedStart) < Math.abs(best.event.start - estimatedStart)) best = s;
  return best;
}

const iso = (t: number) => new Date(t).toISOString().slice(0, 16).replace('T', ' ');

/** A finding delay as the reports print it: hours under two days, days beyond. */
export function formatDelay(ms: number): string {
  return ms < 2 * DAY ? `${(ms / HOUR).toFixed(1)} h` : `${(ms / DAY).toFixed(1)} d`;
}

/** A median of the report, to one decimal with its unit; a dash for a median of nothing (NaN, or null once the report has been through JSON: `analyze --json`). */
export function formatMedian(x: number | null, unit: string): string {
  return x === null || Number.isNaN(x) ? '—' : `${x.toFixed(1)} ${unit}`;
}

/** The report for people: one line per event, then the false alarms and the totals. */
export function describeScore(r: ScoreReport): string[] {
  const lines: string[] = [];
  for (const s of r.events) {
    const e = s.event;
    const what = `${e.id}${s.area !== undefined && e.area === undefined ? ` (in ${s.area})` : ''} ${e.kind} ${iso(e.start)} to ${e.end === undefined ? 'ongoing' : iso(e.end)}${e.kind === 'incipient' && e.peak !== undefined ? ` (peak ${iso(e.peak)})` : ''}`;
    if (s.background) lines.push(`background  ${what}`);
    else if (s.found) {
      const d = s.delayMs!;
      const estimate = s.foundBy!.estimatedStart === undefined ? '' : ` (estimated start ${iso(s.foundBy!.estimatedStart)})`;
      const retracted = s.foundBy!.retractedAt === undefined ? '' : `, retracted by its detector at ${iso(s.foundBy!.retractedAt)}`;
      lines.push(`FOUND       ${what}: ${s.foundBy!.type} at ${iso(s.foundBy!.raisedAt)}${estimate}, after ${formatDelay(d)}${retracted}${s.repeats ? `; ${s.repeats} repeat(s)` : ''}${describeRepair(s)}`);
    } else lines.push(`MISSED      ${what}: no alarm by ${iso(s.window.to)}`);
  }
  for (const a of r.falseAlarms) lines.push(`FALSE ALARM ${a.type} ${a.dma ?? ''} at ${iso(a.raisedAt)} (${a.id})`);
  for (const p of r.unknownPipes) lines.push(`UNKNOWN PIPE ${p}: not in the network model (topology map); its leaks were matched against alarms of every area`);
  lines.push(`found ${r.found} of ${r.leaks} leaks${r.foundByRetracted ? ` (${r.foundByRetracted} by an alarm its detector later retracted)` : ''}, ${r.falseAlarms.length} false alarm(s), ${r.repeats} repeat(s), ${r.backgroundAlarms} on background leaks; `
    + `median delay abrupt ${formatMedian(r.delayAbruptMedianH, 'h')}, incipient ${formatMedian(r.delayIncipientMedianD, 'd')}`);
  lines.push(`repairs: ${r.repairsSeen} of ${r.repairsEnded} found leaks that ended were cleared after their end${r.repairsSeen ? ` (median ${formatMedian(r.repairSeenMedianH, 'h')} after it)` : ''}; `
    + `${r.clearedWhileLeaking} alarm(s) cleared while their leak still ran`);
  return lines;
}

/** The FOUND line's words on the leak's end: its repair seen, not seen, or alarms cleared while it ran. */
function describeRepair(s: EventScore): string {
  const r = s.repair;
  if (!r) return '';
  const parts: string[] = [];
  if (r.seen) parts.push(`repair seen: cleared ${formatDelay(r.seenAfterMs!)} after its end`);
  else if (r.leftOpen) parts.push(`repair not seen: ${r.leftOpen} alarm(s) still raised at the end of the data`);
  if (r.clearedWhileLeaking) parts.push(`${r.clearedWhileLeaking} alarm(s) cleared while it still ran`);
  return parts.length ? `; ${parts.join('; ')}` : '';
}
