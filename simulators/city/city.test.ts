/**
 * The demo town's topology is one the platform accepts (`new Topology`), with the structure the
 * simulator promises: DMAs with metered boundaries, sensors where the model's comments put them,
 * plant SCADA on OPC UA, a few hundred customer meters; and the emitted configuration validates.
 * Cities load by name, by generator parameters and from a user's .inp file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ReferenceDataMissingError } from '../../core/reference-data.ts';
import { Topology } from '../../core/topology/topology.ts';
import { configSchema, topologySchema } from '../../core/config/schema.ts';
import { DEMO_TOWN, generateCity } from './generator/index.ts';
import { buildCity, cityTopology, CityError, loadCity, platformConfig, simCity } from './index.ts';

describe('the demo town as the demo city', () => {
  const city = loadCity('demo');

  it('is the default city', () => {
    expect(loadCity()).toBe(city);
    expect(city.name).toBe('demo');
  });

  it('gives a topology that passes the platform\'s schema and cross-reference checks', () => {
    const topology = new Topology(topologySchema.parse(cityTopology(city)), 'demo');
    expect(topology.dmas.size).toBe(5);
    expect(topology.networkSensors().length).toBe(city.sensors.length);
    expect(topology.meters.size).toBe(city.meters.length);
  });

  it('splits the network into five DMAs; the junctions outside them are the mains\'', () => {
    expect(city.dmas.map((d) => d.id)).toEqual(['hill', 'west', 'central', 'east', 'south']);
    const outside = [...city.network.junctions.keys()].filter((j) => !city.junctionDma.has(j));
    for (const j of outside) expect(city.junctionCustomers.has(j), j).toBe(false);
    const byId = Object.fromEntries(city.dmas.map((d) => [d.id, d]));
    expect(byId.south.inletSensors).toEqual(['F-PRV-3']);
    // the pump draws from the trunk main: in no DMA's water balance
    for (const d of city.dmas) expect(d.outletSensors, d.id).not.toContain('PS1.PUMP_1.flow');
    for (const d of city.dmas) expect(d.customers, d.id).toBeGreaterThan(1000);
  });

  it('puts pressure sensors where the model\'s comments say, and plant SCADA on OPC UA', () => {
    const pressure = city.sensors.filter((s) => s.kind === 'pressure' && s.id.startsWith('P-'));
    const marked = [...city.network.junctions.values()].filter((j) => /PRESSURE SENSOR/.test(j.comment));
    expect(pressure.map((s) => s.measure.node).sort()).toEqual(marked.map((j) => j.id).sort());
    expect(marked.length).toBe(30);
    const opcua = city.sensors.filter((s) => s.source?.type === 'opcua');
    expect(new Set(opcua.map((s) => s.site))).toEqual(new Set(['WTP', 'PS1']));
    expect(opcua.map((s) => s.id)).toEqual(expect.arrayContaining([
      'WTP.R1.flow', 'WTP.R1.pressure', 'WTP.R1.chlorine', 'WTP.R1.turbidity', 'PS1.PUMP_1.state', 'PS1.PUMP_1.speed', 'PS1.T1.level',
    ]));
    for (const s of opcua) expect(s.source).toMatchObject({ server: 'plant', nodeId: `ns=1;s=${s.id}` });
    const sparkplug = city.sensors.filter((s) => s.source?.type === 'sparkplug');
    expect(new Set(sparkplug.map((s) => s.dma))).toEqual(new Set(['central', 'east']));
    const monitors = city.sensors.filter((s) => s.id.startsWith('WQ-'));
    expect(monitors.length).toBe(5 * 5);
    for (const s of monitors) expect(s.source?.type).toBe('mqtt');
    for (const s of city.sensors) {
      expect(s.x, s.id).toBeTypeOf('number');
      expect(s.y, s.id).toBeTypeOf('number');
    }
  });

  it('has a few hundred customer meters: one per AMR junction, the others grouped', () => {
    expect(city.meters.length).toBeGreaterThan(200);
    expect(city.meters.length).toBeLessThan(500);
    const amr = [...city.network.junctions.values()].filter((j) => /\bAMR\b/.test(j.comment) && city.junctionCustomers.has(j.id));
    expect(amr.length).toBeGreaterThan(80);
    for (const j of amr) expect(city.meters.some((m) => m.junctions.length === 1 && m.junctions[0] === j.id), j.id).toBe(true);
    expect(city.meters.filter((m) => m.large).length).toBe(2); // the two industrial users
    const metered = new Set(city.meters.flatMap((m) => m.junctions));
    for (const j of city.junctionCustomers.keys()) expect(metered.has(j), j).toBe(true);
    // on the map where its junctions are (a single junction's meter on the junction itself)
    const single = city.meters.find((m) => m.junctions.length === 1)!;
    const node = city.network.coordinates.get(single.junctions[0])!;
    expect([single.x, single.y]).toEqual([Math.round(node.x * 100) / 100, Math.round(node.y * 100) / 100]);
    for (const m of city.meters) expect(Number.isFinite(m.x) && Number.isFinite(m.y), m.id).toBe(true);
  });

  it('emits a ready platform configuration, also for a scaled fleet', () => {
    const config = configSchema.parse(platformConfig(city, { opcuaEndpoint: 'opc.tcp://127.0.0.1:4841/plant', scale: 4, intervalS: 1 }));
    const sources = config.sources as { opcua: object[]; mqtt: { topics: object[] }[]; sparkplug: { groups: string[] }[] };
    expect(sources.opcua[0]).toMatchObject({ name: 'plant', endpoint: 'opc.tcp://127.0.0.1:4841/plant' });
    expect(sources.mqtt[0].topics[0]).toMatchObject({ pattern: 'sim/demo/#', valuePath: 'v', timePath: 't', unitPath: 'u', qualityPath: 'q' });
    expect(sources.sparkplug[0].groups).toEqual(['demo']);
    const topology = new Topology(config.topology as never);
    expect(topology.networkSensors().length).toBe(4 * city.sensors.length);
    expect(topology.sensors.get('P-n383-x3')).toMatchObject({ kind: 'pressure', dma: 'central', intervalS: 1 });
    const withAddress = (address: object) => [...topology.sensors.values()].filter((s) => expect.objectContaining(address).asymmetricMatch(s.source)).map((s) => s.id);
    expect(withAddress({ type: 'sparkplug', group: 'demo', node: 'central', device: 'logger-n383-x3', metric: 'pressure' })).toEqual(['P-n383-x3']);
    expect(withAddress({ type: 'opcua', server: 'plant', nodeId: 'ns=1;s=WTP.R1.flow-x1' })).toEqual(['WTP.R1.flow-x1']);
    // copies are load, not water: DMA balances use the originals
    expect(topology.dmas.get('south')?.inlets).toEqual(['F-PRV-3']);
    expect(simCity(city).endpoints.opcua[0].name).toBe('plant');
  });

  it('refuses a spec whose DMA boundaries leak into each other', () => {
    // without a meter on the pipe Central shares with East, the two are one area: a spec error, not two DMAs
    const { spec, inpText } = generateCity(DEMO_TOWN);
    const shared = spec.dmas.find((d) => d.id === 'central')!.boundary.find((l) => spec.dmas.find((d) => d.id === 'east')!.boundary.includes(l))!;
    const leaky = { ...spec, dmas: spec.dmas.map((d) => ({ ...d, boundary: d.boundary.filter((l) => l !== shared) })) };
    expect(() => buildCity(leaky, inpText)).toThrow(CityError);
    expect(() => buildCity(leaky, inpText)).toThrow(/is in both .* boundary is not closed/);
  });
});

describe('cities by reference', () => {
  it('loads a user\'s .inp file as one DMA over the network, in its own units', () => {
    const file = fileURLToPath(new URL('../networks/small-us-town.inp', import.meta.url));
    const city = loadCity(file);
    expect(city.name).toBe('small-us-town');
    expect(city.network.si).toBe(false);
    expect(city.dmas.map((d) => [d.id, d.junctions.length])).toEqual([['network', 4]]);
    expect(city.dmas[0].inletSensors.sort()).toEqual(['F-MAIN', 'F-PT']);
    expect(city.sensors.map((s) => s.id)).toEqual(expect.arrayContaining(['P-J2', 'P-J3', 'WQ-J2.chlorine', 'plant.SRC.flow', 'PS1.TK.level']));
    expect(() => new Topology(topologySchema.parse(cityTopology(city)))).not.toThrow();
    expect(() => loadCity('no/such/network.inp')).toThrow(/cannot read the network/);
  });

  it('reads L-Town from the reference data folder, and says which file is missing when it is not there', () => {
    const saved = process.env.AQUAWATCH_DATA_DIR;
    const empty = mkdtempSync(join(tmpdir(), 'aquawatch-no-data-'));
    process.env.AQUAWATCH_DATA_DIR = empty;
    try {
      expect(() => loadCity('ltown')).toThrow(ReferenceDataMissingError);
      expect(() => loadCity('ltown')).toThrow(`expected ${join(empty, 'networks', 'L-TOWN.inp')}`);
    } finally {
      if (saved === undefined) delete process.env.AQUAWATCH_DATA_DIR;
      else process.env.AQUAWATCH_DATA_DIR = saved;
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('generates a city from parameters, and names the cities it knows when asked for another', () => {
    const city = loadCity({ generate: { seed: 4, dmas: 3, junctions: 200 } });
    expect(city.name).toBe('city-4-3-200');
    expect(city.network.junctions.size).toBe(200);
    expect(() => loadCity('atlantis')).toThrow(/unknown city \(known: demo, large, ltown, net1/);
  });
});
