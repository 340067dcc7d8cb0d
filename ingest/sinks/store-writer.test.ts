/**
 * The store writer never dies and never blocks the outbox on one bad thing (review findings F6,
 * the 5,000-reading dead letter, F15). Real Outbox, real SQLite store; the faults are the real
 * ones (a corrupt row, a point the store cannot take) or injected where the OS cannot be made to
 * fail on demand here (a DELETE refused with SQLITE_FULL).
 */
import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Metrics } from '../metrics.ts';
import { silentLogger } from '../../core/log.ts';
import type { Point } from '../../core/model/reading.ts';
import { SqliteStore } from '../../core/tsdb/sqlite.ts';
import { Outbox } from '../pipeline/outbox.ts';
import { StoreWriter, type StoreWriterOptions } from './store-writer.ts';

const T0 = Date.UTC(2026, 5, 1);
const point = (sensor: string, k: number): Point =>
  ({ measurement: 'pressure', sensor, ts: T0 + k * 60_000, value: 0.3, quality: 'good', site: 'S', dma: 'D' });

const closers: (() => unknown)[] = [];
afterEach(async () => { for (const c of closers.splice(0).reverse()) await c(); });

async function rig(extra: Partial<StoreWriterOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'aw-writer-'));
  const outbox = new Outbox({ path: join(dir, 'outbox.sqlite'), maxReadings: 1_000_000, batchMaxSize: 100_000, batchMaxDelayMs: 0 });
  const store = new SqliteStore(join(dir, 'store.sqlite'));
  await store.init();
  const writer = new StoreWriter({ outbox, store, metrics: new Metrics(), log: silentLogger, batchSize: 5000, ...extra });
  closers.push(() => outbox.close(), () => store.close(), () => writer.stop());
  return { outbox, store, writer, dir };
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function count(store: SqliteStore, sensor: string): Promise<number> {
  return (await store.query({ measurement: 'pressure', sensors: [sensor], from: 0, to: T0 * 2 })).get(sensor)!.length;
}

describe('store writer', () => {
  it('quarantines an unreadable outbox row and writes the readings behind it', async () => {
    const quarantined: string[] = [];
    const { outbox, store, writer } = await rig();
    outbox.onQuarantine = (_id, reason) => quarantined.push(reason);
    await outbox.enqueue([point('A', 1)]);
    outbox.db.prepare('INSERT INTO outbox (n, points) VALUES (?, ?)').run(1, '{"m":["pressure"],"s":["PT1"'); // torn write
    await outbox.enqueue([point('A', 2), point('A', 3)]);
    writer.start();
    await until('the readings behind the bad row', async () => (await count(store, 'A')) === 3);
    expect(quarantined).toHaveLength(1);
    expect(outbox.quarantined()).toMatchObject([{ n: 1, points: '{"m":["pressure"],"s":["PT1"' }]);
    await until('an empty outbox', () => outbox.depth === 0);
  });

  it('sets aside only the point the store refuses, not its batch (F16: one bad reading no longer dead-letters its batch)', async () => {
    const refused: Point[] = [];
    const { outbox, store, writer } = await rig({ onRefused: (p) => refused.push(...p) });
    const batch = Array.from({ length: 5000 }, (_, k) => point('B', k));
    batch[1234] = { ...batch[1234], sensor: 'B\nforged line' }; // line protocol cannot carry it
    await outbox.enqueue(batch);
    writer.start();
    await until('the outbox drained', () => outbox.depth === 0);
    expect(refused.map((p) => p.sensor)).toEqual(['B\nforged line']);
    expect(await count(store, 'B')).toBe(4999);
  });

  it('survives a failing outbox DELETE (disk full): reports it, retries, clears, stores everything once', async () => {
    const faults: (string | undefined)[] = [];
    let diskFullSeen = false;
    const { outbox, store, writer } = await rig({
      onOutboxFault: (err, diskFull) => { faults.push(err); if (diskFull) diskFullSeen = true; },
    });
    const realAck = outbox.ack.bind(outbox);
    let failures = 3;
    outbox.ack = (lastId, n) => {
      if (failures-- > 0) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      realAck(lastId, n);
    };
    await outbox.enqueue(Array.from({ length: 10 }, (_, k) => point('C', k)));
    writer.start();
    await until('the outbox drained', () => outbox.depth === 0);
    expect(diskFullSeen).toBe(true);
    expect(faults.at(-1)).toBeUndefined(); // cleared once the DELETE works again
    expect(await count(store, 'C')).toBe(10);
  });

  it('the embedded store fsyncs every write (synchronous = FULL), as the outbox does', async () => {
    const { store } = await rig();
    await store.write([point('D', 1)]);
    // synchronous is per connection: read it back from the store's own connection
    const db = (store as unknown as { db: Database.Database }).db;
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
  });
});
