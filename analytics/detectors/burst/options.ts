/** The burst detector's options (`analytics.detectors.burst`), with today's defaults. */
import { z } from 'zod';
import { baselineOptionsSchema } from '../../baseline/options.ts';

export const burstOptionsSchema = z.object({
  /** The DMA inflow's time-of-week baseline (history 14 days by default; the pressures' at most 14). */
  baseline: baselineOptionsSchema.optional(),
  /** Time constant of the slow reference (how far today runs above or below the baseline), min. */
  referenceTauMin: z.number().positive().default(15),
  /** Smallest burst to find, as a share of the DMA's mean inflow. */
  minBurstFraction: z.number().positive().default(0.05),
  /** CUSUM decision interval for a rise without a clear step, in allowances k. */
  decisionFlowOnly: z.number().positive().default(12),
  /** ...and that rise must be at least this share of mean inflow (a jump this big is raised after 2 min instead of `stepConfirmMin`). */
  flowOnlyMinFraction: z.number().min(0).default(0.15),
  /** Minutes before the onset whose median is the level the step is measured from. */
  stepBeforeMin: z.number().int().positive().default(3),
  /** Minutes after the onset the step is measured on. */
  stepAfterMin: z.number().int().positive().default(2),
  /**
   * Step test: a jump of the residual (mean of the `stepAfterMin` minutes from an instant against the
   * `stepBeforeMin` minutes before it) of at least this many noise scales of that jump, learned from
   * the DMA's own quiet hours, starts a step candidate.
   */
  stepZ: z.number().positive().default(4.5),
  /** ...and of at least this share of the smallest burst. */
  stepMinFraction: z.number().min(0).default(0.8),
  /**
   * A step candidate is raised when, this many minutes after its jump, the mean residual since its
   * onset still stands above the level before by `stepHoldFraction` of the smallest burst.
   */
  stepConfirmMin: z.number().int().positive().default(6),
  /** See stepConfirmMin. */
  stepHoldFraction: z.number().min(0).default(0.6),
  /** ...and at least this share of the jump itself (demand's big one-minute moves partly fall back). */
  stepHoldOfJump: z.number().min(0).default(0.5),
  /** A CUSUM run that has not become a burst within this many minutes is taken as today's new level. */
  candidateTimeoutMin: z.number().positive().default(30),
  /** Lower bound of the residual's noise scale, as a share of mean inflow (meters are never perfect). */
  sigmaFloorFraction: z.number().min(0).default(0.004),
  /** Pressure drop that confirms (the flag and the hint; it does not raise): at least this many noise scales of the sensor... */
  pressureDropZ: z.number().min(0).default(4),
  /** ...and at least this much more than the median drop of the other DMAs' sensors, MPa. */
  pressureDropMinMPa: z.number().min(0).default(0.005),
  /** Clear when the residual level falls below this share of the burst's peak. */
  clearFraction: z.number().min(0).default(0.3),
  /** ...for this long, min. */
  clearDelayMin: z.number().min(0).default(5),
  /** Hours of raw history replayed by warmUp (on top of the baseline's slot means). */
  replayHours: z.number().min(0).default(6),
  /** Store the DMA net inflow as derived series `dma_inflow` (drainDerived). */
  emitInflow: z.boolean().default(true),
}).strict();

export type BurstOptions = z.input<typeof burstOptionsSchema>;
export type BurstSettings = z.output<typeof burstOptionsSchema>;
