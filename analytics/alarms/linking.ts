/**
 * Linking: a condition that names its parent in `evidence.parent`, or whose type a link rule makes a
 * child of an alarm in the same DMA within a window (a burst's pressure drops), is attached to that
 * alarm as a secondary instead of becoming an alarm of its own. A child that waits for a parent
 * still in its on-delay is linked when the parent is raised, or raised on its own if it never is.
 */
import type { AlarmRecord } from '../../core/state/alarm-store.ts';
import { SYSTEM, type AlarmBook, type Track } from './book.ts';
import { typeMatches, type LinkRule } from './rules.ts';
import type { Condition } from './validate.ts';

export class AlarmLinking {
  constructor(
    private readonly book: AlarmBook,
    private readonly links: readonly LinkRule[],
    /** The manager's start of a raise (its on-delay), for a child whose parent never became an alarm. */
    private readonly startRaise: (track: Track, ts: number) => void,
  ) {}

  /** The alarm (or the pending raise) a new condition belongs under, if any. */
  findParent(c: Condition): { alarm?: AlarmRecord; pending?: Track } | undefined {
    const { tracks, open } = this.book;
    const named = c.evidence?.parent;
    if (typeof named === 'string' && named !== c.id) {
      const t = tracks.get(named);
      if (t?.alarmId && open.has(t.alarmId)) return { alarm: open.get(t.alarmId)! };
      if (t?.pendingRaiseSince !== undefined && !t.linkedTo) return { pending: t };
      const recent = [...open.values()].filter((a) => a.conditionId === named).pop();
      if (recent) return { alarm: recent };
    }
    if (!c.dma) return undefined;
    for (const rule of this.links) {
      if (!rule.childTypes.some((p) => typeMatches(p, c.type))) continue;
      const isParentType = (type: string) => rule.parentTypes.some((p) => typeMatches(p, type));
      let found: AlarmRecord | undefined;
      for (const a of open.values()) {
        if (a.dma !== c.dma || a.parentAlarmId || a.conditionId === c.id || !isParentType(a.type)) continue;
        const inWindow = c.ts >= a.conditionSince - rule.windowMs && (a.clearedAt === undefined || c.ts <= a.clearedAt + rule.windowMs);
        if (inWindow && (!found || a.raisedAt > found.raisedAt)) found = a;
      }
      if (found) return { alarm: found };
      for (const t of tracks.values()) {
        if (t.pendingRaiseSince !== undefined && !t.linkedTo && !t.waitsFor && t.last.dma === c.dma && isParentType(t.last.type)
          && t.conditionId !== c.id) return { pending: t };
      }
    }
    return undefined;
  }

  linkAsSecondary(track: Track, parent: AlarmRecord, ts: number): void {
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
    this.book.record(parent, 'secondary', parent.state, SYSTEM, ts, undefined, { conditionId: c.id, type: c.type, state: 'raise', sensor: c.sensor });
  }

  updateSecondary(track: Track, parent: AlarmRecord, c: Condition, active: boolean): void {
    const entry = parent.secondaries.find((s) => s.conditionId === track.conditionId);
    if (!entry) return;
    entry.lastTs = Math.max(entry.lastTs, c.ts);
    if (active) { entry.message = c.message; if (c.evidence) entry.evidence = c.evidence; }
    if (entry.active !== active) {
      entry.active = active;
      this.book.record(parent, 'secondary', parent.state, SYSTEM, c.ts, undefined, { conditionId: c.id, type: c.type, state: active ? 'raise' : 'clear' });
    } else {
      this.book.store.saveAlarm(parent);
    }
  }

  /**
   * A new alarm takes in what belongs under it: conditions that waited for it, alarms whose condition
   * names it, and (by the link rules) alarms and pending raises of child types in its DMA that
   * started within the window.
   */
  adoptChildren(parent: AlarmRecord, parentTrack: Track, ts: number): void {
    const { tracks, open } = this.book;
    for (const t of tracks.values()) {
      if (t.waitsFor === parentTrack.conditionId) {
        t.waitsFor = undefined;
        if (t.active) this.linkAsSecondary(t, parent, ts);
        this.book.saveTrack(t);
      }
    }
    for (const t of tracks.values()) {
      // alarms raised before their parent was known, whose condition names it now (a network event
      // recognised once enough sensors had raised): grouped under it like a link rule's children
      if (t === parentTrack || !t.active || !t.alarmId || t.last.evidence?.parent !== parentTrack.conditionId) continue;
      this.groupUnder(t, parent, ts);
    }
    if (!parent.dma) return;
    for (const rule of this.links) {
      if (!rule.parentTypes.some((p) => typeMatches(p, parent.type))) continue;
      const isChild = (type: string) => rule.childTypes.some((p) => typeMatches(p, type));
      for (const t of tracks.values()) {
        if (t === parentTrack || t.linkedTo || t.waitsFor || !t.active || t.last.dma !== parent.dma || !isChild(t.last.type)) continue;
        if (t.pendingRaiseSince !== undefined && !t.alarmId) {
          if (t.pendingRaiseSince >= parent.conditionSince - rule.windowMs) { this.linkAsSecondary(t, parent, ts); this.book.saveTrack(t); }
          continue;
        }
        const child = t.alarmId ? open.get(t.alarmId) : undefined;
        if (!child || child.raisedAt < parent.conditionSince - rule.windowMs) continue;
        this.groupUnder(t, parent, ts);
      }
    }
  }

  /** An alarm raised before its parent was known keeps its own lifecycle, grouped under the parent (no longer annunciated). */
  private groupUnder(t: Track, parent: AlarmRecord, ts: number): void {
    const child = t.alarmId ? this.book.open.get(t.alarmId) : undefined;
    if (!child || child.parentAlarmId) return;
    child.parentAlarmId = parent.id;
    this.book.record(child, 'link', child.state, SYSTEM, ts, undefined, { parentAlarmId: parent.id });
    parent.secondaries.push({
      conditionId: t.conditionId, type: child.type, ...(child.dma ? { dma: child.dma } : {}), ...(child.sensor ? { sensor: child.sensor } : {}),
      message: child.message, ...(child.evidence ? { evidence: child.evidence } : {}), firstTs: child.conditionSince, lastTs: ts, active: true,
    });
    this.book.record(parent, 'secondary', parent.state, SYSTEM, ts, undefined, { conditionId: t.conditionId, type: child.type, state: 'raise', alarmId: child.id });
  }

  /** The parent's raise was cancelled within its on-delay: its waiting children become raises of their own. */
  releaseWaitingChildren(parentTrack: Track): void {
    for (const t of this.book.tracks.values()) {
      if (t.waitsFor !== parentTrack.conditionId) continue;
      t.waitsFor = undefined;
      if (t.active) this.startRaise(t, t.last.ts);
      this.book.saveTrack(t);
    }
  }
}
