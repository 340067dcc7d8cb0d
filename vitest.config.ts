import { defineConfig } from 'vitest/config';
import { testGroups } from './test/support/test-groups.ts';
import { runTempDir } from './test/support/run-temp-dir.ts';

const EXCLUDED = ['node_modules/**', 'bench/**', 'test/bench/**', 'dist/**'];
// Integration tests start real servers and share InfluxDB and Mosquitto, and some wait on timers:
// they run one file at a time, after the files that touch none of that have run on two workers
// (test/support/test-groups.ts says which is which, from each file's source).
const groups = testGroups(import.meta.dirname);
// every scratch folder of this run under one folder, removed when the run ends
const tmp = runTempDir();

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
    env: { TMPDIR: tmp },
    projects: [
      {
        extends: true,
        test: {
          name: 'parallel',
          include: groups.parallel,
          exclude: EXCLUDED,
          maxWorkers: 2,
          isolate: false,
          globalSetup: ['test/support/web-build-setup.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'sequential',
          include: groups.sequential,
          exclude: EXCLUDED,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
