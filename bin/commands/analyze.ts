/**
 * `aquawatch analyze --from ISO --to ISO`: run the detectors over stored history (for instance after
 * a CSV import) and record the alarms at the event times they would have been raised, so a utility
 * sees what the platform would have caught. The alarms go to an analysis database of their own
 * (default <dataDir>/analysis.sqlite), never mixed with the live alarms; `aquawatch alarms` exports
 * them. Running it again over the same period replaces that period's alarms. Analytics is built as
 * live builds it (analytics/compose.ts): the live planned-outage register (only read) classes
 * outages planned or unplanned and suppresses their pressure alarms, and the outage incidents the
 * replay finds are recorded in the analysis database, so `aquawatch report --state <it>` gives the
 * period's KPIs. With `--truth FILE` the alarms
 * are scored against the utility's own event log (analytics/scoring). After the replay it warns of a
 * transfer missing from a DMA's balance (analytics/balance-check.ts: net demand stepping with a
 * pump's or valve's state).
 *
 * Exit codes: 0 done, 1 the replay failed, 2 usage or configuration error.
 */
import { isAbsolute, join } from 'node:path';
import { Topology } from '../../core/topology/topology.ts';
import { createStore } from '../../core/tsdb/factory.ts';
import { parseIso } from '../../core/time/zoned.ts';
import { calendarPeriodWarning, localDateOf } from '../../core/config/calendar.ts';
import { createLogger } from '../../core/log.ts';
import type { LoadedConfig } from '../../core/config/load.ts';
import { buildAnalytics } from '../../analytics/compose.ts';
import { replay } from '../../analytics/replay.ts';
import { stateDbPath } from '../../core/state/state-db.ts';
import type { Detector } from '../../analytics/types.ts';
import { parseCommandLine } from '../../core/command-line.ts';
import { CONFIG_OPTION, loadConfigOrExplain } from './common.ts';
import { describeScore, estimatedStartOf, retractedAtIn, scoreAlarms, type ScoreReport, type TruthEvent } from '../../analytics/scoring/score.ts';
import { loadTruth, TruthFileError } from '../../analytics/scoring/truth.ts';
import { PipeModelError, readPipeAreas, type PipeAreas } from '../../analytics/scoring/pipe-areas.ts';
import { checkTransfers } from '../../analytics/balance-check.ts';

const USAGE = `usage: aquawatch analyze --from TIME --to TIME [options]

Runs the detectors over the stored history between two times and records the alarms they would
have raised, and the outage incidents, in an analysis database (not the live alarms and incidents).
Export the alarms with 'aquawatch alarms'; the KPIs with 'aquawatch report --state <analysis database>'.
TIME is ISO 8601; without an offset it is read in the site's time zone. Warns when a DMA's net
demand steps with a pump's or valve's state (a transfer missing from its water balance).

options:
  -c, --config FILE   configuration (default: $AQUAWATCH_CONFIG, else the built-in defaults)
      --from TIME     start (inclusive)
      --to TIME       end (exclusive)
      --out FILE      analysis database (default: <dataDir>/analysis.sqlite)
      --chunk HOURS   history read per step, in hours (default 6)
      --no-warmup     start the detectors cold at --from instead of warming them on the history before it
      --truth FILE    score the alarms against an event log (CSV: area or pipe, start, end, type
                      abrupt|incipient[, peak]; analytics/scoring/README.md): per event whether and
                      when it was found, the false alarms and the delays
      --json          print the summary as JSON
  -h, --help          this text`;

/** Builds other detectors than the registry's (tests). */
export type DetectorFactory = (ctx: { topology: Topology; timezone: string; config: LoadedConfig }) => Detector[] | Promise<Detector[]>;

export interface AnalyzeIo {
  stdout?: (line: string) => void;
  stderr?: (line: string) => void;
  /** Tests give their own detectors; otherwise those of the analytics composition (as live). */
  buildDetectors?: DetectorFactory;
}

/** ISO time → ms, read in `zone` when it has no offset; the reason on failure. */
export function parseTimeOption(name: string, value: unknown, zone: string): number | string {
  if (typeof value !== 'string') return `--${name}: required (ISO 8601, e.g. 2024-05-01T00:00:00+08:00)`;
  const r = parseIso(value, zone);
  return r.ok ? r.utc : `--${name}: ${r.reason}`;
}

