/**
 * L-Town (BattLeDIM 2020, KIOS Research and Innovation Center of Excellence,
 * University of Cyprus; Zenodo record 4017659, CC BY 4.0), read from the reference data folder
 * (never committed; core/reference-data.ts), 782 junctions fed from two reservoirs
 * through pressure-reducing valves, with a pumped tank feeding a hill zone.
 *
 * DMAs follow the network's own structure where it has one, and pipes where it does not:
 * - hill: the zone supplied from tank T1 (filled by PUMP_1); its AMR-metered customers come from the model;
 * - south: the low zone behind PRV-3;
 * - west, central, east: the main zone behind PRV-1/PRV-2, split along six pipes chosen to cut it
 *   into three parts of similar size with as few meters as possible (central has no source of its own
 *   and is fed through its boundary pipes from west and east).
 * Demand shapes are real DMA inflows from BWDF (see hydraulics/demand-profiles.json).
 */
import type { CitySpec } from './city.ts';

export const LTOWN: CitySpec = {
  name: 'ltown',
  title: 'L-Town',
  network: 'ltown',
  timezone: 'Asia/Shanghai',
  dmas: [
    { id: 'hill', name: 'Hill (tank-fed)', seed: 'n1', boundary: ['p239'], profile: 'bwdf-dma3', telemetry: 'mqtt' },
    { id: 'west', name: 'West', seed: 'n150', boundary: ['PRV-2', 'p9', 'p117', 'p137', 'p202'], profile: 'bwdf-dma7', telemetry: 'mqtt' },
    {
      id: 'central', name: 'Central', seed: 'n159', boundary: ['p9', 'p117', 'p137', 'p202', 'p425', 'p689'],
      profile: 'bwdf-dma8', telemetry: 'sparkplug',
    },
    { id: 'east', name: 'East', seed: 'n663', boundary: ['PRV-1', 'p425', 'p689', 'PRV-3'], profile: 'bwdf-dma4', telemetry: 'sparkplug' },
    { id: 'south', name: 'South (low zone)', seed: 'n215', boundary: ['PRV-3'], profile: 'bwdf-dma6', telemetry: 'mqtt' },
  ],
  plant: {
    site: 'WTP',
    name: 'L-Town treatment works',
    outlets: [{ reservoir: 'R1', main: 'p227' }, { reservoir: 'R2', main: 'p235' }],
  },
  pumpStations: [{ site: 'PS1', name: 'Hill pump station', pumps: ['PUMP_1'], tanks: ['T1'], supplies: ['hill'] }],
  pressureSensors: 'comments',
  qualityMonitors: 'auto',
  quality: { sources: { R1: 0.8, R2: 0.8 }, bulkPerDay: -0.5, wallMPerDay: 0, initial: 0.5 },
  customers: { m3PerPropertyDay: 0.45, junctionsPerMeter: 3 },
  opcuaServer: 'plant',
  mqttRoot: 'sim/ltown',
  sparkplugGroup: 'ltown',
};
