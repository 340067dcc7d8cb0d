/**
 * The alarm lifecycle against a real SQLite state store: every state transition, on- and off-delay
 * in event time, one alarm per condition instance, shelving and its expiry in event time,
 * suppression of an area, linking secondary conditions to their parent, and a restart that
 * reloads open alarms and pending delays from the database file.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Condition } from '../../core/bus/messages/condition.ts';
import { AlarmStore } from '../../core/state/alarm-store.ts';
import { AlarmError, AlarmManager, type AlarmManagerOptions, type AlarmTransition } from './manager.ts';

const T0 = Date.parse('2024-05-07T10:00:00Z');
const MIN = 60_000;

function cond(id: string, state: Condition['state'], ts: number, extra: Partial<Condition> = {}): Condition {
  return { id, type: id.split(':')[0], state, ts, message: `${id} ${state}`, ...extra };
}

const dirs: string[] = [];
const stores: AlarmStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aw-alarms-'));
  dirs.push(dir);
  return join(dir, 'state.sqlite');
}

/** A manager on a fresh store, recording its transitions; the wall clock is fixed for the records. */
function setup(opts: Partial<AlarmManagerOptions> = {}, path = ':memory:') {
  const store = new AlarmStore(path);
  stores.push(store);
  const manager = new AlarmManager({ store, now: () => 1_000_000, ...opts });
  const transitions: AlarmTransition[] = [];
  manager.on('transition', (t) => transitions.push(t));
  return { store, manager, transitions };
}

