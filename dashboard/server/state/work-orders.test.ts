/** Work orders: one per alarm, status and crew changes with notes, estimated loss in event time. */
import { describe, expect, it } from 'vitest';
import { estimatedLoss, WorkOrderStore } from './work-orders.ts';

const T0 = Date.parse('2026-11-30T02:00:00Z');
const HOUR = 3_600_000;

describe('WorkOrderStore', () => {
  it('creates one work order per alarm with its loss growing until resolved', () => {
    const s = new WorkOrderStore(':memory:');
    const wo = s.create({ alarmId: 'burst:north@x', dma: 'north', locationHint: 'P-N1', burstFlowM3h: 40, burstStart: T0 - HOUR, by: 'system', at: T0 });
    expect(wo).toMatchObject({ id: 'WO-00001', status: 'new', dma: 'north', locationHint: 'P-N1', estimatedLossM3: 40, notes: [] });
    expect(() => s.create({ alarmId: 'burst:north@x', dma: 'north', by: 'system', at: T0 })).toThrowError(/^alarmId: alarm burst:north@x already has a work order/);
    expect(s.get(wo.id, T0 + HOUR)!.estimatedLossM3).toBe(80);
    s.update(wo.id, { crew: 'Crew 1' }, 'mike', T0 + HOUR);
    expect(s.get(wo.id, T0 + HOUR)).toMatchObject({ status: 'assigned', crew: 'Crew 1' });
    s.update(wo.id, { status: 'in_progress', note: 'valve closed' }, 'mike', T0 + 2 * HOUR);
    const done = s.update(wo.id, { status: 'resolved' }, 'mike', T0 + 3 * HOUR);
    expect(done).toMatchObject({ status: 'resolved', resolvedAt: T0 + 3 * HOUR, estimatedLossM3: 160, notes: [{ at: T0 + 2 * HOUR, by: 'mike', text: 'valve closed' }] });
    expect(s.get(wo.id, T0 + 10 * HOUR)!.estimatedLossM3).toBe(160);
    expect(() => s.update(wo.id, { status: 'new' }, 'mike', T0 + 4 * HOUR)).toThrowError(/^status: WO-00001 is resolved/);
    expect(() => s.update(wo.id, { status: 'lost' }, 'mike', T0 + 4 * HOUR)).toThrowError(/^status: must be one of new, assigned, in_progress, resolved/);
    expect(() => s.update('WO-9', { status: 'new' }, 'mike', T0)).toThrowError(/^id: no work order WO-9/);
    s.close();
  });

  it('lists newest first, by status, and keeps a refined burst flow', () => {
    const s = new WorkOrderStore(':memory:');
    const a = s.create({ alarmId: 'a', dma: 'north', burstFlowM3h: 10, burstStart: T0, by: 'system', at: T0 });
    const b = s.create({ alarmId: 'b', dma: 'south', by: 'ann', at: T0 + HOUR, note: 'reported by phone' });
    expect(s.list(T0 + HOUR).map((w) => w.id)).toEqual([b.id, a.id]);
    s.update(a.id, { status: 'resolved' }, 'mike', T0 + HOUR);
    expect(s.list(T0 + HOUR, 'resolved').map((w) => w.id)).toEqual([a.id]);
    s.updateBurstFlow(b.id, 25);
    expect(s.get(b.id, T0 + 2 * HOUR)).toMatchObject({ burstFlowM3h: 25, estimatedLossM3: 25, notes: [{ by: 'ann', text: 'reported by phone' }] });
    s.close();
  });

  it('estimatedLoss is zero without a flow and never negative', () => {
    expect(estimatedLoss({ createdAt: T0 }, T0 + HOUR)).toBe(0);
    expect(estimatedLoss({ burstFlowM3h: 12, burstStart: T0 + HOUR, createdAt: T0 }, T0)).toBe(0);
  });
});
