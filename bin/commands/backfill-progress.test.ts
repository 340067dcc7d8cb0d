import { describe, it, expect } from 'vitest';
import { BackfillProgress } from './backfill-progress.ts';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;

describe('backfill progress', () => {
  it('logs the share done and readings/s every few seconds, then once that it is live', () => {
    const lines: { fields: Record<string, unknown>; msg: string }[] = [];
    let now = Date.UTC(2026, 11, 3, 12);
    const progress = new BackfillProgress({ log: { info: ((fields: Record<string, unknown>, msg: string) => { lines.push({ fields, msg }); }) as never }, everyS: 5, now: () => now });
    const start = now - 7 * DAY;
    const samples = new Array(100).fill({});
    // the simulation runs 12 h of steps (one a minute, 100 readings each) per second of wall time
    for (let ts = start; ts <= now; ts += MIN) {
      progress.onStep({ ts, samples, meters: [] });
      now += 1000 / (12 * 60);
    }
    const reports = lines.filter((l) => l.msg.startsWith('backfill '));
    expect(reports.length).toBeGreaterThanOrEqual(2);
    // 5 s in: 60 of the 168 simulated hours, at 720 steps of 100 readings a second
    expect(reports[0].msg).toMatch(/^backfill 35%, 72,\d{3} readings\/s$/);
    expect(reports[0].fields.readingsPerS as number).toBeCloseTo(72_000, -2);
    const percents = reports.map((r) => r.fields.percent as number);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.at(-1)).toBeLessThan(100);
    expect(lines.at(-1)!.msg).toBe('simulation backfill done; running in real time');
    expect(lines.filter((l) => l.msg.includes('backfill done'))).toHaveLength(1);
    const before = lines.length;
    progress.onStep({ ts: now, samples, meters: [] });
    expect(lines).toHaveLength(before); // live: no more lines
  });
});
