/**
 * Progress of a long import on stderr: a redrawn bar (bytes read of the file size, rows/s, ETA)
 * when stderr is a terminal, otherwise (a log file, CI) one plain line every `logEveryMs`.
 */
import type { ProgressState } from '../../ingest/sources/csv/import.ts';

export interface ProgressOptions {
  /** Where to write; process.stderr by default. */
  out?: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  label?: string;
  /** Minimum time between redraws of the bar. */
  redrawMs?: number;
  /** Time between lines when not a terminal. */
  logEveryMs?: number;
  now?: () => number;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = -1;
  do { v /= 1024; i++; } while (v >= 1024 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (x: number) => String(x).padStart(2, '0');
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}

function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(1)}M`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(0)}k`;
  return perSecond.toFixed(0);
}

export class ProgressBar {
  private readonly out: NonNullable<ProgressOptions['out']>;
  private readonly tty: boolean;
  private readonly started: number;
  private lastDraw = -Infinity;
  private readonly now: () => number;

  constructor(private readonly opts: ProgressOptions = {}) {
    this.out = opts.out ?? process.stderr;
    this.tty = this.out.isTTY === true;
    this.now = opts.now ?? (() => performance.now());
    this.started = this.now();
  }

  /** Call as often as convenient; draws at most every redrawMs (TTY) or logEveryMs (otherwise). */
  update(p: ProgressState): void {
    const t = this.now();
    const every = this.tty ? (this.opts.redrawMs ?? 200) : (this.opts.logEveryMs ?? 10_000);
    if (t - this.lastDraw < every) return;
    this.lastDraw = t;
    this.out.write(this.tty ? `\r${this.line(p, t)}\x1b[K` : `${this.line(p, t)}\n`);
  }

  /** The last state, and a newline to leave the bar on screen. */
  finish(p: ProgressState): void {
    const t = this.now();
    this.out.write(this.tty ? `\r${this.line(p, t)}\x1b[K\n` : `${this.line(p, t)}\n`);
  }

  line(p: ProgressState, t = this.now()): string {
    const elapsed = Math.max((t - this.started) / 1000, 1e-9);
    const fraction = p.totalBytes > 0 ? Math.min(p.bytesRead / p.totalBytes, 1) : 0;
    const bytesPerS = p.bytesRead / elapsed;
    const eta = bytesPerS > 0 ? (p.totalBytes - p.bytesRead) / bytesPerS : Infinity;
    const label = this.opts.label ? `${this.opts.label} ` : '';
    const stats = `${(fraction * 100).toFixed(1).padStart(5)}% ${formatBytes(p.bytesRead)}/${formatBytes(p.totalBytes)} `
      + `${formatRate(p.rows / elapsed)} rows/s ${formatRate(p.readings / elapsed)} readings/s ETA ${formatDuration(eta)}`;
    if (!this.tty) return `${label}${stats}`;
    const width = Math.max(10, Math.min(40, (this.out.columns ?? 80) - label.length - stats.length - 4));
    const filled = Math.round(fraction * width);
    return `${label}[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${stats}`;
  }
}
