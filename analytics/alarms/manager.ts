/**
 * The alarm manager: turns conditions (from detectors and ingest) into alarms with a lifecycle, in
 * the spirit of ISA-18.2 (docs/architecture.md). See README.md in this folder.
 *
 * - States: active-unacknowledged → active-acknowledged → cleared, or active-unacknowledged →
 *   cleared-unacknowledged → cleared. `cleared` is closed.
 * - One alarm per condition instance (condition id) at a time; a new raise while it is active is an
 *   update; after the condition clears, the next raise opens a new alarm.
 * - On-delay and off-delay per rule, in EVENT time: a raise becomes an alarm only when no clear
 *   came within the on-delay; a clear returns the alarm to normal only when no raise came within
 *   the off-delay. Event time moves with the conditions' timestamps and with advanceTo(watermark).
 * - Shelving (by a user, with a reason, until an event time) and suppression (an area under a
 *   planned outage, for a time window): the alarm is kept and its history recorded, but it is not
 *   annunciated (transitions carry `annunciate: false`, so notification channels skip them).
 * - Linking: a condition that names its parent in `evidence.parent`, or whose type a link rule
 *   makes a child of an alarm in the same DMA within a window (a burst's pressure drops), is
 *   attached to that alarm as a secondary instead of becoming an alarm of its own.
 * - Every transition is stored with who (a user, or `system`) and when (event and wall time) in
 *   the state store, and emitted as a `transition` event for the bus and the notification channels.
 *   The manager's pending timers are stored too, so a restart resumes where it stopped.
 */
import { EventEmitter } from 'node:events';
import type { Condition as IncomingCondition } from '../../core/bus/messages/condition.ts';
import { localizedAlarmText, renderAlarmText } from '../../core/messages/alarm-texts.ts';
import type { AlarmTransition } from '../../core/bus/messages/alarm.ts';
import { DomainError, type DomainErrorCode } from '../../core/errors.ts';
import {
  ALARM_PRIORITIES, type AlarmEventKind, type AlarmPriority, type AlarmQuery, type AlarmRecord, type AlarmShelf,
  type AlarmState, type AlarmStore, type SuppressionRecord,
} from '../../core/state/alarm-store.ts';

export type { AlarmPriority, AlarmRecord, AlarmState, AlarmEventKind, AlarmTransition };

/** The per-type lifecycle rule. Delays are event time, ms. */
export interface AlarmRule {
  /** A raise must hold this long (no clear) before it becomes an alarm. Default 0. */
  onDelayMs?: number;
  /** A clear must hold this long (no raise) before the alarm returns to normal. Default 0. */
  offDelayMs?: number;
  /** Priority when the condition carries none. Default `medium`. */
  priority?: AlarmPriority;
}

/**
 * Conditions of a child type in the same DMA as an alarm of a parent type, from `windowMs` before
 * the parent's condition started until `windowMs` after it cleared, are linked to it as secondaries.
 * Types match exactly, or by prefix when the pattern ends in `*`.
 */
export interface LinkRule {
  parentTypes: string[];
  childTypes: string[];
  windowMs: number;
}

/** Default: a burst's pressure conditions in its DMA are its secondary effects, not alarms of their own. */
export const DEFAULT_LINK_RULES: readonly LinkRule[] = [
  { parentTypes: ['burst*'], childTypes: ['pressure*'], windowMs: 30 * 60_000 },
];

export interface AlarmManagerOptions {
  store: AlarmStore;
  /** Rules keyed by condition type (exact, or a prefix ending in `*`); key `default` applies to the rest. */
  rules?: Record<string, AlarmRule>;
  links?: readonly LinkRule[];
  /** Wall clock, for the wall time recorded with each transition. */
  now?: () => number;
}


/** A refused operator action (unknown alarm, wrong state, missing reason); the message names the field. */
export class AlarmError extends DomainError {
  constructor(message: string, code: DomainErrorCode = 'validation') {
    super(code, message);
    this.name = 'AlarmError';
  }
}

/** What the manager keeps per condition id between conditions (persisted as alarm_tracks). */
interface Track {
  conditionId: string;
  /** The latest raise/update of the condition. */
  last: Condition;
  /** As the detector last said: raised (true) or cleared (false). */
  active: boolean;
  /** A raise waiting for its on-delay: the event time the condition started. */
  pendingRaiseSince?: number;
  /** A clear waiting for its off-delay: the event time of the clear. */
  pendingClearSince?: number;
  /** The open alarm of the current episode. */
  alarmId?: string;
  /** This condition is a secondary of that alarm. */
  linkedTo?: string;
  /** This condition waits for its parent condition (still in its on-delay) to become an alarm. */
  waitsFor?: string;
  /** Shelving of the condition: alarms it raises before `until` start shelved. */
  shelf?: AlarmShelf;
}

