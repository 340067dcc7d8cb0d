/**
 * What a detector's warm-up found and did not emit (Detector.warmUp emits nothing), kept for its
 * `reconcile` after a restart: the conditions still held at the end of the warm-up (their latest
 * raise or update, as a raise), and those it saw end (their clear).
 */
import type { Condition, OpenAlarm } from '../types.ts';

export class WarmedConditions {
  private readonly held = new Map<string, Condition>();
  /** When each held condition was raised (its updates come later). */
  private readonly raisedAt = new Map<string, number>();
  private readonly ended = new Map<string, Condition>();
  /** When each ended condition had been raised in the warm-up. */
  private readonly endedRaisedAt = new Map<string, number>();

  /** A condition the warm-up produced. */
  note(c: Condition): void {
    if (c.state === 'clear') {
      if (this.held.delete(c.id)) {
        this.ended.set(c.id, c);
        this.endedRaisedAt.set(c.id, this.raisedAt.get(c.id) ?? c.ts);
      }
      this.raisedAt.delete(c.id);
      return;
    }
    if (!this.held.has(c.id)) this.raisedAt.set(c.id, c.ts);
    this.held.set(c.id, { ...this.held.get(c.id), ...c, state: 'raise' });
    this.ended.delete(c.id);
  }

  /** Notes the conditions a warm-up step produced; returns none to emit (the warm-up is silent). */
  keep(out: readonly Condition[]): Condition[] {
    for (const c of out) this.note(c);
    return [];
  }

  /** The clear of a condition the warm-up saw end, at the restart's time `at`. */
  static clearAt(ended: Condition, at: number): Condition {
    return { ...ended, ts: at, evidence: { ...ended.evidence, endedAt: ended.ts, afterRestart: true } };
  }

  /** When the warm-up raised a condition it holds. */
  raisedAtOf(id: string): number | undefined {
    return this.raisedAt.get(id);
  }

  /** The condition is held at the end of the warm-up. */
  holds(id: string): boolean {
    return this.held.has(id);
  }

  /** The clear of a condition the warm-up saw raised and then end (and not raised again). */
  endedOf(id: string): Condition | undefined {
    return this.ended.get(id);
  }

  /**
   * The clear of the episode an open alarm stands for, when the warm-up saw it end: raised no later
   * than `toleranceMs` after the alarm was (a replay may confirm it a little later than live did),
   * and cleared after it. Undefined for another episode of the same condition id, or none.
   */
  endedEpisodeOf(alarm: Pick<OpenAlarm, 'conditionId' | 'raisedAt'>, toleranceMs: number): Condition | undefined {
    const clear = this.ended.get(alarm.conditionId);
    const raisedAt = this.endedRaisedAt.get(alarm.conditionId);
    if (!clear || raisedAt === undefined || raisedAt > alarm.raisedAt + toleranceMs || clear.ts < alarm.raisedAt) return undefined;
    return clear;
  }

  /**
   * The held conditions without an open alarm (they began while analytics was down), raised at
   * `at`; evidence `since` is when the warm-up raised them. `skip` leaves some to the detector.
   */
  raisesWithoutAlarm(open: readonly OpenAlarm[], at: number, skip: (c: Condition) => boolean = () => false): Condition[] {
    const alarmed = new Set(open.map((a) => a.conditionId));
    const out: Condition[] = [];
    for (const c of this.held.values()) {
      if (alarmed.has(c.id) || skip(c)) continue;
      out.push({ ...c, ts: at, evidence: { ...c.evidence, since: c.evidence?.since ?? this.raisedAt.get(c.id) ?? c.ts, afterRestart: true } });
    }
    return out;
  }

  /** Forget all (after reconcile: the detector runs live from here). */
  clear(): void {
    this.held.clear();
    this.raisedAt.clear();
    this.ended.clear();
    this.endedRaisedAt.clear();
  }
}