describe('alarm lifecycle', () => {
  it('raise → acknowledge → clear closes the alarm; every step recorded with who and when', () => {
    const { manager, store, transitions } = setup();
    manager.onCondition(cond('burst:central', 'raise', T0, { dma: 'central', priority: 'high', evidence: { flow: 40 } }));
    const [alarm] = manager.openAlarms();
    expect(alarm).toMatchObject({ conditionId: 'burst:central', state: 'active-unacknowledged', priority: 'high', dma: 'central', raisedAt: T0 });
    expect(alarm.id).toBe('burst:central@2024-05-07T10:00:00.000Z');

    manager.advanceTo(T0 + 5 * MIN);
    manager.acknowledge(alarm.id, 'dispatcher-li', 'crew sent');
    expect(manager.get(alarm.id)).toMatchObject({ state: 'active-acknowledged', ackedBy: 'dispatcher-li', ackedAt: T0 + 5 * MIN, ackComment: 'crew sent' });
    expect(() => manager.acknowledge(alarm.id, 'dispatcher-li')).toThrow(/already acknowledged/);

    manager.onCondition(cond('burst:central', 'clear', T0 + 60 * MIN));
    expect(manager.openAlarms()).toHaveLength(0);
    expect(store.getAlarm(alarm.id)).toMatchObject({ state: 'cleared', clearedAt: T0 + 60 * MIN, closedAt: T0 + 60 * MIN });
    expect(store.events(alarm.id).map((e) => [e.kind, e.fromState, e.toState, e.user, e.eventTs, e.wallTs])).toEqual([
      ['raise', null, 'active-unacknowledged', 'system', T0, 1_000_000],
      ['acknowledge', 'active-unacknowledged', 'active-acknowledged', 'dispatcher-li', T0 + 5 * MIN, 1_000_000],
      ['clear', 'active-acknowledged', 'cleared', 'system', T0 + 60 * MIN, 1_000_000],
    ]);
    expect(transitions.map((t) => t.kind)).toEqual(['raise', 'acknowledge', 'clear']);
    expect(transitions.every((t) => t.annunciate)).toBe(true);
    expect(() => manager.acknowledge(alarm.id, 'x')).toThrow(/is closed/);
  });

  it('raise → clear leaves it cleared-unacknowledged until acknowledged', () => {
    const { manager } = setup();
    manager.onCondition(cond('pressure_low:P-1', 'raise', T0, { sensor: 'P-1' }));
    manager.onCondition(cond('pressure_low:P-1', 'clear', T0 + 10 * MIN));
    const [a] = manager.openAlarms();
    expect(a).toMatchObject({ state: 'cleared-unacknowledged', clearedAt: T0 + 10 * MIN, priority: 'medium' });
    manager.acknowledge(a.id, 'op');
    expect(manager.get(a.id)).toMatchObject({ state: 'cleared', ackedBy: 'op', closedAt: T0 + 10 * MIN });
    expect(manager.openAlarms()).toHaveLength(0);
  });

  it('one alarm per condition instance: a raise while active updates it; only after a clear does a new alarm open', () => {
    const { manager, store, transitions } = setup();
    manager.onCondition(cond('burst:east', 'raise', T0, { priority: 'medium', evidence: { flow: 10 } }));
    manager.onCondition(cond('burst:east', 'update', T0 + MIN, { priority: 'medium', message: 'burst:east raise', evidence: { flow: 12 } }));
    manager.onCondition(cond('burst:east', 'raise', T0 + 2 * MIN, { priority: 'critical', evidence: { flow: 60 } }));
    expect(manager.openAlarms()).toHaveLength(1);
    const [a] = manager.openAlarms();
    expect(a).toMatchObject({ priority: 'critical', evidence: { flow: 60 } });
    // The evidence-only update is kept on the alarm but is no transition; the escalation is.
    expect(transitions.map((t) => t.kind)).toEqual(['raise', 'update']);
    expect(store.events(a.id)[1]).toMatchObject({ kind: 'update', data: { previousPriority: 'medium' } });

    manager.onCondition(cond('burst:east', 'clear', T0 + 30 * MIN));
    manager.onCondition(cond('burst:east', 'raise', T0 + 40 * MIN));
    const alarms = manager.list();
    expect(alarms.map((x) => [x.raisedAt, x.state])).toEqual([
      [T0, 'cleared-unacknowledged'],
      [T0 + 40 * MIN, 'active-unacknowledged'],
    ]);
    expect(alarms[0].id).not.toBe(alarms[1].id);
  });

  it('a clear or update of an unknown condition opens nothing; an update of an unseen condition raises it', () => {
    const { manager } = setup();
    manager.onCondition(cond('stale:F-1', 'clear', T0));
    expect(manager.list()).toHaveLength(0);
    manager.onCondition(cond('stale:F-1', 'update', T0 + MIN));
    expect(manager.openAlarms()).toHaveLength(1);
  });

  it('refuses bad conditions and bad operator input with the field named', () => {
    const { manager } = setup();
    expect(() => manager.onCondition({ ...cond('x:1', 'raise', T0), state: 'open' as never })).toThrow(/condition\.state/);
    expect(() => manager.onCondition({ ...cond('x:1', 'raise', T0), ts: Number.NaN })).toThrow(/condition\.ts/);
    expect(() => manager.onCondition({ ...cond('x:1', 'raise', T0), id: '' })).toThrow(/condition\.id/);
    expect(() => manager.onCondition({ ...cond('x:1', 'raise', T0), priority: 'urgent' as never })).toThrow(/condition\.priority/);
    manager.onCondition(cond('x:1', 'raise', T0));
    const [a] = manager.openAlarms();
    expect(() => manager.acknowledge(a.id, '')).toThrow(/user/);
    expect(() => manager.acknowledge('nope', 'op')).toThrow(AlarmError);
    expect(() => manager.shelve(a.id, 'op', T0 + MIN, '')).toThrow(/reason/);
    expect(() => manager.shelve(a.id, 'op', T0 - MIN, 'maintenance')).toThrow(/untilTs/);
    expect(() => manager.suppressArea('central', T0, T0 - 1, 'outage')).toThrow(/^to:/);
    expect(() => new AlarmManager({ store: new AlarmStore(':memory:'), rules: { burst: { onDelayMs: -1 } } })).toThrow(/rules\.burst\.onDelayMs/);
  });
});