const SYSTEM = 'system';

/** What the next timer does (advanceTo). */
const DUE_NONE = 0;
const DUE_RAISE = 1;
const DUE_CLEAR = 2;
const DUE_SHELF_END = 3;
const DUE_UNSHELVE = 4;
const DUE_SUPPRESSIONS = 5;

interface DueTimer {
  kind: number;
  at: number;
  track?: Track;
  alarm?: AlarmRecord;
}

const META_EVENT_TIME = 'event_time';

function typeMatches(pattern: string, type: string): boolean {
  return pattern.endsWith('*') ? type.startsWith(pattern.slice(0, -1)) : pattern === type;
}

function requireText(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new AlarmError(`${field}: must be a non-empty string`);
  return value;
}

/** A condition as the manager keeps it: with its English message (rendered from its text when it has one). */
export type Condition = IncomingCondition & { message: string };

/** Check a condition's fields, naming the first that is wrong. */
export function validateCondition(c: unknown): Condition {
  if (typeof c !== 'object' || c === null) throw new AlarmError('condition: must be an object');
  const x = c as Record<string, unknown>;
  requireText(x.id, 'condition.id');
  requireText(x.type, 'condition.type');
  if (x.state !== 'raise' && x.state !== 'update' && x.state !== 'clear') throw new AlarmError(`condition.state: must be raise, update or clear (got ${JSON.stringify(x.state)})`);
  if (typeof x.ts !== 'number' || !Number.isFinite(x.ts)) throw new AlarmError('condition.ts: must be a finite number of ms');
  if (x.priority !== undefined && !ALARM_PRIORITIES.includes(x.priority as AlarmPriority)) {
    throw new AlarmError(`condition.priority: must be one of ${ALARM_PRIORITIES.join(', ')} (got ${JSON.stringify(x.priority)})`);
  }
  const text = x.text as { code?: unknown; params?: unknown } | undefined;
  if (text !== undefined && (typeof text !== 'object' || text === null || typeof text.code !== 'string' || typeof text.params !== 'object' || text.params === null)) {
    throw new AlarmError('condition.text: must be { code, params }');
  }
  if (x.message !== undefined && typeof x.message !== 'string') throw new AlarmError('condition.message: must be a string');
  if (text === undefined && x.message === undefined) throw new AlarmError('condition.message: a condition needs a message or a text');
  if (x.message === undefined) return { ...x, message: renderAlarmText(x.text as IncomingCondition['text'] & object, 'en') } as unknown as Condition;
  if (x.evidence !== undefined && (typeof x.evidence !== 'object' || x.evidence === null)) throw new AlarmError('condition.evidence: must be an object');
  return x as unknown as Condition;
}

export class AlarmManager extends EventEmitter<{ transition: [AlarmTransition] }> {
  private readonly store: AlarmStore;
  private readonly rules: Record<string, AlarmRule>;
  private readonly rulePatterns: [string, AlarmRule][];
  private readonly links: readonly LinkRule[];
  private readonly now: () => number;
  private readonly tracks = new Map<string, Track>();
  /** Alarms not yet closed. */
  private readonly open = new Map<string, AlarmRecord>();
  private suppressionList: SuppressionRecord[] = [];
  private time = Number.NEGATIVE_INFINITY;
  /** Suppression boundaries up to this event time have been applied. */
  private suppressionsAppliedTo = Number.NEGATIVE_INFINITY;
  private readonly resolvedRules = new Map<string, Required<AlarmRule>>();
  /** advanceTo's scratch: the next timer due. */
  private readonly due: DueTimer = { kind: DUE_NONE, at: Number.POSITIVE_INFINITY };

