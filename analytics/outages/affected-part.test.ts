import { describe, expect, it } from 'vitest';
import { measurePart } from './affected-part.ts';

type P = [number, number];
const SQUARE: P[] = [[0, 0], [10, 0], [10, 10], [0, 10]];
/** A U open to the top: its notch (x 4–6, y 3–10) is outside (core/topology/polygon.test.ts). */
const U: P[] = [[0, 0], [10, 0], [10, 10], [6, 10], [6, 3], [4, 3], [4, 10], [0, 10]];

describe('customers of a partial area', () => {
  const pipes: P[] = [[0, 0], [10, 0], [10, 10], [0, 10]];
  const unplaced = { customers: 1000, meters: ['M1', 'M2', 'M3', 'M4'].map((id) => ({ id })), points: pipes };
  const placed = {
    customers: 1200,
    meters: [{ id: 'M1', x: 1, y: 1 }, { id: 'M2', x: 2, y: 8 }, { id: 'M3', x: 5, y: 6 }, { id: 'M4', x: 9, y: 9 }],
    points: pipes,
  };

  it('scales the area\'s customers by the meters picked', () => {
    expect(measurePart({ meters: ['M1', 'M1'] }, unplaced)).toEqual({ part: { meters: ['M1'] }, customers: 250 });
    expect(() => measurePart({ meters: ['X'] }, unplaced)).toThrow(/^affected\.meters\[0\]: meter X is not in this area/);
    expect(() => measurePart({ meters: [] }, unplaced)).toThrow(/^affected\.meters: pick at least one meter/);
  });

  it('selects the meters inside a polygon when they have positions, and counts them as picked', () => {
    // the U holds M1, M2 (left arm) and M4 (right arm); M3 stands in the notch
    expect(measurePart({ polygon: U }, placed)).toEqual({ part: { polygon: U, meters: ['M1', 'M2', 'M4'] }, customers: 900 });
    // a triangle whose edge passes through M3
    expect(measurePart({ polygon: [[0, 0], [10, 12], [0, 12]] }, placed).part).toEqual({ polygon: [[0, 0], [10, 12], [0, 12]], meters: ['M2', 'M3'] });
    expect(() => measurePart({ polygon: [[20, 20], [30, 20], [30, 30]] }, placed)).toThrow(/^affected\.polygon: the polygon holds none of this area's meters/);
    expect(() => measurePart({ polygon: [[0, 0], [1, 1]] }, placed)).toThrow(/^affected\.polygon: a polygon needs at least 3 corners/);
  });

  it('measures a polygon against the area\'s pipe vertices when its meters have no positions', () => {
    expect(measurePart({ polygon: [[-1, -1], [11, -1], [11, 5], [-1, 5]] }, unplaced)).toEqual({ part: { polygon: [[-1, -1], [11, -1], [11, 5], [-1, 5]] }, customers: 500 });
    expect(() => measurePart({ polygon: SQUARE }, { ...unplaced, points: [] })).toThrow(/^affected\.polygon: the map has no meters or pipes/);
  });
});
