/**
 * Pressure compliance (管网末梢压力合格率): the share of network-end pressure samples at or above the
 * minimum service pressure (0.14 MPa; the norm is ≥ 97 %). Sensors with place `network-end` are used;
 * when a topology marks none, every network pressure sensor (`network` or `network-end`) is.
 *
 * Samples are counted one by one (an aggregate cannot count values above a threshold), reading the
 * store a day at a time so memory stays bounded over a quarter. Bad-quality samples are left out
 * and counted apart.
 */
import type { Topology } from '../../core/topology/topology.ts';
import type { TimeSeriesStore } from '../../core/tsdb/types.ts';
import { DEFAULT_MIN_PRESSURE_MPA, PRESSURE_COMPLIANCE_NORM, type PressureCompliance, type SensorCompliance } from './types.ts';

const DAY_MS = 86_400_000;

export interface PressureComplianceOptions {
  from: number;
  to: number;
  thresholdMpa?: number;
  norm?: number;
  /** Length of each read, ms. Default a day. */
  chunkMs?: number;
}

/** The sensors pressure compliance is measured on, and on which basis. */
export function complianceSensors(topology: Topology): { basis: 'network-end' | 'network'; sensors: string[] } {
  const pressure = [...topology.sensors.values()].filter((s) => s.kind === 'pressure');
  const ends = pressure.filter((s) => s.place === 'network-end');
  if (ends.length) return { basis: 'network-end', sensors: ends.map((s) => s.id).sort() };
  return { basis: 'network', sensors: pressure.filter((s) => s.place === 'network').map((s) => s.id).sort() };
}

export async function pressureCompliance(store: TimeSeriesStore, topology: Topology, o: PressureComplianceOptions): Promise<PressureCompliance> {
  const threshold = o.thresholdMpa ?? DEFAULT_MIN_PRESSURE_MPA;
  const norm = o.norm ?? PRESSURE_COMPLIANCE_NORM;
  const chunkMs = o.chunkMs ?? DAY_MS;
  const { basis, sensors } = complianceSensors(topology);
  const stats = new Map<string, SensorCompliance>(sensors.map((id) => [id, {
    sensor: id, dma: topology.sensors.get(id)?.dma ?? '', samples: 0, compliant: 0, badQuality: 0, share: null, minMpa: null,
  }]));
  if (sensors.length) {
    for (let t = o.from; t < o.to; t += chunkMs) {
      const chunk = await store.query({ measurement: 'pressure', sensors, from: t, to: Math.min(o.to, t + chunkMs) });
      for (const [sensor, values] of chunk) {
        const s = stats.get(sensor)!;
        for (const v of values) {
          if (v.quality === 'bad' || !Number.isFinite(v.value)) { s.badQuality++; continue; }
          s.samples++;
          // a hair of tolerance so that 0.14 stored as 0.13999999 still counts as 0.14
          if (v.value >= threshold - 1e-9) s.compliant++;
          if (s.minMpa === null || v.value < s.minMpa) s.minMpa = v.value;
        }
      }
    }
  }
  let samples = 0;
  let compliant = 0;
  for (const s of stats.values()) {
    s.share = s.samples ? s.compliant / s.samples : null;
    samples += s.samples;
    compliant += s.compliant;
  }
  const share = samples ? compliant / samples : null;
  return {
    thresholdMpa: threshold, norm, basis, samples, compliant, share,
    meetsNorm: share === null ? null : share >= norm,
    sensors: [...stats.values()],
  };
}
