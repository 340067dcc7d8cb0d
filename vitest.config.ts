import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'bench/**', 'test/bench/**', 'dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start real servers on fixed ports; keep files from racing for them.
    fileParallelism: false,
    pool: 'forks',
    reporters: ['default'],
  },
});
