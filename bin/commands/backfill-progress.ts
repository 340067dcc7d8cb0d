/**
 * Progress of the demo's backfill (`aquawatch start` replays the last 7 days at full speed before
 * going live): one log line every few seconds with the share of the simulated period done and the
 * readings sent per second, then one line when the simulation has caught up with the clock.
 */
import type { Logger } from '../../core/log.ts';
import type { SimStep } from '../../simulators/types.ts';

export interface BackfillProgressOptions {
  log: Pick<Logger, 'info'>;
  /** Seconds between progress lines (default 5). */
  everyS?: number;
  /** A step this close to the clock is live (default 60 s). */
  liveLagMs?: number;
  now?: () => number;
}

export class BackfillProgress {
  private firstTs?: number;
  private startedAt = 0;
  private lastReportAt = 0;
  private readings = 0;
  private steps = 0;
  private live = false;
  private readonly everyMs: number;
  private readonly liveLagMs: number;
  private readonly now: () => number;

  constructor(private readonly o: BackfillProgressOptions) {
    this.everyMs = (o.everyS ?? 5) * 1000;
    this.liveLagMs = o.liveLagMs ?? 60_000;
    this.now = o.now ?? Date.now;
  }

  /** Count a simulation step (called once per step, in time order). */
  onStep(step: Pick<SimStep, 'ts' | 'samples' | 'meters'>): void {
    if (this.live) return;
    const now = this.now();
    if (this.firstTs === undefined) {
      this.firstTs = step.ts;
      this.startedAt = now;
      this.lastReportAt = now;
    }
    this.steps++;
    this.readings += step.samples.length + step.meters.length;
    const seconds = Math.max(now - this.startedAt, 1) / 1000;
    const readingsPerS = Math.round(this.readings / seconds);
    if (step.ts >= now - this.liveLagMs) {
      this.live = true;
      this.o.log.info({ steps: this.steps, readings: this.readings, seconds: Math.round(seconds), readingsPerS }, 'simulation backfill done; running in real time');
      return;
    }
    if (now - this.lastReportAt < this.everyMs) return;
    this.lastReportAt = now;
    const percent = Math.floor((100 * (step.ts - this.firstTs)) / (now - this.firstTs));
    this.o.log.info(
      { percent, simulatedTime: new Date(step.ts).toISOString(), readings: this.readings, readingsPerS },
      `backfill ${percent}%, ${readingsPerS.toLocaleString('en-US')} readings/s`,
    );
  }
}
