/** The alarm tables of the state database: records survive reopening the file, queries filter as documented. */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AlarmStore, type AlarmRecord } from './alarm-store.ts';
import { DeviceTokenStore } from './device-tokens.ts';

const T0 = Date.parse('2024-05-07T10:00:00Z');
const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

function alarm(id: string, raisedAt: number, extra: Partial<AlarmRecord> = {}): AlarmRecord {
  return {
    id, conditionId: id.split('@')[0], type: id.split(':')[0], priority: 'high', state: 'active-unacknowledged', message: id,
    conditionSince: raisedAt, raisedAt, secondaries: [], updatedAt: raisedAt, ...extra,
  };
}

describe('AlarmStore', () => {
  it('keeps alarms, their history, tracks, suppressions and event time across reopening the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aw-alarmstore-'));
    dirs.push(dir);
    const path = join(dir, 'nested', 'state.sqlite');
    const s1 = new AlarmStore(path);
    const seq1 = s1.saveTransition(alarm('burst:central@a', T0, { dma: 'central', evidence: { flow: 44.5 } }),
      { kind: 'raise', fromState: null, toState: 'active-unacknowledged', user: 'system', eventTs: T0, wallTs: 5 });
    const seq2 = s1.saveTransition(alarm('burst:central@a', T0, { dma: 'central', state: 'cleared', closedAt: T0 + 1 }),
      { kind: 'clear', fromState: 'active-acknowledged', toState: 'cleared', user: 'system', eventTs: T0 + 1, wallTs: 6, comment: 'ok', data: { x: 1 } });
    expect(seq2).toBe(seq1 + 1);
    s1.saveAlarm(alarm('pressure_low:P-1@b', T0 + 10, { dma: 'east' }));
    s1.saveTrack('pressure_low:P-2', { conditionId: 'pressure_low:P-2', pendingRaiseSince: T0 });
    s1.saveTrack('gone', { conditionId: 'gone' });
    s1.saveTrack('gone', undefined);
    const sup = s1.addSuppression({ dma: 'south', from: T0, to: T0 + 100, reason: 'planned', user: 'planner', types: ['pressure*'], createdWall: 7 });
    s1.setMeta('event_time', String(T0 + 10));
    s1.close();

    const s2 = new AlarmStore(path);
    expect(s2.getAlarm('burst:central@a')).toMatchObject({ state: 'cleared', dma: 'central', closedAt: T0 + 1 });
    expect(s2.openAlarms().map((a) => a.id)).toEqual(['pressure_low:P-1@b']);
    expect(s2.events('burst:central@a')).toEqual([
      { seq: seq1, alarmId: 'burst:central@a', kind: 'raise', fromState: null, toState: 'active-unacknowledged', user: 'system', eventTs: T0, wallTs: 5 },
      { seq: seq2, alarmId: 'burst:central@a', kind: 'clear', fromState: 'active-acknowledged', toState: 'cleared', user: 'system', eventTs: T0 + 1, wallTs: 6, comment: 'ok', data: { x: 1 } },
    ]);
    expect(s2.tracks()).toEqual([{ conditionId: 'pressure_low:P-2', pendingRaiseSince: T0 }]);
    expect(s2.suppressions()).toEqual([{ id: sup, dma: 'south', from: T0, to: T0 + 100, reason: 'planned', user: 'planner', types: ['pressure*'], createdWall: 7 }]);
    expect(s2.endSuppression(sup, T0 + 50)).toBe(true);
    expect(s2.suppressions()[0].to).toBe(T0 + 50);
    expect(s2.getMeta('event_time')).toBe(String(T0 + 10));
    s2.close();
  });

  it('lists alarms by raise time window, area, type and openness', () => {
    const s = new AlarmStore(':memory:');
    s.saveAlarm(alarm('burst:central@1', T0, { dma: 'central' }));
    s.saveAlarm(alarm('burst:east@2', T0 + 100, { dma: 'east', state: 'cleared' }));
    s.saveAlarm(alarm('pressure_low:P@3', T0 + 200, { dma: 'east' }));
    expect(s.listAlarms({ from: T0 + 1 }).map((a) => a.id)).toEqual(['burst:east@2', 'pressure_low:P@3']);
    expect(s.listAlarms({ to: T0 + 100 }).map((a) => a.id)).toEqual(['burst:central@1']);
    expect(s.listAlarms({ dma: 'east', openOnly: true }).map((a) => a.id)).toEqual(['pressure_low:P@3']);
    expect(s.listAlarms({ type: 'burst' }).map((a) => a.id)).toEqual(['burst:central@1', 'burst:east@2']);
    s.close();
  });

  it('F9 lists at most `limit` alarms, newest first, filtered by priority in the database', () => {
    const s = new AlarmStore(':memory:');
    for (let i = 0; i < 50; i++) s.saveAlarm(alarm(`burst:d${i % 3}@${i}`, T0 + i * 1000, { priority: i % 2 ? 'high' : 'low', state: 'cleared' }));
    expect(s.listAlarms({ newestFirst: true, limit: 3 }).map((a) => a.id)).toEqual(['burst:d1@49', 'burst:d0@48', 'burst:d2@47']);
    expect(s.listAlarms({ priority: 'low', newestFirst: true, limit: 2 }).map((a) => a.id)).toEqual(['burst:d0@48', 'burst:d1@46']);
    expect(s.listAlarms({ limit: 2 }).map((a) => a.id)).toEqual(['burst:d0@0', 'burst:d1@1']);
    s.close();
  });

  it('forgets a period (with its history) before an analysis run writes it again', () => {
    const s = new AlarmStore(':memory:');
    s.saveTransition(alarm('a:1@x', T0), { kind: 'raise', fromState: null, toState: 'active-unacknowledged', user: 'system', eventTs: T0, wallTs: 1 });
    s.saveTransition(alarm('a:2@y', T0 + 1000), { kind: 'raise', fromState: null, toState: 'active-unacknowledged', user: 'system', eventTs: T0 + 1000, wallTs: 1 });
    expect(s.deleteRaisedBetween(T0, T0 + 1)).toBe(1);
    expect(s.listAlarms().map((a) => a.id)).toEqual(['a:2@y']);
    expect(s.events('a:1@x')).toEqual([]);
    s.close();
  });

  it('shares one state database with the other state tables', () => {
    const db = new Database(':memory:');
    const tokens = new DeviceTokenStore(db);
    const alarms = new AlarmStore(db);
    tokens.create('pda-1');
    alarms.saveAlarm(alarm('a:1@x', T0));
    alarms.close(); // does not close a database it did not open
    expect(tokens.list().map((t) => t.deviceId)).toEqual(['pda-1']);
    expect(alarms.getAlarm('a:1@x')?.id).toBe('a:1@x');
    db.close();
  });
});
