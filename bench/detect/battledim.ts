/**
 * Leak detection on a real utility's data, scored as BattLeDIM scores it: L-Town's SCADA for
 * January–June 2019 (BattLeDIM 2020, KIOS Research, CC BY 4.0: the two mains from the reservoirs
 * p227 and p235, the pump PUMP_1 that fills tank T1, T1's level; every 5 min, UTC), read from the
 * reference data folder (core/reference-data.ts), imported with `aquawatch import` (mappings
 * ingest/sources/csv/fixtures/battledim-*.yaml) into an embedded SQLite store in a temp dir and
 * replayed through every detector with `aquawatch analyze --truth leaks.csv`, the commands a utility
 * runs. Flows and the tank level only: no pressure sensor.
 *
 * L-Town is described as one area: its inlets are p227 and p235, and its tank is T1, a cylinder whose
 * diameter is read from L-TOWN.inp's [TANKS] at run time. The pump's water stays inside the area
 * (it lifts from the network into T1, which feeds the Hill zone), so it is no outlet; the tank's
 * storage term is what keeps its on/off cycles out of the net demand.
 *
 * Scored with analytics/scoring (the issue's rule): a leak-type alarm finds a leak within 14 days of
 * its start (abrupt) or its peak (incipient); later alarms in its window are repeats; every other
 * leak-type alarm is false; the four leaks running since 2018 are background. Figures:
 * detect.battledim_h1_found (of 10), _false, _delay_abrupt_median_h, _delay_incipient_median_d.
 *
 * Cold starts: the held-back second half-year will most likely be replayed from a cold start on its
 * first day. With `coldStarts` (the detect suite and this file's main pass COLD_START_ORIGINS), the
 * half-year is replayed again from the first of February, March, April and May with the detectors
 * knowing nothing before (`aquawatch analyze --no-warmup`, the same as an empty store: detectors read
 * history only when warming up), each scored with the leaks running at its origin as background.
 * January's run is the main replay (nothing is stored before 1 January; with --no-warmup it scores
 * the same). Per origin: found of the leaks begun after it, the false alarms' types and times.
 * detect.battledim_h1_cold_starts_false_max: the most false alarms of any run;
 * _missed_max: the most new leaks any run missed; _origins: the runs (5). A later origin covers
 * fewer months, so these bound the worst start; they are not rates.
 * Phases: the detectors judge local-clock hours and nights, so where the data's events fall against
 * the hour boundaries moves their reports by up to an hour, and a threshold crossed at 02:00 may be
 * crossed at 01:15 or 02:45 in another town's data. With `phaseShifts` (the detect suite and this
 * file's main pass PHASE_SHIFTS_MIN), the half-year is imported and replayed again with every
 * timestamp, readings and the leak log alike, moved 15, 30 and 45 minutes later: the same events,
 * hours that begin at another minute of them. detect.battledim_h1_phases_found_min,
 * _false_max and _delay_abrupt_median_h_max bound the four phases (the main replay is phase 0): how
 * far the figures above are from an accident of alignment.
 * The held-back half-year (July–December, HALF_YEARS.h2) is scored by the same code where the data
 * folder holds it (measureHeldBackHalfYear: from a cold start on 1 July, and after January–June).
 * Without the data folder the figures are not measured and one JSON line says which dataset is missing.
 * `--every 15` replays the half-year with one sample of the flows and the level every 15 minutes
 * (the topology still declaring 5 min, as a utility's 15-min export imported into it would be), the
 * main replay and the cold starts, its figures named `..._15min`.
 *
 *   node --import tsx bench/detect/battledim.ts [--every 15]
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Writable } from 'node:stream';
import { stringify as toYaml } from 'yaml';
import { run as importCommand } from '../../bin/commands/import.ts';
import { run as analyzeCommand } from '../../bin/commands/analyze.ts';
import { hasReferenceData, referenceFile, ReferenceDataMissingError, type ReferenceDataset } from '../../core/reference-data.ts';
import { parseInp } from '../../simulators/hydraulics/inp.ts';
import { MINUTE_MS } from '../../analytics/baseline/local-time.ts';
import { describeScore, formatDelay, formatMedian, type ScoreReport } from '../../analytics/scoring/score.ts';
import { reportMissingData } from '../run.ts';

export const BATTLEDIM_FIGURES = {
  found: 'detect.battledim_h1_found',
  false: 'detect.battledim_h1_false',
  delayAbrupt: 'detect.battledim_h1_delay_abrupt_median_h',
  delayIncipient: 'detect.battledim_h1_delay_incipient_median_d',
  /** Found leaks that ended (were repaired) in the half-year, those whose alarms all cleared after it, and how soon. */
  repairsEnded: 'detect.battledim_h1_repairs_ended',
  repairsSeen: 'detect.battledim_h1_repairs_seen',
  repairSeenMedian: 'detect.battledim_h1_repair_seen_median_h',
  /** Alarms of found leaks cleared while their leak still ran (a wrong "repaired"). */
  clearedWhileLeaking: 'detect.battledim_h1_cleared_while_leaking',
} as const;

