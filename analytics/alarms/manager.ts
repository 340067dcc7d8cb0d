/**
 * The alarm manager: turns conditions (from detectors and ingest) into alarms with a lifecycle, in
 * the spirit of ISA-18.2 (docs/architecture.md). See README.md in this folder.
 *
 * - States: active-unacknowledged → active-acknowledged → cleared, or active-unacknowledged →
 *   cleared-unacknowledged → cleared. `cleared` is closed.
 * - One alarm per condition instance (condition id) at a time; a new raise while it is active is an
 *   update; after the condition clears, the next raise opens a new alarm.
 * - On-delay and off-delay per rule (rules.ts), in EVENT time: a raise becomes an alarm only when no
 *   clear came within the on-delay; a clear returns the alarm to normal only when no raise came
 *   within the off-delay. Event time moves with the conditions' timestamps and with
 *   advanceTo(watermark), which runs the timers (timers.ts) in time order.
 * - Shelving (by a user, with a reason, until an event time) and suppression (an area under a
 *   planned outage, for a time window: suppression.ts): the alarm is kept and its history recorded,
 *   but it is not annunciated (transitions carry `annunciate: false`, so notification channels skip them).
 * - Linking (linking.ts): a condition that names its parent in `evidence.parent`, or whose type a
 *   link rule makes a child of an alarm in the same DMA within a window (a burst's pressure drops),
 *   is attached to that alarm as a secondary instead of becoming an alarm of its own.
 * - Every transition is stored with who (a user, or `system`) and when (event and wall time) in
 *   the state store, and emitted as a `transition` event for the bus and the notification channels
 *   (book.ts). The manager's pending timers are stored too, so a restart resumes where it stopped.
 */
import { EventEmitter } from 'node:events';
import type { Condition as IncomingCondition } from '../../core/bus/messages/condition.ts';
import { localizedAlarmText } from '../../core/messages/alarm-texts.ts';
import type { AlarmTransition } from '../../core/bus/messages/alarm.ts';
import type {
  AlarmEventKind, AlarmPriority, AlarmQuery, AlarmRecord, AlarmShelf, AlarmState, AlarmStore, SuppressionRecord,
} from '../../core/state/alarm-store.ts';
import { AlarmBook, SYSTEM, type Track } from './book.ts';
import { AlarmLinking } from './linking.ts';
import { AlarmRules, DEFAULT_LINK_RULES, type AlarmRule, type LinkRule } from './rules.ts';
import { SuppressionWindows } from './suppression.ts';
import { DUE_CLEAR, DUE_NONE, DUE_RAISE, DUE_SHELF_END, DUE_UNSHELVE, findNextDue, noTimer } from './timers.ts';
import { AlarmError, requireText, validateCondition, type Condition } from './validate.ts';

export type { AlarmPriority, AlarmRecord, AlarmState, AlarmEventKind, AlarmTransition, AlarmRule, LinkRule, Condition };
export { AlarmError, DEFAULT_LINK_RULES, validateCondition };

export interface AlarmManagerOptions {
  store: AlarmStore;
  /** Rules keyed by condition type (exact, or a prefix ending in `*`); key `default` applies to the rest. */
  rules?: Record<string, AlarmRule>;
  links?: readonly LinkRule[];
  /** Wall clock, for the wall time recorded with each transition. */
  now?: () => number;
}

export class AlarmManager extends EventEmitter<{ transition: [AlarmTransition] }> {
  private readonly book: AlarmBook;
  private readonly rules: AlarmRules;
  private readonly linking: AlarmLinking;
  private readonly suppressionWindows: SuppressionWindows;
  /** advanceTo's scratch: the next timer due. */
  private readonly due = noTimer();

  constructor(opts: AlarmManagerOptions) {
    super();
    this.rules = new AlarmRules(opts.rules);
    this.book = new AlarmBook(opts.store, opts.now ?? Date.now, (t) => this.emit('transition', t));
    this.linking = new AlarmLinking(this.book, opts.links ?? DEFAULT_LINK_RULES, (track, ts) => this.startRaise(track, ts));
    this.suppressionWindows = new SuppressionWindows(this.book);
    // a restart: open alarms, pending timers, suppressions and event time from the store
    this.book.reload();
    this.suppressionWindows.reload();
  }

