/**
 * One temporary folder per test run. The tests make their scratch folders under the system's
 * temporary folder (mkdtemp under os.tmpdir(): outboxes, certificates, brokers' persistence,
 * InfluxDB data), and most cannot remove them: a test process is ended without an exit event, and
 * a broker's folder is kept after stop() for a restart to take up. So vitest.config.ts points TMPDIR
 * at a folder of this run's own (the test workers and every process they start inherit it) and
 * removes it when the run ends: a CI machine's /tmp does not fill by some 300 folders a run.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function runTempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aw-test-run-'));
  // Mosquitto, started as root, drops to its own user: it must reach its folder inside this one
  chmodSync(dir, 0o755);
  process.env.TMPDIR = dir;
  // vitest's main process outlives every worker: its exit is the end of the run
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
