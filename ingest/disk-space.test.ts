/** The disk-space condition (review F24) on this machine's real filesystem (`statfs` of a temporary directory). */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Condition } from '../core/bus/messages/condition.ts';
import { DiskSpaceWatch, type DiskFloor } from './disk-space.ts';

describe('DiskSpaceWatch', () => {
  it('raises below the floor, holds within the hysteresis band, clears above it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aw-disk-'));
    try {
      const fs = await statfs(dir);
      const freeMiB = (fs.bavail * fs.bsize) / 1024 / 1024;
      const floor: DiskFloor = { diskFreeFloorMiB: Math.ceil(freeMiB) + 1024, diskFreeFloorPercent: 0 };
      const got: Condition[] = [];
      // a second directory on the same filesystem is checked once
      const watch = new DiskSpaceWatch({ dirs: [dir, tmpdir()], floor, condition: (c) => got.push(c) });

      await watch.check();
      expect(got).toHaveLength(1);
      expect(got[0]).toMatchObject({ id: `ingest.disk_low:${dir}`, type: 'ingest.disk_low', state: 'raise', priority: 'high' });
      await watch.check(); // still low: no second raise
      expect(got).toHaveLength(1);

      // just under the free space: above the floor but within 10 % of it, so still raised
      floor.diskFreeFloorMiB = freeMiB * 0.95;
      await watch.check();
      expect(got).toHaveLength(1);

      floor.diskFreeFloorMiB = 1;
      await watch.check();
      expect(got.map((c) => c.state)).toEqual(['raise', 'clear']);

      // the relative floor alone raises too (100 % of the filesystem is never free)
      floor.diskFreeFloorMiB = 0;
      floor.diskFreeFloorPercent = 100;
      await watch.check();
      expect(got.map((c) => c.state)).toEqual(['raise', 'clear', 'raise']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
