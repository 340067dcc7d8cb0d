/**
 * What a detector's warm-up found and did not emit (Detector.warmUp emits nothing), kept for its
 * `reconcile` after a restart: the conditions still held at the end of the warm-up (their latest
 * raise or update, as a raise), and those it saw end (their clear).
 */
import type { Condition, OpenAlarm } from '../types.ts';

export class WarmedConditions {
  private readonly held = new Map<string, Condition>();
  private readonly ended = new Map<string, Condition>();

  /** A condition the warm-up produced. */
  note(c: Condition): void {
    if (c.state === 'clear') {
      if (this.held.delete(c.id)) this.ended.set(c.id, c);
      return;
    }
    this.held.set(c.id, { ...this.held.get(c.id), ...c, state: 'raise' });
    this.ended.delete(c.id);
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
   * The held conditions without an open alarm (they began while analytics was down), raised at
   * `at`; evidence `since` is when the warm-up raised them. `skip` leaves some to the detector.
   */
  raisesWithoutAlarm(open: readonly OpenAlarm[], at: number, skip: (c: Condition) => boolean = () => false): Condition[] {
    const alarmed = new Set(open.map((a) => a.conditionId));
    const out: Condition[] = [];
    for (const c of this.held.values()) {
      if (alarmed.has(c.id) || skip(c)) continue;
      out.push({ ...c, ts: at, evidence: { ...c.evidence, since: c.evidence?.since ?? c.ts, afterRestart: true } });
    }
    return out;
  }

  /** Forget all (after reconcile: the detector runs live from here). */
  clear(): void {
    this.held.clear();
    this.ended.clear();
  }
}
