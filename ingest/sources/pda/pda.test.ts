import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RawReading } from '../../../core/model/reading.ts';
import { Topology } from '../../../core/topology/topology.ts';
import { topologySchema } from '../../../core/config/schema.ts';
import { pdaSourceSchema, type PdaSourceConfig } from './config.ts';
import { SqliteStore } from '../../../core/tsdb/sqlite.ts';
import { DeviceTokenStore, hashToken } from '../../../core/state/device-tokens.ts';
import { ReadingValidator } from '../../pipeline/validate.ts';
import { BackpressureError, type SubmitResult } from '../../pipeline/contract.ts';
import { Outbox } from '../../pipeline/outbox.ts';
import { DeadLetterStore } from '../../pipeline/dead-letters.ts';
import { Pipeline } from '../../pipeline/pipeline.ts';
import { silentLogger } from '../../../core/log.ts';
import { RecordingContext } from '../../../test/support/recording-context.ts';
import { freePort, waitFor } from '../../../test/support/ports.ts';
import { pdaRoutes, PDA_READINGS_PATH, type UploadAnswer } from './routes.ts';
import { meterLookupsFromStore } from './lookups.ts';
import { PdaCorrectionLog } from './corrections.ts';

const NOW = Date.UTC(2026, 2, 10, 6, 0); // 2026-03-10 14:00 in Shanghai
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const topology = new Topology(topologySchema.parse({
  dmas: [{ id: 'dma-north', customers: 3 }],
  meters: [
    { id: 'M-1001', customer: 'C-1', dma: 'dma-north' },
    { id: 'M-1002', customer: 'C-2', dma: 'dma-north' },
    { id: 'M-1003', customer: 'C-3', dma: 'dma-north' },
  ],
}));

/**
 * The real pipeline (validation, the clock check, an outbox in the test's folder) under a
 * RecordingContext, which records what is accepted; accepted readings are also written to a real
 * SQLite store, so later uploads find them stored. `backpressure` makes it refuse as a full outbox.
 */
class StoringRecordingContext extends RecordingContext {
  private readonly validator: ReadingValidator;
  private readonly outbox: Outbox;
  private readonly pipeline: Pipeline;
  /** The pipeline's dead letters (what it rejects itself; the route's own rejections go to `undecodable`). */
  readonly deadLetters: DeadLetterStore;
  backpressure = false;
  /** `maxAgeMs`: the pipeline's ingest.maxAgeHours (none by default, as this file's tests predate it). */
  constructor(topology: Topology, private readonly store: SqliteStore, dir: string, maxAgeMs?: number) {
    super(topology);
    this.clock = () => NOW;
    const now = () => this.clock();
    this.validator = new ReadingValidator(topology, { maxFutureMs: 5 * 60_000, now });
    this.outbox = new Outbox({ path: join(dir, 'outbox.sqlite'), maxReadings: 10_000, batchMaxSize: 1000, batchMaxDelayMs: 1 });
    this.deadLetters = new DeadLetterStore(this.outbox.db);
    this.pipeline = new Pipeline({
      topology, outbox: this.outbox, deadLetters: this.deadLetters, metrics: this.metrics, log: silentLogger,
      maxFutureMs: 5 * 60_000, maxAgeMs, dedupeWindow: 0, now,
    });
  }
  override async submit(source: string, readings: RawReading[]): Promise<SubmitResult> {
    if (this.backpressure) throw new BackpressureError();
    const result = await this.pipeline.submit(source, readings);
    const rejected = new Set(result.rejected.map((r) => r.index));
    const taken = readings.filter((_, i) => !rejected.has(i));
    this.readings.push(...taken);
    await this.store.write(taken.map((r) => this.validator.check(r)).flatMap((c) => (c.ok ? [c.point] : [])));
    return result;
  }
  close(): void { this.outbox.close(); }
}

