import { describe, expect, it } from 'vitest';
import { topologySchema } from '../../core/config/schema.ts';
import { Topology } from '../../core/topology/topology.ts';
import { createDetectors } from './index.ts';
import { detectorOptionsSchema } from './options.ts';

const topology = new Topology(topologySchema.parse({
  sites: [{ id: 'net' }],
  dmas: [{ id: 'a', inlets: ['F-a'], customers: 100 }],
  sensors: [
    { id: 'P-a1', kind: 'pressure', unit: 'MPa', site: 'net', dma: 'a', place: 'network' },
    { id: 'F-a', kind: 'flow', unit: 'm3/h', site: 'net', dma: 'a', place: 'inlet' },
  ],
}));

describe('detector options (analytics.detectors)', () => {
  it('has one section per detector of the registry, named as the detector', () => {
    const names = createDetectors({ topology, timezone: 'Asia/Shanghai' }).all.map((d) => d.name).sort();
    expect(Object.keys(detectorOptionsSchema.shape).sort()).toEqual(names);
  });

  it('fills every section with its defaults, as the detectors had them', () => {
    const o = detectorOptionsSchema.parse({});
    expect(o.burst.minBurstFraction).toBe(0.05);
    expect(o.outage.thresholdMPa).toBe(0.05);
    expect(o.outage.tank.timeToEmptyLimitMs).toBe(6 * 3_600_000);
    expect(o['night-flow'].riseFraction).toBe(0.1);
    expect(o.quality.hysteresis.conductivity).toBe(10);
    expect(o['sensor-health'].spikeMinAbs.pressure).toBe(0.1);
  });

  it('refuses an unknown or wrong option, naming it', () => {
    expect(detectorOptionsSchema.safeParse({ burst: { stepz: 4 } }).success).toBe(false);
    expect(() => createDetectors({ topology, timezone: 'Asia/Shanghai', options: { outage: { minShareBelow: 2 } } }))
      .toThrow(/outage\.minShareBelow/);
  });

  it('hands each section to its detector', () => {
    expect(() => createDetectors({ topology, timezone: 'Asia/Shanghai', options: { 'sensor-health': { staleIntervals: 0 } } }))
      .toThrow(/sensor-health\.staleIntervals/);
    expect(() => createDetectors({ topology, timezone: 'Asia/Shanghai', options: { 'night-flow': { windowFromHour: 5, windowToHour: 4 } } }))
      .toThrow(/nightFlow\.windowToHour/);
    expect(() => createDetectors({ topology, timezone: 'Asia/Shanghai', options: { meters: { highFactor: 1 } } }))
      .toThrow(/meters\.highFactor/);
  });
});