  /** The manager's event time: the latest it has been advanced to. */
  get eventTime(): number { return this.book.time; }

  ruleFor(type: string): Required<AlarmRule> {
    return { ...this.rules.of(type) };
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
    const { tracks, open } = this.book;
    let track = tracks.get(c.id);
    if (c.state === 'clear') {
      if (track) this.handleClear(track, c);
      return;
    }
    if (!track) {
      track = { conditionId: c.id, last: c, active: false };
      tracks.set(c.id, track);
    }
    const wasActive = track.active;
    track.last = c;
    track.active = true;
    // A secondary whose parent alarm has closed (or whose parent never became one) starts over.
    if (track.linkedTo && !open.has(track.linkedTo)) track.linkedTo = undefined;
    if (track.waitsFor) {
      const parent = tracks.get(track.waitsFor);
      if (parent?.alarmId && open.has(parent.alarmId)) {
        track.waitsFor = undefined;
        this.linking.linkAsSecondary(track, open.get(parent.alarmId)!, c.ts);
      } else if (parent?.pendingRaiseSince === undefined) {
        track.waitsFor = undefined;
        this.startRaise(track, c.ts);
      }
      this.book.saveTrack(track);
      return;
    }
    if (track.linkedTo) {
      this.linking.updateSecondary(track, open.get(track.linkedTo)!, c, true);
    } else if (track.alarmId && open.has(track.alarmId)) {
      track.pendingClearSince = undefined; // a raise within the off-delay keeps the alarm active
      track.clearEvidence = undefined;
      this.updateAlarm(open.get(track.alarmId)!, c);
    } else if (track.pendingRaiseSince !== undefined && wasActive) {
      // still in its on-delay: nothing to do until it runs out
    } else {
      track.alarmId = undefined;
      const parent = this.linking.findParent(c);
      if (parent?.alarm) this.linking.linkAsSecondary(track, parent.alarm, c.ts);
      else if (parent?.pending) track.waitsFor = parent.pending.conditionId;
      else this.startRaise(track, c.ts);
    }
    this.book.saveTrack(track);
  }

  /**
   * Move event time to `ts` (the worker's watermark): on-delays and off-delays that ran out take
   * effect, shelving expires, suppression windows start and end, in time order.
   */
  advanceTo(ts: number): void {
    // Called every step of the worker: nothing allocated while no timer is due.
    const due = this.due;
    const book = this.book;
    for (;;) {
      findNextDue(due, book, this.rules, this.suppressionWindows);
      if (due.kind === DUE_NONE || due.at > ts) break;
      const at = due.at;
      if (at > book.time) book.time = at;
      switch (due.kind) {
        case DUE_RAISE: this.raiseAlarm(due.track!, at); break;
        case DUE_CLEAR: this.clearAlarm(due.track!, at); break;
        case DUE_SHELF_END: { const t = due.track!; t.shelf = undefined; book.saveTrack(t); break; }
        case DUE_UNSHELVE: this.unshelveAt(due.alarm!, SYSTEM, at, 'shelving expired'); break;
        default: this.suppressionWindows.apply(at);
      }
    }
    due.track = undefined;
    due.alarm = undefined;
    if (ts > book.time) book.time = ts;
  }

  // --- lifecycle -----------------------------------------------------------------------------------

  private startRaise(track: Track, ts: number): void {
    track.pendingRaiseSince = ts;
    track.pendingClearSince = undefined;
    if (this.rules.of(track.last.type).onDelayMs <= 0) this.raiseAlarm(track, ts);
  }