  constructor(opts: AlarmManagerOptions) {
    super();
    this.store = opts.store;
    this.rules = opts.rules ?? {};
    this.rulePatterns = Object.entries(this.rules).filter(([k]) => k.endsWith('*')).sort((a, b) => b[0].length - a[0].length);
    for (const [type, rule] of Object.entries(this.rules)) {
      for (const key of ['onDelayMs', 'offDelayMs'] as const) {
        const v = rule[key];
        if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new AlarmError(`rules.${type}.${key}: must be a number ≥ 0 (got ${v})`);
      }
      if (rule.priority !== undefined && !ALARM_PRIORITIES.includes(rule.priority)) throw new AlarmError(`rules.${type}.priority: must be one of ${ALARM_PRIORITIES.join(', ')}`);
    }
    this.links = opts.links ?? DEFAULT_LINK_RULES;
    this.now = opts.now ?? Date.now;
    this.reload();
  }

  /** Open alarms, pending timers, suppressions and event time from the store (a restart). */
  private reload(): void {
    for (const a of this.store.openAlarms()) this.open.set(a.id, a);
    for (const t of this.store.tracks<Track>()) this.tracks.set(t.conditionId, t);
    this.suppressionList = this.store.suppressions();
    const t = this.store.getMeta(META_EVENT_TIME);
    if (t !== undefined) this.time = Number(t);
    this.suppressionsAppliedTo = this.time;
  }

  /** The manager's event time: the latest it has been advanced to. */
  get eventTime(): number { return this.time; }

  ruleFor(type: string): Required<AlarmRule> {
    // the rules are fixed at construction: one resolution per type (ruleFor runs per track and step)
    return { ...this.cachedRule(type) };
  }

  /** The rule for a type, shared: not to be changed. */
  private cachedRule(type: string): Required<AlarmRule> {
    let resolved = this.resolvedRules.get(type);
    if (!resolved) this.resolvedRules.set(type, resolved = this.resolveRule(type));
    return resolved;
  }

  private resolveRule(type: string): Required<AlarmRule> {
    const rule = this.rules[type] ?? this.rulePatterns.find(([p]) => typeMatches(p, type))?.[1] ?? this.rules.default ?? {};
    return { onDelayMs: rule.onDelayMs ?? 0, offDelayMs: rule.offDelayMs ?? 0, priority: rule.priority ?? 'medium' };
  }

  // --- input -------------------------------------------------------------------------------------

  /**
   * A condition from a detector or from ingest. With `advanceClock` (default), event time first moves
   * to the condition's time, so delays that ran out before it take effect first. Conditions from
   * another clock (ingest's, on the bus) pass `advanceClock: false` and let the watermark move time.
   */
  onCondition(input: IncomingCondition, opts: { advanceClock?: boolean } = {}): void {
    const c = validateCondition(input);
    if (opts.advanceClock !== false) this.advanceTo(c.ts);
    let track = this.tracks.get(c.id);
    if (c.state === 'clear') {
      if (track) this.handleClear(track, c);
      return;
    }
    if (!track) {
      track = { conditionId: c.id, last: c, active: false };
      this.tracks.set(c.id, track);
    }
    const wasActive = track.active;
    track.last = c;
    track.active = true;
    // A secondary whose parent alarm has closed (or whose parent never became one) starts over.
    if (track.linkedTo && !this.open.has(track.linkedTo)) track.linkedTo = undefined;
    if (track.waitsFor) {
      const parent = this.tracks.get(track.waitsFor);
      if (parent?.alarmId && this.open.has(parent.alarmId)) {
        track.waitsFor = undefined;
        this.linkAsSecondary(track, this.open.get(parent.alarmId)!, c.ts);
      } else if (parent?.pendingRaiseSince === undefined) {
        track.waitsFor = undefined;
        this.startRaise(track, c.ts);
      }
      this.saveTrack(track);
      return;
    }
    if (track.linkedTo) {
      this.updateSecondary(track, this.open.get(track.linkedTo)!, c, true);
    } else if (track.alarmId && this.open.has(track.alarmId)) {
      track.pendingClearSince = undefined; // a raise within the off-delay keeps the alarm active
      this.updateAlarm(this.open.get(track.alarmId)!, c);
    } else if (track.pendingRaiseSince !== undefined && wasActive) {
      // still in its on-delay: nothing to do until it runs out
    } else {
      track.alarmId = undefined;
      const parent = this.findParent(c);
      if (parent?.alarm) this.linkAsSecondary(track, parent.alarm, c.ts);
      else if (parent?.pending) track.waitsFor = parent.pending.conditionId;
      else this.startRaise(track, c.ts);
    }
    this.saveTrack(track);
  }