const FIXTURES = new URL('../../ingest/sources/csv/fixtures/', import.meta.url).pathname;
const AREA = 'ltown';

/**
 * BattLeDIM's two half-years of 2019: January–June to develop on, July–December held back for
 * evaluation. The second is measured where the data folder holds it (`battledim-2019-h2/`, the
 * same three files as the first): from a cold start on 1 July, and, with the first half-year in
 * the folder too, after it (its readings imported first, so the replay warms up on them as a live
 * server would have).
 */
export const HALF_YEARS = {
  h1: { from: '2019-01-01T00:00:00Z', to: '2019-07-01T00:00:00Z', files: { flows: 'battledim-flows', levels: 'battledim-levels', leaks: 'battledim-leaks' } },
  h2: { from: '2019-07-01T00:00:00Z', to: '2020-01-01T00:00:00Z', files: { flows: 'battledim-h2-flows', levels: 'battledim-h2-levels', leaks: 'battledim-h2-leaks' } },
} as const satisfies Record<string, { from: string; to: string; files: Record<'flows' | 'levels' | 'leaks', ReferenceDataset> }>;
export type HalfYear = keyof typeof HALF_YEARS;
const { from: FROM } = HALF_YEARS.h1;

/** T1's diameter in m, from the model's [TANKS] section. */
export function tankDiameter(inpText: string, tank = 'T1'): number {
  const t = parseInp(inpText).tanks.get(tank);
  if (!t) throw new Error(`L-TOWN.inp has no tank ${tank}`);
  return t.diameter;
}

/** L-Town as one area: system input p227 + p235, storage in T1, the pump inside. */
export function battledimTopology(t1DiameterM: number) {
  const sensor = (id: string, kind: 'flow' | 'level', place: string) => ({ id, kind, unit: kind === 'flow' ? 'm3/h' : 'm', site: 'ltown', dma: AREA, place, intervalS: 300 });
  return {
    sites: [{ id: 'ltown', name: 'L-Town (BattLeDIM 2020)', timezone: 'UTC' }],
    dmas: [{ id: AREA, name: 'L-Town', inlets: ['ltown-p227', 'ltown-p235'], tanks: [{ level: 'ltown-t1-level', diameterM: t1DiameterM }] }],
    sensors: [
      sensor('ltown-p227', 'flow', 'inlet'), sensor('ltown-p235', 'flow', 'inlet'),
      sensor('ltown-pump1', 'flow', 'pump-station'), sensor('ltown-t1-level', 'level', 'tank'),
    ],
  };
}

export interface BattledimResult {
  imported: { file: string; readings: number; gaps: number; rejected: number }[];
  replay: { readings: number; seconds: number; detectorErrors: number; byType: Record<string, number> };
  score: ScoreReport;
  /** The replays from later cold-start origins (only when asked for: `coldStarts`), oldest first. */
  coldStarts: ColdStartRun[];
  /** The replays with every timestamp moved later (only when asked for: `phaseShifts`). */
  phases: PhaseRun[];
}

/** One replay of the half-year with its readings and its leak log moved `shiftMin` minutes later. */
export interface PhaseRun {
  shiftMin: number;
  replay: BattledimResult['replay'];
  score: ScoreReport;
}

/** Minutes by which the phase runs move the data: the hour's other quarter-hour boundaries. */
export const PHASE_SHIFTS_MIN = [15, 30, 45] as const;

/** BattLeDIM's timestamps: `2019-01-01 00:05:00` in Flows.csv, `2019-01-15 23:00` in leaks.csv, UTC. */
const CSV_TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?$/;

/**
 * A BattLeDIM CSV with every field that is a timestamp (any column: the readings' first, the leak
 * log's start, end and peak) moved `minutes` later, in the same format; other fields untouched.
 */
