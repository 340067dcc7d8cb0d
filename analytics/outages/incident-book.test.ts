import { describe, expect, it } from 'vitest';
import { OutageRegister } from './register.ts';
import { LowPressureIncidents } from './low-pressure.ts';
import { Topology } from '../../core/topology/topology.ts';
import { topologySchema } from '../../core/config/schema.ts';
import type { AlarmRecord } from '../../core/state/alarm-store.ts';

const H = 3_600_000;
const MIN = 60_000;
const T0 = Date.parse('2026-11-02T01:00:00Z');

function detected(reg: OutageRegister, dma: string, start: number, end?: number, customers = 800) {
  reg.recordIncident({ id: `${dma}:${start}`, dma, start, ...(end !== undefined ? { end } : {}), customersAffected: customers, planned: false, cause: 'unknown' });
  return `${dma}:${start}`;
}

describe('incident book', () => {
  it('keeps a person\'s corrections when the detector records the incident again, and logs who changed what', () => {
    const reg = new OutageRegister(':memory:');
    const id = detected(reg, 'south', T0);
    const edited = reg.book.edit(id, { cause: 'power_failure', affected: { part: { meters: ['M-1'] }, customers: 120 }, expectedRestoration: T0 + 5 * H, notes: '供电局抢修' }, 'dispatcher', T0 + H);
    expect(edited).toMatchObject({ cause: 'power_failure', customersAffected: 120, expectedRestoration: T0 + 5 * H, detected: { cause: 'unknown', customersAffected: 800 } });
    // the detector closes it, with its own cause and customers: the corrections stay in force
    detected(reg, 'south', T0, T0 + 4 * H);
    expect(reg.listIncidents()).toEqual([{ id, dma: 'south', start: T0, end: T0 + 4 * H, customersAffected: 120, planned: false, cause: 'power_failure' }]);
    const history = reg.book.history(id);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ by: 'dispatcher', at: T0 + H, action: 'edit' });
    expect(history[0].changes.cause).toEqual(['unknown', 'power_failure']);
    expect(history[0].changes.customersAffected).toEqual([800, 120]);
    // taking a correction back restores the detected value
    expect(reg.book.edit(id, { cause: null }, 'dispatcher', T0 + 5 * H).cause).toBe('unknown');
    expect(() => reg.book.edit(id, { cause: 'weather' as never }, 'x', T0)).toThrow(/^cause: unknown cause code/);
    expect(() => reg.book.edit(id, { actualRestoration: T0 - H }, 'x', T0)).toThrow(/^actualRestoration: must not be before the start/);
    reg.close();
  });

  it('enters a phoned-in outage, ends it by its actual restoration, and counts it as an outage', () => {
    const reg = new OutageRegister(':memory:');
    const rec = reg.book.createManual({ dma: 'hill', start: T0, cause: 'third_party_damage', customersAffected: 40, notes: '12345 call' }, 'service', T0 + 10 * MIN);
    expect(rec).toMatchObject({ origin: 'manual', kind: 'outage', customersAffected: 40 });
    expect(reg.listIncidents().map((i) => i.id)).toEqual([rec.id]);
    reg.book.edit(rec.id, { actualRestoration: T0 + 2 * H }, 'service', T0 + 2 * H);
    expect(reg.getIncident(rec.id)!.end).toBe(T0 + 2 * H);
    expect(reg.book.history(rec.id).map((c) => c.action)).toEqual(['create', 'edit']);
  });

  it('merges incidents into one (earliest start, latest end, open while any is) and splits one at partial restoration', () => {
    const reg = new OutageRegister(':memory:');
    const a = detected(reg, 'south', T0, T0 + H);
    const b = detected(reg, 'south', T0 + 90 * MIN);
    const merged = reg.book.merge(a, [b], 'dispatcher', T0 + 2 * H);
    expect(merged).toMatchObject({ start: T0, merged: [b] });
    expect(merged.end).toBeUndefined();
    expect(reg.listIncidents().map((i) => i.id)).toEqual([a]);
    detected(reg, 'south', T0 + 90 * MIN, T0 + 3 * H);
    expect(reg.getIncident(a)!.end).toBe(T0 + 3 * H);
    expect(() => reg.book.edit(b, { notes: 'x' }, 'd', T0)).toThrow(/merged into/);

    const c = detected(reg, 'north', T0, undefined, 1200);
    const { first, second } = reg.book.split(c, T0 + 2 * H, 300, 'dispatcher', T0 + 2 * H);
    expect(first).toMatchObject({ start: T0, end: T0 + 2 * H, customersAffected: 1200 });
    expect(second).toMatchObject({ start: T0 + 2 * H, customersAffected: 300 });
    expect(second.end).toBeUndefined();
    // the detector ends the outage: the second part ends with it, the first stays at the split
    detected(reg, 'north', T0, T0 + 6 * H, 1200);
    expect(reg.listIncidents(T0, T0 + 10 * H).filter((i) => i.dma === 'north').map((i) => [i.start, i.end, i.customersAffected]))
      .toEqual([[T0, T0 + 2 * H, 1200], [T0 + 2 * H, T0 + 6 * H, 300]]);
    expect(() => reg.book.split(c, T0 - H, undefined, 'd', T0)).toThrow(/^at: must lie inside/);
  });

  it('opens an emergency-supply record when an outage reaches 24 h and closes it when supply is back', () => {
    const reg = new OutageRegister(':memory:');
    const id = detected(reg, 'south', T0);
    expect(reg.book.sweepEmergencySupply(T0 + 23 * H, 24 * H).opened).toEqual([]);
    const { opened } = reg.book.sweepEmergencySupply(T0 + 25 * H, 24 * H);
    expect(opened).toEqual([{ id: `es-${id}`, incidentId: id, dma: 'south', openedAt: T0 + 24 * H, measures: [], notes: '' }]);
    expect(reg.book.sweepEmergencySupply(T0 + 26 * H, 24 * H).opened).toEqual([]);
    const truck = { kind: 'water_truck' as const, place: '南湖小区东门', detail: '5 t 送水车', from: T0 + 25 * H };
    expect(reg.book.updateEmergency(`es-${id}`, { measures: [truck] }, 'dispatcher', T0 + 25 * H).measures).toEqual([truck]);
    detected(reg, 'south', T0, T0 + 30 * H);
    expect(reg.book.sweepEmergencySupply(T0 + 31 * H, 24 * H).closed.map((s) => s.closedAt)).toEqual([T0 + 30 * H]);
    expect(reg.book.listEmergency({ open: true })).toEqual([]);
  });
});

