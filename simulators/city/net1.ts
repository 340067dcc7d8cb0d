/**
 * EPANET's example network 1 (US EPA, public domain; read from the reference data folder) as a tiny city: 9 junctions, a
 * source, a pump and a tank, in US units (GPM, ft, psi), which also exercises the unit conversions.
 * One DMA fed through pipe 10 (from the pump) and pipe 110 (from the tank); the plant outlet is the pump.
 */
import type { CitySpec } from './city.ts';

export const NET1: CitySpec = {
  name: 'net1',
  title: 'EPANET Net1',
  network: 'net1',
  timezone: 'UTC',
  dmas: [{ id: 'town', name: 'Town', seed: '11', boundary: ['10', '110'], profile: 'bwdf-dma5', telemetry: 'mqtt' }],
  plant: { site: 'plant', name: 'Source works', outlets: [{ reservoir: '9', main: '9' }] },
  pumpStations: [{ site: 'PS', name: 'Lift station', pumps: ['9'], tanks: ['2'] }],
  pressureSensors: ['12', '22', '32'],
  qualityMonitors: ['23'],
  customers: { m3PerPropertyDay: 0.45, junctionsPerMeter: 2 },
  opcuaServer: 'plant',
  mqttRoot: 'sim/net1',
  sparkplugGroup: 'net1',
};
