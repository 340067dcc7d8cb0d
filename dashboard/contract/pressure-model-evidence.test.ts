/**
 * The pressure-model alarm's evidence as the contract describes it (`pressureModelEvidence`, read by
 * the dashboard's map and alarm detail, issue #12.6) is what the real detector writes: a raise on a
 * hand-made town of two DMAs parses strictly, the leaking logger first, with its map coordinates.
 */
import { describe, expect, it } from 'vitest';
import { topologySchema } from '../../core/config/schema.ts';
import { Topology } from '../../core/topology/topology.ts';
import { raisePressureModelLeak } from '../../test/support/pressure-leak.ts';
import { pressureModelEvidence } from './index.ts';

const T0 = Date.parse('2024-05-06T00:00:00+08:00');

describe('pressure-model evidence in the contract', () => {
  it('is the detector\'s evidence: the DMA\'s loggers ranked, the leaking one first, with map coordinates', () => {
    const sensors = ['P-a1', 'P-a2', 'P-a3', 'P-b1', 'P-b2', 'P-b3'];
    const topology = new Topology(topologySchema.parse({
      sites: [{ id: 'network' }],
      dmas: [{ id: 'a', inlets: [], outlets: [] }, { id: 'b', inlets: [], outlets: [] }],
      sensors: sensors.map((id, k) => ({ id, kind: 'pressure', unit: 'MPa', site: 'network', dma: id[2], place: 'network', x: k * 100, y: 7 })),
    }));
    const raise = raisePressureModelLeak(topology, { from: T0, leakAt: 'P-a2', lossKpa: 3 }).at(-1)!;
    expect(raise).toMatchObject({ type: 'leak_candidate', state: 'raise', dma: 'a' });
    const evidence = pressureModelEvidence.parse(raise.evidence);
    expect(evidence.nearestSensor).toBe('P-a2');
    expect(evidence.ranked.map((r) => r.sensor).sort()).toEqual(['P-a1', 'P-a2', 'P-a3']);
    expect(evidence.ranked[0]).toMatchObject({ sensor: 'P-a2', x: 100, y: 7 });
    // ranked by z, lowest first; the first is below −k
    expect(evidence.ranked.map((r) => r.z)).toEqual([...evidence.ranked.map((r) => r.z)].sort((p, q) => p - q));
    expect(evidence.ranked[0].z).toBeLessThan(-evidence.k);
    expect(evidence.ranked[0].residualKpa).toBeLessThan(-0.3);
  });

  it('refuses evidence the map could not place: a logger without its residual, or an unknown key', () => {
    const ok = { since: T0, nearestSensor: 'P-a2', ranked: [{ sensor: 'P-a2', residualKpa: -1.2, z: -6.3, x: 1, y: 2 }], persistHours: 6, k: 5 };
    expect(pressureModelEvidence.safeParse(ok).success).toBe(true);
    expect(pressureModelEvidence.safeParse({ ...ok, ranked: [{ sensor: 'P-a2', z: -6.3 }] }).success).toBe(false);
    expect(pressureModelEvidence.safeParse({ ...ok, ranked: [{ ...ok.ranked[0], distanceM: 40 }] }).success).toBe(false);
  });
});
