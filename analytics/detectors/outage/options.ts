/** The outage detector's options (`analytics.detectors.outage`), with today's defaults. */
import { z } from 'zod';
import { DEFAULT_MIN_NOTICE_MS } from '../../outages/register.ts';
import { HOUR, MIN } from './units.ts';

export const outageOptionsSchema = z.object({
  /** Below this a tap on an upper floor runs dry (domain.md), MPa. */
  thresholdMPa: z.number().positive().default(0.05),
  /** Added to the threshold for recovery (hysteresis), MPa. */
  recoveryMarginMPa: z.number().min(0).default(0.02),
  /** The DMA is down when this share of its usable pressure sensors is below. */
  minShareBelow: z.number().positive().max(1).default(0.6),
  onDelayMs: z.number().min(0).default(3 * MIN),
  offDelayMs: z.number().min(0).default(3 * MIN),
  /** Net inflow below this share of its usual level counts as stopped. */
  inflowStopFraction: z.number().min(0).default(0.05),
  /** Usual net inflow below this (m³/h) means no demand is expected. */
  minExpectedInflowM3h: z.number().min(0).default(1),
  /** Planned outages match incidents starting this long before their start or after their end, ms. */
  plannedToleranceMs: z.number().min(0).default(30 * MIN),
  /** An outage this long needs emergency water supply (seeds: 24 h), ms. */
  emergencyAfterMs: z.number().positive().default(24 * HOUR),
  /** Customers must be told of a planned outage this long ahead (seeds: 24 h), ms. */
  minNoticeMs: z.number().min(0).default(DEFAULT_MIN_NOTICE_MS),
  /** How far back warmUp reads (so the 24 h rule survives a restart), ms. */
  warmUpMs: z.number().min(0).default(26 * HOUR),
  tank: z.object({
    /** Warn when the tank would be empty within this, ms. */
    timeToEmptyLimitMs: z.number().positive().default(6 * HOUR),
    /** Trend window, ms. */
    trendWindowMs: z.number().positive().default(30 * MIN),
    /** Level counted as empty, by sensor, m; default thresholds.lowLow, else 0. */
    floorM: z.record(z.string(), z.number()).default({}),
    /** Within this of the floor the tank counts as empty, m. */
    emptyBandM: z.number().min(0).default(0.05),
    onDelayMs: z.number().min(0).default(5 * MIN),
    offDelayMs: z.number().min(0).default(30 * MIN),
  }).strict().prefault({}),
  pump: z.object({
    /** A stop within this of the usual stop level (or the highest level seen) is level control, m. */
    controlBandM: z.number().min(0).default(0.15),
    /** Pump still off this far below its usual start level: it failed to restart, m. */
    restartMarginM: z.number().min(0).default(0.1),
    /** Known start/stop levels, by pump state sensor (otherwise learned from the transitions seen), m. */
    levels: z.record(z.string(), z.object({ startM: z.number().optional(), stopM: z.number().optional() }).strict()).default({}),
  }).strict().prefault({}),
  warning: z.object({
    /** Warn when the threshold will be crossed within this, ms. */
    horizonMs: z.number().positive().default(60 * MIN),
    trendWindowMs: z.number().positive().default(20 * MIN),
    onDelayMs: z.number().min(0).default(5 * MIN),
    offDelayMs: z.number().min(0).default(15 * MIN),
  }).strict().prefault({}),
}).strict();

export type OutageSettings = z.output<typeof outageOptionsSchema>;
