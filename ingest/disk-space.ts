/**
 * The disk-space condition (review F24): the embedded store, the outbox and the state database grow
 * on the data directory's filesystem until SQLite fails with SQLITE_FULL. Checked off the hot path
 * (an async `statfs` on a timer), raised as `ingest.disk_low:<dir>` when free space falls below
 * either floor (MiB or % of the filesystem; 0 turns one off) and cleared only once free space is
 * 10 % above both floors again, so a filesystem hovering at the floor does not raise and clear on
 * every check.
 */
import { statfs, stat } from 'node:fs/promises';
import type { Condition } from '../core/bus/messages/condition.ts';

const MIB = 1024 * 1024;
/** Free space must exceed the floors by this factor to clear. */
export const DISK_CLEAR_FACTOR = 1.1;

export interface DiskFloor {
  /** Free space below this many MiB raises (0: no absolute floor). */
  diskFreeFloorMiB: number;
  /** Free space below this share of the filesystem, in %, raises (0: no relative floor). */
  diskFreeFloorPercent: number;
}

export interface DiskSpaceWatchOptions {
  /** Directories whose filesystems hold the stores; several on one filesystem are checked once. */
  dirs: readonly string[];
  /** Read at every check. */
  floor: DiskFloor;
  condition(c: Condition): void;
  now?: () => number;
}

export interface DiskUsage { dir: string; freeBytes: number; totalBytes: number }

export class DiskSpaceWatch {
  private readonly low = new Set<string>();
  private readonly now: () => number;

  constructor(private readonly o: DiskSpaceWatchOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Raise or clear each filesystem's condition; returns what was measured. */
  async check(): Promise<DiskUsage[]> {
    const usages = await this.measure();
    const { diskFreeFloorMiB, diskFreeFloorPercent } = this.o.floor;
    for (const u of usages) {
      const floorBytes = Math.max(diskFreeFloorMiB * MIB, (diskFreeFloorPercent / 100) * u.totalBytes);
      const id = `ingest.disk_low:${u.dir}`;
      const evidence = { dir: u.dir, freeMiB: Math.floor(u.freeBytes / MIB), totalMiB: Math.floor(u.totalBytes / MIB), floorMiB: Math.ceil(floorBytes / MIB) };
      if (!this.low.has(u.dir) && u.freeBytes < floorBytes) {
        this.low.add(u.dir);
        this.o.condition({ id, type: 'ingest.disk_low', state: 'raise', ts: this.now(), priority: 'high',
          message: `disk space low on ${u.dir}: ${evidence.freeMiB} MiB free, floor ${evidence.floorMiB} MiB (the stores fail when it is full)`, evidence });
      } else if (this.low.has(u.dir) && u.freeBytes >= floorBytes * DISK_CLEAR_FACTOR) {
        this.low.delete(u.dir);
        this.o.condition({ id, type: 'ingest.disk_low', state: 'clear', ts: this.now(),
          message: `disk space on ${u.dir} above the floor again: ${evidence.freeMiB} MiB free`, evidence });
      }
    }
    return usages;
  }

  private async measure(): Promise<DiskUsage[]> {
    const seen = new Set<number>();
    const out: DiskUsage[] = [];
    for (const dir of this.o.dirs) {
      const { dev } = await stat(dir);
      if (seen.has(dev)) continue;
      seen.add(dev);
      const fs = await statfs(dir);
      // bavail: what an unprivileged process (this one) may still write
      out.push({ dir, freeBytes: fs.bavail * fs.bsize, totalBytes: fs.blocks * fs.bsize });
    }
    return out;
  }
}
