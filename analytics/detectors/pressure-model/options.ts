/** The pressure-model detector's options (`analytics.detectors.pressure-model`), with its defaults. */
import { z } from 'zod';

export const pressureModelOptionsSchema = z.object({
  /** Readings are averaged over slots of this many minutes (the model's time step). */
  slotMin: z.number().int().min(1).default(15),
  /** Days of quiet data the regressions are learned on (from the first reading, or from history at warm-up). */
  learnDays: z.number().positive().default(2),
  /** A sensor's reference is taken from another DMA, so a leak in its own DMA does not move both. */
  referenceOutsideDma: z.boolean().default(true),
  /** Hours the residual is averaged over: how long a pressure loss must last. */
  persistHours: z.number().positive().default(6),
  /** Raised when that mean is below −k × its own noise (its standard deviation over the learning days)... */
  k: z.number().positive().default(5),
  /** ...and at least this far below, MPa (0.002 MPa = 0.2 m of head). */
  minResidualMPa: z.number().min(0).default(0.002),
  /** Sensors ranked in the evidence. */
  rankTop: z.number().int().min(1).default(5),
}).strict();

export type PressureModelSettings = z.output<typeof pressureModelOptionsSchema>;