  /**
   * Move event time to `ts` (the worker's watermark): on-delays and off-delays that ran out take
   * effect, shelving expires, suppression windows start and end, in time order.
   */
  advanceTo(ts: number): void {
    // Called every step of the worker: nothing allocated while no timer is due.
    const due = this.due;
    for (;;) {
      this.findNextDue(due);
      if (due.kind === DUE_NONE || due.at > ts) break;
      const at = due.at;
      if (at > this.time) this.time = at;
      switch (due.kind) {
        case DUE_RAISE: this.raiseAlarm(due.track!, at); break;
        case DUE_CLEAR: this.clearAlarm(due.track!, at); break;
        case DUE_SHELF_END: { const t = due.track!; t.shelf = undefined; this.saveTrack(t); break; }
        case DUE_UNSHELVE: this.unshelveAt(due.alarm!, SYSTEM, at, 'shelving expired'); break;
        default: this.applySuppressions(at);
      }
    }
    due.track = undefined;
    due.alarm = undefined;
    if (ts > this.time) this.time = ts;
  }

  /** The earliest timer (in `due`), with what it does; ties go to the first found, in this order. */
  private findNextDue(due: DueTimer): void {
    due.kind = DUE_NONE;
    due.at = Number.POSITIVE_INFINITY;
    due.track = undefined;
    due.alarm = undefined;
    for (const t of this.tracks.values()) {
      if (t.pendingRaiseSince !== undefined && !t.waitsFor) {
        const at = t.pendingRaiseSince + this.cachedRule(t.last.type).onDelayMs;
        if (due.kind === DUE_NONE || at < due.at) { due.kind = DUE_RAISE; due.at = at; due.track = t; }
      }
      if (t.pendingClearSince !== undefined) {
        const at = t.pendingClearSince + this.cachedRule(t.last.type).offDelayMs;
        if (due.kind === DUE_NONE || at < due.at) { due.kind = DUE_CLEAR; due.at = at; due.track = t; }
      }
      if (t.shelf && !(t.alarmId && this.open.get(t.alarmId)?.shelved)) {
        const at = t.shelf.until;
        if (due.kind === DUE_NONE || at < due.at) { due.kind = DUE_SHELF_END; due.at = at; due.track = t; }
      }
    }
    for (const a of this.open.values()) {
      if (a.shelved) {
        const at = a.shelved.until;
        if (due.kind === DUE_NONE || at < due.at) { due.kind = DUE_UNSHELVE; due.at = at; due.track = undefined; due.alarm = a; }
      }
    }
    const boundary = this.nextSuppressionBoundary();
    if (boundary !== undefined && (due.kind === DUE_NONE || boundary < due.at)) { due.kind = DUE_SUPPRESSIONS; due.at = boundary; due.track = undefined; due.alarm = undefined; }
  }

  // --- lifecycle -----------------------------------------------------------------------------------

  private startRaise(track: Track, ts: number): void {
    track.pendingRaiseSince = ts;
    track.pendingClearSince = undefined;
    if (this.ruleFor(track.last.type).onDelayMs <= 0) this.raiseAlarm(track, ts);
  }

  private raiseAlarm(track: Track, at: number): void {
    const c = track.last;
    const since = track.pendingRaiseSince ?? at;
    track.pendingRaiseSince = undefined;
    let id = `${c.id}@${new Date(at).toISOString()}`;
    for (let n = 2; this.open.has(id) || this.store.getAlarm(id); n++) id = `${c.id}@${new Date(at).toISOString()}#${n}`;
    const alarm: AlarmRecord = {
      id, conditionId: c.id, type: c.type, priority: c.priority ?? this.ruleFor(c.type).priority, state: 'active-unacknowledged',
      ...(c.site ? { site: c.site } : {}), ...(c.dma ? { dma: c.dma } : {}), ...(c.sensor ? { sensor: c.sensor } : {}),
      message: c.message, ...(c.text ? { text: c.text, localized: localizedAlarmText(c.text) } : {}), ...(c.evidence ? { evidence: c.evidence } : {}),
      conditionSince: since, raisedAt: at, secondaries: [], updatedAt: at,
    };
    if (track.shelf && track.shelf.until > at) alarm.shelved = { ...track.shelf };
    const suppression = c.dma ? this.suppressionAt(c.dma, at, c.type) : undefined;
    if (suppression) alarm.suppressed = { suppressionId: suppression.id, reason: suppression.reason };
    track.alarmId = id;
    this.open.set(id, alarm);
    this.saveTrack(track);
    this.record(alarm, 'raise', null, SYSTEM, at, undefined, since !== at ? { conditionSince: since } : undefined);
    this.adoptChildren(alarm, track, at);
  }

