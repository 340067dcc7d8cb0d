/**
 * The AMR head-end: collects the customer meters' registers as the AMR network delivers them and
 * uploads them to the platform through the PDA upload API (the platform's one entry for customer
 * meter readings), as a head-end system forwards its reads:
 *
 *   POST <baseUrl>/api/v1/pda/readings   Authorization: Bearer <token>
 *   { "readerId": "amr-head-end", "deviceId": "amr-01", "readings": [{ "meter", "reading", "time", "readerId" }] }
 *
 * Reads are queued per head-end device and sent in batches of at most `maxBatchItems`, one upload at
 * a time per device, in the background: a device sends when its queue holds a full batch or
 * `flushEveryMs` of wall time has passed since its last upload (so a run faster than real time sends
 * full batches). `send` waits only when a device's queue runs `maxQueuedBatches` batches ahead of its
 * uploads (back-pressure from the platform). Retries on network errors and 429/502/503/504 with
 * backoff; an upload refused otherwise is counted and dropped.
 */
import { PDA_READINGS_PATH } from '../pda-reader/reader.ts';
import { isoWithOffset } from '../pda-reader/time.ts';

export interface AmrDevice {
  deviceId: string;
  token: string;
}

export interface AmrHeadEndOptions {
  baseUrl: string;
  devices: AmrDevice[];
  timezone: string;
  /** Default 2,000 (the platform takes up to sources.pda.maxItems, default 10,000). */
  maxBatchItems?: number;
  /** Default 60 s (wall clock); a head-end forwards at least as often as its meters report. */
  flushEveryMs?: number;
  /** Default 5. */
  maxQueuedBatches?: number;
}

interface Read { meter: string; reading: number; time: string; readerId: string }

const READER_ID = 'amr-head-end';
const RETRY_STATUS = new Set([429, 502, 503, 504]);

export class AmrHeadEnd {
  readonly url: string;
  readonly stats = { readingsSent: 0, uploads: 0, refused: 0, retries: 0 };
  private readonly queues: Read[][];
  private readonly lastUpload: number[];
  private readonly inFlight: (Promise<void> | undefined)[];
  private readonly maxBatch: number;
  private readonly flushEveryMs: number;
  private readonly maxQueued: number;

  constructor(private readonly o: AmrHeadEndOptions) {
    if (!o.devices.length) throw new Error('amr-head-end: no devices');
    this.url = `${o.baseUrl.replace(/\/+$/, '')}${PDA_READINGS_PATH}`;
    this.queues = o.devices.map(() => []);
    this.lastUpload = o.devices.map(() => Date.now());
    this.inFlight = o.devices.map(() => undefined);
    this.maxBatch = o.maxBatchItems ?? 2000;
    this.flushEveryMs = o.flushEveryMs ?? 60_000;
    this.maxQueued = (o.maxQueuedBatches ?? 5) * this.maxBatch;
  }

  /** Queues one register read on head-end device `device` (an index of options.devices). */
  add(device: number, meter: string, reading: number, ts: number): void {
    this.queues[device].push({ meter, reading, time: isoWithOffset(ts, this.o.timezone), readerId: READER_ID });
  }

  /** Starts the uploads that are due; resolves at once unless a device is too far behind. */
  async send(): Promise<void> {
    const now = Date.now();
    const behind: Promise<void>[] = [];
    this.queues.forEach((q, d) => {
      if (q.length && !this.inFlight[d] && (q.length >= this.maxBatch || now - this.lastUpload[d] >= this.flushEveryMs)) this.startUpload(d);
      if (this.queues[d].length >= this.maxQueued && this.inFlight[d]) behind.push(this.inFlight[d]!);
    });
    await Promise.all(behind);
  }

  /** Uploads everything queued; resolves when all is answered. */
  async drain(): Promise<void> {
    for (;;) {
      const pending = this.inFlight.filter((p): p is Promise<void> => p !== undefined);
      if (pending.length) { await Promise.all(pending); continue; }
      if (!this.queues.some((q) => q.length)) return;
      this.queues.forEach((q, d) => { if (q.length) this.startUpload(d); });
    }
  }

  private startUpload(d: number): void {
    const batch = this.queues[d].splice(0, this.maxBatch);
    this.lastUpload[d] = Date.now();
    this.inFlight[d] = this.upload(d, batch).finally(() => {
      this.inFlight[d] = undefined;
      // a full batch waiting goes at once
      if (this.queues[d].length >= this.maxBatch) this.startUpload(d);
    });
  }

  private async upload(d: number, readings: Read[]): Promise<void> {
    const device = this.o.devices[d];
    const body = JSON.stringify({ readerId: READER_ID, deviceId: device.deviceId, readings });
    for (let attempt = 1; ; attempt++) {
      let retryable = true;
      try {
        const res = await fetch(this.url, {
          method: 'POST', body, signal: AbortSignal.timeout(30_000),
          headers: { 'content-type': 'application/json', authorization: `Bearer ${device.token}` },
        });
        await res.text();
        if (res.ok) {
          this.stats.uploads++;
          this.stats.readingsSent += readings.length;
          return;
        }
        retryable = RETRY_STATUS.has(res.status);
      } catch {
        retryable = true;
      }
      if (!retryable || attempt >= 6) {
        this.stats.refused += readings.length;
        return;
      }
      this.stats.retries++;
      await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** (attempt - 1))));
    }
  }
}
