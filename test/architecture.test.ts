/**
 * The import boundaries between the top-level folders, as written in .dependency-cruiser.cjs: core
 * imports no other part; simulators, ingest and analytics only core; the dashboard only core and
 * analytics; bin wires them; only test/ and bench/ (and unit tests beside the code, for test/support)
 * import test/ or bench/. A violation fails here with each offending import listed.
 */
import { describe, expect, it } from 'vitest';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import { join } from 'node:path';
import { PROJECT_ROOT } from './support/repository.ts';

const PARTS = ['core', 'ingest', 'analytics', 'dashboard', 'simulators', 'bin', 'test', 'bench'];

describe('architecture', () => {
  it('keeps every import inside the boundaries of .dependency-cruiser.cjs', async () => {
    const cwd = process.cwd();
    // dependency-cruiser reads paths relative to the working directory; report them from the project root
    process.chdir(PROJECT_ROOT);
    try {
      const options = await extractDepcruiseOptions(join(PROJECT_ROOT, '.dependency-cruiser.cjs'));
      const { output } = await cruise(PARTS, { ...options, validate: true });
      const result = output as ICruiseResult;
      expect(result.summary.totalCruised).toBeGreaterThan(300); // the whole code base was read, not an empty set
      const violations = result.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`);
      expect(violations).toEqual([]);
    } finally {
      process.chdir(cwd);
    }
  }, 120_000);
});
