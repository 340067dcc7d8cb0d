/**
 * Every repository path a Markdown file cites exists (issue #10.7: DESIGN.md was cited five times and
 * never written). Cited paths: link targets, code spans that are paths or file names, and paths from
 * a top-level folder anywhere in the text. A path is looked up beside the Markdown file, then from
 * the project root; a bare file name (`demo.yaml` in a table of the suite) may name a file anywhere in
 * the repository. Not repository paths: paths that leave the project (the reference data folder,
 * `../shared/data`), the reference datasets' file names, what git ignores (generated: `dist/`,
 * `test/e2e/artifacts/`) and one-word folder names, which name folders at run time (a PKI's `rejected/`).
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, normalize } from 'node:path';
import { PROJECT_ROOT, projectFiles } from './support/repository.ts';
import { REFERENCE_DATASETS } from '../core/reference-data.ts';

const TOP = '(?:core|ingest|analytics|dashboard|simulators|bin|test|bench|docs|deploy|\\.ci)/';
const EXTENSIONS = 'ts|tsx|mts|js|mjs|cjs|json|ya?ml|md|csv|inp|sh|html|css|svg|png|conf|example';
/** A path from a top-level folder in running text, e.g. core/tsdb/README.md or test/support/. */
const IN_TEXT = new RegExp(`(?<![\\w./@-])(${TOP}[\\w./-]*[\\w/])`, 'g');
/** A code span that is a path or a file name: no spaces, no placeholders or globs. */
const PATH_SPAN = new RegExp(`^(?:[\\w.-]+/)*[\\w.-]+(?:\\.(?:${EXTENSIONS})|/)$`);
const LINK = /\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g;
const CODE_SPAN = /`([^`\n]+)`/g;
const DATASET_NAMES = new Set(Object.values(REFERENCE_DATASETS).map((d) => d.file.split('/').pop()!));

/** The paths a Markdown text cites, with their line numbers. */
function citedPaths(text: string): Array<{ line: number; path: string }> {
  const found: Array<{ line: number; path: string }> = [];
  let inFence = false;
  text.split('\n').forEach((line, i) => {
    if (/^\s*```/.test(line)) { inFence = !inFence; return; }
    if (inFence) return; // shell sessions and config examples: their paths belong to the reader's machine
    const add = (path: string) => found.push({ line: i + 1, path });
    for (const m of line.matchAll(LINK)) if (!/^(?:[a-z]+:|#|\/)/i.test(m[1])) add(m[1].replace(/#.*$/, ''));
    for (const m of line.matchAll(CODE_SPAN)) if (PATH_SPAN.test(m[1]) && !DATASET_NAMES.has(m[1]) && !/^[\w.-]+\/$/.test(m[1])) add(m[1]);
    for (const m of line.replace(CODE_SPAN, ' ').matchAll(IN_TEXT)) add(m[1]);
  });
  return found;
}

function exists(markdownFile: string, path: string, fileNames: Set<string>): boolean {
  if (!path.includes('/') && fileNames.has(path)) return true;
  for (const base of [dirname(markdownFile), '.']) {
    const relative = normalize(join(base, path));
    if (relative.startsWith('..')) return true; // outside the project: not a repository path
    if (existsSync(join(PROJECT_ROOT, relative)) || ignoredByGit(relative)) return true;
  }
  return false;
}

function ignoredByGit(path: string): boolean {
  try {
    execFileSync('git', ['check-ignore', '-q', '--no-index', path], { cwd: PROJECT_ROOT, stdio: 'ignore' });
    return true;
  } catch {
    return false; // exit status 1: not ignored
  }
}

describe('Markdown', () => {
  it('cites only paths that exist in the repository', () => {
    const files = projectFiles();
    const fileNames = new Set(files.map((f) => basename(f)));
    const markdown = files.filter((f) => f.endsWith('.md'));
    expect(markdown).toContain('README.md');
    const missing: string[] = [];
    for (const file of markdown) {
      for (const { line, path } of citedPaths(readFileSync(join(PROJECT_ROOT, file), 'utf8'))) {
        if (!exists(file, path, fileNames)) missing.push(`${file}:${line}: ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
