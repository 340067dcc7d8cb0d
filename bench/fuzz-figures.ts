/**
 * The fuzz suite's figures for `npm run bench -- faults` (issue #11 §6): test/fuzz/decoders.fuzz.test.ts
 * run by vitest in a child process, which writes its figures to a file (test/fuzz/figures.ts):
 *   fuzz.inputs             inputs tried on every parser of outside input and the bus messages
 *   fuzz.crashes            properties whose oracle failed: a parser that threw where it may not,
 *                           took more than the bound per input, or lost or altered a good item (target 0)
 *   fuzz.max_ms_per_input   the slowest input (target ≤ 100 ms)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FUZZ_FIGURES_FILE_ENV, type FuzzFigures } from '../test/fuzz/figures.ts';
import type { Figure } from './run.ts';

const ROOT = join(import.meta.dirname, '..');
const SUITE = 'test/fuzz/decoders.fuzz.test.ts';

export function fuzzFigures(): Figure[] {
  const dir = mkdtempSync(join(tmpdir(), 'aw-bench-fuzz-'));
  const file = join(dir, 'figures.jsonl');
  try {
    const run = spawnSync(join(ROOT, 'node_modules', '.bin', 'vitest'), ['run', SUITE], {
      cwd: ROOT, env: { ...process.env, [FUZZ_FIGURES_FILE_ENV]: file }, encoding: 'utf8', timeout: 600_000,
    });
    let figures: FuzzFigures;
    try {
      figures = JSON.parse(readFileSync(file, 'utf8').trim().split('\n').pop()!) as FuzzFigures;
    } catch {
      throw new Error(`fuzz: ${SUITE} wrote no figures (exit ${run.status}): ${(run.stderr || run.stdout).slice(-2000)}`);
    }
    if (run.status !== 0) console.error(`fuzz: ${SUITE} failed; its output:\n${run.stdout.slice(-4000)}`);
    return [
      { bench: 'fuzz.inputs', value: figures.inputs, unit: 'inputs' },
      { bench: 'fuzz.crashes', value: figures.failedProperties, unit: 'properties', target: '0' },
      { bench: 'fuzz.max_ms_per_input', value: figures.maxMsPerInput, unit: 'ms', target: '<= 100' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
