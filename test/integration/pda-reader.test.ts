/**
 * The PDA readers against the platform's real PDA route (ingest/sources/pda) on a real fastify
 * server, storing into a real SQLite store: what the readers upload, mistakes included, ends up
 * stored as the readers entered it; the platform answers re-sent batches `duplicate`, flags digit
 * slips `rollback`, and a 503 (outbox full) is retried after its Retry-After until accepted.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RawReading } from '../../core/model/reading.ts';
import { Topology } from '../../core/topology/topology.ts';
import { topologySchema } from '../../core/config/schema.ts';
import { pdaSourceSchema } from '../../ingest/sources/pda/config.ts';
import { SqliteStore } from '../../core/tsdb/sqlite.ts';
import { ReadingValidator } from '../../ingest/pipeline/validate.ts';
import { BackpressureError, type SubmitResult } from '../../ingest/pipeline/contract.ts';
import { pdaRoutes, type UploadAnswer } from '../../ingest/sources/pda/routes.ts';
import { meterLookupsFromStore } from '../../ingest/sources/pda/lookups.ts';
import { PdaCorrectionLog } from '../../ingest/sources/pda/corrections.ts';
import { RecordingContext } from '../support/recording-context.ts';
import type { SimStep } from '../../simulators/types.ts';
import { PdaReaderFleet, planRoutes, platformDevices, platformRoutes } from '../../simulators/pda-reader/reader.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);
const STEP = 15 * 60_000;
const DAYS = 8;

const topologyConfig = topologySchema.parse({
  dmas: [{ id: 'dma-a' }, { id: 'dma-b' }],
  meters: Array.from({ length: 12 }, (_, i) => ({ id: `M-${1001 + i}`, customer: `C-${i}`, dma: i < 6 ? 'dma-a' : 'dma-b' })),
});
const topology = new Topology(topologyConfig);
const register = (k: number, ts: number) => 2000 + 311 * k + ((ts - T0) / HOUR) * 0.03;

/**
 * Test double of the pipeline (named so): records and writes validated readings to a real SQLite
 * store, and refuses with BackpressureError (outbox full) as many times as `refuseNext` says.
 */
class StoringContext extends RecordingContext {
  refuseNext = 0;
  private readonly validator: ReadingValidator;
  constructor(private readonly store: SqliteStore, now: () => number) {
    super(topology);
    this.clock = now;
    this.validator = new ReadingValidator(topology, { maxFutureMs: 5 * 60_000, now });
  }
  override async submit(source: string, readings: RawReading[]): Promise<SubmitResult> {
    if (this.refuseNext > 0) {
      this.refuseNext--;
      throw new BackpressureError();
    }
    const result = await super.submit(source, readings);
    await this.store.write(readings.map((r) => this.validator.check(r)).flatMap((c) => (c.ok ? [c.point] : [])));
    return result;
  }
}

describe('PDA readers → the platform PDA route → the store', () => {
  let store: SqliteStore;
  let app: FastifyInstance;
  let ctx: StoringContext;
  let simNow = T0;
  let fleet: PdaReaderFleet;
  let corrections: PdaCorrectionLog;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aw-pda-sim-'));
    store = new SqliteStore(join(dir, 'tsdb.sqlite'));
    await store.init();
    ctx = new StoringContext(store, () => simNow);
    const readers = planRoutes(topologyConfig.meters, 2, (device) => `secret-of-${device}`);
    const config = pdaSourceSchema.parse({ retryAfterS: 1, devices: platformDevices(readers), routes: platformRoutes(readers) });
    corrections = new PdaCorrectionLog(join(dir, 'state.sqlite'));
    app = Fastify({ logger: false });
    await app.register(pdaRoutes, { ctx, config, corrections, ...meterLookupsFromStore(store) });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;

    fleet = new PdaReaderFleet({
      baseUrl: `http://127.0.0.1:${port}`, readers, topology: topologyConfig, seed: 11,
      lateRate: 0.3, duplicateRate: 0.3, digitSlipRate: 0.1, retry: { initialDelayMs: 20, maxDelayMs: 200 },
    });
    await fleet.start();
    ctx.refuseNext = 1; // the first upload finds the outbox full
    for (let ts = T0; ts < T0 + DAYS * DAY; ts += STEP) {
      simNow = ts;
      const step: SimStep = {
        ts, samples: [], silent: [],
        meters: topologyConfig.meters.map((m, k) => ({ meter: m.id, ts, reading: register(k, ts) })),
      };
      await fleet.onStep(step);
    }
    simNow = T0 + (DAYS + 2) * DAY;
    await fleet.flush();
    await fleet.stop();
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await store?.close();
    corrections?.close();
  });

  it('had uploads of every kind: late, re-sent, with digit slips, and one refused with 503 at first', () => {
    expect(fleet.uploads.every((u) => u.status === 'sent')).toBe(true);
    expect(fleet.uploads.some((u) => u.late)).toBe(true);
    expect(fleet.uploads.some((u) => u.resend)).toBe(true);
    expect(fleet.readings.some((t) => t.mistake === 'digit-slip')).toBe(true);
    const first = fleet.uploads.find((u) => u.attempts.length > 1)!;
    expect(first.attempts.map((a) => a.httpStatus)).toEqual([503, 200]);
    expect(first.attempts[0].waitMs).toBeGreaterThanOrEqual(1000); // the route's Retry-After: 1
  });

  it('stores every reading as the reader entered it, mistakes included', async () => {
    for (const meter of topologyConfig.meters.map((m) => m.id)) {
      const stored = (await store.query({ measurement: 'meter', sensors: [meter], from: T0, to: T0 + (DAYS + 2) * DAY })).get(meter)!;
      const taken = fleet.readings.filter((t) => t.meter === meter).sort((a, b) => a.ts - b.ts);
      expect(stored.map((v) => [v.ts, v.value])).toEqual(taken.map((t) => [t.ts, t.reported]));
    }
  });

  it('answers a re-sent batch item by item as duplicate', () => {
    for (const resend of fleet.uploads.filter((u) => u.resend)) {
      const answer = resend.answer as UploadAnswer;
      expect(answer.totals).toMatchObject({ items: resend.body.readings.length, accepted: 0, duplicates: resend.body.readings.length });
    }
  });

  it('flags each digit slip as a rollback (on the slip, or on the older reading that arrived after it)', () => {
    const flagged = new Set<string>();
    for (const u of fleet.uploads) {
      for (const item of (u.answer as UploadAnswer).items) {
        if (item.flags?.includes('rollback')) flagged.add(`${item.meter}@${u.body.readings[item.index].time}`);
      }
    }
    const slips = fleet.readings.filter((t) => t.mistake === 'digit-slip');
    for (const slip of slips) {
      const sameMeter = fleet.readings.filter((t) => t.meter === slip.meter && t.ts <= slip.ts).map((t) => `${t.meter}@${t.time}`);
      expect(sameMeter.some((k) => flagged.has(k)), `rollback flag for ${slip.meter} at ${slip.time}`).toBe(true);
    }
    // and nothing else is flagged: a late (older) reading that is correct is no rollback
    const honest = fleet.readings.filter((t) => !t.mistake && !slips.some((s) => s.meter === t.meter && s.ts >= t.ts && s.ts - t.ts < 3 * DAY));
    expect(honest.filter((t) => flagged.has(`${t.meter}@${t.time}`))).toEqual([]);
  });
});
