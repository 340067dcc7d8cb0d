/** The customer-meter detector's options (`analytics.detectors.meters`), with today's defaults. */
import { z } from 'zod';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const meterOptionsSchema = z.object({
  /** Register going down by less than this is rounding, m³. */
  backwardsToleranceM3: z.number().min(0).default(0.001),
  /** Days without use before a zero-consumption condition. */
  zeroDays: z.number().min(0).default(14),
  /** High use: above this many times the median of the customer's recent periods... */
  highFactor: z.number().min(0).default(3),
  /** ...and at least this much more, m³/day. */
  minExcessM3PerDay: z.number().min(0).default(0.5),
  /** Shortest period the high-use check compares, ms. */
  minPeriodMs: z.number().min(0).default(DAY),
  /** Previous periods needed before high use is judged. */
  minHistoryPeriods: z.number().int().min(0).default(4),
  /** Periods kept as the customer's history. */
  historyPeriods: z.number().int().min(0).default(12),
  /** Continuous use: never below this between readings, m³/h... */
  floorM3PerH: z.number().min(0).default(0.005),
  /** ...for this many days (a leak behind the meter). */
  continuousDays: z.number().min(0).default(3),
  /** Only with readings at most this far apart, ms. */
  maxIntervalForContinuousMs: z.number().min(0).default(6 * HOUR),
  /** Large (enterprise) accounts are left out of continuous use unless this is set. */
  continuousIncludesLarge: z.boolean().default(false),
  /** How far back warmUp reads the meter history, ms. */
  warmUpMs: z.number().min(0).default(400 * DAY),
}).strict();

export type MeterOptions = z.input<typeof meterOptionsSchema>;
export type MeterSettings = z.output<typeof meterOptionsSchema>;
