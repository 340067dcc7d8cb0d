/** The pressure-model detector's options (`analytics.detectors.pressure-model`), with its defaults. */
import { z } from 'zod';

export const pressureModelOptionsSchema = z.object({
  /** Readings are averaged over slots of this many minutes (the model's time step). */
  slotMin: z.number().int().min(1).max(60).default(15),
  /**
   * Days of quiet data the models are learned on (from the first reading, or from history at
   * warm-up): a week holds weekdays and a weekend, and enough slots for 30 regressors.
   */
  learnDays: z.number().positive().default(7),
  /** Ridge penalty: added to the regressors' correlation matrix (a fraction of each one's variance). */
  ridge: z.number().positive().default(0.001),
  /** Hours the residual is averaged over: how long a pressure loss must last. */
  persistHours: z.number().positive().default(12),
  /** Raised when that mean is below −k × its own noise (its standard deviation over the learning days)... */
  k: z.number().positive().default(5),
  /** ...and at least this far below, kPa (0.05 kPa = 5 mm of head). */
  minResidualKpa: z.number().min(0).default(0.05),
  /**
   * A slot where at least `networkEventShare` of the loggers, in two DMAs or more, are this many
   * times their slot noise off the model at once is a network event (a valve operation, a pump
   * trip): the relations the model learned do not hold then, so its residuals are left out of the means.
   */
  networkEventSigma: z.number().positive().default(6),
  networkEventShare: z.number().positive().max(1).default(0.3),
  /** Sensors ranked in the evidence. */
  rankTop: z.number().int().min(1).default(5),
}).strict();

export type PressureModelSettings = z.output<typeof pressureModelOptionsSchema>;
