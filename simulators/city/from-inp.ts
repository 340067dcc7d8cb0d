/**
 * A city from any EPANET .inp file (a user's own network, or a reference network without a spec):
 * one DMA over the junctions connected to the first one without crossing pumps, metered at every link
 * that touches a reservoir or tank; the plant outlets are the reservoirs with the first link leaving
 * each; all pumps and tanks make one pump station. Pressure loggers are the junctions the file's
 * comments mark (`PRESSURE SENSOR`, as L-Town writes), or else about one per 25 junctions spread over
 * the map. Chlorine comes from the reservoirs unless the file runs its own quality model.
 */
import { basename } from 'node:path';
import { parseInp, type InpNetwork } from '../hydraulics/inp.ts';
import { CityError, type CitySpec } from './city.ts';

const JUNCTIONS_PER_LOGGER = 25;

/** The city name a file gives: its base name in lower case, other characters as '-'. */
export function cityNameOfFile(path: string): string {
  const name = basename(path).replace(/\.inp$/i, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return name || 'network';
}

export function specFromInp(path: string, inpText: string): CitySpec {
  const name = cityNameOfFile(path);
  const net = parseInp(inpText);
  const junctions = [...net.junctions.keys()];
  if (!junctions.length) throw new CityError(name, `${path} has no junctions`);
  const sources = new Set([...net.reservoirs.keys(), ...net.tanks.keys()]);
  const links = [...net.links.values()];
  const boundary = links.filter((l) => sources.has(l.from) || sources.has(l.to)).map((l) => l.id);
  const pumps = links.filter((l) => l.type === 'pump').map((l) => l.id);
  const outlets = [...net.reservoirs.keys()].flatMap((r) => {
    const main = links.find((l) => l.from === r || l.to === r);
    return main ? [{ reservoir: r, main: main.id }] : [];
  });
  const marked = [...net.junctions.values()].filter((j) => /PRESSURE SENSOR/i.test(j.comment)).map((j) => j.id);
  const qualityOption = /^\s*QUALITY\s+(\S+)/im.exec(optionsSection(inpText));
  const ownQuality = qualityOption !== null && qualityOption[1].toUpperCase() !== 'NONE';
  return {
    name,
    title: `${basename(path)}`,
    timezone: 'UTC',
    dmas: [{ id: 'network', name: 'Whole network', seed: junctions[0], boundary, profile: 'bwdf-dma5', telemetry: 'mqtt' }],
    ...(outlets.length ? { plant: { site: 'plant', name: 'Source works', outlets } } : {}),
    ...(pumps.length || net.tanks.size ? { pumpStations: [{ site: 'PS1', name: 'Pump station', pumps, tanks: [...net.tanks.keys()] }] } : {}),
    pressureSensors: marked.length ? 'comments' : spreadJunctions(net, Math.max(1, Math.round(junctions.length / JUNCTIONS_PER_LOGGER))),
    qualityMonitors: 'auto',
    ...(ownQuality ? {} : { quality: { sources: Object.fromEntries([...net.reservoirs.keys()].map((r) => [r, 0.8])), bulkPerDay: -0.5, wallMPerDay: 0, initial: 0.5 } }),
    customers: { m3PerPropertyDay: 0.45, junctionsPerMeter: 3 },
    opcuaServer: 'plant',
    mqttRoot: `sim/${name}`,
    sparkplugGroup: name,
  };
}

function optionsSection(inpText: string): string {
  const m = /\[OPTIONS\]([\s\S]*?)(\n\s*\[|$)/i.exec(inpText);
  return m ? m[1] : '';
}

/** `count` junctions far apart on the map (farthest-point sampling from the first junction). */
function spreadJunctions(net: InpNetwork, count: number): string[] {
  const ids = [...net.junctions.keys()].filter((j) => net.coordinates.has(j));
  if (ids.length === 0) return [...net.junctions.keys()].slice(0, count);
  const at = ids.map((j) => net.coordinates.get(j)!);
  const gap = at.map((p) => Math.hypot(p.x - at[0].x, p.y - at[0].y));
  const chosen = [ids[0]];
  while (chosen.length < Math.min(count, ids.length)) {
    let best = 0;
    for (let i = 1; i < gap.length; i++) if (gap[i] > gap[best]) best = i;
    chosen.push(ids[best]);
    const p = at[best];
    for (let i = 0; i < gap.length; i++) gap[i] = Math.min(gap[i], Math.hypot(at[i].x - p.x, at[i].y - p.y));
  }
  return chosen;
}
