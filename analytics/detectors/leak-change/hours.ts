/**
 * Net inflow of one DMA as local-clock hourly means, whatever the sensors' interval (1 min … 1 h):
 * each value stands for `minutes` of its bucket; an hour counts when enough of it is covered. Calls
 * back when an hour is complete (a value of a later hour arrived, or the watermark passed its end).
 * With `bucketMs` (a divisor of an hour) the buckets are shorter: quarter-hours for quarters.ts.
 */
import { DAY_MS, LocalTime, MINUTE_MS } from '../../baseline/local-time.ts';

const HOUR_MS = 3_600_000;

export interface ClosedHour {
  /** Local day number and hour of day (0…23; a fall-back day's repeated hour adds to the same one); with shorter buckets, the bucket's index in the day. */
  day: number;
  weekday: number;
  hour: number;
  /** Start and end instants of the hour. */
  startTs: number;
  endTs: number;
  /** Mean net inflow, m³/h; NaN when too little of the hour was covered. */
  mean: number;
}

export class HourlyMeans {
  private day = NaN;
  private weekday = 0;
  private hour = -1;
  private startTs = NaN;
  private endTs = NaN;
  private sum = 0;
  private minutes = 0;
  /** The current hour was closed already (a value for it now is late). */
  private closed = false;

  private readonly lastBucket: number;

  constructor(
    private readonly local: LocalTime, private readonly minCoverage: number, private readonly onHour: (h: ClosedHour) => void,
    private readonly bucketMs = HOUR_MS,
  ) {
    this.lastBucket = Math.round(DAY_MS / bucketMs) - 1;
  }

  add(ts: number, value: number, minutes: number): void {
    const pos = this.local.position(ts);
    const hour = Math.min(this.lastBucket, Math.floor(pos.msOfDay / this.bucketMs));
    if (pos.day === this.day && hour === this.hour) {
      if (this.closed) return; // late: the watermark closed this hour already
    } else {
      if (this.hour >= 0 && (pos.day < this.day || (pos.day === this.day && hour < this.hour))) return; // late
      this.close();
      this.closed = false;
      this.day = pos.day;
      this.weekday = pos.weekday;
      this.hour = hour;
      this.startTs = this.local.instantOf(pos.day, hour * this.bucketMs);
      this.endTs = this.local.instantOf(pos.day, (hour + 1) * this.bucketMs);
    }
    this.sum += value * minutes;
    this.minutes += minutes;
  }

  /** The watermark reached `ts`: close the open hour once it has ended. */
  advance(ts: number): void {
    if (this.hour >= 0 && ts >= this.endTs) this.close();
  }

  private close(): void {
    if (this.hour < 0 || this.closed) return;
    this.closed = true;
    if (this.minutes === 0) return;
    const mean = this.minutes >= (this.minCoverage * this.bucketMs) / MINUTE_MS ? this.sum / this.minutes : NaN;
    const closed: ClosedHour = { day: this.day, weekday: this.weekday, hour: this.hour, startTs: this.startTs, endTs: this.endTs, mean };
    this.sum = 0;
    this.minutes = 0;
    this.onHour(closed);
  }
}
