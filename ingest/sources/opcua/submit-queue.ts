/**
 * Handing an OPC UA source's readings to the pipeline: submits run one after the other, in arrival
 * order; while the pipeline refuses them (BackpressureError: outbox full) they are held, boundedly,
 * and retried. Only readings beyond the bound, or refused for another reason, are dropped (counted).
 */
import type { Logger } from 'pino';
import type { RawReading } from '../../../core/model/reading.ts';
import { BackpressureError, type SubmitResult } from '../../pipeline/contract.ts';

/** Readings waiting for the pipeline (backpressure) before new ones are dropped. */
const MAX_QUEUED_READINGS = 100_000;
const BACKPRESSURE_RETRY_MS = 1_000;

export class SubmitQueue {
  dropped = 0;
  private chain: Promise<void> = Promise.resolve();
  private queued = 0;

  /**
   * @param submit the pipeline's submit, or undefined once the source has stopped
   * @param stopping true once the source stops: a refused submit is then not retried
   */
  constructor(
    private readonly submit: () => ((readings: RawReading[]) => Promise<SubmitResult>) | undefined,
    private readonly stopping: () => boolean,
    private readonly log: () => Logger | undefined,
  ) {}

  enqueue(readings: RawReading[]): void {
    if (this.queued + readings.length > MAX_QUEUED_READINGS) {
      this.dropped += readings.length;
      this.log()?.error({ dropped: readings.length, totalDropped: this.dropped }, 'pipeline refuses readings and the OPC UA queue is full: readings dropped');
      return;
    }
    this.queued += readings.length;
    this.chain = this.chain
      .then(() => this.submitWithRetry(readings))
      .finally(() => { this.queued -= readings.length; });
  }

  /** Resolves when every queued submit has ended. */
  settled(): Promise<void> { return this.chain; }

  private async submitWithRetry(readings: RawReading[]): Promise<void> {
    for (;;) {
      const submit = this.submit();
      if (!submit) return;
      try {
        const result = await submit(readings);
        if (result.rejected.length) this.log()?.debug({ rejected: result.rejected.length }, 'readings rejected by the pipeline');
        return;
      } catch (err) {
        if (err instanceof BackpressureError && !this.stopping()) {
          await new Promise((r) => setTimeout(r, BACKPRESSURE_RETRY_MS));
          continue;
        }
        this.dropped += readings.length;
        this.log()?.error({ err: (err as Error).message, dropped: readings.length }, 'submit failed: readings dropped');
        return;
      }
    }
  }
}