  private raiseAlarm(track: Track, at: number): void {
    const { open, store } = this.book;
    const c = track.last;
    const since = track.pendingRaiseSince ?? at;
    track.pendingRaiseSince = undefined;
    let id = `${c.id}@${new Date(at).toISOString()}`;
    for (let n = 2; open.has(id) || store.getAlarm(id); n++) id = `${c.id}@${new Date(at).toISOString()}#${n}`;
    const alarm: AlarmRecord = {
      id, conditionId: c.id, type: c.type, priority: c.priority ?? this.rules.of(c.type).priority, state: 'active-unacknowledged',
      ...(c.site ? { site: c.site } : {}), ...(c.dma ? { dma: c.dma } : {}), ...(c.sensor ? { sensor: c.sensor } : {}),
      message: c.message, ...(c.text ? { text: c.text, localized: localizedAlarmText(c.text) } : {}), ...(c.evidence ? { evidence: c.evidence } : {}),
      conditionSince: since, raisedAt: at, secondaries: [], updatedAt: at,
    };
    if (track.shelf && track.shelf.until > at) alarm.shelved = { ...track.shelf };
    const suppression = c.dma ? this.suppressionWindows.at(c.dma, at, c.type) : undefined;
    if (suppression) alarm.suppressed = { suppressionId: suppression.id, reason: suppression.reason };
    track.alarmId = id;
    open.set(id, alarm);
    this.book.saveTrack(track);
    this.book.record(alarm, 'raise', null, SYSTEM, at, undefined, since !== at ? { conditionSince: since } : undefined);
    this.linking.adoptChildren(alarm, track, at);
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
    if (changed) this.book.record(alarm, 'update', alarm.state, SYSTEM, c.ts, undefined, priority !== previous ? { previousPriority: previous } : undefined);
    else this.book.store.saveAlarm(alarm);
  }

  private handleClear(track: Track, c: Condition): void {
    const { open } = this.book;
    track.active = false;
    if (track.waitsFor) {
      track.waitsFor = undefined;
    } else if (track.linkedTo) {
      const parent = open.get(track.linkedTo);
      if (parent) this.linking.updateSecondary(track, parent, c, false);
      track.linkedTo = undefined;
    } else if (track.pendingRaiseSince !== undefined) {
      // Cleared within its on-delay: a blip, never an alarm.
      track.pendingRaiseSince = undefined;
      this.linking.releaseWaitingChildren(track);
    } else if (track.alarmId && open.has(track.alarmId)) {
      // what the detector says of the clear (a repair's drop) goes with the clear transition
      if (c.evidence) track.clearEvidence = c.evidence;
      if (this.rules.of(track.last.type).offDelayMs <= 0) this.clearAlarm(track, c.ts);
      else if (track.pendingClearSince === undefined) track.pendingClearSince = c.ts;
    }
    this.book.saveTrack(track);
  }

  private clearAlarm(track: Track, at: number): void {
    track.pendingClearSince = undefined;
    const evidence = track.clearEvidence;
    track.clearEvidence = undefined;
    const alarm = track.alarmId ? this.book.open.get(track.alarmId) : undefined;
    track.alarmId = undefined;
    this.book.saveTrack(track);
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
    this.book.record(alarm, 'clear', from, SYSTEM, at, undefined, evidence ? { evidence } : undefined);
  }

  // --- operator actions ----------------------------------------------------------------------------

  private openAlarm(alarmId: string): AlarmRecord {
    requireText(alarmId, 'alarmId');
    const a = this.book.open.get(alarmId);
    if (a) return a;
    if (this.book.store.getAlarm(alarmId)) throw new AlarmError(`alarmId: ${alarmId} is closed`, 'conflict');
    throw new AlarmError(`alarmId: no alarm ${alarmId}`, 'not_found');
  }

