/**
 * The project's own files, for the tests that check the repository itself (no reference data
 * committed, every path a Markdown file cites exists, the import boundaries).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Every file that is or would be committed: tracked files and untracked ones git does not ignore
 * (so a file copied in but not yet added is caught too), relative to the project root.
 */
export function projectFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: PROJECT_ROOT, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  // a file deleted in the working tree but not yet in the index is still listed by --cached
  return [...new Set(out.split('\0').filter(Boolean))].filter((f) => existsSync(join(PROJECT_ROOT, f)));
}
