/**
 * `npm run bench [-- NAME...]`: the benchmarks. Each prints a table for people and, for tools, one
 * JSON line per figure: {"bench":"ingest.mqtt_json","value":31000,"unit":"readings/s"}.
 * Performance targets live here, not in timed tests.
 */
import { cpus, totalmem } from 'node:os';
import type { ReferenceDataMissingError } from '../core/reference-data.ts';
import { integerOption, parseCommandLine } from '../core/command-line.ts';

export interface Figure { bench: string; value: number; unit: string; target?: string; runs?: number[] }
export type Benchmark = (opts: { runs: number; quick: boolean }) => Promise<Figure[]>;

const SUITES: Record<string, () => Promise<Benchmark>> = {
  ingest: async () => (await import('./ingest.ts')).ingestBenchmark,
  simulate: async () => (await import('./simulate.ts')).simulateBenchmark,
  detect: async () => (await import('./detect/index.ts')).detectBenchmark,
  dashboard: async () => (await import('./dashboard.ts')).dashboardBenchmark,
  faults: async () => (await import('./faults.ts')).faultsBenchmark,
  city: async () => (await import('./city.ts')).cityBenchmark,
  notify: async () => (await import('./notify.ts')).notifyBenchmark,
};

/**
 * A figure that needs a reference dataset the data folder does not have is not measured: one JSON
 * line says which figure, which dataset is absent and where to put it; the other figures go on.
 */
/** `detect:<name>`: one detector measurement of the detect suite alone (bench/detect/index.ts). */
async function detectorMeasurement(name: string): Promise<Benchmark | undefined> {
  const m = /^detect:(.+)$/.exec(name);
  if (!m) return undefined;
  const { DETECTOR_MEASUREMENTS, detectorMeasurementBenchmark } = await import('./detect/index.ts');
  return DETECTOR_MEASUREMENTS[m[1]] ? detectorMeasurementBenchmark(m[1]) : undefined;
}

async function detectorMeasurementNames(): Promise<string> {
  const { DETECTOR_MEASUREMENTS } = await import('./detect/index.ts');
  return Object.keys(DETECTOR_MEASUREMENTS).map((n) => `detect:${n}`).join(', ');
}

export function reportMissingData(bench: string, missing: ReferenceDataMissingError): void {
  console.log(JSON.stringify({ bench, notMeasured: 'reference data missing', dataset: missing.dataset, expected: missing.path, fix: missing.message }));
  console.error(`${bench}: NOT MEASURED, ${missing.message}`);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const USAGE = `usage: aquawatch bench [NAME...] [--quick] [--runs N]

Runs the benchmarks (all, or the ones named: ${Object.keys(SUITES).join(', ')}; detect:NAME runs one
detector measurement of the detect suite alone, e.g. detect:burst). Each figure is printed as a JSON
line on stdout; a table of all figures follows on stderr.

options:
      --quick    one short run per figure
      --runs N   runs per figure, the median is reported (default 3, 1 with --quick)
  -h, --help     this text`;

export async function run(argv: string[]): Promise<number> {
  const cl = parseCommandLine({
    command: 'aquawatch bench', usage: USAGE, positionals: true,
    options: { quick: { type: 'boolean' }, runs: { type: 'string' } },
  }, argv);
  if (typeof cl === 'number') return cl;
  const quick = cl.values.quick ?? false;
  const runsOption = integerOption('runs', cl.values.runs, 1);
  if (typeof runsOption === 'object') return cl.fail(runsOption.error);
  const runs = runsOption ?? (quick ? 1 : 3);
  const selected = cl.positionals.length ? cl.positionals : Object.keys(SUITES);
  for (const n of selected) if (!SUITES[n] && !await detectorMeasurement(n)) return cl.fail(`unknown benchmark ${n}; have: ${Object.keys(SUITES).join(', ')}, ${await detectorMeasurementNames()}`);
  console.error(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ${runs} run(s) per figure, median reported`);
  const all: Figure[] = [];
  for (const n of selected) {
    const bench = SUITES[n] ? await SUITES[n]() : (await detectorMeasurement(n))!;
    const figures = await bench({ runs, quick });
    for (const f of figures) console.log(JSON.stringify({ bench: f.bench, value: f.value, unit: f.unit, ...(f.target ? { target: f.target } : {}) }));
    all.push(...figures);
  }
  console.error('\n' + table(all));
  return 0;
}

function table(figures: Figure[]): string {
  const rows = figures.map((f) => [f.bench, String(Math.round(f.value * 100) / 100), f.unit, f.target ?? '', f.runs ? f.runs.map((r) => Math.round(r)).join(' / ') : '']);
  const head = ['figure', 'median', 'unit', 'target', 'runs'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(w[i])).join('  ');
  return [line(head), line(w.map((x) => '-'.repeat(x))), ...rows.map(line)].join('\n');
}