describe('on-delay and off-delay, in event time', () => {
  const rules = { pressure_low: { onDelayMs: 5 * MIN, offDelayMs: 10 * MIN }, 'quality*': { onDelayMs: 15 * MIN } };

  it('a raise cleared within the on-delay never becomes an alarm; one that holds is raised when the delay runs out', () => {
    const { manager, transitions } = setup({ rules });
    manager.onCondition(cond('pressure_low:P-1', 'raise', T0));
    manager.onCondition(cond('pressure_low:P-1', 'clear', T0 + 3 * MIN));
    manager.advanceTo(T0 + 30 * MIN);
    expect(manager.list()).toHaveLength(0);

    const t1 = T0 + 40 * MIN;
    manager.onCondition(cond('pressure_low:P-1', 'raise', t1));
    manager.onCondition(cond('pressure_low:P-1', 'update', t1 + 2 * MIN));
    manager.advanceTo(t1 + 5 * MIN - 1);
    expect(manager.openAlarms()).toHaveLength(0);
    expect(manager.pending()).toEqual([{ conditionId: 'pressure_low:P-1', since: t1, type: 'pressure_low' }]);
    manager.advanceTo(t1 + 5 * MIN);
    expect(manager.openAlarms()).toEqual([expect.objectContaining({ raisedAt: t1 + 5 * MIN, conditionSince: t1 })]);
    expect(transitions).toHaveLength(1);
  });

  it('the delay runs out on the next condition\'s time too, not only on advanceTo', () => {
    const { manager } = setup({ rules });
    manager.onCondition(cond('pressure_low:P-1', 'raise', T0));
    manager.onCondition(cond('pressure_low:P-2', 'raise', T0 + 7 * MIN));
    expect(manager.openAlarms().map((a) => [a.conditionId, a.raisedAt])).toEqual([['pressure_low:P-1', T0 + 5 * MIN]]);
  });

  it('a prefix rule applies (quality*), and other types use the default (no delay)', () => {
    const { manager } = setup({ rules });
    manager.onCondition(cond('quality_chlorine_low:C-1', 'raise', T0));
    manager.onCondition(cond('burst:central', 'raise', T0));
    expect(manager.openAlarms().map((a) => a.type)).toEqual(['burst']);
    manager.advanceTo(T0 + 15 * MIN);
    expect(manager.openAlarms().map((a) => a.type).sort()).toEqual(['burst', 'quality_chlorine_low']);
  });

  it('a clear returns the alarm to normal only after the off-delay without a new raise', () => {
    const { manager } = setup({ rules });
    manager.onCondition(cond('pressure_low:P-1', 'raise', T0));
    manager.advanceTo(T0 + 5 * MIN);
    manager.onCondition(cond('pressure_low:P-1', 'clear', T0 + 20 * MIN));
    manager.onCondition(cond('pressure_low:P-1', 'raise', T0 + 25 * MIN)); // back within the off-delay
    manager.advanceTo(T0 + 40 * MIN);
    expect(manager.openAlarms()).toEqual([expect.objectContaining({ state: 'active-unacknowledged' })]);
    manager.onCondition(cond('pressure_low:P-1', 'clear', T0 + 50 * MIN));
    manager.advanceTo(T0 + 60 * MIN - 1);
    expect(manager.openAlarms()[0].state).toBe('active-unacknowledged');
    manager.advanceTo(T0 + 60 * MIN);
    expect(manager.list()).toEqual([expect.objectContaining({ state: 'cleared-unacknowledged', clearedAt: T0 + 60 * MIN })]);
  });

  it('a clear\'s evidence (a repair\'s drop) goes with the clear transition, after the off-delay too; a raise within it drops that clear\'s evidence', () => {
    const { manager, transitions, store } = setup({ rules });
    const clearOf = (alarmId: string) => transitions.find((t) => t.kind === 'clear' && t.alarmId === alarmId);
    manager.onCondition(cond('abrupt_leak:north:1', 'raise', T0, { evidence: { sizeM3h: 4.1 } }));
    manager.onCondition(cond('abrupt_leak:north:1', 'clear', T0 + MIN, { evidence: { repairTs: T0 + MIN, nightDropM3h: 3.8 } }));
    const leak = transitions[0].alarmId;
    expect(clearOf(leak)?.data).toEqual({ evidence: { repairTs: T0 + MIN, nightDropM3h: 3.8 } });
    expect(store.events(leak).find((e) => e.kind === 'clear')?.data).toEqual({ evidence: { repairTs: T0 + MIN, nightDropM3h: 3.8 } });
    // the alarm keeps the evidence it was raised and updated with
    expect(manager.get(leak)?.evidence).toEqual({ sizeM3h: 4.1 });

    manager.onCondition(cond('pressure_low:P-1', 'raise', T0));
    manager.advanceTo(T0 + 5 * MIN);
    const low = manager.openAlarms().find((a) => a.type === 'pressure_low')!.id;
    manager.onCondition(cond('pressure_low:P-1', 'clear', T0 + 20 * MIN, { evidence: { minMPa: 0.1 } }));
    manager.onCondition(cond('pressure_low:P-1', 'raise', T0 + 25 * MIN)); // back within the off-delay
    manager.onCondition(cond('pressure_low:P-1', 'clear', T0 + 50 * MIN));
    manager.advanceTo(T0 + 60 * MIN);
    expect(clearOf(low)).toBeDefined();
    expect(clearOf(low)?.data).toBeUndefined();
    manager.onCondition(cond('pressure_low:P-1', 'raise', T0 + 70 * MIN));
    manager.advanceTo(T0 + 75 * MIN);
    const again = manager.openAlarms().find((a) => a.type === 'pressure_low' && a.id !== low)!.id;
    manager.onCondition(cond('pressure_low:P-1', 'clear', T0 + 80 * MIN, { evidence: { minMPa: 0.3 } }));
    manager.advanceTo(T0 + 90 * MIN);
    expect(clearOf(again)?.data).toEqual({ evidence: { minMPa: 0.3 } });
  });
});

