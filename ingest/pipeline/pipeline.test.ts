import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../core/config/load.ts';
import { Topology } from '../../core/topology/topology.ts';
import { Metrics } from '../metrics.ts';
import { silentLogger } from '../../core/log.ts';
import { Outbox } from './outbox.ts';
import { DeadLetterStore } from './dead-letters.ts';
import { Pipeline } from './pipeline.ts';
import { BackpressureError, ClockBehindError } from './contract.ts';
import type { RawReading } from '../../core/model/reading.ts';

const NOW = Date.UTC(2026, 5, 1, 8, 0, 0);
const topology = new Topology(parseConfig({ topology: {
  sites: [{ id: 'P1', kind: 'plant' }],
  dmas: [{ id: 'D1', inlets: ['F1'] }],
  sensors: [
    { id: 'F1', kind: 'flow', unit: 'L/s', site: 'P1', dma: 'D1' },
    { id: 'PT1', kind: 'pressure', unit: 'kPa', site: 'P1', dma: 'D1' },
    { id: 'CL1', kind: 'chlorine', site: 'P1' },
  ],
} }, 't', {}).topology);

describe('pipeline: validate, convert, de-duplicate, outbox', () => {
  let outbox: Outbox;
  let dead: DeadLetterStore;
  let metrics: Metrics;
  let pipeline: Pipeline;
  let path: string;

  beforeEach(() => {
    path = join(mkdtempSync(join(tmpdir(), 'aw-pipe-')), 'outbox.sqlite');
    outbox = new Outbox({ path, maxReadings: 100, batchMaxSize: 1000, batchMaxDelayMs: 5 });
    dead = new DeadLetterStore(outbox.db);
    metrics = new Metrics();
    pipeline = new Pipeline({ topology, outbox, deadLetters: dead, metrics, log: silentLogger, maxFutureMs: 300_000, dedupeWindow: 8, now: () => NOW });
  });
  afterEach(() => outbox.close());

  it('converts to canonical units and joins the sensor tags', async () => {
    const r = await pipeline.submit('test', [
      { sensor: 'F1', ts: NOW - 60_000, value: 10, quality: 'good' },
      { sensor: 'PT1', ts: NOW - 60_000, value: 350, quality: 'uncertain' },
      { sensor: 'PT1', ts: NOW, value: 3.5, quality: 'good', unit: 'bar' },
    ]);
    expect(r).toEqual({ accepted: 3, duplicates: 0, rejected: [] });
    const batch = outbox.peek(100)!;
    expect(batch.points).toEqual([
      { measurement: 'flow', sensor: 'F1', ts: NOW - 60_000, value: 36, quality: 'good', site: 'P1', dma: 'D1' },
      { measurement: 'pressure', sensor: 'PT1', ts: NOW - 60_000, value: 0.35, quality: 'uncertain', site: 'P1', dma: 'D1' },
      { measurement: 'pressure', sensor: 'PT1', ts: NOW, value: 0.35, quality: 'good', site: 'P1', dma: 'D1' },
    ]);
  });

  it('rejects bad readings by field and reason, keeps them, and loses nothing else in the batch', async () => {
    const bad: RawReading[] = [
      { sensor: 'F1', ts: NOW, value: 1, quality: 'good' },
      { sensor: 'NOPE', ts: NOW, value: 1, quality: 'good' },
      { sensor: 'F1', ts: NOW + 3_600_000, value: 1, quality: 'good' },
      { sensor: 'F1', ts: NOW - 1000, value: Number.NaN, quality: 'good' },
      { sensor: 'CL1', ts: NOW, value: 55, quality: 'good' },
      { sensor: 'PT1', ts: NOW, value: 1, quality: 'good', unit: 'L/s' },
      { sensor: 'PT1', ts: 1_700_000_000, value: 300, quality: 'good' },
      { sensor: 'CL1', ts: NOW - 1000, value: 0.4, quality: 'fine' as never },
      { sensor: 'CL1', ts: NOW - 2000, value: 0.5, quality: 'good' },
    ];
    const r = await pipeline.submit('mqtt:wq', bad);
    expect(r.accepted).toBe(2);
    expect(r.rejected.map((x) => [x.index, x.field])).toEqual([[1, 'sensor'], [2, 'ts'], [3, 'value'], [4, 'value'], [5, 'unit'], [6, 'ts'], [7, 'quality']]);
    expect(r.rejected[0].reason).toBe('unknown sensor NOPE');
    expect(r.rejected[1].reason).toMatch(/3600 s in the future/);
    expect(r.rejected[3].reason).toMatch(/outside the physical range of chlorine/);
    expect(r.rejected[4].reason).toBe('L/s is not a unit of pressure');
    expect(r.rejected[5].reason).toMatch(/before 2000/);
    expect(outbox.peek(100)!.points.map((p) => p.sensor)).toEqual(['F1', 'CL1']);
    const letters = dead.list({ source: 'mqtt:wq' });
    expect(letters).toHaveLength(7);
    expect(letters.at(-1)).toMatchObject({ sensor: 'NOPE', field: 'sensor', reason: 'unknown sensor NOPE' });
    const text = await metrics.text();
    expect(text).toMatch(/aquawatch_readings_rejected_total\{source="mqtt:wq",reason="value"\} 2/);
    expect(text).toMatch(/aquawatch_readings_in_total\{source="mqtt:wq"\} 9/);
  });

  it('drops an exact repeat but keeps a correction at the same time', async () => {
    const r1 = await pipeline.submit('s', [{ sensor: 'F1', ts: NOW, value: 1, quality: 'good' }]);
    const r2 = await pipeline.submit('s', [{ sensor: 'F1', ts: NOW, value: 1, quality: 'good' }, { sensor: 'F1', ts: NOW, value: 2, quality: 'good' }]);
    expect(r1.accepted).toBe(1);
    expect(r2).toMatchObject({ accepted: 1, duplicates: 1 });
  });

  it('takes batches whole while there is room and refuses the next, accepting nothing of it, once full', async () => {
    const many = (n: number, t0: number): RawReading[] => Array.from({ length: n }, (_, i) => ({ sensor: 'F1', ts: t0 + i, value: i, quality: 'good' as const }));
    await pipeline.submit('s', many(90, NOW - 100_000));
    // 20 more overshoot the bound of 100: taken whole (refusing it would refuse it forever)
    await pipeline.submit('s', many(20, NOW - 50_000));
    expect(outbox.depth).toBe(110);
    expect(outbox.isFull).toBe(true);
    await expect(pipeline.submit('s', many(5, NOW - 20_000))).rejects.toBeInstanceOf(BackpressureError);
    expect(outbox.depth).toBe(110);
  });

  it('takes a first batch larger than the whole outbox rather than refusing it forever', async () => {
    const many = Array.from({ length: 150 }, (_, i) => ({ sensor: 'F1', ts: NOW - 200_000 + i, value: i, quality: 'good' as const }));
    await expect(pipeline.submit('s', many)).resolves.toMatchObject({ accepted: 150 });
    expect(outbox.isFull).toBe(true);
  });
});

