/** The complaint ledger: recording, the way to closure and back, the history, and the counts for a quarter. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ComplaintLedger, complaintCounts } from './complaints.ts';
import { openStateDb } from '../../../core/state/state-db.ts';
import type Database from 'better-sqlite3';

const T = Date.parse('2026-10-05T02:00:00Z');
let db: Database.Database;
let ledger: ComplaintLedger;
beforeEach(() => { db = openStateDb(':memory:'); ledger = new ComplaintLedger(db, ['wechat']); });
afterEach(() => db.close());

const call = { channel: 'hotline_12345', receivedAt: T, category: 'no_water' as const, text: '南湖路停水 3 小时', customer: ' ACC-1 ', address: '' };

describe('complaint ledger', () => {
  it('records a complaint (fields trimmed, empty ones dropped) and refuses what it cannot file', () => {
    const c = ledger.record(call, 'service', T + 1000);
    expect(c).toMatchObject({ id: 'C-00001', channel: 'hotline_12345', customer: 'ACC-1', status: 'open', createdBy: 'service' });
    expect(c.address).toBeUndefined();
    expect(ledger.history(c.id)).toMatchObject([{ action: 'create', by: 'service' }]);
    expect(() => ledger.record({ ...call, channel: 'fax' }, 'service', T)).toThrow('channel: unknown channel "fax" (known: hotline_12345, own_line, wechat)');
    expect(() => ledger.record({ ...call, customer: undefined }, 'service', T)).toThrow("customer: give the customer's account or an address");
    expect(() => ledger.record({ ...call, text: '  ' }, 'service', T)).toThrow('text:');
    expect(ledger.record({ ...call, channel: 'wechat' }, 'service', T).id).toBe('C-00002');
  });

  it('goes open → in progress → closed with a resolution, and reopens with a reason; each step in the history', () => {
    const { id } = ledger.record(call, 'service', T);
    expect(ledger.setStatus(id, 'in_progress', {}, 'service', T + 60_000).status).toBe('in_progress');
    expect(() => ledger.setStatus(id, 'open', {}, 'service', T)).toThrow('is in progress');
    expect(() => ledger.setStatus(id, 'closed', { resolution: ' ' }, 'service', T)).toThrow('resolution:');
    const closed = ledger.setStatus(id, 'closed', { resolution: '已恢复供水并回访' }, 'admin', T + 120_000);
    expect(closed).toMatchObject({ status: 'closed', resolution: '已恢复供水并回访', closedAt: T + 120_000 });
    expect(() => ledger.setStatus(id, 'in_progress', {}, 'service', T)).toThrow('is closed: reopen it first');
    expect(() => ledger.setStatus(id, 'open', {}, 'service', T)).toThrow('note: say why');
    const reopened = ledger.setStatus(id, 'open', { note: '客户再次来电' }, 'service', T + 180_000);
    expect(reopened.status).toBe('open');
    expect(reopened.resolution).toBeUndefined();
    expect(reopened.closedAt).toBeUndefined();
    expect(ledger.history(id).map((h) => [h.action, h.by, h.changes.status, h.note])).toEqual([
      ['create', 'service', undefined, undefined],
      ['start', 'service', ['open', 'in_progress'], undefined],
      ['close', 'admin', ['in_progress', 'closed'], undefined],
      ['reopen', 'service', ['closed', 'open'], '客户再次来电'],
    ]);
  });

  it('edits fields with before and after in the history; null clears an optional field', () => {
    const { id } = ledger.record(call, 'service', T);
    const after = ledger.edit(id, { category: 'low_pressure', incidentId: 'north:1', customer: null, address: '南湖路 8 号' }, 'admin', T + 1);
    expect(after).toMatchObject({ category: 'low_pressure', incidentId: 'north:1', address: '南湖路 8 号', updatedBy: 'admin' });
    expect(after.customer).toBeUndefined();
    expect(ledger.history(id).at(-1)!.changes).toEqual({
      category: ['no_water', 'low_pressure'], customer: ['ACC-1', null], address: [null, '南湖路 8 号'], incidentId: [null, 'north:1'],
    });
    expect(ledger.edit(id, { category: 'low_pressure' }, 'admin', T + 2)).toEqual(after); // nothing changed: no history row
    expect(ledger.history(id)).toHaveLength(2);
    expect(() => ledger.edit(id, { address: null }, 'admin', T)).toThrow('customer:');
  });

  it('counts a period per channel and category (every channel and category listed, zeros included)', () => {
    const Q_START = Date.parse('2026-09-30T16:00:00Z');
    const Q_END = Date.parse('2026-12-31T16:00:00Z');
    ledger.record(call, 'service', T);
    ledger.record({ ...call, channel: 'own_line', category: 'water_quality' }, 'service', T);
    const closed = ledger.record({ ...call, category: 'water_quality' }, 'service', T);
    ledger.setStatus(closed.id, 'closed', { resolution: 'flushed the main' }, 'service', T + 1);
    ledger.record({ ...call, receivedAt: Q_START - 1 }, 'service', T); // the quarter before
    const counts = complaintCounts(db, Q_START, Q_END, ['wechat']);
    expect(counts).toEqual({
      from: Q_START, to: Q_END, total: 3, closed: 1, unresolved: 2,
      byChannel: { hotline_12345: 2, own_line: 1, wechat: 0 },
      byCategory: { no_water: 1, low_pressure: 0, water_quality: 2, meter_billing: 0, service: 0, other: 0 },
    });
    expect(ledger.list({ from: Q_START, to: Q_END, category: 'water_quality' }).map((c) => c.channel).sort()).toEqual(['hotline_12345', 'own_line']);
  });
});
