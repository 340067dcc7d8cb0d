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
  /** Fewest earlier nights before a rise can be judged. */
  minNights: z.number().int().min(1).default(2),
  /** A rise of at least this share of the reference MNF raises. */
  riseFraction: z.number().min(0).default(0.1),
  /** A rise above the median of recent nights by k × σ (σ = 1.4826 MAD, at least sigmaFloorFraction of the reference)... */
  madK: z.number().min(0).default(3),
  sigmaFloorFraction: z.number().min(0).default(0.03),
  /** ...raises too when it is at least this share of the reference. */
  madMinFraction: z.number().min(0).default(0.05),
  /**
   * A rise that passes only one of the two tests (share or σ) raises once it has held this many
   * nights running; one that passes both raises at once. 2: a real leak stays, while the night flow
   * of a DMA whose nights scatter by more than 10 % (real hourly inflows) crosses +10 % for a night
   * now and then.
   */
  confirmNights: z.number().int().min(1).default(2),
  /** Clear when MNF is back below reference + this share of the rise threshold for clearNights nights. */
  clearShare: z.number().min(0).default(0.5),
  clearNights: z.number().int().min(1).default(2),
}).strict();

export type NightFlowOptions = z.input<typeof nightFlowOptionsSchema>;
export type NightFlowSettings = z.output<typeof nightFlowOptionsSchema>;