export async function run(argv: string[], io: AnalyzeIo = {}): Promise<number> {
  const out = io.stdout ?? ((l: string) => console.log(l));
  const err = io.stderr ?? ((l: string) => console.error(l));
  const cl = parseCommandLine({
    command: 'aquawatch analyze', usage: USAGE,
    options: {
      ...CONFIG_OPTION, from: { type: 'string' }, to: { type: 'string' },
      out: { type: 'string' }, chunk: { type: 'string' }, 'no-warmup': { type: 'boolean' }, json: { type: 'boolean' },
      truth: { type: 'string' },
    },
  }, argv, { out, err });
  if (typeof cl === 'number') return cl;
  const { values } = cl;
  const config = loadConfigOrExplain(values.config as string | undefined);
  if (!config) return 2;
  const zone = config.site.timezone;
  const from = parseTimeOption('from', values.from, zone);
  const to = parseTimeOption('to', values.to, zone);
  for (const v of [from, to]) if (typeof v === 'string') { err(`aquawatch analyze: ${v}`); return 2; }
  if ((to as number) <= (from as number)) { err('aquawatch analyze: --to: must be after --from'); return 2; }
  const chunkHours = values.chunk === undefined ? 6 : Number(values.chunk);
  if (!(Number.isFinite(chunkHours) && chunkHours > 0)) { err(`aquawatch analyze: --chunk: must be a positive number of hours (got ${String(values.chunk)})`); return 2; }

  let truth: TruthEvent[] | undefined;
  if (typeof values.truth === 'string') {
    try {
      truth = loadTruth(values.truth, zone);
    } catch (e) {
      if (!(e instanceof TruthFileError)) throw e;
      err(`aquawatch analyze: --truth: ${e.message}`);
      return 2;
    }
  }

  const topology = new Topology(config.topology, config.file);
  // a log naming pipes is placed in areas through the network model (the topology's map)
  let pipeAreas: PipeAreas | undefined;
  const pipeWarnings: string[] = [];
  // a calendar kept a year at a time, replayed over earlier years
  const calendarWarning = calendarPeriodWarning(config.calendar, localDateOf(from as number, zone), localDateOf((to as number) - 1, zone));
  if (truth?.some((e) => e.pipe !== undefined && e.area === undefined) && topology.dmas.size > 1) {
    try {
      if (config.topology.map) pipeAreas = readPipeAreas(config.topology.map);
      else pipeWarnings.push('the log names pipes but the topology has no map (network model): they were matched against alarms of every area');
    } catch (e) {
      if (!(e instanceof PipeModelError)) throw e;
      pipeWarnings.push(`${e.message}; the log's pipes were matched against alarms of every area`);
    }
  }
  const outPath = typeof values.out === 'string' ? (isAbsolute(values.out) ? values.out : join(process.cwd(), values.out)) : join(config.dataDir, 'analysis.sqlite');

  const log = createLogger(config.log.level === 'info' ? 'warn' : config.log.level);
  const store = await createStore(config.store, config.dataDir, { log });
  // as live: the register's planned outages class outages and suppress alarms (the register only read)
  const analytics = buildAnalytics({
    config, topology, statePath: stateDbPath(config), mode: 'replay', log,
    replay: { alarmsPath: outPath, from: from as number, to: to as number },
  });
  const alarmStore = analytics.alarmStore;
  try {
    const detectors = io.buildDetectors ? await io.buildDetectors({ topology, timezone: zone, config }) : analytics.detectors.all;
    const summary = await replay({
      store, topology, detectors, alarms: analytics.alarms, from: from as number, to: to as number, chunkMs: chunkHours * 3_600_000,
      timezone: zone, warmUp: !values['no-warmup'], log,
      onProgress: ({ eventTime, readings }) => err(`analyze: ${new Date(eventTime).toISOString()} ${readings} readings`),
    });
    const found = alarmStore.listAlarms({ from: from as number, to: to as number });
    const transferWarnings = await checkTransfers(store, topology, from as number, to as number);
    const incidents = analytics.register.listIncidents(from as number, to as number);
    const byType: Record<string, number> = {};
    for (const a of found) byType[a.type] = (byType[a.type] ?? 0) + 1;
    const score: ScoreReport | undefined = truth
      ? scoreAlarms(truth, found.map((a) => ({ id: a.id, type: a.type, dma: a.dma, raisedAt: a.raisedAt, estimatedStart: estimatedStartOf(a.evidence), retractedAt: a.clearedAt === undefined ? undefined : retractedAtIn(alarmStore, a.id), clearedAt: a.clearedAt })), { dataStart: from as number, dataEnd: to as number, pipeAreas })
      : undefined;
    const result = {
      from: new Date(from as number).toISOString(), to: new Date(to as number).toISOString(), database: outPath,
      detectors: detectors.map((d) => d.name), readings: summary.readings, readingsPerS: summary.readingsPerS,
      alarms: found.length, byType, replacedAlarms: analytics.replacedAlarms, derivedWritten: summary.derivedWritten,
      incidents: incidents.length, plannedIncidents: incidents.filter((i) => i.planned).length, replacedIncidents: analytics.replacedIncidents,
      late: summary.worker.late, detectorErrors: summary.worker.detectorErrors,
      transferWarnings: transferWarnings.map((w) => w.message),
      ...(pipeWarnings.length ? { pipeWarnings } : {}),
      ...(calendarWarning ? { calendarWarning } : {}),
      ...(score ? { score } : {}),
    };
    if (values.json) out(JSON.stringify(result));
    else {
      out(`analysed ${result.readings} readings from ${result.from} to ${result.to} (${result.readingsPerS}/s) with ${result.detectors.join(', ') || 'no detectors'}`);
      out(`${found.length} alarm(s)${found.length ? `: ${Object.entries(byType).map(([t, n]) => `${t} ${n}`).join(', ')}` : ''}; recorded in ${outPath}`);
      if (result.detectorErrors) out(`warning: ${result.detectorErrors} detector error(s), see the log`);
      for (const w of transferWarnings) out(`warning: ${w.message}`);
      for (const w of pipeWarnings) out(`warning: ${w}`);
      if (calendarWarning) out(`warning: ${calendarWarning}`);
      if (score) for (const line of describeScore(score)) out(line);
      out(`${incidents.length} outage incident(s), ${result.plannedIncidents} of them planned; KPIs: aquawatch report --from ${values.from as string} --to ${values.to as string} --state ${outPath}`);
      out(`export: aquawatch alarms --from ${values.from as string} --to ${values.to as string} --format csv`);
    }
    return 0;
  } catch (e) {
    err(`aquawatch analyze: ${(e as Error).message}`);
    return 1;
  } finally {
    analytics.close();
    await store.close();
  }
}
