import { describe, it, expect } from 'vitest';
import { ProgressBar, formatBytes, formatDuration } from './import-progress.ts';

/** Test double of stderr: collects what is written; `isTTY` chooses the bar or plain lines. */
function fakeStderr(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, out: { isTTY, columns: 120, write: (s: string) => { writes.push(s); return true; } } };
}

describe('progress on stderr', () => {
  it('redraws a bar in place on a terminal, at most every redrawMs, with rate and ETA', () => {
    let t = 0;
    const { writes, out } = fakeStderr(true);
    const bar = new ProgressBar({ out, label: 'data.csv', redrawMs: 200, now: () => t });
    t = 1000;
    bar.update({ bytesRead: 25 * 1024 * 1024, totalBytes: 100 * 1024 * 1024, rows: 500_000, readings: 1_000_000 });
    t = 1100; // too soon: not drawn
    bar.update({ bytesRead: 26 * 1024 * 1024, totalBytes: 100 * 1024 * 1024, rows: 520_000, readings: 1_040_000 });
    expect(writes).toHaveLength(1);
    expect(writes[0].startsWith('\rdata.csv [')).toBe(true);
    expect(writes[0]).toContain(' 25.0% 25 MiB/100 MiB 500k rows/s 1.0M readings/s ETA 00:03');
    expect(writes[0]).toMatch(/\[#+\.+\]/);
    t = 4000;
    bar.finish({ bytesRead: 100 * 1024 * 1024, totalBytes: 100 * 1024 * 1024, rows: 2_000_000, readings: 4_000_000 });
    expect(writes.at(-1)).toMatch(/100\.0% .*ETA 00:00\x1b\[K\n$/);
  });

  it('writes a plain line every logEveryMs when stderr is not a terminal', () => {
    let t = 0;
    const { writes, out } = fakeStderr(false);
    const bar = new ProgressBar({ out, label: 'x.csv', logEveryMs: 10_000, now: () => t });
    for (t = 1; t <= 25_000; t += 1000) bar.update({ bytesRead: t, totalBytes: 50_000, rows: t, readings: t });
    expect(writes).toHaveLength(3); // at 1 s, 11 s, 21 s
    for (const w of writes) {
      expect(w.endsWith('\n')).toBe(true);
      expect(w).not.toContain('\r');
      expect(w).toMatch(/^x\.csv +\d+\.\d% /);
    }
  });

  it('formats sizes and durations', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
    expect(formatDuration(59)).toBe('00:59');
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(Infinity)).toBe('--:--');
  });
});
