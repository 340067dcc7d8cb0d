/**
 * PDA meter readers: handheld devices that customer-meter readers carry on their routes. Each reading
 * day a reader walks the route, reads each meter's cumulative register (m³) from the simulation's
 * MeterSamples, and hours later uploads the day's readings in batches over HTTP:
 *
 *   POST <baseUrl>/api/v1/pda/readings
 *   Authorization: Bearer <device token>
 *   { "readerId": "...", "deviceId": "...", "readings": [{ "meter", "reading", "time", "readerId" }] }
 *
 * with `time` in ISO 8601 with the local offset. Readers make the mistakes real ones make, at seeded
 * rates: a batch uploaded a day late, a batch sent twice, a reading typed lower than the meter's last
 * (a digit slip). Uploads retry with exponential backoff on network errors and 503/429/502/504,
 * waiting at least what Retry-After says. Everything taken and sent is recorded as ground truth.
 *
 * Uploads happen in simulated time: a batch is sent during the first step at or after its upload
 * time, and that step's onStep resolves when the upload is answered (or given up).
 */
import { createHash } from 'node:crypto';
import type { MeterConfig, TopologyConfig } from '../../core/config/schema.ts';
import { isValidTimeZone } from '../../core/time/zoned.ts';
import { Rng } from '../hydraulics/random.ts';
import type { MeterSample, SimDevice, SimStep } from '../types.ts';
import { isoWithOffset, localDay } from './time.ts';

export const PDA_READINGS_PATH = '/api/v1/pda/readings';
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export interface PdaReaderConfig {
  /** The person reading (kept on every reading). */
  readerId: string;
  /** The handheld; its token authenticates the upload. */
  deviceId: string;
  /** Bearer token of the device (the platform knows its SHA-256: sources.pda.devices[].tokenSha256). */
  token: string;
  /** The route: meter ids in walking order. */
  meters: string[];
}

export interface PdaRetryOptions {
  /** Attempts per upload, the first included. Default 8. */
  maxAttempts?: number;
  /** Backoff before the 2nd attempt; doubles each time. Default 500 ms. */
  initialDelayMs?: number;
  /** Backoff cap. Default 30 000 ms. */
  maxDelayMs?: number;
  /** A Retry-After longer than this is cut to it (the simulation must go on). Default 60 000 ms. */
  maxRetryAfterMs?: number;
  /** Per request. Default 10 000 ms. */
  timeoutMs?: number;
}

export interface PdaReaderFleetOptions {
  /** The platform's HTTP address, e.g. http://127.0.0.1:8081 (ingest) or :8080 (all-in-one). */
  baseUrl: string;
  readers: PdaReaderConfig[];
  /** When given, route meters are checked against topology.meters. */
  topology?: TopologyConfig;
  /** Seed of the mistakes. Default 1. */
  seed?: number;
  /** Time zone of the readers' clocks and working day. Default Asia/Shanghai. */
  timezone?: string;
  /** Local hour the round starts. Default 9. */
  startHour?: number;
  /** Minutes between two meters of a route. Default 2. */
  minutesPerMeter?: number;
  /** A round every N days. Default 1. */
  everyDays?: number;
  /** Hours between the round's last reading and its upload. Default 6. */
  uploadDelayHours?: number;
  /**
   * Share of batches uploaded late (0..1), and how many hours later still. Defaults 0.1 and 26: a late
   * batch arrives after the next day's batch, so the platform sees older readings after newer ones.
   */
  lateRate?: number;
  lateExtraHours?: number;
  /** Share of batches sent a second time (0..1), and how many hours after the first. Defaults 0.05 and 0.5. */
  duplicateRate?: number;
  duplicateAfterHours?: number;
  /** Share of readings typed lower than the meter's last reading (0..1). Default 0.01. */
  digitSlipRate?: number;
  /** Decimal places of a reading, m³. Default 3. */
  decimals?: number;
  /** Readings per upload request; a larger round is split. Default 500. */
  maxBatchItems?: number;
  retry?: PdaRetryOptions;
}

/** One reading as taken on the route: what the meter showed and what the reader entered. */
export interface PdaReadingTruth {
  readerId: string;
  deviceId: string;
  meter: string;
  ts: number;
  time: string;
  /** The register, m³ (rounded to `decimals`). */
  actual: number;
  /** What was entered and uploaded. */
  reported: number;
  mistake?: 'digit-slip';
  batch: string;
}

