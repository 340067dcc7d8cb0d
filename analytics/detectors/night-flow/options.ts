/** The night-flow detector's options (`analytics.detectors.night-flow`), with today's defaults. */
import { z } from 'zod';

export const nightFlowOptionsSchema = z.object({
  /** Local window of the night minimum, hours [from, to). */
  windowFromHour: z.number().min(0).max(24).default(2),
  windowToHour: z.number().min(0).max(24).default(4),
  /** Averaging window of the minimum, min. */
  averageMin: z.number().positive().default(15),
  /** A 15-min window counts only with this share of its samples. */
  minCoverage: z.number().min(0).max(1).default(0.5),
  /** Recent nights the rise is measured against (median). */
  historyNights: z.number().int().positive().default(14),
  /**
   * Nights kept to learn how much higher the nights before weekend days and holidays run than the
   * nights before working days (eight weeks: 16 rest nights). Each night is compared like with like.
   */
  dayKindNights: z.number().int().positive().default(56),
  /** Fewest earlier nights before a rise can be judged (of tonight's kind while the rest-night offset is unknown). */
  minNights: z.number().int().min(1).default(2),
  /** A rise of at least this share of the reference MNF raises. */
  riseFraction: z.number().min(0).default(0.1),
  /** A rise above the median of recent nights by k × σ (σ = 1.4826 MAD, at least sigmaFloorFraction of the reference)... */
  madK: z.number().min(0).default(3),
  sigmaFloorFraction: z.number().min(0).default(0.03),
  /** ...raises too when it is at least this share of the reference. */
  madMinFraction: z.number().min(0).default(0.05),
  /**
   * Rising nights running before new_leak is raised, whatever the size of the first night's rise:
   * a leak stays, while a single night of high use (a pool filled, a weekend party) does not.
   */
  confirmNights: z.number().int().min(1).default(2),
  /** Clear when MNF is back below reference + this share of the rise threshold for clearNights nights. */
  clearShare: z.number().min(0).default(0.5),
  clearNights: z.number().int().min(1).default(2),
}).strict();

export type NightFlowOptions = z.input<typeof nightFlowOptionsSchema>;
export type NightFlowSettings = z.output<typeof nightFlowOptionsSchema>;
