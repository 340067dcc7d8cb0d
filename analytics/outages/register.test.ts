import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parseConfig } from '../../core/config/load.ts';
import { TOPOLOGY } from '../../test/support/dashboard.ts';
import { buildAnalytics } from '../compose.ts';
import { OutageRegister, RegisterError } from './register.ts';

const H = 3_600_000;
const T0 = Date.parse('2024-05-07T01:00:00Z');

describe('planned outage register', () => {
  it('flags a planned outage announced less than 24 h ahead, and only that one', () => {
    const reg = new OutageRegister(':memory:', { knownDmas: ['south', 'hill'] });
    const ok = reg.createPlanned({ id: 'po-1', dmas: ['south'], start: T0, end: T0 + 4 * H, notifiedAt: T0 - 48 * H, cause: 'maintenance', reason: 'valve' });
    const short = reg.createPlanned({ dmas: ['south', 'hill'], start: T0 + 30 * H, end: T0 + 32 * H, notifiedAt: T0 + 24 * H, cause: 'repair', reason: 'leak' });
    expect(ok.shortNotice).toBe(false);
    expect(short.shortNotice).toBe(true);
    expect(reg.isShortNotice(reg.getPlanned('po-1')!)).toBe(false);
    // exactly 24 h is enough notice
    const edge = reg.createPlanned({ id: 'edge', dmas: ['hill'], start: T0 + 100 * H, end: T0 + 101 * H, notifiedAt: T0 + 76 * H, cause: 'retrofit', reason: '' });
    expect(edge.shortNotice).toBe(false);
    expect(reg.listPlanned(T0, T0 + 1).map((p) => p.id)).toEqual(['po-1']);
    reg.close();
  });

  it('finds the planned outage of a DMA at a time, with a tolerance around its window', () => {
    const reg = new OutageRegister(':memory:');
    reg.createPlanned({ id: 'po-1', dmas: ['south'], start: T0, end: T0 + 4 * H, notifiedAt: T0 - 48 * H, cause: 'maintenance', reason: '' });
    expect(reg.findPlanned('south', T0 + H)?.id).toBe('po-1');
    expect(reg.findPlanned('hill', T0 + H)).toBeUndefined();
    expect(reg.findPlanned('south', T0 - 10 * 60_000)).toBeUndefined();
    expect(reg.findPlanned('south', T0 - 10 * 60_000, 30 * 60_000)?.id).toBe('po-1');
    reg.close();
  });

  it('edits a planned outage and re-evaluates the notice', () => {
    const reg = new OutageRegister(':memory:');
    reg.createPlanned({ id: 'po-1', dmas: ['south'], start: T0, end: T0 + 4 * H, notifiedAt: T0 - 48 * H, cause: 'maintenance', reason: '' });
    const moved = reg.updatePlanned('po-1', { start: T0 - 40 * H, end: T0 - 38 * H, notifiedAt: T0 - 48 * H });
    expect(moved.shortNotice).toBe(true);
    expect(reg.getPlanned('po-1')!.start).toBe(T0 - 40 * H);
    expect(reg.deletePlanned('po-1')).toBe(true);
    expect(reg.getPlanned('po-1')).toBeUndefined();
    reg.close();
  });

  it('refuses bad input naming the field and the reason', () => {
    const reg = new OutageRegister(':memory:', { knownDmas: ['south'] });
    const base = { dmas: ['south'], start: T0, end: T0 + H, notifiedAt: T0 - 48 * H, cause: 'maintenance' as const, reason: '' };
    expect(() => reg.createPlanned({ ...base, dmas: [] })).toThrow(/^dmas: at least one DMA/);
    expect(() => reg.createPlanned({ ...base, dmas: ['nowhere'] })).toThrow(/^dmas\[0\]: unknown DMA nowhere/);
    expect(() => reg.createPlanned({ ...base, end: T0 })).toThrow(/^end: must be after start/);
    expect(() => reg.createPlanned({ ...base, notifiedAt: T0 + 1 })).toThrow(/^notifiedAt: customers must be notified before/);
    expect(() => reg.createPlanned({ ...base, cause: 'gremlins' as never })).toThrow(/^cause: unknown cause code "gremlins"/);
    expect(() => reg.createPlanned({ ...base, start: Number.NaN })).toThrow(RegisterError);
    expect(() => reg.updatePlanned('missing', {})).toThrow(/^id: no planned outage missing/);
    reg.createPlanned({ ...base, id: 'dup' });
    expect(() => reg.createPlanned({ ...base, id: 'dup' })).toThrow(/^id: planned outage dup already exists/);
    expect(() => reg.recordIncident({ id: 'x', dma: 'south', start: T0, customersAffected: -1, planned: false, cause: 'unknown' })).toThrow(/^customersAffected/);
    reg.close();
  });

  it('keeps incidents: recording the same one again (a replay, a restart) updates it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'outage-register-'));
    try {
      const file = join(dir, 'state.sqlite');
      const reg = new OutageRegister(file);
      reg.recordIncident({ id: `south:${T0}`, dma: 'south', start: T0, customersAffected: 461, planned: true, plannedOutageId: 'po-1', cause: 'maintenance' });
      expect(reg.listIncidents(T0 + 10 * H, T0 + 11 * H)).toHaveLength(1); // open: lasts
      reg.recordIncident({ id: `south:${T0}`, dma: 'south', start: T0, end: T0 + 4 * H, customersAffected: 461, planned: true, plannedOutageId: 'po-1', cause: 'maintenance' });
      reg.close();
      const again = new OutageRegister(file);
      expect(again.listIncidents()).toEqual([{ id: `south:${T0}`, dma: 'south', start: T0, end: T0 + 4 * H, customersAffected: 461, planned: true, plannedOutageId: 'po-1', cause: 'maintenance' }]);
      expect(again.listIncidents(T0 + 10 * H, T0 + 11 * H)).toHaveLength(0);
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('F18 migration: an entry of a state database from before approval stays approved and keeps suppressing; the public sees the neutral template', () => {
    const dir = mkdtempSync(join(tmpdir(), 'outage-register-'));
    try {
      const file = join(dir, 'state.sqlite');
      // the tables as the previous release made them (today's less the approval columns), with a maintenance under way
      new OutageRegister(file).close();
      const old = new Database(file);
      for (const column of ['public_reason', 'status', 'changed_by', 'approved_by', 'approved_at']) old.exec(`ALTER TABLE planned_outages DROP COLUMN ${column}`);
      old.prepare('INSERT INTO planned_outages VALUES (?, ?, ?, ?, ?, ?, ?)').run('po-old', '["north"]', T0 - H, T0 + 3 * H, T0 - 48 * H, 'maintenance', '换阀 free text');
      old.close();

      // a replay or report reads the old file read-only, unmigrated: the entry is in force there too
      const readOnly = new Database(file, { readonly: true });
      expect(new OutageRegister(readOnly).findPlanned('north', T0)).toMatchObject({ id: 'po-old', status: 'approved', publicReason: 'planned_works' });
      readOnly.close();

      // the upgraded analytics start on it as AnalyticsService does (live composition, then syncAll)
      const config = parseConfig({ dataDir: dir, log: { level: 'silent' }, topology: TOPOLOGY }, join(dir, 'config.yaml'), {});
      const live = buildAnalytics({ config, statePath: file, mode: 'live' });
      try {
        live.alarms.advanceTo(T0);
        live.suppressions.syncAll();
        expect(live.register.getPlanned('po-old')).toEqual({
          id: 'po-old', dmas: ['north'], start: T0 - H, end: T0 + 3 * H, notifiedAt: T0 - 48 * H, cause: 'maintenance', reason: '换阀 free text',
          publicReason: 'planned_works', status: 'approved',
        });
        expect(live.alarms.isSuppressed('north', T0 + H, 'pressure_low')).toBe(true);
        expect(live.register.findPlanned('north', T0)?.id).toBe('po-old');
      } finally {
        live.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
