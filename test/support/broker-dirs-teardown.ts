/**
 * vitest globalSetup of the sequential group, for its teardown: the Mosquitto brokers the tests
 * start (test/support/mosquitto.ts) keep their folder after stop(), since a restart takes up the
 * persisted sessions; the test processes are ended without an exit event, so the folders are removed
 * here once every file has run. Only those made since this run began: another run's are not ours.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BROKER_DIR_PREFIX = 'aw-mosquitto-';

export default function setup(): () => void {
  const began = Date.now();
  return () => {
    for (const name of readdirSync(tmpdir())) {
      if (!name.startsWith(BROKER_DIR_PREFIX)) continue;
      const dir = join(tmpdir(), name);
      try {
        const s = statSync(dir);
        // a file system without birth times gives 0: the change time (set by start()'s chmod) then
        if ((s.birthtimeMs || s.ctimeMs) >= began - 1000) rmSync(dir, { recursive: true, force: true });
      } catch {
        // gone already, or not ours to remove
      }
    }
  };
}
