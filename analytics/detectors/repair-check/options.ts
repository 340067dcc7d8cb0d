/** The repair check's options (`analytics.detectors.repair-check`), with today's defaults. */
import { z } from 'zod';

export const repairCheckOptionsSchema = z.object({
  /**
   * Nights after a crew reported a leak repaired by which the leak's alarm must have cleared, the
   * report's own day not counted. Seven: the leak detectors confirm a repair on the nights after it,
   * leak-change's on up to its `confirmNights` (7), night-flow's and a slow leak's on two; the check
   * comes at the local midnight that ends the last of them.
   */
  confirmWithinNights: z.number().int().min(1).max(60).default(7),
}).strict();

export type RepairCheckOptions = z.input<typeof repairCheckOptionsSchema>;
export type RepairCheckSettings = z.output<typeof repairCheckOptionsSchema>;
