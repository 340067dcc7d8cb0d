/**
 * Retention of the embedded store (review F24) on real SQLite files: what a pass deletes and keeps,
 * that it deletes in short transactions another writer can get between, and that the file stops
 * growing under a steady load of writes and deletions (counted in pages, not timed).
 */
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Point } from '../model/reading.ts';
import { parseConfig } from '../config/load.ts';
import { SqliteStore } from './sqlite.ts';
import { resolveRetentionDays } from './sqlite-retention.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 11, 1);

function series(measurement: string, sensor: string, from: number, to: number, stepMs: number): Point[] {
  const out: Point[] = [];
  for (let ts = from; ts < to; ts += stepMs) out.push({ measurement, sensor, ts, value: ts / stepMs, quality: 'good', site: 'S', dma: 'D' });
  return out;
}

async function openStore(): Promise<{ store: SqliteStore; path: string }> {
  const path = join(mkdtempSync(join(tmpdir(), 'aw-retention-')), 'tsdb.sqlite');
  const store = new SqliteStore(path);
  await store.init();
  return { store, path };
}

async function timesOf(store: SqliteStore, measurement: string, sensor: string): Promise<number[]> {
  return ((await store.query({ measurement, sensors: [sensor], from: 0, to: NOW + 365 * DAY })).get(sensor) ?? []).map((v) => v.ts);
}

