/**
 * What a detector's warm-up found and did not emit (Detector.warmUp emits nothing), kept for its
 * `reconcile` after a restart: the conditions still held at the end of the warm-up (their latest
 * raise or update, as a raise), and those it saw end (their clear); each with when the warm-up
 * raised it.
 */
import type { Condition, OpenAlarm } from '../types.ts';

interface Episode {
  /** held: the latest raise or update, as a raise; ended: the clear. */
  condition: Condition;
  /** When the warm-up raised it (its updates come later). */
  raisedAt: number;
}

export class WarmedConditions {
  private readonly held = new Map<string, Episode>();
  private readonly ended = new Map<string, Episode>();

  /** A condition the warm-up produced. */
  note(c: Condition): void {
    const held = this.held.get(c.id);
    if (c.state === 'clear') {
      if (held) {
        this.held.delete(c.id);
        this.ended.set(c.id, { condition: c, raisedAt: held.raisedAt });
      }
      return;
    }
    this.held.set(c.id, { condition: { ...held?.condition, ...c, state: 'raise' }, raisedAt: held?.raisedAt ?? c.ts });
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

  /** The condition is held at the end of the warm-up. */
  holds(id: string): boolean {
    return this.held.has(id);
  }

  /** The clear of a condition the warm-up saw raised and then end (and not raised again). */
  endedOf(id: string): Condition | undefined {
    return this.ended.get(id)?.condition;
  }

  /**
   * The clear of the episode an open alarm stands for, when the warm-up saw it end: raised no later
   * than `toleranceMs` after the alarm was (a replay may confirm it a little later than live did),
   * and cleared after it. Undefined for another episode of the same condition id, or none.
   */
  endedEpisodeOf(alarm: Pick<OpenAlarm, 'conditionId' | 'raisedAt'>, toleranceMs: number): Condition | undefined {
    const e = this.ended.get(alarm.conditionId);
    if (!e || e.raisedAt > alarm.raisedAt + toleranceMs || e.condition.ts < alarm.raisedAt) return undefined;
    return e.condition;
  }

  /**
   * The held conditions without an open alarm (they began while analytics was down), raised at
   * `at`; evidence `since` is when the warm-up raised them. Only those the warm-up raised after
   * `raisedAfter`; `skip` leaves some to the detector.
   */
  raisesWithoutAlarm(open: readonly OpenAlarm[], at: number, o: { raisedAfter?: number; skip?: (c: Condition) => boolean } = {}): Condition[] {
    const alarmed = new Set(open.map((a) => a.conditionId));
    const out: Condition[] = [];
    for (const { condition: c, raisedAt } of this.held.values()) {
      if (alarmed.has(c.id) || raisedAt <= (o.raisedAfter ?? -Infinity) || o.skip?.(c)) continue;
      out.push({ ...c, ts: at, evidence: { ...c.evidence, since: c.evidence?.since ?? raisedAt, afterRestart: true } });
    }
    return out;
  }

  /** Forget all (after reconcile: the detector runs live from here). */
  clear(): void {
    this.held.clear();
    this.ended.clear();
  }
}
