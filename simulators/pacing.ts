/**
 * The pace of a run: each step handed to every simulated device in order, as fast as possible, in
 * real time (steps in the past at once, a backfill, then live) or at N × real time, against a clock
 * that tests replace with a simulated one.
 */
import type { SimDevice, SimStep } from './types.ts';
import type { Speed } from './simulate-args.ts';

/** Paces steps against a clock; tests give a simulated one. */
export interface SimClock {
  now(): number;
  /** Resolves after `ms`, or early when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: SimClock = {
  now: () => Date.now(),
  sleep: (ms, signal) => new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  }),
};

export interface RunOptions {
  /**
   * max: as fast as possible. realtime: each step is sent when the wall clock reaches its timestamp,
   * so steps already in the past go at once (a backfill) and later ones in real time. A number N:
   * N × real time from the first step on.
   */
  speed?: Speed;
  signal?: AbortSignal;
  clock?: SimClock;
  /** Call the devices' start() before the first step and stop() after the last (default true). */
  manageDevices?: boolean;
  /** Called after the devices have had each step. */
  onStep?: (step: SimStep) => void | Promise<void>;
}

export interface RunSummary {
  steps: number;
  firstTs?: number;
  lastTs?: number;
  wallMs: number;
  ended: 'end' | 'aborted';
}

/** Hand every step `next` gives to the devices (each onStep awaited), paced by the clock. */
export async function paceSteps(next: () => Promise<SimStep | undefined>, devices: SimDevice[], options: RunOptions = {}): Promise<RunSummary> {
  const speed = options.speed ?? 'max';
  const clock = options.clock ?? systemClock;
  const manage = options.manageDevices ?? true;
  const wallStart = clock.now();
  let steps = 0;
  let firstTs: number | undefined;
  let lastTs: number | undefined;
  let ended: RunSummary['ended'] = 'end';
  const begun: SimDevice[] = [];
  try {
    if (manage) {
      for (const d of devices) {
        await d.start();
        begun.push(d);
      }
    }
    for (;;) {
      if (options.signal?.aborted) {
        ended = 'aborted';
        break;
      }
      const step = await next();
      if (!step) break;
      firstTs ??= step.ts;
      if (speed !== 'max') {
        const due = speed === 'realtime' ? step.ts : wallStart + (step.ts - firstTs) / speed;
        const wait = due - clock.now();
        if (wait > 0) await clock.sleep(wait, options.signal);
        if (options.signal?.aborted) {
          ended = 'aborted';
          break;
        }
      }
      for (const d of devices) await d.onStep(step);
      await options.onStep?.(step);
      steps++;
      lastTs = step.ts;
    }
  } finally {
    if (manage) for (const d of begun.reverse()) await d.stop();
  }
  return { steps, firstTs, lastTs, wallMs: clock.now() - wallStart, ended };
}
