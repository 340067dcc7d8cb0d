/**
 * Reading a pressure-model alarm's ranked loggers in the browser (issue #12.6): the detector's order
 * is the rank, names and coordinates from the evidence or else the map, and a logger the evidence
 * does not describe readably is left out (never drawn at a guessed place); other alarm types have none.
 */
import { describe, expect, it } from 'vitest';
import type { MapSensor } from '../../contract/index.ts';
import { markerSize, placeRanked, rankedLoggersOf } from './ranked-loggers.ts';

const sensor = (id: string, name: string, x?: number, y?: number): MapSensor => ({
  id, name, kind: 'pressure', unit: 'MPa', site: 'net', dma: 'north', place: 'network', ...(x !== undefined ? { x, y } : {}),
});
const MAP = [sensor('P-1', 'Renmin Rd', 10, 20), sensor('P-2', 'Station Sq', 30, 40), sensor('P-3', 'Hill Top')];

describe('ranked loggers of a pressure-model alarm', () => {
  it('keeps the detector\'s order as the rank, with names from the map and coordinates from the evidence or the map', () => {
    const alarm = { type: 'leak_candidate', evidence: { ranked: [
      { sensor: 'P-2', residualKpa: -1.5, z: -7.2 },
      { sensor: 'P-1', residualKpa: -0.4, z: -2.1, x: 11, y: 21 },
      { sensor: 'P-3', residualKpa: 0.2, z: 0.8 },
      { sensor: 'P-9', residualKpa: 0.3, z: 1.1 },
    ] } };
    expect(placeRanked(alarm, MAP)).toEqual([
      { sensor: 'P-2', residualKpa: -1.5, z: -7.2, rank: 1, name: 'Station Sq', at: [30, 40] },
      { sensor: 'P-1', residualKpa: -0.4, z: -2.1, x: 11, y: 21, rank: 2, name: 'Renmin Rd', at: [11, 21] },
      { sensor: 'P-3', residualKpa: 0.2, z: 0.8, rank: 3, name: 'Hill Top' },
      { sensor: 'P-9', residualKpa: 0.3, z: 1.1, rank: 4, name: 'P-9' },
    ]);
  });

  it('leaves out what it cannot read, and finds none on other alarm types', () => {
    const ranked = [null, 'P-1', { sensor: 'P-1', z: -6 }, { sensor: 'P-2', residualKpa: '-1', z: -6 }, { sensor: '', residualKpa: -1, z: -6 },
      { sensor: 'P-3', residualKpa: -1, z: Number.NaN }, { sensor: 'P-2', residualKpa: -1, z: -6, x: 5 }];
    expect(rankedLoggersOf({ type: 'leak_candidate', evidence: { ranked } })).toEqual([{ sensor: 'P-2', residualKpa: -1, z: -6 }]);
    expect(rankedLoggersOf({ type: 'leak_candidate', evidence: { ranked: 'P-1' } })).toEqual([]);
    expect(rankedLoggersOf({ type: 'leak_candidate' })).toEqual([]);
    expect(rankedLoggersOf({ type: 'burst', evidence: { ranked: [{ sensor: 'P-1', residualKpa: -1, z: -6 }] } })).toEqual([]);
  });

  it('sizes a marker by its loss: the largest loss the largest marker, a logger at or above the model the smallest', () => {
    expect(markerSize(-2, 2)).toBe(34);
    expect(markerSize(-1, 2)).toBe(25);
    expect(markerSize(0.5, 2)).toBe(16);
    expect(markerSize(0, 0)).toBe(16);
  });
});
