/** The water-quality detector's options (`analytics.detectors.quality`), with today's defaults. */
import { z } from 'zod';

const MIN = 60_000;

export const qualityOptionsSchema = z.object({
  /** An excursion must hold this long (the window's median beyond the limit over 2 × this), ms. */
  onDelayMs: z.number().min(0).default(5 * MIN),
  /** A recovery must hold this long, ms. */
  offDelayMs: z.number().min(0).default(5 * MIN),
  /** How far back inside the limit a reading must be to count as recovered, by parameter. */
  hysteresis: z.object({
    chlorine: z.number().min(0).default(0.02),
    turbidity: z.number().min(0).default(0.1),
    ph: z.number().min(0).default(0.1),
    conductivity: z.number().min(0).default(10),
    temperature: z.number().min(0).default(0.5),
  }).strict().prefault({}),
  chlorineDrop: z.object({
    /** Absolute drop, mg/L. */
    minDrop: z.number().min(0).default(0.2),
    /** Relative to the baseline. */
    minFraction: z.number().min(0).default(0.3),
    /** Window of the recent median, ms. */
    recentMs: z.number().positive().default(5 * MIN),
    /** Window of the baseline median, ending where the recent window begins, ms. */
    baselineMs: z.number().positive().default(60 * MIN),
    /** A drop that has not recovered is cleared after this: chlorine has settled at a new level, ms. */
    holdMs: z.number().min(0).default(2 * 60 * MIN),
  }).strict().prefault({}),
}).strict();

export type QualityOptions = z.input<typeof qualityOptionsSchema>;
export type QualitySettings = z.output<typeof qualityOptionsSchema>;