export function shiftCsvTimestamps(text: string, minutes: number, separator: string): string {
  return text.split('\n').map((line) => line.split(separator).map((field) => {
    const m = CSV_TIMESTAMP.exec(field.trim());
    if (!m) return field;
    const iso = new Date(Date.parse(`${field.trim().replace(' ', 'T')}Z`) + minutes * MINUTE_MS).toISOString();
    return `${iso.slice(0, 10)} ${iso.slice(11, m[1] ? 19 : 16)}`;
  }).join(separator)).join('\n');
}

/**
 * The rows of a SCADA export (`;`-separated, timestamp first) at whole multiples of `everyMin`
 * minutes, header kept: BattLeDIM's 5-min data as a utility logging every 15 min would have it
 * (instantaneous samples), the topology still declaring 5 min.
 */
export function resampleCsv(text: string, everyMin: number): string {
  const lines = text.split('\n');
  return [lines[0], ...lines.slice(1).filter((line) => {
    const ts = Date.parse(`${line.split(';')[0].trim().replace(' ', 'T')}Z`);
    return Number.isFinite(ts) && ts % (everyMin * MINUTE_MS) === 0;
  })].join('\n');
}

/** One replay of the half-year from a cold start at `origin`: nothing known before it. */
export interface ColdStartRun {
  origin: string;
  replay: BattledimResult['replay'];
  score: ScoreReport;
}

/**
 * Cold-start origins: the first of each month January–May 2019. The held-back half-year will most
 * likely be replayed from a cold start on its first day, so each of these runs is the proxy for it:
 * detectors that know nothing before the origin, the leaks running at it background (as 2018's are).
 * January's is the main replay itself (its store holds nothing before 1 January).
 */
export const COLD_START_ORIGINS = ['2019-01-01T00:00:00Z', '2019-02-01T00:00:00Z', '2019-03-01T00:00:00Z', '2019-04-01T00:00:00Z', '2019-05-01T00:00:00Z'] as const;

const quiet = () => new Writable({ write(_c, _e, cb) { cb(); } });

interface AnalyzeOutput { readings: number; detectorErrors: number; byType: Record<string, number>; score: ScoreReport; transferWarnings: string[] }

/** `aquawatch analyze --truth` over [from, to); `warmUp: false` starts the detectors cold at `from` (--no-warmup). */
async function analyzeFrom(config: string, leaks: string, from: string, to: string, out: string, warmUp: boolean): Promise<{ analysed: AnalyzeOutput; seconds: number }> {
  const lines: string[] = [];
  const errs: string[] = [];
  const t0 = performance.now();
  const args = ['--config', config, '--from', from, '--to', to, '--json', '--chunk', '168', '--truth', leaks, '--out', out, ...(warmUp ? [] : ['--no-warmup'])];
  const code = await analyzeCommand(args, { stdout: (l) => lines.push(l), stderr: (l) => errs.push(l) });
  if (code !== 0) throw new Error(`aquawatch analyze exited with ${code}: ${errs.slice(-3).join(' | ')}`);
  return { analysed: JSON.parse(lines.pop()!) as AnalyzeOutput, seconds: (performance.now() - t0) / 1000 };
}

/** `aquawatch import` of the flows and the level (of one or more half-years) into a store of their own in `dir`; returns its config. */
async function importHalfYear(dir: string, halves: readonly { flows: string; levels: string }[], diameter: number, log: (line: string) => void) {
  const config = join(dir, 'config.yaml');
  writeFileSync(config, toYaml({
    site: { name: 'L-Town', timezone: 'UTC' }, dataDir: join(dir, 'data'), store: { type: 'sqlite', path: 'tsdb.sqlite' },
    log: { level: 'warn' }, topology: battledimTopology(diameter),
  }));
  const imported: BattledimResult['imported'] = [];
  for (const [file, mapping] of halves.flatMap((files) => [[files.flows, 'battledim-flows.yaml'], [files.levels, 'battledim-levels.yaml']])) {
    const out: string[] = [];
    const code = await importCommand([file, '--map', join(FIXTURES, mapping), '--config', config, '--json', '--quiet', '--rejects', join(dir, 'rejects.jsonl')],
      { stdout: (l) => out.push(l), stderr: quiet(), env: {} });
    if (code !== 0) throw new Error(`aquawatch import ${file} exited with ${code}`);
    const s = JSON.parse(out.pop()!) as { readings: number; gaps: number; rejected: number };
    imported.push({ file: file.split('/').pop()!, readings: s.readings, gaps: s.gaps, rejected: s.rejected });
    log(`battledim: imported ${file.split('/').pop()}: ${s.readings} readings, ${s.gaps} gaps, ${s.rejected} rejected`);
  }
  return { config, imported };
}

