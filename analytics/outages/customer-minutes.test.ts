/** Per-customer outage and low-pressure minutes: partial areas, clipping, merged and overlapping incidents. */
import { describe, expect, it } from 'vitest';
import { customerIncidentMinutes, minutesByKind, partReaches } from './customer-minutes.ts';
import type { IncidentRecord } from './types.ts';

const T0 = Date.parse('2026-11-30T00:00:00Z');
const MIN = 60_000;
const DAY = 1440 * MIN;

function incident(id: string, start: number, end: number | undefined, more: Partial<IncidentRecord> = {}): IncidentRecord {
  return {
    id, dma: 'north', start, ...(end !== undefined ? { end } : {}), customersAffected: 100, planned: false, cause: 'burst', kind: 'outage',
    origin: 'detected', detected: { cause: 'burst', customersAffected: 100 }, notes: '', merged: [], ...more,
  };
}

const HOME = { id: 'M-1', dma: 'north', x: 1, y: 1 };

describe('customerIncidentMinutes', () => {
  it('counts an incident of the area, clipped to the period; an open one lasts until now', () => {
    const rows = customerIncidentMinutes([HOME], [
      incident('a', T0 - 30 * MIN, T0 + 90 * MIN),
      incident('open', T0 + 200 * MIN, undefined),
      incident('other-area', T0, T0 + 60 * MIN, { dma: 'south' }),
      incident('before', T0 - 100 * MIN, T0 - 50 * MIN),
    ], T0, T0 + 1000 * MIN, T0 + 230 * MIN);
    expect(rows.map((r) => [r.incident.id, r.minutes, r.meters, r.placed])).toEqual([['a', 90, ['M-1'], true], ['open', 30, ['M-1'], true]]);
  });

  it('leaves the customer out of a partial area that does not hold their meter', () => {
    const picked = incident('picked', T0, T0 + 60 * MIN, { affectedPart: { meters: ['M-1', 'M-3'] } });
    const notPicked = incident('not-picked', T0, T0 + 60 * MIN, { affectedPart: { meters: ['M-2'] } });
    const around = incident('around', T0, T0 + 60 * MIN, { affectedPart: { polygon: [[0, 0], [2, 0], [2, 2], [0, 2]] } });
    const elsewhere = incident('elsewhere', T0, T0 + 60 * MIN, { affectedPart: { polygon: [[5, 5], [6, 5], [6, 6]] } });
    // a polygon stored with the meters the server selected inside it: the selection decides
    const selected = incident('selected', T0, T0 + 60 * MIN, { affectedPart: { polygon: [[0, 0], [2, 0], [2, 2], [0, 2]], meters: ['M-2'] } });
    expect(customerIncidentMinutes([HOME], [picked, notPicked, around, elsewhere, selected], T0, T0 + DAY, T0).map((r) => r.incident.id).sort())
      .toEqual(['around', 'picked']);
    // a meter without a position cannot be placed against a polygon: counted, and marked so
    const [unplaced] = customerIncidentMinutes([{ id: 'M-9', dma: 'north' }], [elsewhere], T0, T0 + DAY, T0);
    expect(unplaced).toMatchObject({ minutes: 60, placed: false });
    expect(partReaches(undefined, HOME)).toBe(true);
  });

  it('counts merged incidents through the one they were merged into, and overlapping ones of a kind once in the totals', () => {
    const rows = customerIncidentMinutes([HOME], [
      incident('target', T0, T0 + 120 * MIN, { merged: ['member'] }),
      incident('member', T0 + 60 * MIN, T0 + 120 * MIN, { mergedInto: 'target' }),
      incident('overlap', T0 + 100 * MIN, T0 + 160 * MIN),
      incident('low', T0 + 30 * MIN, T0 + 90 * MIN, { kind: 'low_pressure' }),
    ], T0, T0 + DAY, T0);
    expect(rows.map((r) => [r.incident.id, r.minutes])).toEqual([['target', 120], ['low', 60], ['overlap', 60]]);
    expect(minutesByKind(rows)).toEqual({ outage: 160, low_pressure: 60 });
    expect(minutesByKind([])).toEqual({ outage: 0, low_pressure: 0 });
  });
});