describe('F24 embedded store retention', () => {
  it('deletes only rows older than their measurement\'s retention, in chunks another writer gets between', async () => {
    const { store, path } = await openStore();
    const flow = ['F1', 'F2', 'F3'].flatMap((s) => series('flow', s, NOW - 40 * DAY, NOW, HOUR));
    await store.write([
      ...flow,
      { measurement: 'flow', sensor: 'F1', ts: NOW + 5 * DAY, value: 1, quality: 'good', site: 'S', dma: 'D' }, // a clock ahead
      ...series('level', 'L1', NOW - 40 * DAY, NOW, HOUR),
      ...series('dma_inflow', 'D', NOW - 40 * DAY, NOW, HOUR),
      // an imported dataset of 2019: its age counts from its own newest reading, not from today
      ...series('pressure', 'P1', Date.UTC(2019, 0, 1), Date.UTC(2019, 1, 10), HOUR),
    ]);
    // another connection, as `aquawatch server` writing derived series in a split deployment; no waiting for locks
    const other = new Database(path);
    other.pragma('busy_timeout = 0');
    const otherWrite = other.prepare('INSERT INTO readings (measurement, sensor, ts, value, q, site, dma) VALUES (?, ?, ?, ?, 0, ?, ?)');
    const chunks: [string, number][] = [];
    const retention = store.retention({
      days: resolveRetentionDays({ readings: 10, derived: 30, measurements: { level: 0 } }),
      now: () => NOW, chunkRows: 250,
      onDeleted: (measurement, rows) => {
        chunks.push([measurement, rows]);
        otherWrite.run('dma_night', 'D', NOW + chunks.length, 1, 'S', 'D');
      },
    });

    const pass = await retention.runPass();

    const flowDeleted = 3 * 30 * 24;
    // 40 days of 2019 hourly, the newest at 9 Feb 23:00: kept from 30 Jan 23:00
    const pressureDeleted = 40 * 24 - (10 * 24 + 1);
    // dma_inflow's newest reading is an hour before now: kept from 30 days before that
    expect(pass.deleted).toEqual({ flow: flowDeleted, dma_inflow: 10 * 24 - 1, pressure: pressureDeleted });
    expect(pass.keptFrom).toMatchObject({ flow: NOW - 10 * DAY, dma_inflow: NOW - HOUR - 30 * DAY, pressure: Date.UTC(2019, 1, 10) - HOUR - 10 * DAY });
    expect(chunks.every(([, rows]) => rows > 0 && rows <= 250)).toBe(true);
    expect(chunks.length).toBeGreaterThanOrEqual(Math.ceil(flowDeleted / 250) + 1 + Math.ceil(pressureDeleted / 250));
    expect(other.prepare("SELECT COUNT(*) FROM readings WHERE measurement = 'dma_night'").pluck().get()).toBe(chunks.length);
    other.close();

    for (const sensor of ['F1', 'F2', 'F3']) {
      const kept = await timesOf(store, 'flow', sensor);
      expect(kept[0]).toBe(NOW - 10 * DAY);
      expect(kept.filter((t) => t < NOW)).toHaveLength(10 * 24);
    }
    expect((await timesOf(store, 'flow', 'F1')).at(-1)).toBe(NOW + 5 * DAY);
    expect(await timesOf(store, 'level', 'L1')).toHaveLength(40 * 24);
    expect((await timesOf(store, 'dma_inflow', 'D'))[0]).toBe(NOW - HOUR - 30 * DAY);
    expect(await timesOf(store, 'pressure', 'P1')).toHaveLength(10 * 24 + 1);

    expect((await retention.runPass()).deleted).toEqual({});
    await store.close();
  });

  it('keeps the file from growing under a steady load of writes and deletions, and gives back what a large deletion frees', async () => {
    const { store, path } = await openStore();
    const pages = () => {
      const db = new Database(path, { readonly: true });
      try { return db.pragma('page_count', { simple: true }) as number; } finally { db.close(); }
    };
    const sensors = Array.from({ length: 10 }, (_, i) => `F${i}`);
    const day = async (end: number) => store.write(sensors.flatMap((s) => series('flow', s, end - DAY, end, 5 * 60_000)));

    // 12 days written before retention: then 3 days kept, the rest deleted and (incremental auto-vacuum) given back
    for (let d = 1; d <= 12; d++) await day(NOW + d * DAY);
    const before = pages();
    let now = NOW + 12 * DAY;
    const retention = store.retention({ days: resolveRetentionDays(3), now: () => now, chunkRows: 2000 });
    const bulk = await retention.runPass();
    // kept from 3 days before the newest reading (5 min before `now`)
    expect(bulk.deleted.flow).toBe(10 * (9 * 288 - 1));
    expect(bulk.pagesFreed).toBeGreaterThan(0);
    expect(pages()).toBeLessThan(before * 0.5);

    const sizes: number[] = [];
    for (let d = 13; d <= 36; d++) {
      now = NOW + d * DAY;
      await day(now);
      await retention.runPass();
      sizes.push(pages());
    }
    // 24 days more written, 3 kept: after the first days the file stays within a few pages of its size
    // then (pages freed by one day's deletion take the next day's rows); without retention it would triple
    const settled = Math.max(...sizes.slice(0, 8));
    expect(Math.max(...sizes.slice(8))).toBeLessThanOrEqual(Math.ceil(settled * 1.05));
    expect(sizes.at(-1)).toBeLessThan(before * 0.5);
    await store.close();
  });

  it('is configured by store.retentionDays: one number, or readings, derived and per measurement', () => {
    const storeOf = (retentionDays: unknown) => parseConfig({ store: { type: 'sqlite', retentionDays } }, 'retention-test', {}).store;
    const days = (retentionDays: unknown) => { const s = storeOf(retentionDays); return resolveRetentionDays(s.type === 'sqlite' ? s.retentionDays : undefined); };
    expect(days(undefined)).toEqual({ readings: 400, derived: 800, measurements: {} });
    expect(days(90)).toEqual({ readings: 90, derived: 90, measurements: {} });
    expect(days({ derived: 0, measurements: { chlorine: 1100 } })).toEqual({ readings: 400, derived: 0, measurements: { chlorine: 1100 } });
    expect(() => storeOf(-1)).toThrow(/retentionDays/);
    expect(() => storeOf({ raw: 30 })).toThrow(/retentionDays/);
  });
});