  /** Acknowledge: active-unacknowledged → active-acknowledged; cleared-unacknowledged → cleared (closed). */
  acknowledge(alarmId: string, user: string, comment?: string): AlarmRecord {
    requireText(user, 'user');
    const a = this.openAlarm(alarmId);
    if (a.state === 'active-acknowledged') throw new AlarmError(`alarmId: ${alarmId} is already acknowledged`, 'conflict');
    const from = a.state;
    const at = this.book.stamp();
    a.ackedAt = at;
    a.ackedBy = user;
    if (comment) a.ackComment = comment;
    if (a.state === 'cleared-unacknowledged') { a.state = 'cleared'; a.closedAt = at; }
    else a.state = 'active-acknowledged';
    a.updatedAt = Math.max(a.updatedAt, at);
    this.book.record(a, 'acknowledge', from, user, at, comment);
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
    const at = this.book.stamp();
    if (typeof untilTs !== 'number' || !Number.isFinite(untilTs) || untilTs <= at) {
      throw new AlarmError(`untilTs: must be an event time after now (${new Date(at).toISOString()})`);
    }
    const shelf: AlarmShelf = { until: untilTs, by: user, reason, at };
    a.shelved = shelf;
    a.updatedAt = Math.max(a.updatedAt, at);
    const track = this.book.tracks.get(a.conditionId);
    if (track) { track.shelf = { ...shelf }; this.book.saveTrack(track); }
    this.book.record(a, 'shelve', a.state, user, at, reason, { until: untilTs });
    return structuredClone(a);
  }

  unshelve(alarmId: string, user: string, comment?: string): AlarmRecord {
    requireText(user, 'user');
    const a = this.openAlarm(alarmId);
    if (!a.shelved) throw new AlarmError(`alarmId: ${alarmId} is not shelved`, 'conflict');
    this.unshelveAt(a, user, this.book.stamp(), comment);
    return structuredClone(a);
  }

  private unshelveAt(a: AlarmRecord, user: string, at: number, comment?: string): void {
    a.shelved = undefined;
    delete a.shelved;
    const track = this.book.tracks.get(a.conditionId);
    if (track?.shelf) { track.shelf = undefined; this.book.saveTrack(track); }
    this.book.record(a, 'unshelve', a.state, user, at, comment);
  }

  // --- suppression (suppression.ts) ----------------------------------------------------------------

  /**
   * Suppress alarms in a DMA for an event-time window (a planned outage there): alarms raised in
   * it, and those open when it starts, are kept but not annunciated until it ends.
   * `types` limits it to some condition types (exact or prefix `*`); default all.
   */
  suppressArea(dma: string, from: number, to: number, reason: string, opts: { user?: string; types?: string[] } = {}): number {
    return this.suppressionWindows.add(dma, from, to, reason, opts);
  }

  /** End a suppression early (at the current event time). */
  endSuppression(id: number): boolean {
    return this.suppressionWindows.end(id);
  }

  isSuppressed(dma: string, ts: number = this.book.time, type?: string): boolean {
    return this.suppressionWindows.at(dma, ts, type) !== undefined;
  }

  suppressions(): SuppressionRecord[] {
    return this.suppressionWindows.all();
  }

  // --- queries -------------------------------------------------------------------------------------

  get(alarmId: string): AlarmRecord | undefined {
    const a = this.book.open.get(alarmId) ?? this.book.store.getAlarm(alarmId);
    return a ? structuredClone(a) : undefined;
  }

  /** Open alarms (not closed), oldest raise first. */
  openAlarms(): AlarmRecord[] {
    return [...this.book.open.values()].sort((a, b) => a.raisedAt - b.raisedAt || a.id.localeCompare(b.id)).map((a) => structuredClone(a));
  }

  list(q: AlarmQuery = {}): AlarmRecord[] {
    return this.book.store.listAlarms(q);
  }

  history(alarmId: string) {
    return this.book.store.events(alarmId);
  }

  /** Conditions waiting for their on-delay (not alarms yet), for the dashboard's "pending" view. */
  pending(): { conditionId: string; since: number; type: string; dma?: string }[] {
    return [...this.book.tracks.values()].filter((t) => t.pendingRaiseSince !== undefined)
      .map((t) => ({ conditionId: t.conditionId, since: t.pendingRaiseSince!, type: t.last.type, ...(t.last.dma ? { dma: t.last.dma } : {}) }));
  }
}
