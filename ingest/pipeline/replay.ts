/**
 * Replaying dead letters (review F16, `aquawatch dead-letters replay`): after the operator fixed
 * what made readings fail (a sensor added to the topology, a unit corrected, the store's schema
 * repaired), the dead letters go through the same validation as live input and into the outbox, from
 * where ingest's store writer writes them as any other reading.
 *
 * A letter is judged at the time it was received: the age and future limits mean what they meant
 * then, so a reading refused for its age or a device clock ahead stays refused. One that passes
 * leaves the dead-letter table in the same SQLite transaction that makes it durable in the outbox
 * (both tables are in the ingest database); one that fails again stays, with the new field and
 * reason. Letters that never were a reading (undecodable payloads, items a source refused before
 * validation) and those whose raw input was cut at 4 kB cannot be replayed and are reported so.
 *
 * Safe while ingest runs: SQLite (WAL) serialises the writers, transactions are small (a page of
 * letters), and the store writer polls the outbox for rows another process added. Replayed readings
 * go to the store, not onto the live bus: they are history for the analytics by then.
 */
import type { Point, RawReading } from '../../core/model/reading.ts';
import type { Topology } from '../../core/topology/topology.ts';
import { ReadingValidator } from './validate.ts';
import type { Outbox } from './outbox.ts';
import { RAW_LIMIT, type DeadLetter, type DeadLetterFilter, type DeadLetterStore } from './dead-letters.ts';

/** The fields the pipeline rejects a reading for (validate.ts), and `store` (refused by the store). */
const READING_FIELDS = new Set(['sensor', 'ts', 'value', 'unit', 'quality']);
const STORE_FIELD = 'store';
/** Letters per transaction: short enough that ingest's group commit never waits long for the lock. */
const PAGE = 500;

export type Replayability = { reading: RawReading } | { notReplayable: string };

/** The reading a dead letter holds, or why it cannot be replayed. */
export function replayability(d: DeadLetter, topology: Topology): Replayability {
  if (!READING_FIELDS.has(d.field) && d.field !== STORE_FIELD) {
    return { notReplayable: 'never a reading (undecodable payload, or refused by its source before validation): the sender must send it again' };
  }
  if (d.raw.length >= RAW_LIMIT) return { notReplayable: `raw input cut at ${RAW_LIMIT} characters when it was kept` };
  let parsed: unknown;
  try { parsed = JSON.parse(d.raw); } catch { return { notReplayable: 'raw input is not the JSON of a reading' }; }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { notReplayable: 'raw input is not the JSON of a reading' };
  const r = parsed as Record<string, unknown>;
  const reading = { sensor: r.sensor, ts: r.ts, value: r.value, quality: r.quality } as RawReading;
  if (d.field === STORE_FIELD) {
    // A point the store refused was converted already: its value is in the canonical unit.
    const sensor = typeof r.sensor === 'string' ? topology.sensors.get(r.sensor) : undefined;
    if (sensor) reading.unit = sensor.canonicalUnit;
  } else if (typeof r.unit === 'string') {
    reading.unit = r.unit;
  }
  return { reading };
}

export interface ReplayOptions {
  outbox: Outbox;
  deadLetters: DeadLetterStore;
  topology: Topology;
  /** The live pipeline's limits (ingest.maxFutureMs, ingest.maxAgeHours). */
  maxFutureMs: number;
  maxAgeMs: number;
  /** The outbox bound (ingest.outboxMaxReadings): a replay stops rather than fill it. */
  outboxMaxReadings: number;
  /** Judge and count, change nothing. */
  dryRun?: boolean;
  now?: () => number;
}

export interface ReplayReport {
  selected: number;
  /** Durable in the outbox and removed from the dead letters (or, in a dry run, would be). */
  replayed: number;
  /** Rejected again: kept, with the new reason. Counted by `field: reason`. */
  rejectedAgain: Record<string, number>;
  /** Cannot be replayed, by why. */
  notReplayable: Record<string, number>;
  /** The replay stopped here because the outbox is full: the letters after are untouched. */
  stoppedOutboxFull: boolean;
  dryRun: boolean;
}

/** Replay the dead letters the filter selects, oldest first. */
export function replayDeadLetters(o: ReplayOptions, filter: DeadLetterFilter): ReplayReport {
  const now = o.now ?? Date.now;
  const validator = new ReadingValidator(o.topology, { maxFutureMs: o.maxFutureMs, maxAgeMs: o.maxAgeMs, now });
  const report: ReplayReport = { selected: 0, replayed: 0, rejectedAgain: {}, notReplayable: {}, stoppedOutboxFull: false, dryRun: o.dryRun ?? false };
  const count = (into: Record<string, number>, key: string) => { into[key] = (into[key] ?? 0) + 1; };
  for (let afterId = 0; ;) {
    const page = o.deadLetters.page(filter, afterId, PAGE);
    if (page.length === 0) break;
    afterId = page[page.length - 1].id!;
    const passed: { id: number; point: Point }[] = [];
    const failed: { id: number; field: string; reason: string }[] = [];
    const unreplayable: string[] = [];
    for (const d of page) {
      const r = replayability(d, o.topology);
      if ('notReplayable' in r) { unreplayable.push(r.notReplayable); continue; }
      const c = validator.check(r.reading, d.at);
      if (c.ok) passed.push({ id: d.id!, point: c.point });
      else failed.push({ id: d.id!, field: c.field, reason: c.reason });
    }
    if (!o.dryRun && passed.length > 0 && o.outbox.storedDepth() + passed.length > o.outboxMaxReadings) {
      report.stoppedOutboxFull = true;
      break;
    }
    report.selected += page.length;
    for (const why of unreplayable) count(report.notReplayable, why);
    for (const f of failed) count(report.rejectedAgain, `${f.field}: ${f.reason}`);
    if (o.dryRun) { report.replayed += passed.length; continue; }
    const at = now();
    // IMMEDIATE: the write lock first, so a concurrent replay cannot take the same letters too.
    o.outbox.db.transaction(() => {
      const taken = passed.filter((p) => o.deadLetters.remove(p.id));
      o.outbox.appendRow(taken.map((p) => p.point));
      report.replayed += taken.length;
      for (const f of failed) o.deadLetters.rejectedAgain(f.id, f.field, f.reason, at);
    }).immediate();
  }
  return report;
}
