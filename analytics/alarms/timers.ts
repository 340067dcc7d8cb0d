/**
 * The manager's timers, all in event time: on-delays and off-delays running out, shelving expiring
 * (of an open alarm, or of a condition between alarms) and suppression windows starting or ending.
 * advanceTo takes them one at a time, earliest first, so their effects happen in time order.
 */
import type { AlarmRecord } from '../../core/state/alarm-store.ts';
import type { AlarmBook, Track } from './book.ts';
import type { AlarmRules } from './rules.ts';
import type { SuppressionWindows } from './suppression.ts';

/** What the next timer does. */
export const DUE_NONE = 0;
export const DUE_RAISE = 1;
export const DUE_CLEAR = 2;
export const DUE_SHELF_END = 3;
export const DUE_UNSHELVE = 4;
export const DUE_SUPPRESSIONS = 5;

/** The next timer due: reused from step to step (advanceTo runs every worker step and allocates nothing while none is due). */
export interface DueTimer {
  kind: number;
  at: number;
  track?: Track;
  alarm?: AlarmRecord;
}

export function noTimer(): DueTimer {
  return { kind: DUE_NONE, at: Number.POSITIVE_INFINITY };
}

/** The earliest timer (into `due`), with what it does; ties go to the first found, in this order. */
export function findNextDue(due: DueTimer, book: AlarmBook, rules: AlarmRules, suppressions: SuppressionWindows): void {
  due.kind = DUE_NONE;
  due.at = Number.POSITIVE_INFINITY;
  due.track = undefined;
  due.alarm = undefined;
  for (const t of book.tracks.values()) {
    if (t.pendingRaiseSince !== undefined && !t.waitsFor) {
      const at = t.pendingRaiseSince + rules.of(t.last.type).onDelayMs;
      if (due.kind === DUE_NONE || at < due.at) { due.kind = DUE_RAISE; due.at = at; due.track = t; }
    }
    if (t.pendingClearSince !== undefined) {
      const at = t.pendingClearSince + rules.of(t.last.type).offDelayMs;
      if (due.kind === DUE_NONE || at < due.at) { due.kind = DUE_CLEAR; due.at = at; due.track = t; }
    }
    if (t.shelf && !(t.alarmId && book.open.get(t.alarmId)?.shelved)) {
      const at = t.shelf.until;
      if (due.kind === DUE_NONE || at < due.at) { due.kind = DUE_SHELF_END; due.at = at; due.track = t; }
    }
  }
  for (const a of book.open.values()) {
    if (a.shelved) {
      const at = a.shelved.until;
      if (due.kind === DUE_NONE || at < due.at) { due.kind = DUE_UNSHELVE; due.at = at; due.track = undefined; due.alarm = a; }
    }
  }
  const boundary = suppressions.nextBoundary();
  if (boundary !== undefined && (due.kind === DUE_NONE || boundary < due.at)) { due.kind = DUE_SUPPRESSIONS; due.at = boundary; due.track = undefined; due.alarm = undefined; }
}
