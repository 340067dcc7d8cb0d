import { describe, expect, it } from 'vitest';
import { insidePolygon } from './polygon.ts';

type P = [number, number];
const SQUARE: P[] = [[0, 0], [10, 0], [10, 10], [0, 10]];
/** A U open to the top: its notch (x 4–6, y 3–10) is outside. */
const U: P[] = [[0, 0], [10, 0], [10, 10], [6, 10], [6, 3], [4, 3], [4, 10], [0, 10]];

describe('point in polygon', () => {
  it('finds points inside and outside a square, and counts its edges and corners as inside', () => {
    expect(insidePolygon(5, 5, SQUARE)).toBe(true);
    expect(insidePolygon(11, 5, SQUARE)).toBe(false);
    expect(insidePolygon(-0.001, 5, SQUARE)).toBe(false);
    for (const [x, y] of [[0, 5], [10, 5], [5, 0], [5, 10], [0, 0], [10, 10]] as P[]) expect(insidePolygon(x, y, SQUARE), `${x},${y}`).toBe(true);
    // in line with an edge but beyond its end
    expect(insidePolygon(12, 0, SQUARE)).toBe(false);
  });

  it('follows a concave outline: the notch of a U is outside, its arms and the rays through its corners are not fooled', () => {
    expect(insidePolygon(5, 6, U)).toBe(false);
    expect(insidePolygon(2, 6, U)).toBe(true);
    expect(insidePolygon(8, 9, U)).toBe(true);
    expect(insidePolygon(5, 1, U)).toBe(true);
    // a ray from here to the right passes exactly through the notch's bottom corners (y 3)
    expect(insidePolygon(1, 3, U)).toBe(true);
    expect(insidePolygon(5, 3, U)).toBe(true); // on the notch's bottom edge
    expect(insidePolygon(-1, 3, U)).toBe(false);
    // the same outline clockwise
    expect(insidePolygon(5, 6, [...U].reverse())).toBe(false);
    expect(insidePolygon(2, 6, [...U].reverse())).toBe(true);
  });
});
