/**
 * The ingest pipeline: validate → convert → de-duplicate → outbox (durable, group-committed).
 * What happens after the outbox (store writer, bus publisher) runs from it, so a source's submit
 * returns as soon as its readings are safe, whatever the store is doing.
 */
import type { Logger } from 'pino';
import type { Point, RawReading } from '../../core/model/reading.ts';
import type { Topology } from '../../core/topology/topology.ts';
import type { Metrics } from '../metrics.ts';
import { ClockBehindError, type SubmitResult, type Rejection, type UndecodableInput } from './contract.ts';
import { ReadingValidator, type Checked } from './validate.ts';
import { ClockWatch, CLOCK_SUSPECT_MIN_SENSORS, type ClockVerdict } from './clock-watch.ts';
import type { Outbox } from './outbox.ts';
import type { DeadLetter, DeadLetterStore } from './dead-letters.ts';

export interface PipelineOptions {
  topology: Topology;
  outbox: Outbox;
  deadLetters: DeadLetterStore;
  metrics: Metrics;
  log: Logger;
  maxFutureMs: number;
  /** Readings older than this are rejected (ingest.maxAgeHours; review F16); undefined: no limit. */
  maxAgeMs?: number;
  /** Recent timestamps remembered per sensor for de-duplication. */
  dedupeWindow: number;
  now: () => number;
  /**
   * The server's clock looks behind (raise: most sensors, at least CLOCK_SUSPECT_MIN_SENSORS, are
   * ahead; their readings are held) or no longer does (clear).
   */
  onClockSuspect?: (state: 'raise' | 'clear', verdict: ClockVerdict) => void;
}

/**
 * Remembers the last few (ts, value, quality) per sensor: a source that sends the same reading
 * twice (an MQTT redelivery, a PDA upload repeated, an OPC UA republish) stores it once.
 * A different value at the same time is a correction and passes.
 *
 * Only readings already durable in the outbox are remembered (`remember` runs after the commit):
 * a batch the outbox refused is re-sent by its source, and must then be taken, not dropped as a
 * duplicate and acknowledged.
 */
class RecentReadings {
  private readonly perSensor = new Map<string, { ts: number[]; key: string[]; next: number }>();
  constructor(private readonly window: number) {}

  /** True when this reading was made durable recently. */
  has(p: Point): boolean {
    if (this.window === 0) return false;
    const r = this.perSensor.get(p.sensor);
    if (!r) return false;
    const key = readingKey(p);
    for (let i = 0; i < r.ts.length; i++) if (r.ts[i] === p.ts && r.key[i] === key) return true;
    return false;
  }

  /** Record readings that are now durable. */
  remember(points: readonly Point[]): void {
    if (this.window === 0) return;
    for (const p of points) {
      let r = this.perSensor.get(p.sensor);
      if (!r) { r = { ts: [], key: [], next: 0 }; this.perSensor.set(p.sensor, r); }
      r.ts[r.next] = p.ts;
      r.key[r.next] = readingKey(p);
      r.next = (r.next + 1) % this.window;
    }
  }
}

function readingKey(p: Point): string {
  return `${p.value}|${p.quality}`;
}

export class Pipeline {
  private readonly validator: ReadingValidator;
  private readonly recent: RecentReadings;
  private readonly clock = new ClockWatch();
  private clockSuspect = false;

  constructor(private readonly o: PipelineOptions) {
    this.validator = new ReadingValidator(o.topology, { maxFutureMs: o.maxFutureMs, maxAgeMs: o.maxAgeMs, now: o.now });
    this.recent = new RecentReadings(o.dedupeWindow);
  }

