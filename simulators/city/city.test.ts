/**
 * The demo city's topology is one the platform accepts (`new Topology`), with the structure the
 * simulator promises: DMAs with metered boundaries, sensors where the model's comments put them,
 * plant SCADA on OPC UA, a few hundred customer meters; and the emitted configuration validates.
 */
import { describe, expect, it } from 'vitest';
import { Topology } from '../../core/topology/topology.ts';
import { configSchema, topologySchema } from '../../core/config/schema.ts';
import { buildCity, cityTopology, CityError, loadCity, platformConfig, simCity } from './index.ts';
import { LTOWN } from './ltown.ts';

describe('L-Town as the demo city', () => {
  const city = loadCity('ltown');

  it('gives a topology that passes the platform\'s schema and cross-reference checks', () => {
    const topology = new Topology(topologySchema.parse(cityTopology(city)), 'ltown');
    expect(topology.dmas.size).toBe(5);
    expect(topology.networkSensors().length).toBe(city.sensors.length);
    expect(topology.meters.size).toBe(city.meters.length);
  });

  it('splits the network into five DMAs that cover every junction but the two at the plant', () => {
    const sizes = Object.fromEntries(city.dmas.map((d) => [d.id, d.junctions.length]));
    expect(sizes).toEqual({ hill: 92, west: 175, central: 229, east: 253, south: 31 });
    const outside = [...city.network.junctions.keys()].filter((j) => !city.junctionDma.has(j)).sort();
    expect(outside).toEqual(['n303', 'n336']);
    const byId = Object.fromEntries(city.dmas.map((d) => [d.id, d]));
    expect(byId.hill.inletSensors).toEqual(['F-p239']);
    expect(byId.south.inletSensors).toEqual(['F-PRV-3']);
    expect(byId.east.outletSensors).toContain('F-PRV-3');
    // the pump draws from Central: its flow leaves Central's water balance
    expect(byId.central.outletSensors).toContain('PS1.PUMP_1.flow');
    for (const d of city.dmas) expect(d.customers, d.id).toBeGreaterThan(100);
  });

  it('puts pressure sensors where the model\'s comments say, and plant SCADA on OPC UA', () => {
    const pressure = city.sensors.filter((s) => s.kind === 'pressure' && s.id.startsWith('P-'));
    const marked = [...city.network.junctions.values()].filter((j) => /PRESSURE SENSOR/.test(j.comment));
    expect(pressure.map((s) => s.measure.node).sort()).toEqual(marked.map((j) => j.id).sort());
    expect(marked.length).toBe(33);
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
    expect(city.meters.length).toBeLessThan(400);
    const amr = [...city.network.junctions.values()].filter((j) => /\bAMR\b/.test(j.comment) && city.junctionCustomers.has(j.id));
    expect(amr.length).toBeGreaterThan(80);
    for (const j of amr) expect(city.meters.some((m) => m.junctions.length === 1 && m.junctions[0] === j.id), j.id).toBe(true);
    expect(city.meters.filter((m) => m.large).length).toBe(4); // the four industrial users
    const metered = new Set(city.meters.flatMap((m) => m.junctions));
    for (const j of city.junctionCustomers.keys()) expect(metered.has(j), j).toBe(true);
  });

  it('emits a ready platform configuration, also for a scaled fleet', () => {
    const config = configSchema.parse(platformConfig(city, { opcuaEndpoint: 'opc.tcp://127.0.0.1:4841/plant', scale: 4, intervalS: 1 }));
    const sources = config.sources as { opcua: object[]; mqtt: { topics: object[] }[]; sparkplug: { groups: string[] }[] };
    expect(sources.opcua[0]).toMatchObject({ name: 'plant', endpoint: 'opc.tcp://127.0.0.1:4841/plant' });
    expect(sources.mqtt[0].topics[0]).toMatchObject({ pattern: 'sim/ltown/#', valuePath: 'v', timePath: 't', unitPath: 'u', qualityPath: 'q' });
    expect(sources.sparkplug[0].groups).toEqual(['ltown']);
    const topology = new Topology(config.topology as never);
    expect(topology.networkSensors().length).toBe(4 * city.sensors.length);
    expect(topology.sensors.get('P-n54-x3')).toMatchObject({ kind: 'pressure', dma: 'central', intervalS: 1 });
    const withAddress = (address: object) => [...topology.sensors.values()].filter((s) => expect.objectContaining(address).asymmetricMatch(s.source)).map((s) => s.id);
    expect(withAddress({ type: 'sparkplug', group: 'ltown', node: 'central', device: 'logger-n54-x3', metric: 'pressure' })).toEqual(['P-n54-x3']);
    expect(withAddress({ type: 'opcua', server: 'plant', nodeId: 'ns=1;s=WTP.R1.flow-x1' })).toEqual(['WTP.R1.flow-x1']);
    // copies are load, not water: DMA balances use the originals
    expect(topology.dmas.get('hill')?.inlets).toEqual(['F-p239']);
    expect(simCity(city).endpoints.opcua[0].name).toBe('plant');
  });

  it('refuses a spec whose DMA boundaries leak into each other', () => {
    // without a meter on p117, West and Central are one area: a spec error, not two DMAs
    const leaky = { ...LTOWN, dmas: LTOWN.dmas.map((d) => ({ ...d, boundary: d.boundary.filter((l) => l !== 'p117') })) };
    expect(() => buildCity(leaky)).toThrow(CityError);
    expect(() => buildCity(leaky)).toThrow(/is in both .* boundary is not closed/);
  });
});

describe('Net1 as a small test city', () => {
  it('builds, in US units, with one DMA', () => {
    const city = loadCity('net1');
    expect(city.network.si).toBe(false);
    expect(city.dmas.map((d) => d.id)).toEqual(['town']);
    expect(() => new Topology(topologySchema.parse(cityTopology(city)))).not.toThrow();
  });
});
