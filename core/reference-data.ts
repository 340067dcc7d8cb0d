/**
 * Where the third-party reference datasets are (L-Town and the EPANET examples, the BWDF inflows,
 * BattLeDIM). They are never committed into this repository: benchmarks and the options that use
 * them (`aquawatch simulate --network`, `city: ltown`) read them from a data folder.
 *
 * The folder is `AQUAWATCH_DATA_DIR` when set, else `shared/data` in the folder that holds the
 * project. This is the one place that names the default: everything else asks `referenceFile`.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's root folder (this file is core/reference-data.ts). */
const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const DATA_DIR_ENV = 'AQUAWATCH_DATA_DIR';

/** The datasets by name, each a file inside the data folder, with what it is for the error message. */
export const REFERENCE_DATASETS = {
  'ltown': { file: 'networks/L-TOWN.inp', what: 'L-Town network (BattLeDIM 2020, CC BY 4.0)' },
  'net1': { file: 'networks/Net1.inp', what: "EPANET's example network 1 (US EPA, public domain)" },
  'bwdf-inflows': { file: 'bwdf/InflowData.csv', what: 'BWDF 2024 hourly DMA inflows (CC BY 4.0)' },
  'battledim-flows': { file: 'battledim-2019-h1/Flows.csv', what: 'BattLeDIM 2019 H1 SCADA flows (CC BY 4.0)' },
  'battledim-levels': { file: 'battledim-2019-h1/Levels.csv', what: 'BattLeDIM 2019 H1 tank level (CC BY 4.0)' },
  'battledim-leaks': { file: 'battledim-2019-h1/leaks.csv', what: 'BattLeDIM 2019 H1 leak ground truth (CC BY 4.0)' },
  // the second half-year is held back for evaluation: not here, measured where a data folder holds it (same layout)
  'battledim-h2-flows': { file: 'battledim-2019-h2/Flows.csv', what: 'BattLeDIM 2019 H2 SCADA flows, held back for evaluation (CC BY 4.0)' },
  'battledim-h2-levels': { file: 'battledim-2019-h2/Levels.csv', what: 'BattLeDIM 2019 H2 tank level, held back for evaluation (CC BY 4.0)' },
  'battledim-h2-leaks': { file: 'battledim-2019-h2/leaks.csv', what: 'BattLeDIM 2019 H2 leak ground truth, held back for evaluation (CC BY 4.0)' },
} as const;

export type ReferenceDataset = keyof typeof REFERENCE_DATASETS;

/** A dataset that is not in the data folder: the message says which, where it was looked for, and how to fix it. */
export class ReferenceDataMissingError extends Error {
  readonly code = 'reference_data_missing';
  constructor(readonly dataset: string, readonly path: string) {
    super(
      `reference dataset '${dataset}' is missing: expected ${path}. ` +
      `Put the reference data folder there, or set ${DATA_DIR_ENV} to the folder that holds it.`,
    );
    this.name = 'ReferenceDataMissingError';
  }
}

/** The data folder: `AQUAWATCH_DATA_DIR` (relative to the working directory), or `shared/data` in the project's parent folder. */
export function referenceDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env[DATA_DIR_ENV];
  if (configured) return isAbsolute(configured) ? configured : resolve(configured);
  return resolve(PROJECT_ROOT, '..', 'shared', 'data');
}

/** The path of a dataset's file, whether or not it exists. */
export function referencePath(dataset: ReferenceDataset, env: NodeJS.ProcessEnv = process.env): string {
  return join(referenceDataDir(env), REFERENCE_DATASETS[dataset].file);
}

/** True when the dataset's file is in the data folder. */
export function hasReferenceData(dataset: ReferenceDataset, env: NodeJS.ProcessEnv = process.env): boolean {
  return existsSync(referencePath(dataset, env));
}

/** The path of a dataset's file; throws ReferenceDataMissingError when it is not there. */
export function referenceFile(dataset: ReferenceDataset, env: NodeJS.ProcessEnv = process.env): string {
  const path = referencePath(dataset, env);
  if (!existsSync(path)) throw new ReferenceDataMissingError(`${dataset} (${REFERENCE_DATASETS[dataset].what})`, path);
  return path;
}
