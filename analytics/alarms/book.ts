/**
 * What the alarm manager's parts share: the open alarms, what is kept per condition between its
 * conditions (a Track), the event time, and the one way a change is kept: saveTrack, and record
 * (store the transition, then emit it for the bus and the notification channels).
 */
import type { AlarmTransition } from '../../core/bus/messages/alarm.ts';
import type { Condition } from './validate.ts';
import type { AlarmEventKind, AlarmRecord, AlarmShelf, AlarmState, AlarmStore } from '../../core/state/alarm-store.ts';

/** The user of everything the manager does on its own (delays running out, linking, expiry). */
export const SYSTEM = 'system';

const META_EVENT_TIME = 'event_time';

/** What the manager keeps per condition id between conditions (persisted as alarm_tracks). */
export interface Track {
  conditionId: string;
  /** The latest raise/update of the condition. */
  last: Condition;
  /** As the detector last said: raised (true) or cleared (false). */
  active: boolean;
  /** A raise waiting for its on-delay: the event time the condition started. */
  pendingRaiseSince?: number;
  /** A clear waiting for its off-delay: the event time of the clear. */
  pendingClearSince?: number;
  /** That clear's evidence (a repair's measured drop), recorded with the clear transition as `data.evidence`. */
  clearEvidence?: Record<string, unknown>;
  /** The open alarm of the current episode. */
  alarmId?: string;
  /** This condition is a secondary of that alarm. */
  linkedTo?: string;
  /** This condition waits for its parent condition (still in its on-delay) to become an alarm. */
  waitsFor?: string;
  /** Shelving of the condition: alarms it raises before `until` start shelved. */
  shelf?: AlarmShelf;
}

export class AlarmBook {
  readonly tracks = new Map<string, Track>();
  /** Alarms not yet closed. */
  readonly open = new Map<string, AlarmRecord>();
  /** The manager's event time: the latest it has been advanced to. */
  time = Number.NEGATIVE_INFINITY;

  constructor(
    readonly store: AlarmStore,
    /** Wall clock, for the wall time recorded with each transition. */
    readonly now: () => number,
    private readonly emit: (t: AlarmTransition) => void,
  ) {}

  /** Open alarms, pending timers and event time from the store (a restart). */
  reload(): void {
    for (const a of this.store.openAlarms()) this.open.set(a.id, a);
    for (const t of this.store.tracks<Track>()) this.tracks.set(t.conditionId, t);
    const t = this.store.getMeta(META_EVENT_TIME);
    if (t !== undefined) this.time = Number(t);
  }

  /** Event time for an operator action: the manager's current event time (the watermark). */
  stamp(): number {
    return Number.isFinite(this.time) ? this.time : this.now();
  }

  saveTrack(t: Track): void {
    const idle = !t.active && t.pendingRaiseSince === undefined && t.pendingClearSince === undefined && !t.alarmId
      && !t.linkedTo && !t.waitsFor && !t.shelf;
    if (idle) {
      if (this.tracks.get(t.conditionId) === t) this.tracks.delete(t.conditionId);
      this.store.saveTrack(t.conditionId, undefined);
    } else {
      this.store.saveTrack(t.conditionId, t);
    }
  }

  record(alarm: AlarmRecord, kind: AlarmEventKind, fromState: AlarmState | null, user: string, eventTs: number,
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
    this.emit(transition);
  }
}
