/**
 * The cities the simulator knows, by name. A city is built once per process and shared: it is
 * read-only after building.
 */
import { buildCity, CityError, type City, type CitySpec } from './city.ts';
import { LTOWN } from './ltown.ts';
import { NET1 } from './net1.ts';

export const CITY_SPECS: Record<string, CitySpec> = { ltown: LTOWN, net1: NET1 };

const built = new Map<string, City>();

export function loadCity(name: string): City {
  const spec = CITY_SPECS[name];
  if (!spec) throw new CityError(name, `unknown city (known: ${Object.keys(CITY_SPECS).join(', ')})`);
  let city = built.get(name);
  if (!city) {
    city = buildCity(spec);
    built.set(name, city);
  }
  return city;
}

export { buildCity, cityTopology, citySensors, CityError, type City, type CitySpec, type CitySensor, type CityMeter, type CityDma } from './city.ts';
export { platformConfig, simCity, type PlatformConfigOptions } from './config.ts';
