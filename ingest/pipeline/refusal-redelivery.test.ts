/**
 * A batch the outbox refuses (full, disk full, I/O error) is not acknowledged, and the source sends
 * it again: the re-sent readings must then be stored, not dropped as duplicates and acknowledged
 * (review finding F1). Real Pipeline and real Outbox; the refusals are the outbox's own (full) or
 * an insert that fails as SQLite does when the disk is full.
 */
import { describe, it, expect, afterEach } from 'vitest';
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

const NOW = Date.UTC(2026, 5, 1, 8, 0, 0);
const topology = new Topology(parseConfig({ topology: {
  sites: [{ id: 'P1', kind: 'plant' }], dmas: [{ id: 'D1' }],
  sensors: [
    { id: 'PT1', kind: 'pressure', site: 'P1', dma: 'D1' }, { id: 'PT2', kind: 'pressure', site: 'P1', dma: 'D1' },
    ...Array.from({ length: 200 }, (_, k) => ({ id: `S${k}`, kind: 'pressure', site: 'P1', dma: 'D1' })),
  ],
} }, 't', {}).topology);

let outbox: Outbox | undefined;
afterEach(() => { outbox?.close(); outbox = undefined; });

/** A real dead-letter table whose next `failures` writes fail as SQLite does on a full disk. */
class FailingDeadLetters extends DeadLetterStore {
  failures = 0;
  override addMany(list: Parameters<DeadLetterStore['addMany']>[0]): void {
    if (this.failures > 0) { this.failures--; throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }); }
    super.addMany(list);
  }
}

function build(maxReadings: number): { outbox: Outbox; pipeline: Pipeline; deadLetters: FailingDeadLetters } {
  const path = join(mkdtempSync(join(tmpdir(), 'aw-redeliver-')), 'outbox.sqlite');
  outbox = new Outbox({ path, maxReadings, batchMaxSize: 1000, batchMaxDelayMs: 0 });
  const deadLetters = new FailingDeadLetters(outbox.db);
  const pipeline = new Pipeline({
    topology, outbox, deadLetters, metrics: new Metrics(), log: silentLogger,
    maxFutureMs: 300_000, dedupeWindow: 16, now: () => NOW,
  });
  return { outbox, pipeline, deadLetters };
}

/** Everything durable in the outbox, for one sensor. */
function stored(o: Outbox, sensor: string): number[] {
  return (o.peek(1_000_000)?.points ?? []).filter((p) => p.sensor === sensor).map((p) => p.ts);
}

describe('a refused batch, sent again, is stored exactly once', () => {
  it('after the outbox was full', async () => {
    const { outbox: o, pipeline } = build(1);
    await pipeline.submit('filler', [{ sensor: 'PT2', ts: NOW - 1000, value: 0.3, quality: 'good' }]);
    const reading = { sensor: 'PT1', ts: NOW - 60_000, value: 0.31, quality: 'good' as const };
    await expect(pipeline.submit('mqtt', [reading])).rejects.toMatchObject({ name: 'BackpressureError' });
    const b = o.peek(100)!;
    o.ack(b.lastId, b.points.length); // the store writer drains the outbox

    const again = await pipeline.submit('mqtt', [reading]);
    expect(again).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(stored(o, 'PT1')).toEqual([NOW - 60_000]);
    // and once it is durable, a third copy is a true duplicate
    expect(await pipeline.submit('mqtt', [reading])).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(stored(o, 'PT1')).toEqual([NOW - 60_000]);
  });

  it('after the commit failed (SQLITE_FULL)', async () => {
    const { outbox: o, pipeline } = build(1000);
    // Three readings from each of 200 sensors: few per sensor (within the de-duplication window),
    // and a row large enough to need new pages.
    const readings = Array.from({ length: 600 }, (_, k) => ({
      sensor: `S${k % 200}`, ts: NOW - 60_000 * (1 + Math.floor(k / 200)), value: 0.3, quality: 'good' as const,
    }));
    // A real SQLITE_FULL: the database may not grow by one more page, as on a full disk.
    const pages = o.db.pragma('page_count', { simple: true }) as number;
    o.db.pragma(`max_page_count = ${pages}`);
    await expect(pipeline.submit('mqtt', readings)).rejects.toMatchObject({ code: 'SQLITE_FULL' });
    expect(o.peek(1_000_000)).toBeUndefined();
    o.db.pragma('max_page_count = 1073741823'); // room again

    const again = await pipeline.submit('mqtt', readings);
    expect(again).toMatchObject({ accepted: 600, duplicates: 0 });
    expect(o.peek(1_000_000)?.points.length).toBe(600);
  });

  it('F16 a dead-letter write that fails keeps neither the good readings out nor, sent again, stores them twice', async () => {
    const { outbox: o, pipeline, deadLetters } = build(1000);
    const good = { sensor: 'PT1', ts: NOW - 60_000, value: 0.31, quality: 'good' as const };
    const bad = { sensor: 'PT1', ts: NOW - 30_000, value: Number.NaN, quality: 'good' as const };
    deadLetters.failures = 1;
    await expect(pipeline.submit('mqtt', [good, bad])).rejects.toMatchObject({ code: 'SQLITE_FULL' });
    expect(stored(o, 'PT1')).toEqual([NOW - 60_000]);
    expect(deadLetters.count()).toBe(0);
    // the source was not acknowledged and sends the batch again
    expect(await pipeline.submit('mqtt', [good, bad])).toMatchObject({ accepted: 0, duplicates: 1, rejected: [{ index: 1, field: 'value' }] });
    expect(stored(o, 'PT1')).toEqual([NOW - 60_000]);
    expect(deadLetters.count()).toBe(1);
  });

  it('F16 a batch the outbox refuses leaves no dead letters behind: sent again, its bad reading is kept once', async () => {
    const { outbox: o, pipeline, deadLetters } = build(1);
    await pipeline.submit('filler', [{ sensor: 'PT2', ts: NOW - 1000, value: 0.3, quality: 'good' }]);
    const batch = [{ sensor: 'PT1', ts: NOW - 60_000, value: 0.31, quality: 'good' as const }, { sensor: 'nobody', ts: NOW, value: 1, quality: 'good' as const }];
    await expect(pipeline.submit('mqtt', batch)).rejects.toMatchObject({ name: 'BackpressureError' });
    expect(deadLetters.count()).toBe(0);
    const b = o.peek(100)!;
    o.ack(b.lastId, b.points.length);
    expect(await pipeline.submit('mqtt', batch)).toMatchObject({ accepted: 1 });
    expect(deadLetters.list().map((d) => d.reason)).toEqual(['unknown sensor nobody']);
  });

  it('the same reading twice in one batch is stored once', async () => {
    const { outbox: o, pipeline } = build(1000);
    const r = { sensor: 'PT1', ts: NOW - 60_000, value: 0.31, quality: 'good' as const };
    expect(await pipeline.submit('mqtt', [r, r])).toMatchObject({ accepted: 1, duplicates: 1 });
    expect(stored(o, 'PT1')).toEqual([NOW - 60_000]);
  });
});
