/**
 * Whose clock is wrong when a reading is "from the future" (review F17)? If most sensors report
 * times ahead of the server clock, the server's clock is behind (an NTP step, an RTC reset at boot
 * before NTP syncs): their readings are right and must be held (refused retryably, never
 * acknowledged) until the clock catches up. If only a few do, their devices' clocks are wrong and
 * those readings are rejected as before.
 *
 * The verdict comes from each sensor's latest reading: ahead of the limit or not. Counts are kept
 * incrementally (one map entry per topology sensor at most), so a batch costs O(its readings).
 */

/** At least this many sensors ahead before the server's clock is reported as suspect. */
export const CLOCK_SUSPECT_MIN_SENSORS = 3;

export interface ClockVerdict {
  /** Most sensors are ahead: hold readings that are ahead. */
  serverBehind: boolean;
  aheadSensors: number;
  sensors: number;
  /** The largest lead seen among the sensors that are ahead now, ms. */
  maxAheadMs: number;
}

export class ClockWatch {
  private readonly aheadBySensor = new Map<string, number>();
  private readonly currentSensors = new Set<string>();

  /** Record a sensor's latest reading: `aheadMs` beyond the limit, or undefined when its time is fine. */
  observe(sensor: string, aheadMs: number | undefined): void {
    if (aheadMs === undefined) {
      this.aheadBySensor.delete(sensor);
      this.currentSensors.add(sensor);
    } else {
      this.currentSensors.delete(sensor);
      this.aheadBySensor.set(sensor, aheadMs);
    }
  }

  verdict(): ClockVerdict {
    const ahead = this.aheadBySensor.size;
    const sensors = ahead + this.currentSensors.size;
    let maxAheadMs = 0;
    if (ahead * 2 > sensors) for (const ms of this.aheadBySensor.values()) maxAheadMs = Math.max(maxAheadMs, ms);
    return { serverBehind: ahead * 2 > sensors, aheadSensors: ahead, sensors, maxAheadMs };
  }
}