describe('shelving', () => {
  it('a shelved alarm is kept but not annunciated; shelving expires in event time', () => {
    const { manager, transitions, store } = setup();
    manager.onCondition(cond('stale:F-3', 'raise', T0, { priority: 'low' }));
    const [a] = manager.openAlarms();
    manager.advanceTo(T0 + MIN);
    manager.shelve(a.id, 'eng-wang', T0 + 60 * MIN, 'logger being replaced');
    expect(manager.get(a.id)?.shelved).toEqual({ until: T0 + 60 * MIN, by: 'eng-wang', reason: 'logger being replaced', at: T0 + MIN });

    // It clears and comes back while shelved: the new alarm starts shelved.
    manager.onCondition(cond('stale:F-3', 'clear', T0 + 10 * MIN));
    manager.onCondition(cond('stale:F-3', 'raise', T0 + 20 * MIN));
    const again = manager.openAlarms().find((x) => x.state === 'active-unacknowledged')!;
    expect(again.shelved?.by).toBe('eng-wang');
    const silenced = transitions.filter((t) => t.eventTs > T0 && t.eventTs < T0 + 60 * MIN);
    expect(silenced.map((t) => [t.kind, t.annunciate])).toEqual([
      ['shelve', false], ['clear', false], ['raise', false],
    ]);

    manager.advanceTo(T0 + 59 * MIN);
    expect(manager.get(again.id)?.shelved).toBeDefined();
    manager.advanceTo(T0 + 90 * MIN);
    expect(manager.get(again.id)?.shelved).toBeUndefined();
    const expiry = store.events(again.id).find((e) => e.kind === 'unshelve')!;
    expect(expiry).toMatchObject({ user: 'system', eventTs: T0 + 60 * MIN, comment: 'shelving expired' });
    expect(transitions.find((t) => t.kind === 'unshelve' && t.alarmId === again.id)?.annunciate).toBe(true);
  });

  it('a user can unshelve before the time', () => {
    const { manager, store } = setup();
    manager.onCondition(cond('stale:F-3', 'raise', T0));
    const [a] = manager.openAlarms();
    manager.shelve(a.id, 'eng-wang', T0 + 60 * MIN, 'testing');
    manager.advanceTo(T0 + 5 * MIN);
    manager.unshelve(a.id, 'dispatcher-li', 'needed now');
    expect(manager.get(a.id)?.shelved).toBeUndefined();
    expect(store.events(a.id).at(-1)).toMatchObject({ kind: 'unshelve', user: 'dispatcher-li', eventTs: T0 + 5 * MIN, comment: 'needed now' });
    expect(() => manager.unshelve(a.id, 'x')).toThrow(/not shelved/);
  });
});