describe('low-pressure incidents', () => {
  const topology = new Topology(topologySchema.parse({
    sites: [{ id: 'net' }], dmas: [{ id: 'hill', inlets: [], customers: 300 }],
    sensors: [
      { id: 'P-end', kind: 'pressure', unit: 'MPa', site: 'net', dma: 'hill', place: 'network-end' },
      { id: 'P-mid', kind: 'pressure', unit: 'MPa', site: 'net', dma: 'hill', place: 'network' },
    ],
  }));
  const alarm = (sensor: string, state: AlarmRecord['state'], clearedAt?: number) => ({
    id: `pressure_low:${sensor}@x`, conditionId: `pressure_low:${sensor}`, type: 'pressure_low', priority: 'medium', state, dma: 'hill', sensor,
    message: '', conditionSince: T0, raisedAt: T0 + 5 * MIN, ...(clearedAt ? { clearedAt } : {}), secondaries: [], updatedAt: T0,
  }) as AlarmRecord;

  it('records one after the configured time below the minimum at a network-end sensor, and ends it at the clear', () => {
    const reg = new OutageRegister(':memory:');
    const lp = new LowPressureIncidents({ book: reg.book, topology, minMs: 30 * MIN });
    lp.sweep(T0 + 20 * MIN, [alarm('P-end', 'active-unacknowledged')]);
    expect(reg.book.list(-Infinity, Infinity, { kind: 'low_pressure' })).toEqual([]);
    lp.sweep(T0 + 40 * MIN, [alarm('P-end', 'active-unacknowledged'), alarm('P-mid', 'active-unacknowledged')]);
    expect(reg.book.list(-Infinity, Infinity, { kind: 'low_pressure' })).toMatchObject([{ dma: 'hill', start: T0, customersAffected: 300, kind: 'low_pressure' }]);
    expect(reg.listIncidents()).toEqual([]); // not an outage
    lp.sweep(T0 + 90 * MIN, [alarm('P-end', 'cleared-unacknowledged', T0 + 80 * MIN)]);
    expect(reg.book.list(-Infinity, Infinity, { kind: 'low_pressure' })[0].end).toBe(T0 + 80 * MIN);
    expect(lp.follows({ type: 'pressure_low', sensor: 'P-mid' })).toBe(false);
  });
});
