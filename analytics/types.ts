/**
 * The contract between the analytics worker, its detectors and the alarm manager.
 *
 * Everything runs in EVENT TIME: a detector sees readings with their own timestamps and a watermark
 * (the event time up to which input is complete); it never reads the wall clock. So a backfill, a
 * replay of last year (`aquawatch analyze`) and the live feed raise the same alarms at the same
 * event times, and tests are deterministic.
 */
import type { Point } from '../core/model/reading.ts';
import type { Condition } from '../core/bus/messages/condition.ts';
import type { Topology } from '../core/topology/topology.ts';
import type { DayCalendar } from './baseline/calendar.ts';
import type { TimeSeriesStore } from '../core/tsdb/types.ts';

export type { Condition };

/**
 * Which sensors are in fault (stale, flatline, out of range, bad quality, source lost). The sensor
 * health detector writes it; every other detector skips a faulty sensor until it recovers, so a
 * broken pressure sensor does not look like a burst.
 */
export interface SensorHealthView {
  isFaulty(sensor: string): boolean;
  /**
   * The interval the sensor's readings come at, ms: the declared one, or the one they show when
   * coarser (15-min samples of a sensor declared at 60 s); undefined for a sensor not heard from.
   * A reading is recent by this, not by the declaration alone.
   */
  intervalMs?(sensor: string): number | undefined;
}

/** A burst raised in a DMA: its condition id and estimated start (the jump's first minute). */
export interface ActiveBurst {
  id: string;
  onsetTs: number;
}

/**
 * The burst detector as the detectors whose conditions a burst explains see it: a lasting step of
 * the net demand that began with a burst is that burst (one event, one alarm).
 */
export interface BurstView {
  activeBurstOnset(dma: string): ActiveBurst | undefined;
}

/**
 * What a detector keeps across restarts beside the alarms (the state database's key-value table,
 * live only): small facts the stored readings cannot give back, such as the days a model was learned
 * on. Keys are the detector's name, a dot, and the fact.
 */
export interface DetectorMemory {
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
}

export interface DetectorContext {
  topology: Topology;
  health: SensorHealthView;
  /** Time zone of the site, for local-time rules (night flow 02:00–04:00, time-of-week baselines). */
  timezone: string;
  /** The site's holidays and make-up working days (config `calendar:`), for the time-of-week baselines. */
  calendar?: DayCalendar;
}

/**
 * What a detector reads of an alarm whose condition is still active in the state database
 * (core/state/alarm-store.ts's AlarmRecord), to take up after a restart a condition older than the
 * history its warm-up replays.
 */
export interface OpenAlarm {
  conditionId: string;
  type: string;
  dma?: string;
  /** Event time. */
  raisedAt: number;
  /** The latest the detector gave (a raise's or an update's). */
  evidence?: Record<string, unknown>;
}

export interface Detector {
  readonly name: string;
  /**
   * Warm the detector's state (baselines, last values) from stored history ending at `until`, so a
   * restart causes neither an alarm storm nor a blind hour. Conditions found while warming are not
   * emitted.
   */
  warmUp?(history: TimeSeriesStore, until: number): Promise<void>;
  /**
   * After warmUp on a live restart: the alarms of the state database whose condition was active
   * when the platform stopped. Returns the conditions that bring them in line with what the warmed
   * state found: a clear for an alarm whose condition ended while analytics was down, a raise for
   * a condition that began then (warmUp emits nothing). Only for conditions whose state the warm-up
   * rebuilds in full: the others stay as they are. `analysedUntil` is the event time the alarm
   * manager stored with its last transition before the restart (−Infinity when none): every raise
   * seen live is a transition, so a condition the warm-up raised before it was seen live, and one
   * without an alarm then is not new (a detector whose condition ids can differ between a replay and
   * live, such as a leak's serial, raises only those after it).
   */
  reconcile?(open: readonly OpenAlarm[], at: number, analysedUntil: number): Condition[];
  /** A batch of readings, ordered by time. Returns the conditions they raise, update or clear. */
  onReadings(batch: readonly Point[]): Condition[];
  /**
   * True for a detector that keeps its own per-sensor order and so also takes readings of customer
   * meters that arrive after the watermark passed them (PDA rounds upload hours after reading):
   * the worker hands it those instead of dropping them as late.
   */
  readonly acceptsLateMeterReadings?: boolean;
  /** The watermark moved to `eventTime`: time-driven checks (staleness, on-delays, nightly figures). */
  onTime(eventTime: number): Condition[];
  /** Derived series the detector computes (night flow per DMA, DMA net inflow), to be stored. */
  drainDerived?(): Point[];
}