/**
 * Throws ReferenceDataMissingError, before any work, when a BattLeDIM file or L-Town is missing.
 * With `coldStarts`, the half-year is replayed again from each later origin with the detectors cold
 * (`aquawatch analyze --no-warmup`: they read no history before it, as with an empty store), each
 * into an analysis database of its own, scored with the leaks running at the origin as background.
 */
export async function runBattledim(opts: {
  log?: (line: string) => void; coldStarts?: readonly string[]; phaseShifts?: readonly number[];
  /** The half-year replayed and scored (default h1). */
  half?: HalfYear;
  /** A half-year imported before it, for the replay to warm up on (h2 after h1, as a live server would have it). */
  after?: HalfYear;
  /** Keep one sample every this many minutes of the flows and the level (resampleCsv; the topology still says 5 min). */
  everyMin?: number;
} = {}): Promise<BattledimResult> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const { from, to, files: datasets } = HALF_YEARS[opts.half ?? 'h1'];
  const before = opts.after === undefined ? [] : [{ flows: referenceFile(HALF_YEARS[opts.after].files.flows), levels: referenceFile(HALF_YEARS[opts.after].files.levels) }];
  const diameter = tankDiameter(readFileSync(referenceFile('ltown'), 'utf8'));
  const files = { flows: referenceFile(datasets.flows), levels: referenceFile(datasets.levels), leaks: referenceFile(datasets.leaks) };
  // made once every file is known to be there (a missing held-back half-year left an empty folder behind)
  const dir = mkdtempSync(join(tmpdir(), 'aw-bench-battledim-'));
  try {
    if (opts.everyMin !== undefined) {
      // the copies live in the run's scratch folder only, removed with it
      for (const key of ['flows', 'levels'] as const) {
        const copy = join(dir, `every-${opts.everyMin}-${files[key].split('/').pop()!}`);
        writeFileSync(copy, resampleCsv(readFileSync(files[key], 'utf8'), opts.everyMin));
        files[key] = copy;
      }
    }
    const { config, imported } = await importHalfYear(dir, [...before, files], diameter, log);
    log(`battledim: T1 diameter ${diameter} m (L-TOWN.inp), replaying ${from} to ${to}${before.length ? ` after ${opts.after}` : ''}`);
    const { analysed, seconds } = await analyzeFrom(config, files.leaks, from, to, join(dir, 'analysis.sqlite'), true);
    log(`battledim: analysed ${analysed.readings} readings in ${seconds.toFixed(1)} s; alarms by type: ${JSON.stringify(analysed.byType)}`);
    log(`battledim: balance check: ${analysed.transferWarnings.length ? analysed.transferWarnings.join('; ') : 'no transfer missing from the balance (the pump\'s cycles cancel with T1\'s storage)'}`);
    const coldStarts: ColdStartRun[] = [];
    for (const origin of opts.coldStarts ?? []) {
      if (Date.parse(origin) === Date.parse(from)) continue; // the main replay is the first origin's cold start
      const run = await analyzeFrom(config, files.leaks, origin, to, join(dir, `analysis-cold-${origin.slice(0, 10)}.sqlite`), false);
      log(`battledim: cold start ${origin.slice(0, 10)}: analysed ${run.analysed.readings} readings in ${run.seconds.toFixed(1)} s; alarms by type: ${JSON.stringify(run.analysed.byType)}`);
      coldStarts.push({
        origin, score: run.analysed.score,
        replay: { readings: run.analysed.readings, seconds: run.seconds, detectorErrors: run.analysed.detectorErrors, byType: run.analysed.byType },
      });
    }
    const phases: PhaseRun[] = [];
    for (const shiftMin of opts.phaseShifts ?? []) {
      const phaseDir = join(dir, `phase-${shiftMin}`);
      mkdirSync(phaseDir);
      const shifted = Object.fromEntries(Object.entries(files).map(([key, file]) => {
        const copy = join(phaseDir, file.split('/').pop()!);
        writeFileSync(copy, shiftCsvTimestamps(readFileSync(file, 'utf8'), shiftMin, key === 'leaks' ? ',' : ';'));
        return [key, copy];
      })) as typeof files;
      const { config: phaseConfig } = await importHalfYear(phaseDir, [shifted], diameter, () => {});
      const run = await analyzeFrom(phaseConfig, shifted.leaks, from, to, join(phaseDir, 'analysis.sqlite'), true);
      log(`battledim: phase +${shiftMin} min: analysed ${run.analysed.readings} readings in ${run.seconds.toFixed(1)} s; alarms by type: ${JSON.stringify(run.analysed.byType)}`);
      phases.push({
        shiftMin, score: run.analysed.score,
        replay: { readings: run.analysed.readings, seconds: run.seconds, detectorErrors: run.analysed.detectorErrors, byType: run.analysed.byType },
      });
    }
    return {
      imported, replay: { readings: analysed.readings, seconds, detectorErrors: analysed.detectorErrors, byType: analysed.byType }, score: analysed.score,
      coldStarts, phases,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function battledimFigures(r: BattledimResult): Record<string, number> {
  return {
    [BATTLEDIM_FIGURES.found]: r.score.found,
    [BATTLEDIM_FIGURES.false]: r.score.falseAlarms.length,
    [BATTLEDIM_FIGURES.delayAbrupt]: r.score.delayAbruptMedianH,
    [BATTLEDIM_FIGURES.delayIncipient]: r.score.delayIncipientMedianD,
    [BATTLEDIM_FIGURES.repairsEnded]: r.score.repairsEnded,
    [BATTLEDIM_FIGURES.repairsSeen]: r.score.repairsSeen,
    [BATTLEDIM_FIGURES.repairSeenMedian]: r.score.repairSeenMedianH,
    [BATTLEDIM_FIGURES.clearedWhileLeaking]: r.score.clearedWhileLeaking,
  };
}

/**
 * Over the cold-start origins (January's being the main replay): the most false alarms of any one
 * run, and the most new leaks (started after its origin) any one run missed. A run from a later
 * origin covers fewer months, so these are bounds on the worst start, not rates.
 */
export const COLD_START_FIGURES = {
  falseMax: 'detect.battledim_h1_cold_starts_false_max',
  missedMax: 'detect.battledim_h1_cold_starts_missed_max',
  origins: 'detect.battledim_h1_cold_starts_origins',
} as const;

/** Every cold-start run, January's (the main replay) first. */
const allColdStarts = (r: BattledimResult): ColdStartRun[] => [{ origin: FROM, replay: r.replay, score: r.score }, ...r.coldStarts];

export function coldStartFigures(r: BattledimResult): Record<string, number> {
  const runs = allColdStarts(r);
  return {
    [COLD_START_FIGURES.falseMax]: Math.max(...runs.map((c) => c.score.falseAlarms.length)),
    [COLD_START_FIGURES.missedMax]: Math.max(...runs.map((c) => c.score.missed)),
    [COLD_START_FIGURES.origins]: runs.length,
  };
}

const at = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

/** Per origin: found of the leaks begun after it, the false alarms' types and times. */
export function describeColdStarts(r: BattledimResult): string[] {
  return allColdStarts(r).map((c) => {
    const s = c.score;
    const falses = s.falseAlarms.map((a) => `${a.type} ${at(a.raisedAt)}`).join(', ');
    return `cold start ${c.origin.slice(0, 10)}: found ${s.found} of ${s.leaks} (missed ${s.events.filter((e) => !e.background && !e.found).map((e) => e.event.id).join(', ') || 'none'}), `
      + `${s.falseAlarms.length} false${falses ? `: ${falses}` : ''}; ${s.events.filter((e) => e.background).length} leaks background`;
  });
}

/** The phase runs' bounds, phase 0 (the main replay) included. */
export const PHASE_FIGURES = {
  phases: 'detect.battledim_h1_phases',
  foundMin: 'detect.battledim_h1_phases_found_min',
  falseMax: 'detect.battledim_h1_phases_false_max',
  delayAbruptMax: 'detect.battledim_h1_phases_delay_abrupt_median_h_max',
} as const;

const allPhases = (r: BattledimResult): PhaseRun[] => [{ shiftMin: 0, replay: r.replay, score: r.score }, ...r.phases];

export function phaseFigures(r: BattledimResult): Record<string, number> {
  const runs = allPhases(r);
  return {
    [PHASE_FIGURES.phases]: runs.length,
    [PHASE_FIGURES.foundMin]: Math.min(...runs.map((p) => p.score.found)),
    [PHASE_FIGURES.falseMax]: Math.max(...runs.map((p) => p.score.falseAlarms.length)),
    [PHASE_FIGURES.delayAbruptMax]: Math.max(...runs.map((p) => p.score.delayAbruptMedianH)),
  };
}

/** Per phase: found, false, the abrupt median and each leak's finding alarm (times in the shifted data). */
export function describePhases(r: BattledimResult): string[] {
  return allPhases(r).map((p) => {
    const s = p.score;
    const leaks = s.events.filter((e) => !e.background).map((e) => `${e.event.id} ${e.found ? `${e.foundBy!.type} ${formatDelay(e.delayMs!)}${e.foundBy!.retractedAt === undefined ? '' : ' (retracted)'}` : 'missed'}`);
    const falses = s.falseAlarms.map((a) => `${a.type} ${at(a.raisedAt)}`).join(', ');
    return `phase +${p.shiftMin} min: found ${s.found} of ${s.leaks}, ${s.falseAlarms.length} false${falses ? ` (${falses})` : ''}, median delay abrupt ${formatMedian(s.delayAbruptMedianH, 'h')}; ${leaks.join(', ')}`;
  });
}

/** Per leak whether and when it was found, the false alarms, the totals. */
export const describeBattledim = (r: BattledimResult): string[] => describeScore(r.score);

/** The held-back half-year's figures: from a cold start on 1 July, and after the first half-year. */
export const HELD_BACK_PREFIXES = { cold: 'detect.battledim_h2', afterH1: 'detect.battledim_h2_after_h1' } as const;

/** One replay's score as figures named `<prefix>_found`, `_leaks` (new leaks in the log), `_false` and the two median delays. */
export function scoreFigures(prefix: string, r: BattledimResult): Record<string, number> {
  return {
    [`${prefix}_found`]: r.score.found, [`${prefix}_leaks`]: r.score.leaks, [`${prefix}_false`]: r.score.falseAlarms.length,
    [`${prefix}_delay_abrupt_median_h`]: r.score.delayAbruptMedianH, [`${prefix}_delay_incipient_median_d`]: r.score.delayIncipientMedianD,
  };
}

/**
 * July–December 2019, where the data folder holds it (`battledim-2019-h2/`; throws
 * ReferenceDataMissingError when it does not): replayed from a cold start on 1 July, and, when
 * January–June is there too, after it. Each logs its leaks and false alarms.
 */
export async function measureHeldBackHalfYear(log: (line: string) => void): Promise<Record<string, number>> {
  const cold = await runBattledim({ half: 'h2', log });
  for (const l of describeBattledim(cold)) log(`from a cold start on 1 July: ${l}`);
  const figures = scoreFigures(HELD_BACK_PREFIXES.cold, cold);
  if (!Object.values(HALF_YEARS.h1.files).every((d) => hasReferenceData(d))) {
    log('battledim: January–June is not in the data folder: July–December is measured from a cold start only');
    return figures;
  }
  const after = await runBattledim({ half: 'h2', after: 'h1', log });
  for (const l of describeBattledim(after)) log(`after January–June: ${l}`);
  return { ...figures, ...scoreFigures(HELD_BACK_PREFIXES.afterH1, after) };
}

async function main(): Promise<void> {
  let r: BattledimResult;
  // `--every 15`: the same half-year at 15-min samples, its figures named `..._15min`
  const everyArg = process.argv.indexOf('--every');
  const everyMin = everyArg > 0 ? Number(process.argv[everyArg + 1]) : undefined;
  if (everyMin !== undefined && !(Number.isInteger(everyMin) && everyMin > 5 && 60 % everyMin === 0)) throw new Error('--every: a whole number of minutes above 5 that divides the hour (10, 15, 20, 30, 60)');
  try {
    r = await runBattledim({ coldStarts: COLD_START_ORIGINS, phaseShifts: everyMin === undefined ? PHASE_SHIFTS_MIN : [], everyMin });
  } catch (e) {
    if (!(e instanceof ReferenceDataMissingError)) throw e;
    reportMissingData(BATTLEDIM_FIGURES.found, e);
    process.exitCode = 1;
    return;
  }
  for (const l of describeBattledim(r)) console.error(l);
  for (const l of describeColdStarts(r)) console.error(l);
  for (const l of describePhases(r)) console.error(l);
  const figures = { ...battledimFigures(r), ...coldStartFigures(r), ...(everyMin === undefined ? phaseFigures(r) : {}) };
  for (const [metric, value] of Object.entries(figures)) console.log(JSON.stringify({ metric: everyMin === undefined ? metric : `${metric}_${everyMin}min`, value }));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e: unknown) => { console.error(e); process.exit(1); });
}
