/**
 * Drains the outbox into the time-series store, oldest first, in batches. A failed write leaves
 * the batch in the outbox and retries with backoff (100 ms doubling to 5 s), so a store outage
 * delays readings but never loses them; the store's overwrite semantics make a repeated write
 * after a crash harmless (exactly once in the store).
 */
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.ts';
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
  /**
   * A batch the store refuses for good (an error with `retryable === false`: a field type conflict,
   * a point line protocol cannot carry) would block the outbox forever; it is handed here, to be
   * kept as dead letters, and skipped.
   */
  /** After every batch leaves the outbox (written or refused): the outbox-full alarm clears from here. */
  onDrained?: () => void;
  onRefused?: (points: readonly import('../../core/model/reading.ts').Point[], error: Error) => void;
}

export class StoreWriter {
  private running = false;
  private wake?: () => void;
  private loop?: Promise<void>;
  private failingSince: number | null = null;
  private reportedUnavailable = false;
  lastError: string | null = null;
  lastWriteAt: number | null = null;

  constructor(private readonly o: StoreWriterOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
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
    const { outbox, store, metrics, log, batchSize } = this.o;
    let backoff = 100;
    while (this.running) {
      const batch = outbox.peek(batchSize);
      if (!batch) { await this.sleep(1000); continue; }
      const t0 = process.hrtime.bigint();
      try {
        await store.write(batch.points);
      } catch (e) {
        metrics.writeErrors.inc();
        if ((e as { retryable?: boolean }).retryable === false && this.o.onRefused) {
          log.error({ err: (e as Error).message, readings: batch.points.length }, 'store refused a batch for good; kept as dead letters');
          this.o.onRefused(batch.points, e as Error);
          outbox.ack(batch.lastId, batch.points.length);
          metrics.outboxDepth.set(outbox.depth);
          this.o.onDrained?.();
          continue;
        }
        this.lastError = (e as Error).message;
        const now = Date.now();
        this.failingSince ??= now;
        if (backoff === 100) log.warn({ err: this.lastError, depth: outbox.depth }, 'store write failed; readings stay in the outbox and are retried');
        if (!this.reportedUnavailable && now - this.failingSince >= (this.o.unavailableAfterMs ?? 10_000)) {
          this.reportedUnavailable = true;
          this.o.onStoreState?.(false, this.lastError);
        }
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
        continue;
      }
      metrics.writeLatency.observe(Number(process.hrtime.bigint() - t0) / 1e9);
      outbox.ack(batch.lastId, batch.points.length);
      metrics.readingsStored.inc(batch.points.length);
      metrics.outboxDepth.set(outbox.depth);
      this.o.onDrained?.();
      this.lastWriteAt = Date.now();
      if (this.failingSince !== null) {
        log.info({ downForMs: Date.now() - this.failingSince }, 'store writes succeed again');
        this.failingSince = null;
        if (this.reportedUnavailable) { this.reportedUnavailable = false; this.o.onStoreState?.(true); }
      }
      this.lastError = null;
      backoff = 100;
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