  private updateAlarm(alarm: AlarmRecord, c: Condition): void {
    const priority = c.priority ?? alarm.priority;
    const changed = priority !== alarm.priority || c.message !== alarm.message;
    const previous = alarm.priority;
    alarm.priority = priority;
    alarm.message = c.message;
    if (c.text) { alarm.text = c.text; alarm.localized = localizedAlarmText(c.text); }
    if (c.evidence) alarm.evidence = c.evidence;
    alarm.updatedAt = Math.max(alarm.updatedAt, c.ts);
    // Evidence changes every minute during an event: kept on the alarm, but only a change of
    // priority or message is a transition worth a history entry and a notification.
    if (changed) this.record(alarm, 'update', alarm.state, SYSTEM, c.ts, undefined, priority !== previous ? { previousPriority: previous } : undefined);
    else this.store.saveAlarm(alarm);
  }

  private handleClear(track: Track, c: Condition): void {
    track.active = false;
    if (track.waitsFor) {
      track.waitsFor = undefined;
    } else if (track.linkedTo) {
      const parent = this.open.get(track.linkedTo);
      if (parent) this.updateSecondary(track, parent, c, false);
      track.linkedTo = undefined;
    } else if (track.pendingRaiseSince !== undefined) {
      // Cleared within its on-delay: a blip, never an alarm.
      track.pendingRaiseSince = undefined;
      this.releaseWaitingChildren(track);
    } else if (track.alarmId && this.open.has(track.alarmId)) {
      if (this.ruleFor(track.last.type).offDelayMs <= 0) this.clearAlarm(track, c.ts);
      else if (track.pendingClearSince === undefined) track.pendingClearSince = c.ts;
    }
    this.saveTrack(track);
  }

  private clearAlarm(track: Track, at: number): void {
    track.pendingClearSince = undefined;
    const alarm = track.alarmId ? this.open.get(track.alarmId) : undefined;
    track.alarmId = undefined;
    this.saveTrack(track);
    if (!alarm) return;
    const from = alarm.state;
    alarm.clearedAt = at;
    alarm.updatedAt = at;
    if (alarm.state === 'active-acknowledged') {
      alarm.state = 'cleared';
      alarm.closedAt = at;
    } else {
      alarm.state = 'cleared-unacknowledged';
    }
    this.record(alarm, 'clear', from, SYSTEM, at);
  }

  // --- linking -------------------------------------------------------------------------------------

  /** The alarm (or the pending raise) a new condition belongs under, if any. */
  private findParent(c: Condition): { alarm?: AlarmRecord; pending?: Track } | undefined {
    const named = c.evidence?.parent;
    if (typeof named === 'string' && named !== c.id) {
      const t = this.tracks.get(named);
      if (t?.alarmId && this.open.has(t.alarmId)) return { alarm: this.open.get(t.alarmId)! };
      if (t?.pendingRaiseSince !== undefined && !t.linkedTo) return { pending: t };
      const recent = [...this.open.values()].filter((a) => a.conditionId === named).pop();
      if (recent) return { alarm: recent };
    }
    if (!c.dma) return undefined;
    for (const rule of this.links) {
      if (!rule.childTypes.some((p) => typeMatches(p, c.type))) continue;
      const isParentType = (type: string) => rule.parentTypes.some((p) => typeMatches(p, type));
      let found: AlarmRecord | undefined;
      for (const a of this.open.values()) {
        if (a.dma !== c.dma || a.parentAlarmId || a.conditionId === c.id || !isParentType(a.type)) continue;
        const inWindow = c.ts >= a.conditionSince - rule.windowMs && (a.clearedAt === undefined || c.ts <= a.clearedAt + rule.windowMs);
        if (inWindow && (!found || a.raisedAt > found.raisedAt)) found = a;
      }
      if (found) return { alarm: found };
      for (const t of this.tracks.values()) {
        if (t.pendingRaiseSince !== undefined && !t.linkedTo && !t.waitsFor && t.last.dma === c.dma && isParentType(t.last.type)
          && t.conditionId !== c.id) return { pending: t };
      }
    }
    return undefined;
  }

