/** The sensor-health detector's options (`analytics.detectors.sensor-health`), with today's defaults. */
import { z } from 'zod';
import { KINDS, type Kind } from '../../../core/model/units.ts';

/** Default smallest spike per kind (canonical units). Turbidity is left out: real turbidity spikes happen. */
export const SPIKE_MIN_ABS: Partial<Record<Kind, number>> = {
  pressure: 0.1, flow: 20, level: 0.5, chlorine: 0.3, ph: 1, conductivity: 200, temperature: 3,
};

/**
 * Default smallest drift per kind (canonical units). Only kinds whose difference to the peers is a
 * stable offset: pressure within a DMA, and pH network-wide. Chlorine, conductivity and
 * temperature follow water age and the source mix of each DMA (a pump trip, a chlorine dosing
 * fault move one monitor against the others for real, and the quality detector must keep seeing
 * it); flow and turbidity follow demand and events. Add them per site with `driftSize` where the
 * monitors do track each other.
 */
export const DRIFT_SIZE: Partial<Record<Kind, number>> = {
  pressure: 0.02, ph: 0.3,
};

const kind = z.enum(KINDS);
const count = z.number().min(1);
const wholeCount = z.number().int().min(1);
const perKind = z.partialRecord(kind, z.number().positive());

export const sensorHealthOptionsSchema = z.object({
  /** A sensor silent for this many of its intervals is stale. */
  staleIntervals: count.default(3),
  /** Identical values in a row that make a flatline. */
  flatlineSamples: count.default(30),
  /** Kinds whose readings always vary (noise at least); others (pump state, valve %) may hold still. */
  flatlineKinds: z.array(kind).default(['pressure', 'flow', 'level', 'chlorine', 'turbidity', 'ph', 'conductivity', 'temperature']),
  /** Kinds for which an exact 0 that holds is real (no flow, an emptied main), not a flatline. */
  zeroIsRealKinds: z.array(kind).default(['flow', 'pressure']),
  /** Bad-quality readings in a row before the sensor counts as faulty. */
  badQualitySamples: count.default(3),
  /** Readings back in range (or good) needed to clear range/bad-quality faults. */
  recoverySamples: count.default(3),
  /** Narrower physical ranges per kind, canonical units: [low, high]. */
  range: z.partialRecord(kind, z.tuple([z.number(), z.number()])).optional(),
  /** Kinds never judged stale (customer meters are read monthly by hand). */
  staleExemptKinds: z.array(kind).default(['meter']),
  /**
   * Smallest spike per kind, canonical units (MPa, m³/h, m, mg/L, pH, µS/cm, °C); kinds not
   * listed are not checked for spikes. Default SPIKE_MIN_ABS.
   */
  spikeMinAbs: perKind.default(SPIKE_MIN_ABS),
  /** Smallest spike relative to the window's median. */
  spikeMinRel: z.number().min(0).default(0.25),
  /** Readings in the Hampel window (before the reading judged). */
  spikeWindow: wholeCount.default(9),
  /** Hampel threshold in robust standard deviations (1.4826 × MAD). */
  spikeK: z.number().min(0).default(6),
  /** Longest excursion (readings) still a spike; longer is a level change. */
  spikeMaxRun: wholeCount.default(3),
  /** Spiked readings within spikeWindowMs that raise the fault. */
  spikeSamples: wholeCount.default(2),
  spikeWindowMs: z.number().min(0).default(3_600_000),
  /** The spike fault clears after this long (event time) without a spike, ms. */
  spikeClearMs: z.number().min(0).default(3_600_000),
  /**
   * Smallest drift worth reporting per kind, canonical units; kinds not listed are not checked
   * for drift. Default DRIFT_SIZE.
   */
  driftSize: perKind.default(DRIFT_SIZE),
  /** Kinds whose peers are the same kind network-wide when the DMA has too few (water quality). */
  driftNetworkKinds: z.array(kind).default(['ph', 'conductivity', 'temperature', 'chlorine']),
  /** Peers (other sensors) needed for a drift check. */
  driftMinPeers: wholeCount.default(2),
  /** Hours of differences that set a sensor's reference. */
  driftLearnHours: wholeCount.default(24),
  /** CUSUM threshold, in multiples of the drift size. */
  driftThreshold: z.number().min(0).default(2),
  /** A step of the difference that stays this long becomes the new reference, hours. */
  driftRebaseHours: wholeCount.default(24),
  /**
   * A change of the difference larger than half the drift size within this many hours is an event
   * (a burst, a valve, a DMA losing its supply), not a drift: the fastest drift looked for is half
   * the size per this many hours. Hours.
   */
  driftStepHours: wholeCount.default(3),
  /** Fewest sensors silent together (stale or offline) that are one communications loss, one alarm. */
  commsLossMinSensors: wholeCount.default(3),
  /**
   * Sensors went silent together when their last readings lie within this many minutes of one
   * another, plus the longer of their reporting intervals.
   */
  commsLossWindowMin: z.number().min(0).default(5),
}).strict();

export type SensorHealthOptions = z.input<typeof sensorHealthOptionsSchema>;
export type SensorHealthSettings = z.output<typeof sensorHealthOptionsSchema>;
