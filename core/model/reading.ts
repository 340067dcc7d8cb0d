/**
 * A reading under its three names, one per stage from the sources to the detectors
 * (docs/architecture.md): RawReading (what a source decoded) → Point (validated, converted, joined
 * with the topology: what the store keeps and the detectors see) → Reading (what the telemetry bus
 * carries: core/bus/messages/telemetry.ts).
 * Times are milliseconds since the epoch, UTC. Quality follows OPC UA's three classes.
 */
import type { Kind } from './units.ts';

export type Quality = 'good' | 'uncertain' | 'bad';

export const QUALITY_CODE: Record<Quality, 0 | 1 | 2> = { good: 0, uncertain: 1, bad: 2 };
export const QUALITY_FROM_CODE: readonly Quality[] = ['good', 'uncertain', 'bad'];

export function qualityFromCode(code: number): Quality {
  return QUALITY_FROM_CODE[code] ?? 'bad';
}

/** What a source hands to the pipeline: the value in the unit the device sent. */
export interface RawReading {
  sensor: string;
  ts: number;
  value: number;
  quality: Quality;
  /** Unit the value is in, when the message says; otherwise the sensor's configured unit applies. */
  unit?: string;
}

/**
 * A reading after validation and unit conversion, in the canonical unit of its kind: what the
 * telemetry bus carries (consumers join kind, site and DMA back from the topology).
 */
export interface Reading {
  sensor: string;
  ts: number;
  value: number;
  quality: Quality;
}

/**
 * A reading joined with the sensor's static attributes: what the time-series store keeps and the
 * detectors see.
 * `measurement` is the quantity kind for sensor data, or a derived series' own name
 * (e.g. `dma_inflow`, `night_flow`).
 */
export interface Point extends Reading {
  measurement: Kind | string;
  site: string;
  dma: string;
}