describe('pipeline: the server clock behind (F17)', () => {
  const HOUR = 3_600_000;
  const fleet = (ts: number, value = 1): RawReading[] => ['F1', 'PT1', 'CL1'].map((sensor) => ({ sensor, ts, value, quality: 'good' as const }));
  let outbox: Outbox;
  let dead: DeadLetterStore;
  let serverClock: number;
  let conditions: { state: string; aheadSensors: number; sensors: number }[];
  let pipeline: Pipeline;

  beforeEach(() => {
    outbox = new Outbox({ path: join(mkdtempSync(join(tmpdir(), 'aw-clock-')), 'outbox.sqlite'), maxReadings: 1000, batchMaxSize: 1000, batchMaxDelayMs: 5 });
    dead = new DeadLetterStore(outbox.db);
    conditions = [];
    serverClock = NOW - HOUR; // an RTC reset at boot, NTP not synced yet
    pipeline = new Pipeline({
      topology, outbox, deadLetters: dead, metrics: new Metrics(), log: silentLogger, maxFutureMs: 300_000, dedupeWindow: 8,
      now: () => serverClock, onClockSuspect: (state, v) => conditions.push({ state, aheadSensors: v.aheadSensors, sensors: v.sensors }),
    });
  });
  afterEach(() => outbox.close());

  it('holds correct readings when most sensors are ahead of it: refused retryably, nothing stored or dead-lettered, a condition raised; taken once it catches up', async () => {
    const refusal = pipeline.submit('mqtt', fleet(NOW));
    await expect(refusal).rejects.toBeInstanceOf(ClockBehindError);
    // A BackpressureError: every source already refuses to acknowledge those and retries.
    await expect(refusal).rejects.toBeInstanceOf(BackpressureError);
    await expect(refusal).rejects.toThrow(/server clock looks behind: 3 of 3 sensors/);
    expect(outbox.depth).toBe(0);
    expect(dead.count()).toBe(0);
    expect(conditions).toEqual([{ state: 'raise', aheadSensors: 3, sensors: 3 }]);

    // Retried while still behind: held again, no second raise.
    await expect(pipeline.submit('mqtt', fleet(NOW))).rejects.toBeInstanceOf(ClockBehindError);
    expect(conditions).toHaveLength(1);

    serverClock = NOW + 1000; // NTP stepped the clock
    await expect(pipeline.submit('mqtt', fleet(NOW))).resolves.toMatchObject({ accepted: 3, rejected: [] });
    expect(outbox.depth).toBe(3);
    expect(conditions.at(-1)).toEqual({ state: 'clear', aheadSensors: 0, sensors: 3 });
  });

  it('still rejects the reading of one device whose own clock is ahead while the others are current', async () => {
    serverClock = NOW;
    await pipeline.submit('mqtt', fleet(NOW - 60_000));
    const r = await pipeline.submit('mqtt', [
      { sensor: 'F1', ts: NOW + HOUR, value: 2, quality: 'good' },
      { sensor: 'PT1', ts: NOW, value: 2, quality: 'good' },
    ]);
    expect(r).toMatchObject({ accepted: 1 });
    expect(r.rejected).toEqual([{ index: 0, field: 'ts', reason: '3600 s in the future (limit 300 s)' }]);
    expect(dead.count()).toBe(1);
    expect(conditions).toEqual([]);
  });
});

