/**
 * Ground elevations: one smooth seeded surface (a few long waves in random directions) added to the
 * level of each pressure zone, so that every junction sits 35-45 m below its zone's hydraulic grade
 * and pressures stay within 0.2-0.6 MPa once head losses are taken off.
 */
import { Rng } from '../../hydraulics/random.ts';

export type Zone = 'plant' | 'main' | 'low' | 'hill';

/** Ground level of each zone, m above datum. */
export const ZONE_GROUND_M: Record<Zone, number> = { plant: 50, main: 30, low: 5, hill: 62 };
/** Metres between a zone's ground level and its static hydraulic grade. */
export const STATIC_PRESSURE_M = 40;
/** Half the spread of the smooth surface, m. */
const RELIEF_M = 7;

export class Terrain {
  private readonly waves: { kx: number; ky: number; phase: number; weight: number }[] = [];

  constructor(seed: number) {
    const rng = new Rng(seed, 'terrain');
    for (let i = 0; i < 4; i++) {
      const angle = rng.uniform(0, Math.PI);
      const wavelengthM = rng.uniform(1200, 4000);
      const k = (2 * Math.PI) / wavelengthM;
      this.waves.push({ kx: k * Math.cos(angle), ky: k * Math.sin(angle), phase: rng.uniform(0, 2 * Math.PI), weight: rng.uniform(0.5, 1) });
    }
  }

  /** Elevation of a point of a zone, m. */
  elevation(zone: Zone, x: number, y: number): number {
    let sum = 0;
    let total = 0;
    for (const w of this.waves) {
      sum += w.weight * Math.sin(w.kx * x + w.ky * y + w.phase);
      total += w.weight;
    }
    return ZONE_GROUND_M[zone] + RELIEF_M * (sum / total);
  }
}