describe('PDA readings upload', () => {
  let dir: string;
  let store: SqliteStore;
  let tokens: DeviceTokenStore;
  let ctx: StoringRecordingContext;
  let app: FastifyInstance;
  let token: string;
  let corrections: PdaCorrectionLog;
  const config: PdaSourceConfig = pdaSourceSchema.parse({ maxItems: 50, devices: [{ id: 'pda-yaml', tokenSha256: hashToken('yaml-configured-token') }] });

  async function buildApp(): Promise<FastifyInstance> {
    const a = Fastify({ logger: false });
    await a.register(pdaRoutes, { ctx, tokens, config, corrections, ...meterLookupsFromStore(store) });
    await a.ready();
    return a;
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aw-pda-'));
    store = new SqliteStore(join(dir, 'tsdb.sqlite'));
    await store.init();
    tokens = new DeviceTokenStore(join(dir, 'state.sqlite'));
    token = tokens.create('pda-07', 'reader team north');
    corrections = new PdaCorrectionLog(join(dir, 'state.sqlite'));
    ctx = new StoringRecordingContext(topology, store, dir);
    app = await buildApp();
  });
  afterEach(async () => {
    await app.close();
    ctx.close();
    tokens.close();
    corrections.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (body: unknown, opts: { token?: string | null; contentType?: string; url?: string } = {}) => app.inject({
    method: 'POST',
    url: opts.url ?? PDA_READINGS_PATH,
    headers: {
      ...(opts.token === null ? {} : { authorization: `Bearer ${opts.token ?? token}` }),
      'content-type': opts.contentType ?? 'application/json',
    },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });

  async function storedValues(meter: string): Promise<{ ts: number; value: number; quality?: string }[]> {
    return (await store.query({ measurement: 'meter', sensors: [meter], from: 0, to: NOW + DAY })).get(meter)!;
  }

  it('accepts a valid batch (ISO with offset and epoch ms) and stores it with good quality', async () => {
    const res = await post({
      readerId: 'R-12',
      readings: [
        { meter: 'M-1001', reading: 1523.4, time: '2026-03-10T09:15:00+08:00' },
        { meter: 'M-1002', reading: 87.125, time: NOW - 2 * HOUR },
      ],
    });
    expect(res.statusCode).toBe(200);
    const body = res.json() as UploadAnswer;
    expect(body.deviceId).toBe('pda-07');
    expect(body.readerId).toBe('R-12');
    expect(body.totals).toEqual({ items: 2, accepted: 2, duplicates: 0, rejected: 0, flagged: 0 });
    expect(body.items).toEqual([
      { index: 0, meter: 'M-1001', status: 'accepted' },
      { index: 1, meter: 'M-1002', status: 'accepted' },
    ]);
    expect(ctx.readings).toEqual([
      { sensor: 'M-1001', ts: Date.UTC(2026, 2, 10, 1, 15), value: 1523.4, quality: 'good' },
      { sensor: 'M-1002', ts: NOW - 2 * HOUR, value: 87.125, quality: 'good' },
    ]);
    expect(await storedValues('M-1001')).toEqual([{ ts: Date.UTC(2026, 2, 10, 1, 15), value: 1523.4, quality: 'good' }]);
    expect(ctx.undecodable).toEqual([]);
  });

  it('refuses a missing, unknown or revoked token with 401 and stores nothing', async () => {
    const batch = { readerId: 'R-1', readings: [{ meter: 'M-1001', reading: 1, time: NOW }] };
    const none = await post(batch, { token: null });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(none.json()).toEqual({ error: 'unauthorized', reason: 'missing Authorization: Bearer <device token>' });
    const wrong = await post(batch, { token: 'not-a-real-token' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toEqual({ error: 'unauthorized', reason: 'unknown or revoked device token' });
    tokens.revoke('pda-07');
    const revoked = await post(batch);
    expect(revoked.statusCode).toBe(401);
    // a malformed body with a bad token is still a 401: authentication comes first
    expect((await post('{not json', { token: 'nope' })).statusCode).toBe(401);
    expect(ctx.readings).toEqual([]);
    expect(await storedValues('M-1001')).toEqual([]);
  });

  it('accepts a token configured as a SHA-256 hash in YAML', async () => {
    const res = await post({ readerId: 'R-2', readings: [{ meter: 'M-1003', reading: 5, time: NOW - HOUR }] }, { token: 'yaml-configured-token' });
    expect(res.statusCode).toBe(200);
    expect(res.json().deviceId).toBe('pda-yaml');
  });

  it('answers each item on its own: bad items rejected with field and reason, good ones stored', async () => {
    const res = await post({
      readerId: 'R-3',
      readings: [
        { meter: 'M-1001', reading: 100, time: NOW - DAY },                      // 0 good
        { meter: 'M-9999', reading: 5, time: NOW - DAY },                        // 1 unknown meter
        { meter: 'M-1002', reading: 'NaN', time: NOW - DAY },                    // 2 NaN
        { meter: 'M-1002', reading: 12, time: NOW - 60 * DAY },                  // 3 too old
        { meter: 'M-1003', reading: 7, time: NOW + HOUR },                       // 4 future
        { meter: 'M-1003', reading: -1, time: NOW - DAY },                       // 5 negative
        { meter: 'M-1003', reading: 7, time: '2026-03-09T08:00:00' },            // 6 no offset
        { meter: 'M-1003', reading: 7 },                                          // 7 no time
        42,                                                                      // 8 not an object
        { meter: 'M-1002', reading: 12.5, time: '2026-03-09T08:00:00+08:00' },  // 9 good
      ],
    });
    expect(res.statusCode).toBe(200);
    const body = res.json() as UploadAnswer;
    expect(body.totals).toEqual({ items: 10, accepted: 2, duplicates: 0, rejected: 8, flagged: 0 });
    const byIndex = (i: number) => body.items[i];
    expect(byIndex(0)).toEqual({ index: 0, meter: 'M-1001', status: 'accepted' });
    expect(byIndex(1)).toEqual({ index: 1, meter: 'M-9999', status: 'rejected', field: 'meter', reason: 'unknown meter M-9999' });
    expect(byIndex(2)).toMatchObject({ status: 'rejected', field: 'reading', reason: 'not a finite number (got "NaN")' });
    expect(byIndex(3)).toMatchObject({ status: 'rejected', field: 'time' });
    expect(byIndex(3).reason).toMatch(/60 days ago; older than the 45-day limit/);
    expect(byIndex(4)).toMatchObject({ status: 'rejected', field: 'time' });
    expect(byIndex(4).reason).toMatch(/3600 s in the future/);
    expect(byIndex(5)).toMatchObject({ status: 'rejected', field: 'reading', reason: expect.stringMatching(/must not be negative/) });
    expect(byIndex(6)).toMatchObject({ status: 'rejected', field: 'time', reason: expect.stringMatching(/has no UTC offset/) });
    expect(byIndex(7)).toMatchObject({ status: 'rejected', field: 'time', reason: 'missing' });
    expect(byIndex(8)).toMatchObject({ status: 'rejected', field: 'item', reason: 'each reading must be an object (got 42)' });
    expect(byIndex(9)).toEqual({ index: 9, meter: 'M-1002', status: 'accepted' });

    expect(ctx.readings.map((r) => [r.sensor, r.value])).toEqual([['M-1001', 100], ['M-1002', 12.5]]);
    // every rejected item went to the dead letters naming field and reason: the future one by the
    // pipeline (which judges times ahead of the server clock), the others by the route
    expect(ctx.deadLetters.list().map((d) => [d.sensor, d.field])).toEqual([['M-1003', 'ts']]);
    expect(ctx.undecodable).toHaveLength(7);
    expect(ctx.undecodable[0]).toMatchObject({ origin: 'pda device pda-07 reader R-3 item 1', reason: 'meter: unknown meter M-9999' });
    expect(JSON.parse(ctx.undecodable[0].raw)).toEqual({ meter: 'M-9999', reading: 5, time: NOW - DAY });
  });

  it('F16 a reading older than ingest.maxAgeHours is rejected by the pipeline (field time), dead-lettered as ts and counted, though younger than sources.pda.maxAgeDays', async () => {
    await app.close();
    ctx.close();
    ctx = new StoringRecordingContext(topology, store, dir, 7 * DAY);
    app = await buildApp();
    const res = await post({ readerId: 'R-9', readings: [
      { meter: 'M-1001', reading: 300, time: NOW - 10 * DAY },
      { meter: 'M-1002', reading: 40, time: NOW - 6 * DAY },
    ] });
    const body = res.json() as UploadAnswer;
    expect(body.totals).toEqual({ items: 2, accepted: 1, duplicates: 0, rejected: 1, flagged: 0 });
    expect(body.items[0]).toEqual({ index: 0, meter: 'M-1001', status: 'rejected', field: 'time',
      reason: '2026-02-28T06:00:00.000Z is 240 h old, older than live sources may send (ingest.maxAgeHours 168); load history with aquawatch import' });
    expect(ctx.deadLetters.list().map((d) => [d.sensor, d.field])).toEqual([['M-1001', 'ts']]);
    expect((await ctx.metrics.readingsRejected.get()).values).toEqual([{ value: 1, labels: { source: 'pda', reason: 'ts' } }]);
    expect(await storedValues('M-1002')).toEqual([{ ts: NOW - 6 * DAY, value: 40, quality: 'good' }]);
  });

  it('flags a reading lower than the stored one as rollback (accepted, quality uncertain)', async () => {
    await post({ readerId: 'R-4', readings: [{ meter: 'M-1001', reading: 500, time: NOW - 10 * DAY }] });
    const res = await post({
      readerId: 'R-4',
      readings: [
        { meter: 'M-1001', reading: 450, time: NOW - DAY },         // lower than 500 read 9 days earlier
        { meter: 'M-1002', reading: 80, time: NOW - 3 * DAY },
        { meter: 'M-1002', reading: 79.5, time: NOW - 2 * DAY },    // lower than the batch item before it
        { meter: 'M-1002', reading: 70, time: NOW - 5 * DAY },      // older and lower: normal, a late upload
      ],
    });
    const body = res.json() as UploadAnswer;
    expect(body.totals).toEqual({ items: 4, accepted: 4, duplicates: 0, rejected: 0, flagged: 2 });
    expect(body.items[0]).toMatchObject({ status: 'accepted', flags: ['rollback'] });
    expect(body.items[0].reason).toMatch(/lower than 500 m³ read at 2026-02-28T06:00:00.000Z/);
    expect(body.items[1]).toEqual({ index: 1, meter: 'M-1002', status: 'accepted' });
    expect(body.items[2]).toMatchObject({ status: 'accepted', flags: ['rollback'] });
    expect(body.items[3]).toEqual({ index: 3, meter: 'M-1002', status: 'accepted' });
    expect(ctx.readings.slice(1).map((r) => r.quality)).toEqual(['uncertain', 'good', 'uncertain', 'good']);
    expect((await storedValues('M-1001')).map((v) => [v.value, v.quality])).toEqual([[500, 'good'], [450, 'uncertain']]);
  });

  it('counts the same meter and time once: within a batch and across uploads', async () => {
    const batch = {
      readerId: 'R-5',
      readings: [
        { meter: 'M-1001', reading: 200, time: NOW - 2 * DAY },
        { meter: 'M-1001', reading: 200, time: new Date(NOW - 2 * DAY).toISOString() }, // same instant, other notation
        { meter: 'M-1001', reading: 201, time: NOW - 2 * DAY },                           // same instant, other value
        { meter: 'M-1002', reading: 30, time: NOW - 3 * DAY },
        { meter: 'M-1002', reading: 31, time: NOW - DAY },
      ],
    };
    const first = (await post(batch)).json() as UploadAnswer;
    expect(first.items.map((i) => i.status)).toEqual(['accepted', 'duplicate', 'rejected', 'accepted', 'accepted']);
    expect(first.items[1].reason).toBe('same meter, time and reading as item 0');
    expect(first.items[2]).toMatchObject({ field: 'reading', reason: '201 m³ conflicts with item 0 (200 m³ for the same meter and time)' });
    expect(ctx.readings).toHaveLength(3);

    // the PDA did not get the answer and sends the batch again
    const again = (await post(batch)).json() as UploadAnswer;
    expect(again.totals).toMatchObject({ accepted: 0, duplicates: 4, rejected: 1 });
    expect(ctx.readings).toHaveLength(3);

    // a fresh process (empty in-memory cache) finds the duplicates in the store, older ones included
    await app.close();
    app = await buildApp();
    const third = (await post(batch)).json() as UploadAnswer;
    expect(third.items.map((i) => i.status)).toEqual(['duplicate', 'duplicate', 'rejected', 'duplicate', 'duplicate']);
    expect(third.items[0].reason).toBe('already stored');
    expect(ctx.readings).toHaveLength(3);
    expect((await storedValues('M-1002')).map((v) => v.value)).toEqual([30, 31]);
  });

  it('with only a lastReading lookup, a re-sent last reading is still a duplicate', async () => {
    await post({ readerId: 'R-5', readings: [{ meter: 'M-1002', reading: 64, time: NOW - DAY }] });
    await app.close();
    const { lastReading } = meterLookupsFromStore(store);
    app = Fastify({ logger: false });
    await app.register(pdaRoutes, { ctx, tokens, config, corrections, lastReading });
    const body = (await post({ readerId: 'R-5', readings: [{ meter: 'M-1002', reading: 64, time: NOW - DAY }, { meter: 'M-1002', reading: 63, time: NOW - HOUR }] })).json() as UploadAnswer;
    expect(body.items.map((i) => [i.status, i.flags])).toEqual([['duplicate', undefined], ['accepted', ['rollback']]]);
    expect(ctx.readings.map((r) => r.value)).toEqual([64, 63]);
  });

  it('overwrites a stored reading only when the item says it is a correction, and records the correction (F19)', async () => {
    await post({ readerId: 'R-6', readings: [{ meter: 'M-1003', reading: 40, time: NOW - DAY }] });
    const plain = (await post({ readerId: 'R-6', readings: [{ meter: 'M-1003', reading: 41, time: NOW - DAY }] })).json() as UploadAnswer;
    expect(plain.items[0]).toMatchObject({ status: 'rejected', field: 'reading' });
    expect(plain.items[0].reason).toMatch(/40 m³ is stored for this meter and time; send the item with "correction": true to replace it/);
    expect((await storedValues('M-1003')).map((v) => v.value)).toEqual([40]);

    const corrected = (await post({ readerId: 'R-6', readings: [{ meter: 'M-1003', reading: 41, time: NOW - DAY, correction: true }] })).json() as UploadAnswer;
    expect(corrected.items[0]).toMatchObject({ status: 'accepted', flags: ['replaces'] });
    expect((await storedValues('M-1003')).map((v) => v.value)).toEqual([41]);
    expect(corrections.list()).toEqual([{ at: NOW, deviceId: 'pda-07', readerId: 'R-6', meter: 'M-1003', ts: NOW - DAY, previous: 40, value: 41 }]);
    // a CSV upload says it with a `correction` column
    const csv = (await post(`meter,reading,time,correction\nM-1003,42,${NOW - DAY},true\n`, { contentType: 'text/csv' })).json() as UploadAnswer;
    expect(csv.items[0]).toMatchObject({ status: 'accepted', flags: ['replaces'] });
    expect(corrections.list().map((c) => [c.previous, c.value])).toEqual([[40, 41], [41, 42]]);
  });

  it('holds a device to the meters of its routes when routes are configured (F19)', async () => {
    await app.close();
    const routed = pdaSourceSchema.parse({ ...config, routes: [
      { id: 'north-1', devices: ['pda-07'], meters: ['M-1001'] },
      { id: 'north-2', devices: ['pda-yaml'], dmas: ['dma-north'] },
    ] });
    app = Fastify({ logger: false });
    await app.register(pdaRoutes, { ctx, tokens, config: routed, corrections, ...meterLookupsFromStore(store) });
    const body = (await post({ readerId: 'R-7', readings: [
      { meter: 'M-1001', reading: 10, time: NOW - HOUR },
      { meter: 'M-1002', reading: 20, time: NOW - HOUR },
    ] })).json() as UploadAnswer;
    expect(body.items.map((i) => [i.status, i.field, i.reason])).toEqual([
      ['accepted', undefined, undefined],
      ['rejected', 'meter', 'M-1002 is not on a route of device pda-07 (sources.pda.routes)'],
    ]);
    const other = (await post({ readerId: 'R-8', readings: [{ meter: 'M-1002', reading: 20, time: NOW - HOUR }] }, { token: 'yaml-configured-token' })).json() as UploadAnswer;
    expect(other.items[0].status).toBe('accepted');
    // a device on no route may write no meter
    const stray = tokens.create('pda-99');
    const none = (await post({ readerId: 'R-9', readings: [{ meter: 'M-1003', reading: 5, time: NOW - HOUR }] }, { token: stray })).json() as UploadAnswer;
    expect(none.items[0]).toMatchObject({ status: 'rejected', field: 'meter', reason: 'M-1003 is not on a route of device pda-99 (sources.pda.routes)' });
    expect(ctx.readings.map((r) => r.sensor)).toEqual(['M-1001', 'M-1002']);
  });

  it('takes a text/csv body with header meter,reading,time,reader', async () => {
    const csv = [
      'meter,reading,time,reader',
      `M-1001,321.5,2026-03-09T10:00:00+08:00,R-7`,
      `M-1002,NaN,2026-03-09T10:05:00+08:00,R-7`,
      `M-1003,17,${NOW - HOUR},R-7`,
      `M-1004,1,2026-03-09T10:10:00+08:00,R-7`,
      '',
    ].join('\r\n');
    const res = await post(csv, { contentType: 'text/csv' });
    expect(res.statusCode).toBe(200);
    const body = res.json() as UploadAnswer;
    expect(body.items).toEqual([
      { index: 0, meter: 'M-1001', status: 'accepted' },
      { index: 1, meter: 'M-1002', status: 'rejected', field: 'reading', reason: 'not a finite number (got "NaN")' },
      { index: 2, meter: 'M-1003', status: 'accepted' },
      { index: 3, meter: 'M-1004', status: 'rejected', field: 'meter', reason: 'unknown meter M-1004' },
    ]);
    expect(ctx.readings.map((r) => [r.sensor, r.value, r.ts])).toEqual([
      ['M-1001', 321.5, Date.UTC(2026, 2, 9, 2, 0)],
      ['M-1003', 17, NOW - HOUR],
    ]);
    expect(ctx.undecodable[0].origin).toBe('pda device pda-07 item 1');

    const withCharset = await post('meter,time,reading\nM-1003,2026-03-09T11:00:00+08:00,16.5\n', { contentType: 'text/csv; charset=utf-8' });
    expect(withCharset.json().items).toEqual([{ index: 0, meter: 'M-1003', status: 'accepted' }]);

    const noHeader = await post('M-1001,1,2026-03-09T10:00:00Z\n', { contentType: 'text/csv' });
    expect(noHeader.statusCode).toBe(400);
    expect(noHeader.json()).toMatchObject({ error: 'bad request', field: 'body' });
    expect(noHeader.json().reason).toMatch(/CSV header lacks meter, reading, time/);
  });

  it('refuses more than maxItems with 413, and a malformed envelope with 400; stores nothing', async () => {
    const items = Array.from({ length: 51 }, (_, i) => ({ meter: 'M-1001', reading: i, time: NOW - DAY + i * 1000 }));
    const tooMany = await post({ readerId: 'R-8', readings: items });
    expect(tooMany.statusCode).toBe(413);
    expect(tooMany.json()).toEqual({ error: 'too many items', field: 'readings', reason: '51 items; the limit is 50 per upload (sources.pda.maxItems)' });
    const csv = ['meter,reading,time', ...items.map((i) => `${i.meter},${i.reading},${i.time}`)].join('\n');
    expect((await post(csv, { contentType: 'text/csv' })).statusCode).toBe(413);

    const noReadings = await post({ readerId: 'R-8', items: [] });
    expect(noReadings.statusCode).toBe(400);
    expect(noReadings.json()).toMatchObject({ error: 'bad request' });
    expect(noReadings.json().reason).toMatch(/readings/);
    const notArray = await post({ readerId: 'R-8', readings: { meter: 'M-1001' } });
    expect(notArray.statusCode).toBe(400);
    expect(notArray.json()).toMatchObject({ field: 'readings' });
    const badJson = await post('{"readings": [', {});
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json()).toMatchObject({ error: 'bad request', field: 'body', reason: expect.stringMatching(/JSON/) });
    const form = await post('meter=1', { contentType: 'application/x-www-form-urlencoded' });
    expect(form.statusCode).toBe(415);
    expect(form.json().reason).toMatch(/send application\/json or text\/csv/);
    const huge = await post('x'.repeat(50 * 512 + (1 << 20)), { contentType: 'text/csv' });
    expect(huge.statusCode).toBe(413);
    expect(huge.json()).toMatchObject({ error: 'too large', field: 'body' });
    expect(ctx.readings).toEqual([]);
  });

  it('serves nothing when sources.pda.enabled is false', async () => {
    const off = Fastify({ logger: false });
    await off.register(pdaRoutes, { ctx, tokens, config: { ...config, enabled: false }, corrections, ...meterLookupsFromStore(store) });
    const res = await off.inject({ method: 'POST', url: PDA_READINGS_PATH, headers: { authorization: `Bearer ${token}` }, payload: { readerId: 'R', readings: [] } });
    expect(res.statusCode).toBe(404);
    await off.close();
  });

  it('refuses a body naming another device than the token with 403', async () => {
    const res = await post({ readerId: 'R-9', deviceId: 'pda-99', readings: [{ meter: 'M-1001', reading: 1, time: NOW }] });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({ error: 'forbidden', field: 'deviceId', reason: 'pda-99 is not the device of this token' });
  });

  it('answers 503 with Retry-After when the outbox is full, claiming nothing', async () => {
    ctx.backpressure = true;
    const batch = { readerId: 'R-10', readings: [{ meter: 'M-1001', reading: 9, time: NOW - DAY }, { meter: 'M-0000', reading: 1, time: NOW }] };
    const res = await post(batch);
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('30');
    expect(res.json()).toMatchObject({ error: 'busy', retryAfterS: 30 });
    expect(res.json().reason).toMatch(/nothing was stored, re-send the whole batch/);
    expect(ctx.undecodable).toEqual([]); // the bad item is dead-lettered once, when the batch is taken
    ctx.backpressure = false;
    const retry = (await post(batch)).json() as UploadAnswer;
    expect(retry.items.map((i) => i.status)).toEqual(['accepted', 'rejected']);
    expect(ctx.undecodable).toHaveLength(1);
  });

  it('answers 503 with Retry-After when more uploads wait their turn than maxQueuedUploads, and takes them later (L6)', async () => {
    await app.close();
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const { lastReading } = meterLookupsFromStore(store);
    app = Fastify({ logger: false });
    // a store lookup that hangs (InfluxDB slow): the first upload holds the queue
    await app.register(pdaRoutes, { ctx, tokens, config: { ...config, maxQueuedUploads: 2 }, corrections, lastReading: async (m) => { await gate; return lastReading(m); } });
    const upload = (i: number) => post({ readerId: 'R-11', readings: [{ meter: 'M-1001', reading: 100 + i, time: NOW - DAY + i * HOUR }] });
    const first = [upload(0), upload(1), upload(2)];
    await waitFor(async () => /^aquawatch_pda_uploads_queued 3$/m.test(await ctx.metrics.text()), 5000, 5, 'three uploads taken');
    const refused = await upload(3);
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('30');
    expect(refused.json().reason).toMatch(/3 uploads are waiting \(sources\.pda\.maxQueuedUploads 2\); nothing was stored/);
    release();
    expect((await Promise.all(first)).map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect((await upload(3)).statusCode).toBe(200);
    expect(ctx.readings.map((r) => r.value)).toEqual([100, 101, 102, 103]);
  });

  it('answers 503 with Retry-After while the server clock is behind (most meters ahead of it), storing nothing; takes the batch once it is right (F17)', async () => {
    ctx.clock = () => NOW - HOUR;
    const batch = { readerId: 'R-14', readings: ['M-1001', 'M-1002', 'M-1003'].map((meter, i) => ({ meter, reading: 50 + i, time: NOW - 60_000 })) };
    const res = await post(batch);
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('30');
    expect(res.json().reason).toMatch(/server clock looks behind: 3 of 3 sensors.*nothing was stored, re-send the whole batch/);
    expect(await storedValues('M-1001')).toEqual([]);
    ctx.clock = () => NOW;
    const retry = (await post(batch)).json() as UploadAnswer;
    expect(retry.items.map((i) => i.status)).toEqual(['accepted', 'accepted', 'accepted']);
  });

  it('serves a real listening socket (fetch), JSON and CSV', async () => {
    const port = await freePort();
    await app.listen({ host: '127.0.0.1', port });
    const url = `http://127.0.0.1:${port}${PDA_READINGS_PATH}`;
    const json = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ readerId: 'R-11', readings: [{ meter: 'M-1001', reading: 10.5, time: '2026-03-09T23:00:00Z' }] }),
    });
    expect(json.status).toBe(200);
    expect(((await json.json()) as UploadAnswer).totals.accepted).toBe(1);
    const csv = await fetch(`${url}?readerId=R-11`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
      body: 'meter,reading,time\nM-1002,3.25,2026-03-09T23:30:00Z\n',
    });
    const csvBody = (await csv.json()) as UploadAnswer;
    expect(csv.status).toBe(200);
    expect(csvBody).toMatchObject({ readerId: 'R-11', totals: { accepted: 1 } });
    const denied = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(denied.status).toBe(401);
    expect(await storedValues('M-1002')).toEqual([{ ts: Date.UTC(2026, 2, 9, 23, 30), value: 3.25, quality: 'good' }]);
  });
});
