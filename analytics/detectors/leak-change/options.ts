/** The leak-change detector's options (`analytics.detectors.leak-change`): slow leaks and small abrupt leaks. */
import { z } from 'zod';

export const leakChangeOptionsSchema = z.object({
  /** Local night window, hours [from, to): the hours of lowest legitimate use, whose mean is the night figure. */
  nightFromHour: z.number().int().min(0).max(23).default(1),
  nightToHour: z.number().int().min(1).max(24).default(5),
  /** An hour counts when this share of it has net inflow; a day counts with this many hours. */
  hourCoverage: z.number().min(0).max(1).default(0.5),
  minDayHours: z.number().int().min(1).max(24).default(22),
  /** Days of figures kept for the day-type offsets, the noise and the lower envelope. */
  historyDays: z.number().int().min(14).default(56),
  /** Days learnt before anything is judged (the first reference). */
  learnDays: z.number().int().min(7).default(21),

  // slow leaks: CUSUM on the day-type adjusted night and day figures against a reference that moves only on evidence
  /** CUSUM allowance k, in σ of the figure's own day-to-day noise: a smaller excess is not accumulated. */
  trendAllowanceSigma: z.number().min(0).default(0.5),
  /** Raise when the accumulated excess reaches h σ·days. */
  trendDecisionSigma: z.number().positive().default(8),
  /** Smallest leak flow worth a leak_trend alarm, m³/h, and in σ of the daily figure (a smaller one is not told from noise). */
  minLeakM3h: z.number().min(0).default(0.5),
  minLeakSigma: z.number().min(0).default(2),
  /** Noise floor of a daily figure, as a share of its level (a flat simulated series has no noise). */
  sigmaFloorShare: z.number().min(0).default(0.01),
  /** Lower envelope: the reference rises only when every one of the last this-many weeks' medians is above it. */
  envelopeWeeks: z.number().int().min(1).default(4),
  /** A repair: the figure is back within this share of the leak above the reference for clearDays days. */
  clearShare: z.number().min(0).max(1).default(0.3),
  clearDays: z.number().int().min(1).default(2),

  // small abrupt leaks: a lasting step in hourly net demand, confirmed by the next night
  /** Hours a step must hold by day to become a candidate. */
  stepHours: z.number().positive().default(3),
  /** Step size, in σ of the mean of stepHours hourly residuals, and at least minStepM3h. */
  stepSigma: z.number().positive().default(3),
  minStepM3h: z.number().min(0).default(1),
  /** Recent days of the same kind (working day / weekend day) whose same hour, median, is the hour's reference. */
  profileDays: z.number().int().min(2).default(3),
  /**
   * Reported by day, before the next night: a step whose mean excess over dayStepHours hours is
   * dayStepSigma times the noise of such a mean at those hours of day (each hour in units of its own
   * hour of day's noise; the mean's noise measured on the windows ending within two hours of the same
   * time of day over four weeks, neighbouring hours moving together).
   */
  dayStepHours: z.number().positive().default(3),
  dayStepSigma: z.number().positive().default(6),
  /** The next night confirms when its residual is at least this share of the step and nightSigma σ of a night's mean. */
  nightConfirmShare: z.number().min(0).max(1).default(0.5),
  nightSigma: z.number().min(0).default(3),
  /**
   * A step up its next night did not confirm is judged again each day on the nights since it, up to
   * this many: their mean adjusted night flow against the week before the step, nightSigma times
   * the noise of that mean (a lasting step shows every night; n nights measure it √n times better).
   */
  confirmNights: z.number().int().min(1).default(7),
  /**
   * Reported by day from where the water goes (a DMA with two or more inlets): each inlet's share of
   * the inflow is set by the network and the spread of demand, which a town's use changes little
   * while a new leak draws from the inlets nearest it. When some inlet's share moved over
   * dayStepHours hours by splitSigma times the noise of such a move (measured on the last two weeks),
   * every hour the same way, and the net demand rose by splitNetSigma times its own noise, the step
   * is reported by day; the night confirms or retracts it as any report.
   */
  splitSigma: z.number().positive().default(6),
  splitNetSigma: z.number().min(0).default(2),
  /** The least noise of an inlet's share, as a share of the inflow: flow meters repeat to about 0.1 %. */
  splitNoiseFloor: z.number().min(0).default(0.001),
}).strict();

export type LeakChangeOptions = z.input<typeof leakChangeOptionsSchema>;
export type LeakChangeSettings = z.output<typeof leakChangeOptionsSchema>;
