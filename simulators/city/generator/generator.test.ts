/**
 * The city generator: one seed gives one city, byte for byte; the demo town is a network EPANET
 * solves with realistic pressures and a cycling tank, split into DMAs the city builder accepts;
 * the large city has the sizes asked for.
 */
import { describe, expect, it } from 'vitest';
import { topologySchema } from '../../../core/config/schema.ts';
import { Topology } from '../../../core/topology/topology.ts';
import { loadProfiles } from '../../hydraulics/demand.ts';
import { parseInp } from '../../hydraulics/inp.ts';
import { HydraulicModel } from '../../hydraulics/model.ts';
import { buildCity, cityTopology } from '../city.ts';
import { DEMO_TOWN, generateCity, GeneratorError, LARGE_CITY } from './index.ts';

/** 1 MPa in metres of water. */
const M_PER_MPA = 1 / 0.00980665;

describe('the city generator', () => {
  it('gives byte-identical .inp text for the same seed, and another city for another seed', () => {
    const a = generateCity(DEMO_TOWN).inpText;
    expect(generateCity(DEMO_TOWN).inpText).toBe(a);
    expect(generateCity({ ...DEMO_TOWN, seed: DEMO_TOWN.seed + 1 }).inpText).not.toBe(a);
  });

  it('refuses sizes it cannot build, naming the limit', () => {
    expect(() => generateCity({ seed: 1, dmas: 2, junctions: 800 })).toThrow(GeneratorError);
    expect(() => generateCity({ seed: 1, dmas: 5, junctions: 40 })).toThrow(/junctions must be a whole number ≥ \d+ for 5 DMAs/);
  });
});

describe('the demo town', () => {
  const generated = generateCity(DEMO_TOWN);
  const city = buildCity(generated.spec, generated.inpText);

  it('has the elements and DMAs the platform\'s docs and scenarios name', () => {
    const net = parseInp(generated.inpText);
    expect(net.junctions.size).toBe(DEMO_TOWN.junctions);
    expect([...net.reservoirs.keys()]).toEqual(['R1', 'R2']);
    expect([...net.tanks.keys()]).toEqual(['T1']);
    expect([...net.links.values()].filter((l) => l.type !== 'pipe').map((l) => l.id).sort()).toEqual(['PRV-1', 'PRV-2', 'PRV-3', 'PUMP_1']);
    expect(net.flowUnits).toBe('CMH');
    for (const j of net.junctions.keys()) expect(net.coordinates.has(j), j).toBe(true);
    expect(city.dmas.map((d) => d.id)).toEqual(['hill', 'west', 'central', 'east', 'south']);
    expect(city.sites.map((s) => s.id)).toEqual(['network', 'WTP', 'PS1']);
  });

  it('splits into DMAs that draw only through metered links (the city builder\'s flood fill accepts them)', () => {
    const byId = Object.fromEntries(city.dmas.map((d) => [d.id, d]));
    // hill is fed from the tank, south through PRV-3; the main zone's DMAs from the trunk mains
    const tankOutlet = [...city.network.links.values()].find((l) => l.from === 'T1')!.id;
    expect(byId.hill.inletSensors).toEqual([`F-${tankOutlet}`]);
    expect(byId.south.inletSensors).toEqual(['F-PRV-3']);
    for (const d of city.dmas) {
      expect(d.junctions.length, d.id).toBeGreaterThan(100);
      expect(d.customers, d.id).toBeGreaterThan(1000);
      // every link leaving the DMA's junctions is on its metered border
      const inside = new Set(d.junctions);
      for (const l of city.network.links.values()) {
        if (inside.has(l.from) !== inside.has(l.to)) expect(d.boundary, `${d.id}: ${l.id}`).toContain(l.id);
      }
    }
    // junctions outside every DMA are the trunk mains and the plant's, with no customers
    const outside = [...city.network.junctions.keys()].filter((j) => !city.junctionDma.has(j));
    for (const j of outside) expect(city.junctionCustomers.has(j), j).toBe(false);
    expect(() => new Topology(topologySchema.parse(cityTopology(city)), 'demo')).not.toThrow();
  });

  it('places about one pressure logger per 25 junctions, one at each DMA\'s network end, and a quality monitor there', () => {
    const loggers = city.sensors.filter((s) => s.id.startsWith('P-'));
    expect(loggers.length).toBeGreaterThanOrEqual(Math.round(DEMO_TOWN.junctions / 25) - 5);
    for (const d of city.dmas) {
      const ends = loggers.filter((s) => s.dma === d.id && s.place === 'network-end');
      expect(ends, d.id).toHaveLength(1);
      expect(city.sensors.some((s) => s.id === `WQ-${ends[0].node}.chlorine`), d.id).toBe(true);
    }
    const amr = [...city.network.junctions.values()].filter((j) => /\bAMR\b/.test(j.comment));
    expect(new Set(amr.map((j) => city.junctionDma.get(j.id)))).toEqual(new Set(['hill']));
    expect(city.meters.filter((m) => m.large).length).toBeGreaterThan(0);
  });

  it('solves in EPANET over a day: pressures within 0.2-0.6 MPa everywhere, the hill tank cycling', async () => {
    const model = await HydraulicModel.open(generated.inpText, { hydraulicStepS: 300, demandGroups: city.junctionDma });
    try {
      const profiles = loadProfiles().profiles;
      const junctions = [...city.network.junctions.keys()].map((id) => model.nodeIndex(id));
      const tank = model.nodeIndex('T1');
      const pump = model.linkIndex('PUMP_1');
      let lowest = Infinity;
      let highest = -Infinity;
      let levelMin = Infinity;
      let levelMax = -Infinity;
      let pumpSwitches = 0;
      let pumpOn = model.linkOpen(pump);
      // the first day settles the tank; the second is checked
      for (let t = 300; t <= 48 * 3600; t += 300) {
        model.advanceTo(t, (at) => {
          const hour = Math.floor(at / 3600) % 24;
          for (const d of city.dmas) model.setGroupMultiplier(d.id, profiles[d.profile].weekday[hour]);
        });
        if (t <= 24 * 3600) continue;
        for (const i of junctions) {
          const p = model.pressureM(i);
          lowest = Math.min(lowest, p);
          highest = Math.max(highest, p);
        }
        const level = model.tankLevelM(tank);
        levelMin = Math.min(levelMin, level);
        levelMax = Math.max(levelMax, level);
        if (model.linkOpen(pump) !== pumpOn) {
          pumpOn = !pumpOn;
          pumpSwitches++;
        }
      }
      expect(lowest / M_PER_MPA).toBeGreaterThanOrEqual(0.2);
      expect(highest / M_PER_MPA).toBeLessThanOrEqual(0.6);
      expect(levelMax - levelMin).toBeGreaterThan(1);
      expect(pumpSwitches).toBeGreaterThanOrEqual(2);
    } finally {
      model.close();
    }
  });
});

describe('the large city', () => {
  it('generates 100,000 junctions in a few hundred DMAs in seconds, and the city builder accepts it', () => {
    const started = performance.now();
    const generated = generateCity(LARGE_CITY);
    const seconds = (performance.now() - started) / 1000;
    const city = buildCity(generated.spec, generated.inpText);
    expect(city.network.junctions.size).toBe(100_000);
    expect(city.dmas).toHaveLength(300);
    expect(city.dmas.filter((d) => d.id.startsWith('hill-'))).toHaveLength(30);
    expect(city.sensors.filter((s) => s.id.startsWith('P-')).length).toBeGreaterThan(3500);
    // seconds, not minutes, also on a busy machine
    expect(seconds).toBeLessThan(60);
  }, 180_000);
});
