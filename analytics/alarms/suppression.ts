/**
 * Area suppression: windows of event time in which a DMA's alarms (all, or some condition types)
 * are kept but not annunciated: a planned outage there. Alarms raised in a window, and those open
 * when it starts, carry `suppressed` until it ends; both edges are recorded as transitions.
 */
import type { SuppressionRecord } from '../../core/state/alarm-store.ts';
import { SYSTEM, type AlarmBook } from './book.ts';
import { typeMatches } from './rules.ts';
import { AlarmError, requireText } from './validate.ts';

export class SuppressionWindows {
  private list: SuppressionRecord[] = [];
  /** Suppression boundaries up to this event time have been applied. */
  private appliedTo = Number.NEGATIVE_INFINITY;

  constructor(private readonly book: AlarmBook) {}

  /** The windows from the store, applied up to the manager's event time (a restart). */
  reload(): void {
    this.list = this.book.store.suppressions();
    this.appliedTo = this.book.time;
  }

  add(dma: string, from: number, to: number, reason: string, opts: { user?: string; types?: string[] } = {}): number {
    requireText(dma, 'dma');
    requireText(reason, 'reason');
    if (typeof from !== 'number' || !Number.isFinite(from)) throw new AlarmError('from: must be a finite event time, ms');
    if (typeof to !== 'number' || !Number.isFinite(to) || to <= from) throw new AlarmError('to: must be an event time after from');
    const record: Omit<SuppressionRecord, 'id'> = { dma, from, to, reason, user: opts.user ?? SYSTEM, types: opts.types ?? [], createdWall: this.book.now() };
    const id = this.book.store.addSuppression(record);
    this.list.push({ id, ...record });
    // A window that already started applies to the open alarms now.
    if (from <= this.book.time) this.apply(this.book.time);
    return id;
  }

  /** End a window early (at the current event time). */
  end(id: number): boolean {
    const s = this.list.find((x) => x.id === id);
    if (!s) return false;
    const end = Math.max(s.from, Math.min(s.to, this.book.time));
    s.to = end;
    this.book.store.endSuppression(id, end);
    this.apply(this.book.time);
    return true;
  }

  all(): SuppressionRecord[] {
    return this.list.map((s) => ({ ...s, types: [...s.types] }));
  }

  at(dma: string, ts: number, type?: string): SuppressionRecord | undefined {
    return this.list.find((s) => s.dma === dma && ts >= s.from && ts < s.to
      && (s.types.length === 0 || type === undefined || s.types.some((p) => typeMatches(p, type))));
  }

  /** The next window edge not yet applied, if any. */
  nextBoundary(): number | undefined {
    let next: number | undefined;
    for (const s of this.list) {
      for (const b of [s.from, s.to]) if (b > this.appliedTo && (next === undefined || b < next)) next = b;
    }
    return next;
  }

  /** Bring every open alarm's suppression in line with the windows at event time `at`. */
  apply(at: number): void {
    this.appliedTo = Math.max(this.appliedTo, at);
    for (const a of this.book.open.values()) {
      if (!a.dma) continue;
      const s = this.at(a.dma, at, a.type);
      if (s && a.suppressed?.suppressionId !== s.id) {
        a.suppressed = { suppressionId: s.id, reason: s.reason };
        this.book.record(a, 'suppress', a.state, s.user, at, s.reason, { suppressionId: s.id });
      } else if (!s && a.suppressed) {
        const was = a.suppressed;
        delete a.suppressed;
        this.book.record(a, 'unsuppress', a.state, SYSTEM, at, undefined, { suppressionId: was.suppressionId });
      }
    }
  }
}
