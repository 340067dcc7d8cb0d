/** Meter-anomaly cases: the state machine, its refusals naming the field, the history with who and when. */
import { describe, expect, it } from 'vitest';
import { CustomerCaseStore, nextCaseState } from './customer-cases.ts';

const T0 = Date.parse('2026-11-30T02:00:00Z');
const MIN = 60_000;

describe('nextCaseState', () => {
  it('moves open → contacted → visit_requested → closed, and a call keeps a requested visit', () => {
    expect(nextCaseState('open', { action: 'call', note: 'no answer' })).toBe('contacted');
    expect(nextCaseState('contacted', { action: 'call', note: 'called back' })).toBe('contacted');
    expect(nextCaseState('open', { action: 'field_visit' })).toBe('visit_requested');
    expect(nextCaseState('contacted', { action: 'field_visit', note: 'check for a leak behind the meter' })).toBe('visit_requested');
    expect(nextCaseState('visit_requested', { action: 'call', note: 'visit on Monday' })).toBe('visit_requested');
    expect(nextCaseState('visit_requested', { action: 'close', reason: 'leak_fixed' })).toBe('closed');
    expect(nextCaseState('open', { action: 'close', reason: 'other', note: 'duplicate account' })).toBe('closed');
  });

  it('refuses what the case does not allow, naming the field', () => {
    expect(() => nextCaseState('open', { action: 'call' })).toThrowError(/^note: say what/);
    expect(() => nextCaseState('open', { action: 'call', note: '  ' })).toThrowError(/^note: /);
    expect(() => nextCaseState('visit_requested', { action: 'field_visit' })).toThrowError(/^action: a field visit is already requested/);
    expect(() => nextCaseState('open', { action: 'close' })).toThrowError(/^reason: required, one of legitimate_use/);
    expect(() => nextCaseState('open', { action: 'close', reason: 'other' })).toThrowError(/^note: say why/);
    expect(() => nextCaseState('open', { action: 'close', reason: 'bored' as never })).toThrowError(/^reason: must be one of/);
    expect(() => nextCaseState('open', { action: 'call', note: 'x', reason: 'misread' })).toThrowError(/^reason: only a close/);
    expect(() => nextCaseState('closed', { action: 'call', note: 'again' })).toThrowError(/^action: the case is closed/);
    try { nextCaseState('closed', { action: 'call', note: 'x' }); } catch (e) { expect((e as { code: string }).code).toBe('conflict'); }
  });
});

describe('CustomerCaseStore', () => {
  it('creates the case on its first action and keeps every action with who, when and the state after', () => {
    const s = new CustomerCaseStore(':memory:');
    expect(s.get('meter_high_use:M-1@x')).toBeUndefined();
    s.act('meter_high_use:M-1@x', 'M-1', { action: 'call', note: ' filling a pool ' }, 'ann', T0);
    s.act('meter_high_use:M-1@x', 'M-1', { action: 'field_visit' }, 'ann', T0 + MIN);
    const closed = s.act('meter_high_use:M-1@x', 'M-1', { action: 'close', reason: 'legitimate_use', note: 'pool filled once a year' }, 'bob', T0 + 2 * MIN);
    expect(closed).toEqual({
      alarmId: 'meter_high_use:M-1@x', meter: 'M-1', state: 'closed', closeReason: 'legitimate_use', updatedAt: T0 + 2 * MIN, updatedBy: 'bob',
      history: [
        { at: T0, by: 'ann', action: 'call', note: 'filling a pool', state: 'contacted' },
        { at: T0 + MIN, by: 'ann', action: 'field_visit', note: '', state: 'visit_requested' },
        { at: T0 + 2 * MIN, by: 'bob', action: 'close', note: 'pool filled once a year', reason: 'legitimate_use', state: 'closed' },
      ],
    });
    // a refused action leaves no trace
    expect(() => s.act('meter_high_use:M-1@x', 'M-1', { action: 'call', note: 'x' }, 'ann', T0 + 3 * MIN)).toThrowError(/closed/);
    expect(s.get('meter_high_use:M-1@x')!.history).toHaveLength(3);
    s.act('meter_zero_use:M-2@y', 'M-2', { action: 'call', note: 'house empty' }, 'ann', T0);
    expect([...s.byAlarms(['meter_high_use:M-1@x', 'meter_zero_use:M-2@y', 'none']).entries()].map(([k, c]) => [k, c.state]))
      .toEqual([['meter_high_use:M-1@x', 'closed'], ['meter_zero_use:M-2@y', 'contacted']]);
    s.close();
  });
});
