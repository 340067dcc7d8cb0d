/**
 * `aquawatch import FILE --map MAPPING.yaml [--config CFG]`: a CSV history file into the configured
 * store, with a progress bar on stderr and the summary on stdout. The import itself (mapping, parsing,
 * validation, store writes) is the CSV source's: ingest/sources/csv/.
 * Exit codes: 0 imported (rejected cells are reported, not fatal), 1 the import failed, 2 usage or
 * configuration error.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { ConfigError, loadConfig } from '../../core/config/load.ts';
import { SOURCES } from '../../ingest/sources/registry.ts';
import { integerOption, parseCommandLine } from '../../core/command-line.ts';
import { Topology } from '../../core/topology/topology.ts';
import { createStore } from '../../core/tsdb/factory.ts';
import { ReadingValidator } from '../../ingest/pipeline/validate.ts';
import { importCsv, ImportError, type ImportRejection, type ImportSummary } from '../../ingest/sources/csv/import.ts';
import { loadMapping, MappingError } from '../../ingest/sources/csv/mapping.ts';
import { ProgressBar } from './import-progress.ts';

const USAGE = `usage: aquawatch import FILE --map MAPPING.yaml [--config CFG] [options]

Imports a CSV file of history into the configured time-series store. The mapping (YAML) says how
to read the file; see ingest/sources/csv/README.md.

options:
  -m, --map FILE        the mapping file (required)
  -c, --config FILE     configuration (default: $AQUAWATCH_CONFIG, else the built-in defaults)
      --batch-size N    readings per store write (default: ingest.writeBatchSize)
      --rejects FILE    write every rejected cell as a JSON line to FILE
      --json            print the summary as JSON
  -q, --quiet           no progress output
  -h, --help            this text`;

/** How many rejections are printed on stderr when they are not written to a file. */
const PRINT_REJECTIONS = 20;

export interface ImportCommandIo {
  stdout?: (line: string) => void;
  stderr?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env?: NodeJS.ProcessEnv;
}

export async function run(argv: string[], io: ImportCommandIo = {}): Promise<number> {
  const out = io.stdout ?? ((l: string) => console.log(l));
  const errStream = io.stderr ?? process.stderr;
  const err = (l: string) => errStream.write(`${l}\n`);
  const env = io.env ?? process.env;

  const cl = parseCommandLine({
    command: 'aquawatch import', usage: USAGE, positionals: true,
    options: {
      map: { type: 'string', short: 'm' },
      config: { type: 'string', short: 'c' },
      'batch-size': { type: 'string' },
      rejects: { type: 'string' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
    },
  }, argv, { out, err });
  if (typeof cl === 'number') return cl;
  const { values, positionals } = cl;
  const file = positionals[0];
  if (positionals.length !== 1) return cl.fail('give exactly one FILE');
  if (typeof values.map !== 'string') return cl.fail('--map MAPPING.yaml is required');
  const batchSize = integerOption('batch-size', values['batch-size'], 1);
  if (typeof batchSize === 'object') return cl.fail(batchSize.error);

  let config;
  let mapping;
  let topology;
  try {
    config = loadConfig((values.config as string | undefined) ?? env.AQUAWATCH_CONFIG, env, SOURCES);
    topology = new Topology(config.topology, config.file);
    mapping = loadMapping(values.map);
  } catch (e) {
    if (e instanceof ConfigError) { err(`configuration error: ${e.message}`); return 2; }
    if (e instanceof MappingError) { err(`mapping error: ${e.message}`); return 2; }
    throw e;
  }

  const store = await createStore(config.store, config.dataDir);
  const validator = new ReadingValidator(topology, { maxFutureMs: config.ingest.maxFutureMs, now: Date.now });
  const bar = values.quiet ? undefined : new ProgressBar({ out: errStream, label: basename(file) });
  const rejectsFd = typeof values.rejects === 'string' ? openSync(values.rejects, 'w') : undefined;
  let printed = 0;
  const deadLetter = (r: ImportRejection) => {
    if (rejectsFd !== undefined) writeSync(rejectsFd, `${JSON.stringify(r)}\n`);
    else if (printed++ < PRINT_REJECTIONS) {
      if (bar && errStream.isTTY) errStream.write('\r\x1b[K');
      err(`rejected: line ${r.line}${r.column ? ` column ${r.column}` : ''}: ${r.field}: ${r.reason}`);
    }
  };

  let summary: ImportSummary;
  try {
    summary = await importCsv({
      file, mapping, store, validator, topology, deadLetter,
      batchSize: batchSize ?? config.ingest.writeBatchSize,
      onProgress: bar ? (p) => bar.update(p) : undefined,
    });
    bar?.finish({ bytesRead: summary.bytes, totalBytes: summary.bytes, rows: summary.rows, readings: summary.readings });
  } catch (e) {
    if (e instanceof ImportError) { err(`aquawatch import: ${e.message}`); return 1; }
    throw e;
  } finally {
    if (rejectsFd !== undefined) closeSync(rejectsFd);
    await store.close();
  }

  if (rejectsFd === undefined && summary.rejected > PRINT_REJECTIONS) {
    err(`... ${summary.rejected - PRINT_REJECTIONS} more rejected (use --rejects FILE to keep them all)`);
  }
  if (values.json) {
    out(JSON.stringify({ ...summary, store: store.describe }));
  } else {
    const n = (x: number) => x.toLocaleString('en-US');
    const range = summary.firstTs !== undefined ? `, ${new Date(summary.firstTs).toISOString()} to ${new Date(summary.lastTs!).toISOString()}` : '';
    out(`imported ${file} into ${store.describe}: ${n(summary.rows)} rows, ${n(summary.readings)} readings, `
      + `${n(summary.rejected)} rejected, ${n(summary.gaps)} gaps in ${summary.seconds.toFixed(1)} s `
      + `(${n(Math.round(summary.rows / Math.max(summary.seconds, 1e-3)))} rows/s)${range}`);
    if (summary.rejected && rejectsFd !== undefined) out(`rejected cells written to ${values.rejects}`);
  }
  return 0;
}
