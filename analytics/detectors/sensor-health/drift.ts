/**
 * Drift detection for one sensor against its peers (the other sensors of its kind in its DMA, or
 * network-wide for water-quality kinds): the difference to the peers' median is normally stable
 * (elevation, head loss); a drifting sensor makes it wander off slowly.
 *
 * Per hour, the mean difference d. The first `learnHours` hours set the reference r (their mean);
 * afterwards the residual e = d − r feeds a two-sided CUSUM with slack `size` / 2 and threshold
 * `hSize` × `size` (`size`: the smallest drift worth reporting). A change of the hourly difference
 * larger than `size` / 2 within `stepHours` hours is a STEP, not a drift (a burst near the sensor,
 * a valve operation, a DMA losing its supply: its loggers all fall towards zero within two or three
 * hours, and their elevation offsets with them): the CUSUM holds until the residual is back within
 * `size` / 2 of where it was before the change began, or rebases the reference after
 * `rebaseHours` if the step stays. So the fastest drift looked for is `size` / 2 per `stepHours`.
 * While the CUSUM is quiet the reference follows slowly (`refHalfLifeHours`), so seasonal change is
 * absorbed but a drift is not.
 */

export interface DriftParams {
  size: number;
  hSize: number;
  learnHours: number;
  rebaseHours: number;
  refHalfLifeHours: number;
  /** A change of the hourly difference larger than size / 2 within this many hours is a step (an event), not a drift. */
  stepHours: number;
}

export interface DriftVerdict {
  /** The drift fault should be active (raise) or not (clear). */
  drifting: boolean;
  residual: number;
  cusum: number;
  /** The reference the residual is measured from (a restart resumes from it: `resume`). */
  reference: number;
}

export class DriftTracker {
  private hourSum = 0;
  private hourN = 0;
  private learnSum = 0;
  private learnN = 0;
  private ref = NaN;
  private up = 0;
  private down = 0;
  /** The last `stepHours` hourly differences and their residuals, oldest first (what a step is judged against). */
  private readonly recent: { d: number; e: number }[] = [];
  /** Residual before a step, and how many hours the step has lasted. */
  private stepFrom = NaN;
  private stepHours = 0;
  private alarmed = false;
  private readonly alpha: number;

  constructor(private readonly p: DriftParams) {
    this.alpha = 1 - Math.pow(0.5, 1 / p.refHalfLifeHours);
  }

  /** One difference to the peers' median (a step of the worker). */
  add(diff: number): void {
    this.hourSum += diff;
    this.hourN++;
  }

  /** End of an hour: returns the verdict when the hour had data. */
  closeHour(minSamples: number): DriftVerdict | undefined {
    if (this.hourN < minSamples) { this.hourSum = 0; this.hourN = 0; return undefined; }
    const d = this.hourSum / this.hourN;
    this.hourSum = 0; this.hourN = 0;
    const { size } = this.p;
    if (this.learnN < this.p.learnHours) {
      this.learnSum += d; this.learnN++;
      this.ref = this.learnSum / this.learnN;
      this.remember(d, 0);
      return { drifting: false, residual: 0, cusum: 0, reference: this.ref };
    }
    const e = d - this.ref;
    // the earliest of the last hours the difference has since moved away from by more than size / 2
    const before = this.recent.find((h) => Math.abs(d - h.d) > size / 2);
    this.remember(d, e);
    if (Number.isNaN(this.stepFrom) && before && !this.alarmed) {
      this.stepFrom = before.e;
      this.stepHours = 0;
    }
    if (!Number.isNaN(this.stepFrom)) {
      if (Math.abs(e - this.stepFrom) <= size / 2) {
        // the event is over: its hours are no level a next step could be judged against
        this.stepFrom = NaN;
        this.recent.splice(0, this.recent.length - 1);
      }
      else if (++this.stepHours >= this.p.rebaseHours) {
        // the new level stays: a new reference (a relocated or recalibrated sensor, a changed network)
        this.ref = d; this.up = 0; this.down = 0; this.stepFrom = NaN; this.recent.length = 0;
      }
      return { drifting: this.alarmed, residual: e, cusum: Math.max(this.up, this.down), reference: this.ref };
    }
    const slack = size / 2;
    this.up = Math.max(0, this.up + e - slack);
    this.down = Math.max(0, this.down - e - slack);
    const cusum = Math.max(this.up, this.down);
    if (!this.alarmed && cusum > this.p.hSize * size) this.alarmed = true;
    else if (this.alarmed && Math.abs(e) < slack) { this.alarmed = false; this.up = 0; this.down = 0; }
    if (cusum === 0 && !this.alarmed) this.ref += this.alpha * e;
    return { drifting: this.alarmed, residual: e, cusum, reference: this.ref };
  }

  /**
   * A restart with this sensor's drift alarm open: judge from the reference it was raised against,
   * without learning again (a day of learning would take the drift for the sensor's normal). The
   * first hour back within half the drift size of it clears the alarm (a sensor recalibrated or
   * replaced meanwhile); until then it stays drifting.
   */
  resume(reference: number): void {
    this.ref = reference;
    this.learnN = this.p.learnHours;
    this.learnSum = reference * this.p.learnHours;
    this.alarmed = true;
    this.up = 0; this.down = 0;
    this.stepFrom = NaN; this.recent.length = 0;
  }

  private remember(d: number, e: number): void {
    this.recent.push({ d, e });
    if (this.recent.length > this.p.stepHours) this.recent.shift();
  }
}