  private linkAsSecondary(track: Track, parent: AlarmRecord, ts: number): void {
    const c = track.last;
    track.linkedTo = parent.id;
    track.pendingRaiseSince = undefined;
    track.pendingClearSince = undefined;
    const entry = parent.secondaries.find((s) => s.conditionId === c.id);
    if (entry) { entry.active = true; entry.lastTs = ts; entry.message = c.message; if (c.evidence) entry.evidence = c.evidence; }
    else {
      parent.secondaries.push({
        conditionId: c.id, type: c.type, ...(c.dma ? { dma: c.dma } : {}), ...(c.sensor ? { sensor: c.sensor } : {}),
        message: c.message, ...(c.evidence ? { evidence: c.evidence } : {}), firstTs: ts, lastTs: ts, active: true,
      });
    }
    parent.updatedAt = Math.max(parent.updatedAt, ts);
    this.record(parent, 'secondary', parent.state, SYSTEM, ts, undefined, { conditionId: c.id, type: c.type, state: 'raise', sensor: c.sensor });
  }

  private updateSecondary(track: Track, parent: AlarmRecord, c: Condition, active: boolean): void {
    const entry = parent.secondaries.find((s) => s.conditionId === track.conditionId);
    if (!entry) return;
    entry.lastTs = Math.max(entry.lastTs, c.ts);
    if (active) { entry.message = c.message; if (c.evidence) entry.evidence = c.evidence; }
    if (entry.active !== active) {
      entry.active = active;
      this.record(parent, 'secondary', parent.state, SYSTEM, c.ts, undefined, { conditionId: c.id, type: c.type, state: active ? 'raise' : 'clear' });
    } else {
      this.store.saveAlarm(parent);
    }
  }

  /**
   * A new alarm takes in what belongs under it: conditions that waited for it, and (by the link
   * rules) alarms and pending raises of child types in its DMA that started within the window.
   */
  private adoptChildren(parent: AlarmRecord, parentTrack: Track, ts: number): void {
    for (const t of this.tracks.values()) {
      if (t.waitsFor === parentTrack.conditionId) {
        t.waitsFor = undefined;
        if (t.active) this.linkAsSecondary(t, parent, ts);
        this.saveTrack(t);
      }
    }
    if (!parent.dma) return;
    for (const rule of this.links) {
      if (!rule.parentTypes.some((p) => typeMatches(p, parent.type))) continue;
      const isChild = (type: string) => rule.childTypes.some((p) => typeMatches(p, type));
      for (const t of this.tracks.values()) {
        if (t === parentTrack || t.linkedTo || t.waitsFor || !t.active || t.last.dma !== parent.dma || !isChild(t.last.type)) continue;
        if (t.pendingRaiseSince !== undefined && !t.alarmId) {
          if (t.pendingRaiseSince >= parent.conditionSince - rule.windowMs) { this.linkAsSecondary(t, parent, ts); this.saveTrack(t); }
          continue;
        }
        const child = t.alarmId ? this.open.get(t.alarmId) : undefined;
        if (!child || child.parentAlarmId || child.raisedAt < parent.conditionSince - rule.windowMs) continue;
        // The child was an alarm before its parent was known: it keeps its own lifecycle, grouped under the parent.
        child.parentAlarmId = parent.id;
        this.record(child, 'link', child.state, SYSTEM, ts, undefined, { parentAlarmId: parent.id });
        parent.secondaries.push({
          conditionId: t.conditionId, type: child.type, ...(child.dma ? { dma: child.dma } : {}), ...(child.sensor ? { sensor: child.sensor } : {}),
          message: child.message, ...(child.evidence ? { evidence: child.evidence } : {}), firstTs: child.conditionSince, lastTs: ts, active: true,
        });
        this.record(parent, 'secondary', parent.state, SYSTEM, ts, undefined, { conditionId: t.conditionId, type: child.type, state: 'raise', alarmId: child.id });
      }
    }
  }

  /** The parent's raise was cancelled within its on-delay: its waiting children become raises of their own. */
  private releaseWaitingChildren(parentTrack: Track): void {
    for (const t of this.tracks.values()) {
      if (t.waitsFor !== parentTrack.conditionId) continue;
      t.waitsFor = undefined;
      if (t.active) this.startRaise(t, t.last.ts);
      this.saveTrack(t);
    }
  }

  // --- operator actions ----------------------------------------------------------------------------

  private openAlarm(alarmId: string): AlarmRecord {
    requireText(alarmId, 'alarmId');
    const a = this.open.get(alarmId);
    if (a) return a;
    if (this.store.getAlarm(alarmId)) throw new AlarmError(`alarmId: ${alarmId} is closed`, 'conflict');
    throw new AlarmError(`alarmId: no alarm ${alarmId}`, 'not_found');
  }

