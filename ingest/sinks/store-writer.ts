/**
 * Drains the outbox into the time-series store, oldest first, in batches. A failed write leaves
 * the batch in the outbox and retries with backoff (100 ms doubling to 5 s), so a store outage
 * delays readings but never loses them; the store's overwrite semantics make a repeated write
 * after a crash harmless (exactly once in the store).
 *
 * The loop never dies: a fault of the outbox itself (a full disk refusing the DELETE after a
 * write, an I/O error) is reported, retried with the same backoff, and cleared when it passes; an
 * undecodable row is quarantined by the outbox. A batch the store refuses for good is split until
 * the refused readings are alone, so one bad point does not dead-letter the batch around it.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.ts';
import type { Point } from '../../core/model/reading.ts';
import type { TimeSeriesStore } from '../../core/tsdb/types.ts';
import type { Outbox } from '../pipeline/outbox.ts';

export interface StoreWriterOptions {
  outbox: Outbox;
  store: TimeSeriesStore;
  metrics: Metrics;
  log: Logger;
  batchSize: number;
  /** Told when the store starts failing (after `unavailableAfterMs`) and when it recovers. */
  onStoreState?: (available: boolean, error?: string) => void;
  unavailableAfterMs?: number;
  /** After every batch leaves the outbox (written or refused): the outbox-full alarm clears from here. */
  onDrained?: () => void;
  /**
   * Readings the store refuses for good (an error with `retryable === false`: a field type
   * conflict, a point line protocol cannot carry) would block the outbox forever; they are handed
   * here, to be kept as dead letters, and skipped.
   */
  onRefused?: (points: readonly Point[], error: Error) => void;
  /**
   * The outbox itself fails (`error` set; `diskFull` when SQLite says the disk is full) or works
   * again (`error` undefined). Readings stay where they are meanwhile.
   */
  onOutboxFault?: (error: string | undefined, diskFull: boolean) => void;
}

export class StoreWriter {
  private running = false;
  private wake?: () => void;
  private loop?: Promise<void>;
  private failingSince: number | null = null;
  private reportedUnavailable = false;
  private outboxFault = false;
  lastError: string | null = null;
  lastWriteAt: number | null = null;

  constructor(private readonly o: StoreWriterOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run().catch((e: unknown) => {
      // run() handles its own faults; reaching here is a bug, and ingest must say so loudly.
      this.o.log.fatal({ err: (e as Error).message }, 'store writer stopped unexpectedly');
      this.o.onOutboxFault?.(`store writer stopped: ${(e as Error).message}`, false);
    });
  }

  /** New readings are in the outbox: write now rather than at the next poll. */
  notify(): void { this.wake?.(); }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.wake = undefined; resolve(); }, ms);
      this.wake = () => { clearTimeout(t); this.wake = undefined; resolve(); };
    });
  }

  private async run(): Promise<void> {
    let backoff = 100;
    while (this.running) {
      try {
        const next = await this.step();
        if (this.outboxFault) {
          this.outboxFault = false;
          this.o.log.info('outbox works again');
          this.o.onOutboxFault?.(undefined, false);
        }
        if (next === 'idle') { await this.sleep(1000); continue; }
        if (next === 'store-failing') {
          await this.sleep(backoff);
          backoff = Math.min(backoff * 2, 5000);
          continue;
        }
        backoff = 100;
      } catch (e) {
        // The outbox failed (peek, quarantine or ack): nothing is lost, the rows are still there.
        const err = e as Error & { code?: string };
        if (!this.outboxFault) {
          this.outboxFault = true;
          this.o.log.error({ err: err.message, code: err.code }, 'outbox failed; draining is retried');
          this.o.onOutboxFault?.(err.message, isDiskFull(err));
        }
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  /** One batch from the outbox to the store. */
  private async step(): Promise<'idle' | 'written' | 'store-failing'> {
    const { outbox, metrics, log, batchSize } = this.o;
    const batch = outbox.peek(batchSize);
    if (!batch) return 'idle';
    const t0 = process.hrtime.bigint();
    let refused: { points: Point[]; error: Error }[];
    try {
      refused = await this.writeIsolatingRefused(batch.points);
    } catch (e) {
      metrics.writeErrors.inc();
      this.lastError = (e as Error).message;
      const now = Date.now();
      if (this.failingSince === null) {
        this.failingSince = now;
        log.warn({ err: this.lastError, depth: outbox.depth }, 'store write failed; readings stay in the outbox and are retried');
      }
      if (!this.reportedUnavailable && now - this.failingSince >= (this.o.unavailableAfterMs ?? 10_000)) {
        this.reportedUnavailable = true;
        this.o.onStoreState?.(false, this.lastError);
      }
      return 'store-failing';
    }
    metrics.writeLatency.observe(Number(process.hrtime.bigint() - t0) / 1e9);
    let refusedCount = 0;
    for (const r of refused) {
      refusedCount += r.points.length;
      log.error({ err: r.error.message, readings: r.points.length }, 'store refused readings for good; kept as dead letters');
      this.o.onRefused?.(r.points, r.error);
    }
    outbox.ack(batch.lastId, batch.points.length);
    metrics.readingsStored.inc(batch.points.length - refusedCount);
    metrics.outboxDepth.set(outbox.depth);
    this.o.onDrained?.();
    this.lastWriteAt = Date.now();
    if (this.failingSince !== null) {
      log.info({ downForMs: Date.now() - this.failingSince }, 'store writes succeed again');
      this.failingSince = null;
      if (this.reportedUnavailable) { this.reportedUnavailable = false; this.o.onStoreState?.(true); }
    }
    this.lastError = null;
    return 'written';
  }

  /**
   * Write the points; when the store refuses them for good, write each half again until the
   * refused ones are alone: about 2·log2(n) extra writes per bad point. A retryable failure on the
   * way throws (the whole batch is retried; what was written is overwritten harmlessly).
   */
  private async writeIsolatingRefused(points: Point[]): Promise<{ points: Point[]; error: Error }[]> {
    try {
      await this.o.store.write(points);
      return [];
    } catch (e) {
      if ((e as { retryable?: boolean }).retryable !== false || !this.o.onRefused) throw e;
      this.o.metrics.writeErrors.inc();
      if (points.length === 1) return [{ points, error: e as Error }];
      const half = points.length >> 1;
      const left = await this.writeIsolatingRefused(points.slice(0, half));
      const right = await this.writeIsolatingRefused(points.slice(half));
      return [...left, ...right];
    }
  }

  get storeFailing(): boolean { return this.failingSince !== null; }

  /** Stop after the write in progress. With `drainMs`, first keep writing until empty or the time is up. */
  async stop(drainMs = 0): Promise<void> {
    if (drainMs > 0) {
      const deadline = Date.now() + drainMs;
      while (this.o.outbox.depth > 0 && Date.now() < deadline && !this.storeFailing) {
        this.o.outbox.commit();
        this.notify();
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    this.running = false;
    this.wake?.();
    await this.loop;
  }
}

function isDiskFull(e: Error & { code?: string }): boolean {
  return e.code === 'SQLITE_FULL' || /disk is full|ENOSPC/i.test(e.message);
}
