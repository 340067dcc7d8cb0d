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
 * reason. A `payload` letter (input its source refused before it was a reading) is decoded again
 * when its source gives a decoder (`letterDecoders`: the MQTT source's, so a message for a sensor
 * added to the topology since is taken); it is replayed whole or not at all. What other sources
 * refused (Sparkplug B, OPC UA, a PDA item: the sender must send it again) and raw input cut at
 * 4 kB cannot be replayed and are reported so.
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
const PAYLOAD_FIELD = 'payload';
/** Letters per transaction: short enough that ingest's group commit never waits long for the lock. */
const PAGE = 500;

/** Decodes a `payload` dead letter of one source again: its readings, or the reason it still fails. */
export type LetterDecoder = (d: DeadLetter) => { readings: RawReading[]; rejection?: string };

export type Replayability =
  | { readings: RawReading[] }
  /** Decoded again, and it still fails: stays, with this reason. */
  | { rejection: string }
  | { notReplayable: string };

/** The readings a dead letter holds, or why it cannot be replayed. `decoders`: by source name. */
export function replayability(d: DeadLetter, topology: Topology, decoders: ReadonlyMap<string, LetterDecoder> = new Map()): Replayability {
  const decoder = d.field === PAYLOAD_FIELD ? decoders.get(d.source) : undefined;
  if (!READING_FIELDS.has(d.field) && d.field !== STORE_FIELD && !decoder) {
    return { notReplayable: 'never a reading (undecodable payload, or refused by its source before validation): the sender must send it again' };
  }
  if (d.raw.length >= RAW_LIMIT) return { notReplayable: `raw input cut at ${RAW_LIMIT} characters when it was kept` };
  if (decoder) {
    const { readings, rejection } = decoder(d);
    return rejection !== undefined ? { rejection } : { readings };
  }
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
  return { readings: [reading] };
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
  /** Decoders of `payload` letters, by source name (see `replayability`). */
  letterDecoders?: ReadonlyMap<string, LetterDecoder>;
  /** Judge and count, change nothing. */
  dryRun?: boolean;
  now?: () => number;
}

export interface ReplayReport {
  selected: number;
  /** Durable in the outbox and removed from the dead letters (or, in a dry run, would be). */
  replayed: number;
  /** Rejected again: kept, with the new reason. Counted by `field: reason` (a payload's by its reason). */
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
    const passed: { id: number; points: Point[] }[] = [];
    const failed: { id: number; field: string; reason: string }[] = [];
    const unreplayable: string[] = [];
    for (const d of page) {
      const r = replayability(d, o.topology, o.letterDecoders);
      if ('notReplayable' in r) { unreplayable.push(r.notReplayable); continue; }
      if ('rejection' in r) { failed.push({ id: d.id!, field: d.field, reason: r.rejection }); continue; }
      // A letter of several readings is replayed whole or not at all: it stays one letter.
      const points: Point[] = [];
      let refusal: { field: string; reason: string } | undefined;
      for (const reading of r.readings) {
        const c = validator.check(reading, d.at);
        if (!c.ok) { refusal = { field: c.field, reason: c.reason }; break; }
        points.push(c.point);
      }
      if (refusal) failed.push({ id: d.id!, ...refusal });
      else passed.push({ id: d.id!, points });
    }
    const readings = passed.reduce((n, p) => n + p.points.length, 0);
    if (!o.dryRun && readings > 0 && o.outbox.storedDepth() + readings > o.outboxMaxReadings) {
      report.stoppedOutboxFull = true;
      break;
    }
    report.selected += page.length;
    for (const why of unreplayable) count(report.notReplayable, why);
    // a payload's reason names the part at fault itself (`sensor: unknown sensor ...`)
    for (const f of failed) count(report.rejectedAgain, f.field === PAYLOAD_FIELD ? f.reason : `${f.field}: ${f.reason}`);
    if (o.dryRun) { report.replayed += passed.length; continue; }
    const at = now();
    // IMMEDIATE: the write lock first, so a concurrent replay cannot take the same letters too.
    o.outbox.db.transaction(() => {
      const taken = passed.filter((p) => o.deadLetters.remove(p.id));
      o.outbox.appendRow(taken.flatMap((p) => p.points));
      report.replayed += taken.length;
      for (const f of failed) o.deadLetters.rejectedAgain(f.id, f.field, f.reason, at);
    }).immediate();
  }
  return report;
}
