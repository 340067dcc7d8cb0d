import { describe, it, expect } from 'vitest';
import { ActiveConditions, ACTIVE_CONDITIONS_CAP } from './active-conditions.ts';
import type { Condition } from '../core/bus/messages/condition.ts';

const raise = (id: string): Condition => ({ id, type: 'sparkplug.node_death', state: 'raise', ts: 0, priority: 'medium', message: id });
const clear = (id: string): Condition => ({ id, type: 'sparkplug.node_death', state: 'clear', ts: 0, message: id });

describe('ActiveConditions', () => {
  it('lists at most its cap of source conditions however many new ids arrive, counting the rest, and always the service\'s own (F11)', () => {
    const active = new ActiveConditions();
    for (let i = 0; i < ACTIVE_CONDITIONS_CAP + 500; i++) active.record(raise(`sparkplug.node_death:G/forged-${i}`));
    expect(active.size).toBe(ACTIVE_CONDITIONS_CAP);
    expect(active.notListed).toBe(500);
    // A condition already listed is updated in place; a clear makes room for a new one.
    expect(active.record(raise('sparkplug.node_death:G/forged-0'))).toBe(true);
    expect(active.record(raise('opcua.session_lost:plant'))).toBe(false);
    active.record(clear('sparkplug.node_death:G/forged-1'));
    expect(active.record(raise('opcua.session_lost:plant'))).toBe(true);
    expect(active.size).toBe(ACTIVE_CONDITIONS_CAP);
    // The service's own conditions are listed whatever a source raised.
    expect(active.record(raise('ingest.outbox_full'))).toBe(true);
    expect(active.get('ingest.outbox_full')?.state).toBe('raise');
  });
});