describe('outbox', () => {
  it('survives a reopen: committed readings are still there, in order, until acknowledged', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aw-outbox-')), 'outbox.sqlite');
    const a = new Outbox({ path, maxReadings: 1000, batchMaxSize: 10, batchMaxDelayMs: 1000 });
    const pts = (k: number) => Array.from({ length: 10 }, (_, i) => ({ measurement: 'flow', sensor: 'F', ts: k * 100 + i, value: i, quality: 'good' as const, site: 'S', dma: 'D' }));
    // batchMaxSize reached: commits at once, without waiting for the timer
    await a.enqueue(pts(1));
    await a.enqueue(pts(2));
    await a.enqueue(pts(3));
    const first = a.peek(15)!;
    expect(first.points).toHaveLength(10); // whole rows only
    a.ack(first.lastId, first.points.length);
    a.close();
    const b = new Outbox({ path, maxReadings: 1000, batchMaxSize: 10, batchMaxDelayMs: 1000 });
    expect(b.depth).toBe(20);
    const rest = b.peek(1000)!;
    expect(rest.points.map((p) => p.ts)).toEqual([...pts(2), ...pts(3)].map((p) => p.ts));
    b.close();
  });

  it('group-commits concurrent submissions after the delay and resolves them together', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aw-outbox-')), 'outbox.sqlite');
    const o = new Outbox({ path, maxReadings: 1000, batchMaxSize: 1000, batchMaxDelayMs: 20 });
    const commits: number[] = [];
    o.onCommit = (p) => commits.push(p.length);
    const p = (ts: number) => [{ measurement: 'flow', sensor: 'F', ts, value: 1, quality: 'good' as const, site: 'S', dma: 'D' }];
    await Promise.all([o.enqueue(p(1)), o.enqueue(p(2)), o.enqueue(p(3))]);
    expect(commits).toEqual([3]);
    o.close();
  });
});