export interface PdaUploadItem { meter: string; reading: number; time: string; readerId: string }
export interface PdaUploadBody { readerId: string; deviceId: string; readings: PdaUploadItem[] }

export interface PdaAttempt {
  /** Wall-clock time of the request. */
  at: number;
  httpStatus?: number;
  error?: string;
  /** Wait before the next attempt. */
  waitMs?: number;
}

export interface PdaUpload {
  /** `<batch>` for the first send, `<batch>#resend` for a duplicate. */
  id: string;
  batch: string;
  readerId: string;
  deviceId: string;
  /** Simulated time the upload is due. */
  uploadAt: number;
  /** Simulated time of the step that sent it. */
  sentAtSim?: number;
  late: boolean;
  resend: boolean;
  body: PdaUploadBody;
  status: 'pending' | 'sent' | 'failed';
  attempts: PdaAttempt[];
  /** The platform's answer to the successful request. */
  answer?: unknown;
}

interface ReaderState {
  config: PdaReaderConfig;
  rng: Rng;
  nextRoundStart?: number;
  round?: { number: number; planned: { meter: string; at: number }[]; next: number; taken: PdaReadingTruth[] };
  rounds: number;
  /** Last correct register read per meter, for digit slips ("lower than the last"). */
  lastRead: Map<string, number>;
}

/** SHA-256 of a device token, as the platform's `sources.pda.devices[].tokenSha256` wants it. */
export function tokenSha256(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The platform's `sources.pda.devices` entries for these readers. */
export function platformDevices(readers: PdaReaderConfig[]): { id: string; tokenSha256: string }[] {
  const seen = new Map<string, string>();
  for (const r of readers) seen.set(r.deviceId, tokenSha256(r.token));
  return [...seen].map(([id, hash]) => ({ id, tokenSha256: hash }));
}

/** The platform's `sources.pda.routes` for these readers: each device writes the meters of its route. */
export function platformRoutes(readers: PdaReaderConfig[]): { id: string; devices: string[]; meters: string[] }[] {
  return readers.map((r) => ({ id: `route-${r.readerId}`, devices: [r.deviceId], meters: r.meters }));
}

/**
 * Splits the topology's meters into `readers` routes (by DMA, then in id order, as routes follow
 * streets), with reader ids `reader-01…`, device ids `pda-01…` and a token per device from `tokenFor`.
 */
export function planRoutes(meters: MeterConfig[], readers: number, tokenFor: (deviceId: string) => string): PdaReaderConfig[] {
  if (!Number.isInteger(readers) || readers < 1) throw new Error(`pda-reader: planRoutes: readers must be a whole number ≥ 1 (got ${readers})`);
  const ordered = [...meters].sort((a, b) => (a.dma ?? '').localeCompare(b.dma ?? '') || a.id.localeCompare(b.id));
  const per = Math.ceil(ordered.length / readers);
  const out: PdaReaderConfig[] = [];
  for (let i = 0; i < readers; i++) {
    const n = String(i + 1).padStart(2, '0');
    const deviceId = `pda-${n}`;
    out.push({ readerId: `reader-${n}`, deviceId, token: tokenFor(deviceId), meters: ordered.slice(i * per, (i + 1) * per).map((m) => m.id) });
  }
  return out.filter((r) => r.meters.length > 0);
}

/**
 * A reading typed lower than `previous` by a slip of the fingers: two neighbouring digits of the
 * whole-m³ part swapped (the least significant swap that gives a lower number), else a digit left
 * out. Undefined when no such slip gives a value below `previous`.
 */
export function digitSlip(actual: number, previous: number, decimals: number): number | undefined {
  const whole = Math.floor(actual);
  const fraction = Number((actual - whole).toFixed(decimals));
  const digits = String(whole).split('');
  const round = (v: number) => Number(v.toFixed(decimals));
  for (let i = digits.length - 2; i >= 0; i--) {
    if (digits[i] <= digits[i + 1]) continue;
    const swapped = [...digits];
    [swapped[i], swapped[i + 1]] = [swapped[i + 1], swapped[i]];
    const v = round(Number(swapped.join('')) + fraction);
    if (v < previous) return v;
  }
  if (digits.length >= 2) {
    const v = round(Number(digits.slice(0, -1).join('')) + fraction);
    if (v < previous) return v;
  }
  return undefined;
}

const RETRY_STATUS = new Set([408, 429, 502, 503, 504]);

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const s = Number(header);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function checkRate(value: number | undefined, fallback: number, field: string): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new Error(`pda-reader: option ${field}: ${v} is not a share between 0 and 1`);
  return v;
}