  /** Acknowledge: active-unacknowledged → active-acknowledged; cleared-unacknowledged → cleared (closed). */
  acknowledge(alarmId: string, user: string, comment?: string): AlarmRecord {
    requireText(user, 'user');
    const a = this.openAlarm(alarmId);
    if (a.state === 'active-acknowledged') throw new AlarmError(`alarmId: ${alarmId} is already acknowledged`, 'conflict');
    const from = a.state;
    const at = this.stamp();
    a.ackedAt = at;
    a.ackedBy = user;
    if (comment) a.ackComment = comment;
    if (a.state === 'cleared-unacknowledged') { a.state = 'cleared'; a.closedAt = at; }
    else a.state = 'active-acknowledged';
    a.updatedAt = Math.max(a.updatedAt, at);
    this.record(a, 'acknowledge', from, user, at, comment);
    return structuredClone(a);
  }

  /**
   * Shelve an alarm until an event time: it stays in the list, marked, and is not annunciated.
   * The shelving belongs to the condition: should it clear and raise again before `untilTs`, the
   * new alarm starts shelved.
   */
  shelve(alarmId: string, user: string, untilTs: number, reason: string): AlarmRecord {
    requireText(user, 'user');
    requireText(reason, 'reason');
    const a = this.openAlarm(alarmId);
    const at = this.stamp();
    if (typeof untilTs !== 'number' || !Number.isFinite(untilTs) || untilTs <= at) {
      throw new AlarmError(`untilTs: must be an event time after now (${new Date(at).toISOString()})`);
    }
    const shelf: AlarmShelf = { until: untilTs, by: user, reason, at };
    a.shelved = shelf;
    a.updatedAt = Math.max(a.updatedAt, at);
    const track = this.tracks.get(a.conditionId);
    if (track) { track.shelf = { ...shelf }; this.saveTrack(track); }
    this.record(a, 'shelve', a.state, user, at, reason, { until: untilTs });
    return structuredClone(a);
  }

  unshelve(alarmId: string, user: string, comment?: string): AlarmRecord {
    requireText(user, 'user');
    const a = this.openAlarm(alarmId);
    if (!a.shelved) throw new AlarmError(`alarmId: ${alarmId} is not shelved`, 'conflict');
    this.unshelveAt(a, user, this.stamp(), comment);
    return structuredClone(a);
  }

  private unshelveAt(a: AlarmRecord, user: string, at: number, comment?: string): void {
    a.shelved = undefined;
    delete a.shelved;
    const track = this.tracks.get(a.conditionId);
    if (track?.shelf) { track.shelf = undefined; this.saveTrack(track); }
    this.record(a, 'unshelve', a.state, user, at, comment);
  }

  // --- suppression ---------------------------------------------------------------------------------

  /**
   * Suppress alarms in a DMA for an event-time window (a planned outage there): alarms raised in
   * it, and those open when it starts, are kept but not annunciated until it ends.
   * `types` limits it to some condition types (exact or prefix `*`); default all.
   */
  suppressArea(dma: string, from: number, to: number, reason: string, opts: { user?: string; types?: string[] } = {}): number {
    requireText(dma, 'dma');
    requireText(reason, 'reason');
    if (typeof from !== 'number' || !Number.isFinite(from)) throw new AlarmError('from: must be a finite event time, ms');
    if (typeof to !== 'number' || !Number.isFinite(to) || to <= from) throw new AlarmError('to: must be an event time after from');
    const record: Omit<SuppressionRecord, 'id'> = { dma, from, to, reason, user: opts.user ?? SYSTEM, types: opts.types ?? [], createdWall: this.now() };
    const id = this.store.addSuppression(record);
    this.suppressionList.push({ id, ...record });
    // A window that already started applies to the open alarms now.
    if (from <= this.time) this.applySuppressions(this.time);
    return id;
  }

  /** End a suppression early (at the current event time). */
  endSuppression(id: number): boolean {
    const s = this.suppressionList.find((x) => x.id === id);
    if (!s) return false;
    const end = Math.max(s.from, Math.min(s.to, this.time));
    s.to = end;
    this.store.endSuppression(id, end);
    this.applySuppressions(this.time);
    return true;
  }

  isSuppressed(dma: string, ts: number = this.time, type?: string): boolean {
    return this.suppressionAt(dma, ts, type) !== undefined;
  }

