/**
 * The time-of-week baseline's options as a detector sets them (`baseline:` in a detector's section
 * of `analytics.detectors`). No defaults here: each detector keeps its own (the burst detector 14
 * days of history, the pressure detector 21), and TimeOfWeekBaseline the rest.
 */
import { z } from 'zod';

export const baselineOptionsSchema = z.object({
  /** Slot length, minutes; must divide a day. Default 15. */
  slotMinutes: z.number().int().positive().optional(),
  /** How days are compared (analytics/baseline/README.md). Default per-weekday. */
  dayTypes: z.enum(['weekday-weekend', 'per-weekday', 'all']).optional(),
  /** per-weekday: fewer days of the same weekday known than this, and working or weekend days stand in. Default 3. */
  minSameWeekdays: z.number().int().min(1).optional(),
  /** Days kept per slot. */
  historyDays: z.number().int().positive().optional(),
  /** At most this many most recent days of the matching type are used. Default 10. */
  daysPerType: z.number().int().positive().optional(),
  /** Fewer days of the matching type than this: use all known days. Default 1. */
  minDaysPerType: z.number().int().min(0).optional(),
}).strict();