describe('suppression of an area', () => {
  it('alarms in a suppressed DMA are kept but not annunciated, and reappear when the window ends', () => {
    const { manager, transitions } = setup();
    const from = T0 + 60 * MIN;
    const to = T0 + 180 * MIN;
    // open before the outage starts
    manager.onCondition(cond('pressure_low:P-7', 'raise', T0, { dma: 'south' }));
    const id = manager.suppressArea('south', from, to, 'planned outage PO-12', { user: 'planner-zhao' });
    expect(id).toBeGreaterThan(0);
    expect(manager.isSuppressed('south', from)).toBe(true);
    expect(manager.isSuppressed('south', to)).toBe(false);
    expect(manager.isSuppressed('central', from)).toBe(false);

    manager.onCondition(cond('outage:south', 'raise', from + 10 * MIN, { dma: 'south' }));
    manager.onCondition(cond('outage:central', 'raise', from + 10 * MIN, { dma: 'central' }));
    const bySuppression = Object.fromEntries(manager.openAlarms().map((a) => [a.conditionId, a.suppressed?.reason ?? null]));
    expect(bySuppression).toEqual({ 'pressure_low:P-7': 'planned outage PO-12', 'outage:south': 'planned outage PO-12', 'outage:central': null });
    expect(transitions.filter((t) => t.kind === 'suppress').map((t) => [t.alarm.conditionId, t.eventTs, t.user]))
      .toEqual([['pressure_low:P-7', from, 'planner-zhao']]);
    expect(transitions.find((t) => t.alarm.conditionId === 'outage:south')!.annunciate).toBe(false);
    expect(transitions.find((t) => t.alarm.conditionId === 'outage:central')!.annunciate).toBe(true);

    manager.advanceTo(to + MIN);
    const un = transitions.filter((t) => t.kind === 'unsuppress');
    expect(un.map((t) => [t.alarm.conditionId, t.eventTs, t.annunciate]).sort()).toEqual([
      ['outage:south', to, true], ['pressure_low:P-7', to, true],
    ]);
  });

  it('a suppression limited to some types leaves the others alone', () => {
    const { manager } = setup();
    manager.suppressArea('south', T0, T0 + 60 * MIN, 'planned outage', { types: ['pressure*', 'outage*'] });
    manager.onCondition(cond('quality_turbidity_high:T-1', 'raise', T0 + MIN, { dma: 'south' }));
    manager.onCondition(cond('pressure_low:P-1', 'raise', T0 + MIN, { dma: 'south' }));
    expect(manager.openAlarms().map((a) => [a.type, Boolean(a.suppressed)])).toEqual([['pressure_low', true], ['quality_turbidity_high', false]]);
  });
});

describe('linking secondary conditions', () => {
  it('a condition naming its parent in evidence is attached to the parent alarm, not a new alarm', () => {
    const { manager, store } = setup();
    manager.onCondition(cond('burst:central', 'raise', T0, { dma: 'central' }));
    manager.onCondition(cond('flow_high:F-central', 'raise', T0 + MIN, { dma: 'central', evidence: { parent: 'burst:central' } }));
    const [burst] = manager.openAlarms();
    expect(manager.openAlarms()).toHaveLength(1);
    expect(burst.secondaries).toEqual([expect.objectContaining({ conditionId: 'flow_high:F-central', active: true, firstTs: T0 + MIN })]);
    manager.onCondition(cond('flow_high:F-central', 'clear', T0 + 30 * MIN));
    expect(manager.get(burst.id)!.secondaries[0]).toMatchObject({ active: false, lastTs: T0 + 30 * MIN });
    expect(store.events(burst.id).map((e) => e.kind)).toEqual(['raise', 'secondary', 'secondary']);
  });

  it('one burst, one alarm: its pressure drops in the same DMA are linked, before or after it is raised', () => {
    const { manager, transitions } = setup({ rules: { 'pressure*': { onDelayMs: 3 * MIN } } });
    // A pressure drop becomes an alarm before the burst is confirmed...
    manager.onCondition(cond('pressure_drop:P-410', 'raise', T0, { dma: 'central', sensor: 'P-410' }));
    manager.advanceTo(T0 + 3 * MIN);
    // ...another is still in its on-delay when the burst comes...
    manager.onCondition(cond('pressure_drop:P-411', 'raise', T0 + 4 * MIN, { dma: 'central', sensor: 'P-411' }));
    manager.onCondition(cond('burst:central', 'raise', T0 + 5 * MIN, { dma: 'central', priority: 'high' }));
    // ...and a third comes after; one in another DMA is its own alarm.
    manager.onCondition(cond('pressure_drop:P-412', 'raise', T0 + 8 * MIN, { dma: 'central', sensor: 'P-412' }));
    manager.onCondition(cond('pressure_drop:P-900', 'raise', T0 + 8 * MIN, { dma: 'east', sensor: 'P-900' }));
    manager.advanceTo(T0 + 20 * MIN);

    const open = manager.openAlarms();
    const burst = open.find((a) => a.type === 'burst')!;
    expect(burst.secondaries.map((s) => s.conditionId).sort()).toEqual(['pressure_drop:P-410', 'pressure_drop:P-411', 'pressure_drop:P-412']);
    const own = open.filter((a) => a.type !== 'burst');
    expect(own.map((a) => [a.conditionId, a.parentAlarmId ?? null])).toEqual([
      ['pressure_drop:P-410', burst.id], ['pressure_drop:P-900', null],
    ]);
    // What would notify: the early pressure alarm, the burst, and the other DMA's drop, not the linked ones.
    expect(transitions.filter((t) => t.kind === 'raise' && t.annunciate).map((t) => t.alarm.conditionId))
      .toEqual(['pressure_drop:P-410', 'burst:central', 'pressure_drop:P-900']);
  });

  it('one outage, one alarm: the low and falling pressure at the loggers of the DMA without water are its secondaries', () => {
    const { manager, transitions } = setup();
    manager.onCondition(cond('outage:hill', 'raise', T0, { dma: 'hill', priority: 'high' }));
    for (const p of ['P-1', 'P-2', 'P-3']) {
      manager.onCondition(cond(`pressure_low:${p}`, 'raise', T0 + MIN, { dma: 'hill', sensor: p }));
      manager.onCondition(cond(`pressure_drop:${p}`, 'raise', T0 + MIN, { dma: 'hill', sensor: p }));
    }
    manager.onCondition(cond('pressure_low:P-9', 'raise', T0 + MIN, { dma: 'east', sensor: 'P-9' }));
    const outage = manager.openAlarms().find((a) => a.type === 'outage')!;
    expect(outage.secondaries).toHaveLength(6);
    expect(transitions.filter((t) => t.kind === 'raise' && t.annunciate).map((t) => t.alarm.conditionId)).toEqual(['outage:hill', 'pressure_low:P-9']);
  });

  it('a child waiting for a parent in its on-delay becomes its own alarm if the parent never does', () => {
    const { manager } = setup({ rules: { burst: { onDelayMs: 10 * MIN } } });
    manager.onCondition(cond('burst:central', 'raise', T0, { dma: 'central' }));
    manager.onCondition(cond('pressure_drop:P-1', 'raise', T0 + MIN, { dma: 'central' }));
    expect(manager.openAlarms()).toHaveLength(0);
    manager.onCondition(cond('burst:central', 'clear', T0 + 5 * MIN));
    expect(manager.openAlarms().map((a) => [a.conditionId, a.conditionSince])).toEqual([['pressure_drop:P-1', T0 + MIN]]);
  });
});

