/**
 * Leak repairs in a real SQLite state file: a file written before repairs carried their drop's
 * source and date (issue #12.4's first version) gains the columns on open, its rows read as the leak
 * flow last measured (which is what they hold), and new repairs keep the detector's drop and date.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { LeakRepairStore } from './leak-repairs.ts';

const T0 = Date.parse('2026-11-30T02:00:00Z');
const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

describe('LeakRepairStore', () => {
  it('#12.4 opens a state file of the first version: its repairs read as the leak flow last measured; new ones keep the measured drop and its date', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aw-leak-repairs-'));
    dirs.push(dir);
    const path = join(dir, 'state.sqlite');
    const old = new Database(path);
    old.exec(`CREATE TABLE leak_repairs (alarm_id TEXT PRIMARY KEY, type TEXT NOT NULL, dma TEXT NOT NULL, seen_ts INTEGER NOT NULL,
      night_drop_m3h REAL NOT NULL, work_order_id TEXT)`);
    old.prepare('INSERT INTO leak_repairs VALUES (?, ?, ?, ?, ?, ?)').run('abrupt_leak:north:1@x', 'abrupt_leak', 'north', T0, 4.1, 'WO-00001');
    old.close();

    const s = new LeakRepairStore(path);
    s.record({ alarmId: 'leak_trend:south@y', type: 'leak_trend', dma: 'south', seenTs: T0 + 1, nightDropM3h: 2.9, dropSource: 'night_drop', repairedTs: T0 - 86_400_000 });
    s.close();
    const again = new LeakRepairStore(path);
    expect(again.list()).toEqual([
      { alarmId: 'leak_trend:south@y', type: 'leak_trend', dma: 'south', seenTs: T0 + 1, nightDropM3h: 2.9, dropSource: 'night_drop', repairedTs: T0 - 86_400_000 },
      { alarmId: 'abrupt_leak:north:1@x', type: 'abrupt_leak', dma: 'north', seenTs: T0, nightDropM3h: 4.1, dropSource: 'last_leak_flow', workOrderId: 'WO-00001' },
    ]);
    expect(again.ofAlarm('abrupt_leak:north:1@x')?.workOrderId).toBe('WO-00001');
    again.close();
  });
});