function checkNonNegative(value: number | undefined, fallback: number, field: string, integer = false): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) {
    throw new Error(`pda-reader: option ${field}: ${v} is not ${integer ? 'a whole number' : 'a number'} ≥ 0`);
  }
  return v;
}

export class PdaReaderFleet implements SimDevice {
  readonly name = 'pda-reader';
  /** Every reading taken, in order. */
  readonly readings: PdaReadingTruth[] = [];
  /** Every upload scheduled (pending, sent or failed), in the order scheduled. */
  readonly uploads: PdaUpload[] = [];
  /** Route meters that had no meter sample when the reader came by. */
  readonly skipped: { readerId: string; meter: string; at: number }[] = [];

  private readonly readers: ReaderState[];
  private readonly routeMeters = new Set<string>();
  private readonly meterValues = new Map<string, MeterSample>();
  private readonly url: string;
  private readonly zone: string;
  private readonly o: Required<Omit<PdaReaderFleetOptions, 'topology' | 'retry' | 'readers' | 'baseUrl' | 'timezone'>>;
  private readonly retry: Required<PdaRetryOptions>;
  private started = false;

  constructor(opts: PdaReaderFleetOptions) {
    let base: URL;
    try {
      base = new URL(opts.baseUrl);
    } catch {
      throw new Error(`pda-reader: option baseUrl: ${JSON.stringify(opts.baseUrl)} is not a URL (e.g. http://127.0.0.1:8081)`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error(`pda-reader: option baseUrl: ${opts.baseUrl} must be http:// or https://`);
    // A base with a path (behind a reverse proxy: https://host/aquawatch) keeps it.
    this.url = `${base.origin}${base.pathname.replace(/\/+$/, '')}${PDA_READINGS_PATH}`;
    this.zone = opts.timezone ?? 'Asia/Shanghai';
    if (!isValidTimeZone(this.zone)) throw new Error(`pda-reader: option timezone: ${this.zone} is not an IANA time zone`);
    this.o = {
      seed: opts.seed ?? 1,
      startHour: checkNonNegative(opts.startHour, 9, 'startHour'),
      minutesPerMeter: checkNonNegative(opts.minutesPerMeter, 2, 'minutesPerMeter'),
      everyDays: checkNonNegative(opts.everyDays, 1, 'everyDays', true) || 1,
      uploadDelayHours: checkNonNegative(opts.uploadDelayHours, 6, 'uploadDelayHours'),
      lateRate: checkRate(opts.lateRate, 0.1, 'lateRate'),
      lateExtraHours: checkNonNegative(opts.lateExtraHours, 26, 'lateExtraHours'),
      duplicateRate: checkRate(opts.duplicateRate, 0.05, 'duplicateRate'),
      duplicateAfterHours: checkNonNegative(opts.duplicateAfterHours, 0.5, 'duplicateAfterHours'),
      digitSlipRate: checkRate(opts.digitSlipRate, 0.01, 'digitSlipRate'),
      decimals: checkNonNegative(opts.decimals, 3, 'decimals', true),
      maxBatchItems: checkNonNegative(opts.maxBatchItems, 500, 'maxBatchItems', true) || 500,
    };
    if (this.o.startHour >= 24) throw new Error(`pda-reader: option startHour: ${this.o.startHour} is not an hour of the day (0–23)`);
    this.retry = {
      maxAttempts: Math.max(1, opts.retry?.maxAttempts ?? 8),
      initialDelayMs: opts.retry?.initialDelayMs ?? 500,
      maxDelayMs: opts.retry?.maxDelayMs ?? 30_000,
      maxRetryAfterMs: opts.retry?.maxRetryAfterMs ?? 60_000,
      timeoutMs: opts.retry?.timeoutMs ?? 10_000,
    };

    const known = opts.topology ? new Set(opts.topology.meters.map((m) => m.id)) : undefined;
    const problems: string[] = [];
    const readerIds = new Set<string>();
    opts.readers.forEach((r, i) => {
      const at = `readers[${i}]`;
      if (!r.readerId) problems.push(`${at}.readerId: missing`);
      if (!r.deviceId) problems.push(`${at}.deviceId: missing`);
      if (!r.token) problems.push(`${at}.token: missing (the device's bearer token)`);
      if (readerIds.has(r.readerId)) problems.push(`${at}.readerId: ${r.readerId} is used by another reader`);
      readerIds.add(r.readerId);
      r.meters.forEach((m, j) => {
        if (known && !known.has(m)) problems.push(`${at}.meters[${j}]: ${m} is not a meter of the topology`);
        this.routeMeters.add(m);
      });
    });
    if (problems.length) throw new Error(`pda-reader: bad options:\n  ${problems.join('\n  ')}`);
    this.readers = opts.readers.map((config) => ({
      config, rng: new Rng(this.o.seed, `pda:${config.readerId}`), rounds: 0, lastRead: new Map(),
    }));
  }

  /** The URL uploads go to. */
  get uploadUrl(): string { return this.url; }

  async start(): Promise<void> {
    this.started = true;
  }

  async onStep(step: SimStep): Promise<void> {
    if (!this.started) throw new Error(`${this.name}: onStep before start()`);
    for (const m of step.meters) if (this.routeMeters.has(m.meter)) this.meterValues.set(m.meter, m);
    for (const reader of this.readers) this.walk(reader, step.ts);
    await this.sendDue(step.ts);
  }

  /** Sends every pending upload now, whatever its upload time (e.g. at the end of a test run). */
  async flush(): Promise<void> {
    for (const reader of this.readers) if (reader.round) this.closeRound(reader);
    await this.sendDue(Number.POSITIVE_INFINITY);
  }

  /** Readings nobody uploaded yet stay pending (the simulation ended before their upload time). */
  async stop(): Promise<void> {
    this.started = false;
  }

  private roundStart(ts: number): number {
    return localDay(ts, this.zone).at(Math.floor(this.o.startHour), Math.round((this.o.startHour % 1) * 60));
  }

  /** Opens a round when its start has come, and reads each meter whose turn has come. */
  private walk(reader: ReaderState, now: number): void {
    if (reader.nextRoundStart === undefined) {
      // A round already under way when the simulation starts has been done before it: begin with the next.
      const today = this.roundStart(now);
      reader.nextRoundStart = now <= today ? today : this.roundStart(today + DAY_MS + 2 * HOUR_MS);
    }
    if (now >= reader.nextRoundStart) {
      if (reader.round) this.closeRound(reader);
      const start = reader.nextRoundStart;
      reader.round = {
        number: ++reader.rounds,
        planned: reader.config.meters.map((meter, i) => ({ meter, at: start + i * this.o.minutesPerMeter * 60_000 })),
        next: 0,
        taken: [],
      };
      reader.nextRoundStart = this.roundStart(start + this.o.everyDays * DAY_MS + 2 * HOUR_MS);
    }
    const round = reader.round;
    if (!round) return;
    while (round.next < round.planned.length && round.planned[round.next].at <= now) {
      const { meter, at } = round.planned[round.next++];
      const sample = this.meterValues.get(meter);
      if (!sample) {
        this.skipped.push({ readerId: reader.config.readerId, meter, at });
        continue;
      }
      round.taken.push(this.read(reader, round.number, sample));
    }
    if (round.next >= round.planned.length) this.closeRound(reader);
  }

  private read(reader: ReaderState, roundNumber: number, sample: MeterSample): PdaReadingTruth {
    const { readerId, deviceId } = reader.config;
    const actual = Number(sample.reading.toFixed(this.o.decimals));
    // One draw per reading whatever happens, so that the seed alone decides which readings slip.
    const slips = reader.rng.next() < this.o.digitSlipRate;
    const previous = reader.lastRead.get(sample.meter);
    const slipped = slips && previous !== undefined ? digitSlip(actual, previous, this.o.decimals) : undefined;
    reader.lastRead.set(sample.meter, actual);
    const truth: PdaReadingTruth = {
      readerId, deviceId, meter: sample.meter, ts: sample.ts, time: isoWithOffset(sample.ts, this.zone),
      actual, reported: slipped ?? actual, batch: `${readerId}/${roundNumber}`,
    };
    if (slipped !== undefined) truth.mistake = 'digit-slip';
    this.readings.push(truth);
    return truth;
  }

  /** Turns a finished round into its upload(s): late or not, sent twice or not, as the seed decides. */
  private closeRound(reader: ReaderState): void {
    const round = reader.round;
    reader.round = undefined;
    if (!round || round.taken.length === 0) return;
    const late = reader.rng.next() < this.o.lateRate;
    const twice = reader.rng.next() < this.o.duplicateRate;
    const lastTs = Math.max(...round.taken.map((t) => t.ts));
    const uploadAt = lastTs + (this.o.uploadDelayHours + (late ? this.o.lateExtraHours : 0)) * HOUR_MS;
    const { readerId, deviceId } = reader.config;
    const chunks: PdaReadingTruth[][] = [];
    for (let i = 0; i < round.taken.length; i += this.o.maxBatchItems) chunks.push(round.taken.slice(i, i + this.o.maxBatchItems));
    chunks.forEach((chunk, k) => {
      const batch = chunks.length > 1 ? `${readerId}/${round.number}.${k + 1}` : `${readerId}/${round.number}`;
      for (const t of chunk) t.batch = batch;
      const body: PdaUploadBody = {
        readerId, deviceId,
        readings: chunk.map((t) => ({ meter: t.meter, reading: t.reported, time: t.time, readerId })),
      };
      this.uploads.push({ id: batch, batch, readerId, deviceId, uploadAt, late, resend: false, body, status: 'pending', attempts: [] });
      if (twice) {
        this.uploads.push({
          id: `${batch}#resend`, batch, readerId, deviceId, uploadAt: uploadAt + this.o.duplicateAfterHours * HOUR_MS,
          late, resend: true, body, status: 'pending', attempts: [],
        });
      }
    });
  }

  private async sendDue(now: number): Promise<void> {
    const due = this.uploads.filter((u) => u.status === 'pending' && u.uploadAt <= now);
    // In upload-time order; equal times keep the order they were scheduled in (sort is stable).
    due.sort((a, b) => a.uploadAt - b.uploadAt);
    for (const upload of due) {
      upload.sentAtSim = Number.isFinite(now) ? now : undefined;
      await this.send(upload);
    }
  }

  private async send(upload: PdaUpload): Promise<void> {
    const token = this.readers.find((r) => r.config.readerId === upload.readerId)!.config.token;
    const rng = new Rng(this.o.seed, `pda-retry:${upload.id}`);
    for (let attempt = 1; ; attempt++) {
      const record: PdaAttempt = { at: Date.now() };
      upload.attempts.push(record);
      let retryable = false;
      let serverWaitMs: number | undefined;
      try {
        const res = await fetch(this.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify(upload.body),
          signal: AbortSignal.timeout(this.retry.timeoutMs),
        });
        record.httpStatus = res.status;
        const text = await res.text();
        if (res.ok) {
          upload.status = 'sent';
          try { upload.answer = JSON.parse(text); } catch { upload.answer = text; }
          return;
        }
        retryable = RETRY_STATUS.has(res.status);
        serverWaitMs = retryAfterMs(res.headers.get('retry-after'));
        if (!retryable) record.error = text.slice(0, 500);
      } catch (e) {
        const err = e as Error & { cause?: { code?: string; message?: string } };
        record.error = err.cause?.code ?? err.cause?.message ?? err.message;
        retryable = true;
      }
      if (!retryable || attempt >= this.retry.maxAttempts) {
        upload.status = 'failed';
        return;
      }
      const backoff = Math.min(this.retry.maxDelayMs, this.retry.initialDelayMs * 2 ** (attempt - 1));
      // ±20 % jitter, seeded, so that many devices do not retry in step.
      const jittered = backoff * (0.8 + 0.4 * rng.next());
      const wait = Math.max(jittered, Math.min(serverWaitMs ?? 0, this.retry.maxRetryAfterMs));
      record.waitMs = Math.round(wait);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