describe('restart', () => {
  it('open alarms, pending delays, shelving and suppressions survive a restart (reloaded from SQLite)', () => {
    const path = tempDb();
    const rules = { pressure_low: { onDelayMs: 10 * MIN } };
    const first = setup({ rules }, path);
    first.manager.onCondition(cond('burst:central', 'raise', T0, { dma: 'central' }));
    first.manager.onCondition(cond('pressure_low:P-1', 'raise', T0 + MIN, { dma: 'east' }));
    const [burst] = first.manager.openAlarms();
    first.manager.acknowledge(burst.id, 'op');
    first.manager.onCondition(cond('stale:F-1', 'raise', T0 + 2 * MIN));
    const stale = first.manager.openAlarms().find((a) => a.type === 'stale')!;
    first.manager.shelve(stale.id, 'eng', T0 + 30 * MIN, 'replacing logger');
    first.manager.suppressArea('south', T0 + 60 * MIN, T0 + 120 * MIN, 'planned outage');
    first.store.close();

    const second = setup({ rules }, path);
    expect(second.manager.eventTime).toBe(T0 + 2 * MIN);
    expect(second.manager.openAlarms().map((a) => [a.conditionId, a.state])).toEqual([
      ['burst:central', 'active-acknowledged'], ['stale:F-1', 'active-unacknowledged'],
    ]);
    expect(second.manager.pending()).toEqual([{ conditionId: 'pressure_low:P-1', since: T0 + MIN, type: 'pressure_low', dma: 'east' }]);
    // The pending on-delay runs out after the restart; the shelving expires; the clear finds its alarm.
    second.manager.advanceTo(T0 + 40 * MIN);
    expect(second.manager.openAlarms().find((a) => a.type === 'pressure_low')?.raisedAt).toBe(T0 + 11 * MIN);
    expect(second.manager.get(stale.id)?.shelved).toBeUndefined();
    second.manager.onCondition(cond('burst:central', 'clear', T0 + 50 * MIN));
    expect(second.manager.get(burst.id)).toMatchObject({ state: 'cleared', closedAt: T0 + 50 * MIN });
    expect(second.manager.isSuppressed('south', T0 + 90 * MIN)).toBe(true);
    // A new raise after the clear opens a second alarm, as before the restart.
    second.manager.onCondition(cond('burst:central', 'raise', T0 + 70 * MIN, { dma: 'central' }));
    expect(second.store.listAlarms({ type: 'burst' })).toHaveLength(2);
    expect(second.store.events(burst.id).map((e) => e.kind)).toEqual(['raise', 'acknowledge', 'clear']);
  });
});