  suppressions(): SuppressionRecord[] {
    return this.suppressionList.map((s) => ({ ...s, types: [...s.types] }));
  }

  private suppressionAt(dma: string, ts: number, type?: string): SuppressionRecord | undefined {
    return this.suppressionList.find((s) => s.dma === dma && ts >= s.from && ts < s.to
      && (s.types.length === 0 || type === undefined || s.types.some((p) => typeMatches(p, type))));
  }

  private nextSuppressionBoundary(): number | undefined {
    let next: number | undefined;
    for (const s of this.suppressionList) {
      for (const b of [s.from, s.to]) if (b > this.suppressionsAppliedTo && (next === undefined || b < next)) next = b;
    }
    return next;
  }

  /** Bring every open alarm's suppression in line with the windows at event time `at`. */
  private applySuppressions(at: number): void {
    this.suppressionsAppliedTo = Math.max(this.suppressionsAppliedTo, at);
    for (const a of this.open.values()) {
      if (!a.dma) continue;
      const s = this.suppressionAt(a.dma, at, a.type);
      if (s && a.suppressed?.suppressionId !== s.id) {
        a.suppressed = { suppressionId: s.id, reason: s.reason };
        this.record(a, 'suppress', a.state, s.user, at, s.reason, { suppressionId: s.id });
      } else if (!s && a.suppressed) {
        const was = a.suppressed;
        delete a.suppressed;
        this.record(a, 'unsuppress', a.state, SYSTEM, at, undefined, { suppressionId: was.suppressionId });
      }
    }
  }

  // --- queries -------------------------------------------------------------------------------------

  get(alarmId: string): AlarmRecord | undefined {
    const a = this.open.get(alarmId) ?? this.store.getAlarm(alarmId);
    return a ? structuredClone(a) : undefined;
  }

  /** Open alarms (not closed), oldest raise first. */
  openAlarms(): AlarmRecord[] {
    return [...this.open.values()].sort((a, b) => a.raisedAt - b.raisedAt || a.id.localeCompare(b.id)).map((a) => structuredClone(a));
  }

  list(q: AlarmQuery = {}): AlarmRecord[] {
    return this.store.listAlarms(q);
  }

  history(alarmId: string) {
    return this.store.events(alarmId);
  }

  /** Conditions waiting for their on-delay (not alarms yet), for the dashboard's "pending" view. */
  pending(): { conditionId: string; since: number; type: string; dma?: string }[] {
    return [...this.tracks.values()].filter((t) => t.pendingRaiseSince !== undefined)
      .map((t) => ({ conditionId: t.conditionId, since: t.pendingRaiseSince!, type: t.last.type, ...(t.last.dma ? { dma: t.last.dma } : {}) }));
  }

  // --- records -------------------------------------------------------------------------------------

  /** Event time for an operator action: the manager's current event time (the watermark). */
  private stamp(): number {
    return Number.isFinite(this.time) ? this.time : this.now();
  }

  private saveTrack(t: Track): void {
    const idle = !t.active && t.pendingRaiseSince === undefined && t.pendingClearSince === undefined && !t.alarmId
      && !t.linkedTo && !t.waitsFor && !t.shelf;
    if (idle) {
      if (this.tracks.get(t.conditionId) === t) this.tracks.delete(t.conditionId);
      this.store.saveTrack(t.conditionId, undefined);
    } else {
      this.store.saveTrack(t.conditionId, t);
    }
  }

  private record(alarm: AlarmRecord, kind: AlarmEventKind, fromState: AlarmState | null, user: string, eventTs: number,
    comment?: string, data?: Record<string, unknown>): void {
    const wallTs = this.now();
    const seq = this.store.saveTransition(alarm, { kind, fromState, toState: alarm.state, user, eventTs, wallTs, ...(comment ? { comment } : {}), ...(data ? { data } : {}) });
    if (Number.isFinite(this.time)) this.store.setMeta(META_EVENT_TIME, String(this.time));
    if (alarm.state === 'cleared') this.open.delete(alarm.id);
    const transition: AlarmTransition = {
      seq, alarmId: alarm.id, kind, fromState, toState: alarm.state, user, eventTs, wallTs,
      ...(comment ? { comment } : {}), ...(data ? { data } : {}),
      alarm: structuredClone(alarm),
      annunciate: !alarm.shelved && !alarm.suppressed && !alarm.parentAlarmId,
    };
    this.emit('transition', transition);
  }
}
