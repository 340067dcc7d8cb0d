/**
 * The reference datasets (L-Town and the EPANET examples, the BWDF inflows, BattLeDIM) are never
 * committed into the project, not even in part (issue #9): code reads them from the data folder
 * (core/reference-data.ts). This test looks for them among the project's files by name always, and,
 * when the data folder is present, by content: the same bytes (sha256) or a run of their lines.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { REFERENCE_DATASETS, referenceDataDir } from '../core/reference-data.ts';
import { PROJECT_ROOT, projectFiles } from './support/repository.ts';

/** The reference files' names: EPANET's and L-Town's networks, the BWDF inflows, BattLeDIM's tables. */
const REFERENCE_NAMES = [
  /^L-TOWN\.inp$/i, /^Net\d+\.inp$/i, /^Hanoi[^/]*\.inp$/i,
  /^InflowData\.csv$/i, /^Flows\.csv$/i, /^Levels\.csv$/i, /^leaks\.csv$/i,
];
/** A run of this many consecutive lines of a dataset in a project file is an extract. */
const EXTRACT_LINES = 3;

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/**
 * Lines specific enough to identify a dataset: data rows (at least two numbers, 20 characters), not
 * headers, comments or the option lines every EPANET file shares (a line in two datasets is generic).
 */
const distinctive = (line: string) => line.length >= 20 && (line.match(/\d+(?:[.,]\d+)?/g)?.length ?? 0) >= 2;

describe('reference data is not committed', () => {
  const files = projectFiles();

  it('has no file named like a reference dataset', () => {
    const names = [...REFERENCE_NAMES];
    for (const d of Object.values(REFERENCE_DATASETS)) names.push(new RegExp(`^${basename(d.file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'i'));
    expect(files.filter((f) => names.some((n) => n.test(basename(f))))).toEqual([]);
  });

  const dataDir = referenceDataDir();
  const present = existsSync(dataDir);
  if (!present) console.warn(`reference data folder ${dataDir} is absent: only the file names are checked, not the contents`);

  describe.skipIf(!present)(`against the data folder ${dataDir}`, () => {
    const dataFiles = present ? filesUnder(dataDir) : [];

    it('has no file with the same content as a file of the data folder', () => {
      const data = new Map(dataFiles.map((f) => [sha256(readFileSync(f)), relative(dataDir, f)]));
      const copies = files.flatMap((f) => {
        const same = data.get(sha256(readFileSync(join(PROJECT_ROOT, f))));
        return same ? [`${f} is a copy of ${same}`] : [];
      });
      expect(copies).toEqual([]);
    });

    it(`has no file with ${EXTRACT_LINES} or more consecutive lines of a dataset`, () => {
      const origin = new Map<string, string>();
      const generic = new Set<string>();
      for (const f of dataFiles.filter((x) => /\.(inp|csv)$/i.test(x))) {
        const name = relative(dataDir, f);
        for (const raw of readFileSync(f, 'utf8').split(/\r?\n/)) {
          const line = raw.trim();
          if (!distinctive(line)) continue;
          if (origin.has(line) && origin.get(line) !== name) generic.add(line);
          origin.set(line, name);
        }
      }
      for (const line of generic) origin.delete(line);
      const extracts: string[] = [];
      for (const f of files) {
        const bytes = readFileSync(join(PROJECT_ROOT, f));
        if (bytes.includes(0)) continue; // binary: images, fonts
        let run = 0;
        const lines = bytes.toString('utf8').split(/\r?\n/);
        for (let i = 0; i < lines.length; i++) {
          run = origin.has(lines[i].trim()) ? run + 1 : 0;
          if (run === EXTRACT_LINES) extracts.push(`${f}:${i + 2 - EXTRACT_LINES} has lines of ${origin.get(lines[i].trim())}`);
        }
      }
      expect(extracts).toEqual([]);
    });
  });
});
