/** The pressure detector's options (`analytics.detectors.pressure`), with today's defaults. */
import { z } from 'zod';
import { baselineOptionsSchema } from '../../baseline/options.ts';

export const pressureOptionsSchema = z.object({
  /** Minimum service pressure where a sensor sets no thresholds.low, MPa. */
  defaultLowMPa: z.number().min(0).default(0.14),
  /** Places the default applies to. */
  defaultLowPlaces: z.array(z.string()).default(['network', 'network-end', 'inlet']),
  lowOnDelayMin: z.number().min(0).default(5),
  lowOffDelayMin: z.number().min(0).default(5),
  /** Hysteresis above the threshold before a low clears, MPa. */
  hysteresisMPa: z.number().min(0).default(0.01),
  /** Rapid drop: at least this much, MPa... */
  dropMPa: z.number().positive().default(0.03),
  /** ...within this many minutes. */
  dropWindowMin: z.number().positive().default(10),
  /** Deviation from the time-of-week baseline: k × σ (σ = 1.4826 MAD)... */
  deviationK: z.number().min(0).default(5),
  /** ...and at least this much, MPa. */
  minDeviationMPa: z.number().min(0).default(0.02),
  deviationOnDelayMin: z.number().min(0).default(15),
  deviationOffDelayMin: z.number().min(0).default(15),
  /** Fewest days of baseline before deviations are judged. */
  deviationMinDays: z.number().int().min(0).default(3),
  /** The pressures' time-of-week baseline (history 21 days by default). */
  baseline: baselineOptionsSchema.optional(),
  /** Network event (one alarm for simultaneous pressure changes): fewest sensors changing together... */
  networkEventMinSensors: z.number().int().min(2).default(5),
  /** ...in at least this many DMAs... */
  networkEventMinDmas: z.number().int().min(1).default(2),
  /** ...within this many minutes. */
  networkEventWindowMin: z.number().positive().default(10),
  /** A planned outage in the register explains the event when its window starts within this many minutes. */
  networkEventPlannedToleranceMin: z.number().min(0).default(30),
  /** Hours of raw history warmUp replays. */
  replayHours: z.number().min(0).default(1),
}).strict();

export type PressureSettings = z.output<typeof pressureOptionsSchema>;