  /**
   * Validate a batch and make the good readings durable. A bad reading costs nothing else in its
   * batch: it is counted, kept in the dead-letter table and reported back by index.
   * Throws BackpressureError (accepting nothing) when the outbox is full, and ClockBehindError (a
   * BackpressureError, accepting nothing) when the batch has readings ahead of the clock and most
   * sensors are: the server's clock is behind, not theirs.
   */
  async submit(source: string, readings: readonly RawReading[]): Promise<SubmitResult> {
    const { metrics } = this.o;
    const accepted: Point[] = [];
    const rejected: Rejection[] = [];
    const letters: DeadLetter[] = [];
    let duplicates = 0;
    // The same reading twice in one batch is stored once.
    const inBatch = new RecentReadings(this.o.dedupeWindow);
    const at = Date.now();
    const checked = readings.map((r) => this.validator.check(r));
    this.holdWhileServerClockBehind(source, readings, checked);
    for (let i = 0; i < readings.length; i++) {
      const r = readings[i];
      const c = checked[i];
      if (!c.ok) {
        rejected.push({ index: i, field: c.field, reason: c.reason });
        letters.push({ at, source, origin: `item ${i}`, sensor: typeof r?.sensor === 'string' ? r.sensor : undefined, field: c.field, reason: c.reason, raw: safeJson(r) });
        continue;
      }
      if (this.recent.has(c.point) || inBatch.has(c.point)) { duplicates++; continue; }
      inBatch.remember([c.point]);
      accepted.push(c.point);
    }
    metrics.readingsIn.inc({ source }, readings.length);
    if (duplicates) metrics.readingsDuplicate.inc({ source }, duplicates);
    // The good readings first (review F16): a dead-letter write that fails (it throws, and the
    // source sends the batch again) must not keep them out, and a batch the outbox refuses must not
    // leave its bad readings dead-lettered once per attempt.
    await this.o.outbox.enqueue(accepted);
    this.recent.remember(accepted);
    metrics.outboxDepth.set(this.o.outbox.depth);
    if (letters.length) {
      this.o.deadLetters.addMany(letters);
      for (const rj of rejected) metrics.readingsRejected.inc({ source, reason: rj.field });
      this.logRejections(source, rejected);
    }
    return { accepted: accepted.length, duplicates, rejected };
  }

  /** Learn from the batch whose clock is wrong; throw ClockBehindError when it is the server's. */
  private holdWhileServerClockBehind(source: string, readings: readonly RawReading[], checked: readonly Checked[]): void {
    let ahead = 0;
    checked.forEach((c, i) => {
      if (c.ok) this.clock.observe(c.point.sensor, undefined);
      else if (c.aheadMs !== undefined) {
        ahead++;
        // Only a reading of a known sensor reaches the time check: at most one entry per sensor.
        this.clock.observe(readings[i].sensor, c.aheadMs);
      }
    });
    const verdict = this.clock.verdict();
    const suspect = verdict.serverBehind && verdict.aheadSensors >= CLOCK_SUSPECT_MIN_SENSORS;
    if (suspect !== this.clockSuspect) {
      this.clockSuspect = suspect;
      this.o.onClockSuspect?.(suspect ? 'raise' : 'clear', verdict);
    }
    if (ahead > 0 && verdict.serverBehind) {
      this.o.metrics.readingsHeldForClock.inc({ source }, ahead);
      throw new ClockBehindError(`the server clock looks behind: ${verdict.aheadSensors} of ${verdict.sensors} sensors report times up to `
        + `${Math.round(verdict.maxAheadMs / 1000)} s beyond the future limit; readings are held (not acknowledged) until it catches up`);
    }
  }

  /** Input that never became a reading (undecodable payload, unknown topic); a list in one commit. */
  reject(source: string, input: UndecodableInput | readonly UndecodableInput[]): void {
    const inputs = Array.isArray(input) ? input as readonly UndecodableInput[] : [input as UndecodableInput];
    if (inputs.length === 0) return;
    const at = Date.now();
    this.o.deadLetters.addMany(inputs.map((i) => ({ at, source, origin: i.origin, field: 'payload', reason: i.reason, raw: i.raw })));
    this.o.metrics.readingsRejected.inc({ source, reason: 'payload' }, inputs.length);
    this.logRejections(source, inputs.map((i) => ({ index: -1, field: 'payload', reason: `${i.origin}: ${i.reason}` })));
  }

  // One log line per source and second at most, so a flood of bad input cannot flood the log.
  private lastLog = new Map<string, number>();
  private suppressed = new Map<string, number>();
  private logRejections(source: string, rejected: Rejection[]): void {
    const now = Date.now();
    const last = this.lastLog.get(source) ?? 0;
    if (now - last < 1000) {
      this.suppressed.set(source, (this.suppressed.get(source) ?? 0) + rejected.length);
      return;
    }
    this.lastLog.set(source, now);
    const more = this.suppressed.get(source) ?? 0;
    this.suppressed.set(source, 0);
    this.o.log.warn({ source, rejected: rejected.length, first: rejected[0], suppressedSinceLastLog: more }, 'readings rejected (kept in dead letters)');
  }
}

function safeJson(v: unknown): string {
  try { return JSON.stringify(v) ?? String(v); } catch { return String(v); }
}
