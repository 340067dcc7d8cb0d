/**
 * One step of the detectors in event time, the one drive used by the worker and by every test and
 * benchmark harness, so tests exercise the worker's real call order: per detector, in registry order
 * (sensor health first), the step's readings (when there are any), then onTime(t), then its derived
 * series. A detector that throws loses the rest of its step; the others still run.
 */
import type { Point } from '../core/model/reading.ts';
import type { Condition, Detector } from './types.ts';

export interface StepFailure {
  detector: string;
  error: unknown;
}

export interface StepResult {
  conditions: Condition[];
  derived: Point[];
  /** Detectors that threw during this step (empty when all ran). */
  failures: StepFailure[];
}

/** Readings `batch` (ordered by time, all before `t`), then the watermark to event time `t`. */
export function runStep(detectors: readonly Detector[], batch: readonly Point[], t: number): StepResult {
  const conditions: Condition[] = [];
  const derived: Point[] = [];
  const failures: StepFailure[] = [];
  for (const d of detectors) {
    try {
      if (batch.length) for (const c of d.onReadings(batch)) conditions.push(c);
      for (const c of d.onTime(t)) conditions.push(c);
      if (d.drainDerived) for (const p of d.drainDerived()) derived.push(p);
    } catch (error) {
      failures.push({ detector: d.name, error });
    }
  }
  return { conditions, derived, failures };
}
