/**
 * The conditions ingest and its sources have raised and not cleared, as /health lists them. Bounded
 * (review F11): a device that makes a source raise conditions under ever new ids (node names, topic
 * levels) must not grow the process's memory and the /health answer without end. A raise beyond the
 * cap still goes to the bus (the alarm manager has its own limits); it is only not listed, and counted.
 * The service's own conditions (`ingest.*`, a fixed set, one per source at most) are always listed,
 * so a flood from a source cannot hide an outbox that is full.
 */
import { ACTIVE_CONDITIONS_LISTED, type ActiveConditions as ActiveConditionsMessage, type Condition } from '../core/bus/messages/condition.ts';

/** More than any real site's simultaneous faults (a whole OPC UA server with its subscriptions down is a handful). */
export const ACTIVE_CONDITIONS_CAP = 1000;

export class ActiveConditions {
  private readonly byId = new Map<string, Condition>();
  /** Raises not listed because the cap was reached, since the start. */
  notListed = 0;

  constructor(readonly cap = ACTIVE_CONDITIONS_CAP) {}

  /** Record a raise or a clear. False when a raise with a new id was not listed (cap reached). */
  record(c: Condition): boolean {
    if (c.state === 'clear') {
      this.byId.delete(c.id);
      return true;
    }
    if (!this.byId.has(c.id) && this.byId.size >= this.cap && !c.id.startsWith('ingest.')) {
      this.notListed++;
      return false;
    }
    this.byId.set(c.id, c);
    return true;
  }

  has(id: string): boolean { return this.byId.has(id); }
  get(id: string): Condition | undefined { return this.byId.get(id); }
  get size(): number { return this.byId.size; }
  values(): IterableIterator<Condition> { return this.byId.values(); }

  /**
   * The message the bus keeps for a reader that was away (core/bus/topics.ts
   * `activeConditionsTopic`): the service's own first, at most ACTIVE_CONDITIONS_LISTED; not
   * complete when more are active, or some were never listed.
   */
  message(ts: number): ActiveConditionsMessage {
    const all = [...this.byId.values()];
    const ordered = [...all.filter((c) => c.id.startsWith('ingest.')), ...all.filter((c) => !c.id.startsWith('ingest.'))];
    return {
      ts, complete: this.notListed === 0 && ordered.length <= ACTIVE_CONDITIONS_LISTED,
      conditions: ordered.slice(0, ACTIVE_CONDITIONS_LISTED).map((c) => ({ ...c, state: 'raise' })),
    };
  }
}
