/**
 * False alarms on real data: the BWDF inflows (`InflowData.csv` of the Battle of the Water Demand
 * Forecasting, WDSA-CCWI 2024, CC BY 4.0: 10 DMAs of an Italian utility, hourly, 2021-01 to 2023-03,
 * read from the reference data folder: core/reference-data.ts) imported with `aquawatch import` into
 * an embedded SQLite store and replayed through every detector with `aquawatch analyze` (the same
 * commands a utility runs), in a temp dir. Each DMA has one inlet flow sensor reporting every 3600 s.
 * Without the data folder the figure is not measured, and one JSON line says so (bench/run.ts).
 *
 * Every alarm is listed with its type, DMA, time and the evidence the data give for or against a real
 * event (the hourly inflow around it against the same hours of the weeks before). An alarm of type
 * burst, new_leak (night flow), leak_trend or abrupt_leak (leak-change), pressure or outage counts
 * as false unless the data show a real event:
 * here, a burst or outage is real when the inflow it flags stays beyond 3 robust σ (and 10 %) of the
 * same hour of the previous 4 weeks for ≥ 3 hours running, starting within 3 h of the alarm (a burst:
 * above; an outage: below); a new, slow or abrupt leak
 * when the night minimum stays ≥ 10 % above the previous 14 nights' median for ≥ 3 nights running. Sensor-health
 * alarms (stale, flatline…) on the data's real gaps are not detection alarms and are reported apart.
 *
 *   node --import tsx bench/detect/bwdf.ts
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Writable } from 'node:stream';
import { stringify as toYaml } from 'yaml';
import { run as importCommand } from '../../bin/commands/import.ts';
import { run as analyzeCommand } from '../../bin/commands/analyze.ts';
import { AlarmStore, type AlarmRecord } from '../../core/state/alarm-store.ts';
import { SqliteStore } from '../../core/tsdb/sqlite.ts';
import type { SeriesValue } from '../../core/tsdb/types.ts';
import { referenceFile, ReferenceDataMissingError } from '../../core/reference-data.ts';
import { reportMissingData } from '../run.ts';
import { LEAK_ALARM_TYPES } from '../../analytics/scoring/score.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
export const BWDF_FIGURE = 'detect.bwdf_false_alarms_per_dma_4w';
export const BWDF_MAPPING = new URL('../../ingest/sources/csv/fixtures/bwdf.yaml', import.meta.url).pathname;
const ZONE = 'Europe/Rome';
const DMAS = Array.from({ length: 10 }, (_, i) => `bwdf-dma${i + 1}`);
/** Detection alarm types: each counts as false unless the data show the event. */
const isDetection = (type: string) => LEAK_ALARM_TYPES.includes(type) || type.startsWith('pressure_') || type.startsWith('outage');

export const bwdfTopology = {
  sites: [{ id: 'bwdf', name: 'BWDF utility (Italy)', timezone: ZONE }],
  dmas: DMAS.map((id) => ({ id, inlets: [`${id}-inflow`] })),
  sensors: DMAS.map((id) => ({ id: `${id}-inflow`, kind: 'flow', unit: 'm3/h', site: 'bwdf', dma: id, place: 'inlet', intervalS: 3600 })),
};

/**
 * The utility's calendar, as its engineers would configure it: Italy's national public holidays over
 * the data's years (Law 260/1949 as amended; Easter Monday after Easter Sunday 4 April 2021,
 * 17 April 2022, 9 April 2023). Local patron saints' days are not known for these anonymous DMAs,
 * and Christmas Eve and New Year's Eve are working days by law, so neither is named.
 */
export const BWDF_CALENDAR = {
  holidays: [2021, 2022, 2023].flatMap((y) => [
    { date: `${y}-01-01`, name: 'Capodanno' },
    { date: `${y}-01-06`, name: 'Epifania' },
    { date: { 2021: '2021-04-05', 2022: '2022-04-18', 2023: '2023-04-10' }[y]!, name: "Lunedì dell'Angelo" },
    { date: `${y}-04-25`, name: 'Festa della Liberazione' },
    { date: `${y}-05-01`, name: 'Festa del Lavoro' },
    { date: `${y}-06-02`, name: 'Festa della Repubblica' },
    { date: `${y}-08-15`, name: 'Ferragosto' },
    { date: `${y}-11-01`, name: 'Ognissanti' },
    { date: `${y}-12-08`, name: 'Immacolata Concezione' },
    { date: `${y}-12-25`, name: 'Natale' },
    { date: `${y}-12-26`, name: 'Santo Stefano' },
  ]),
  // working days by law, used like no other: the afternoon and the festive night after
  eves: [2021, 2022].flatMap((y) => [{ date: `${y}-12-24`, name: 'Vigilia di Natale' }, { date: `${y}-12-31`, name: 'San Silvestro' }]),
};

export interface JudgedAlarm {
  type: string;
  dma: string;
  raisedAt: string;
  condition: string;
  real: boolean;
  evidence: string;
}

export interface BwdfResult {
  imported: { rows: number; readings: number; gaps: number; rejected: number; seconds: number };
  replay: { readings: number; readingsPerS: number; seconds: number; detectorErrors: number };
  months: number;
  dmaWeeks: number;
  alarms: JudgedAlarm[];
  byType: Record<string, number>;
  falseDetection: number;
  falseAlarmsPerDma4w: number;
}

const quiet = () => new Writable({ write(_c, _e, cb) { cb(); } });

/** Median and robust σ (1.4826 MAD). */
function robust(xs: number[]): { median: number; sigma: number } {
  const s = [...xs].sort((a, b) => a - b);
  const med = (a: number[]) => (a.length % 2 ? a[a.length >> 1] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2);
  const median = med(s);
  return { median, sigma: 1.4826 * med(s.map((x) => Math.abs(x - median)).sort((a, b) => a - b)) };
}

/**
 * Does the hourly inflow show a real event at `at`? For a burst (`dir` 1) or an outage (−1): the
 * hours from 3 h before to 24 h after, each against the same hour of the 4 previous weeks; real when
 * ≥ 3 consecutive hours are beyond 3 σ (and 10 %) in that direction, or the series is missing
 * around the alarm (then the alarm is about the gap, said so).
 */
function judgeStep(series: Map<number, number>, at: number, dir: 1 | -1): { real: boolean; evidence: string } {
  const start = Math.floor(at / HOUR) * HOUR;
  let run = 0; let best = 0; let bestAt = 0; let missing = 0; const parts: string[] = [];
  for (let t = start - 3 * HOUR; t <= start + 24 * HOUR; t += HOUR) {
    const v = series.get(t);
    const ref = [1, 2, 3, 4].map((w) => series.get(t - w * 7 * DAY)).filter((x): x is number => x !== undefined);
    const near = t >= start - HOUR && t <= start + 3 * HOUR;
    if (v === undefined) { missing++; run = 0; continue; }
    if (ref.length < 2) {
      run = 0;
      if (near) parts.push(`${new Date(t).toISOString().slice(11, 16)} ${v.toFixed(1)} (no earlier weeks)`);
      continue;
    }
    const r = robust(ref);
    const sigma = Math.max(r.sigma, 0.03 * r.median);
    const z = (v - r.median) / sigma;
    const beyond = dir * z >= 3 && dir * (v - r.median) >= 0.1 * r.median;
    run = beyond ? run + 1 : 0;
    // the run must reach back to the alarm: from its hour − 3 h to + 3 h
    if (run > best && t - (run - 1) * HOUR <= start + 3 * HOUR) { best = run; bestAt = t; }
    if (near) parts.push(`${new Date(t).toISOString().slice(11, 16)} ${v.toFixed(1)} vs ${r.median.toFixed(1)}±${sigma.toFixed(1)}`);
  }
  const real = best >= 3;
  return {
    real,
    evidence: `inflow m³/h (vs same hour of 4 previous weeks): ${parts.join('; ')}; longest run beyond 3σ ${dir > 0 ? 'above' : 'below'}: ${best} h${best ? ` ending ${new Date(bestAt).toISOString().slice(0, 13)}h` : ''}${missing ? `; ${missing} of 28 hours missing` : ''}`,
  };
}

/** Night minimum (02:00–04:59 local hours; hourly data) per local night, and whether a rise persists. */
function judgeNight(series: Map<number, number>, at: number): { real: boolean; evidence: string } {
  const dayStartUtc = (d: number) => d * DAY - 2 * HOUR; // local midnight ≈ UTC −1/−2 h; the window below is wide enough
  const nightMin = (d: number) => {
    let m = Infinity;
    for (let t = dayStartUtc(d); t < dayStartUtc(d) + DAY; t += HOUR) {
      const h = new Date(t + (isSummer(t) ? 2 : 1) * HOUR).getUTCHours();
      if (h >= 2 && h <= 4) { const v = series.get(t); if (v !== undefined) m = Math.min(m, v); }
    }
    return Number.isFinite(m) ? m : undefined;
  };
  const day = Math.floor((at + 2 * HOUR) / DAY);
  const ref = Array.from({ length: 14 }, (_, i) => nightMin(day - 1 - i)).filter((x): x is number => x !== undefined);
  if (ref.length < 5) return { real: false, evidence: `only ${ref.length} earlier nights with data` };
  const r = robust(ref);
  const after = [0, 1, 2, 3, 4].map((k) => nightMin(day + k));
  let run = 0; let best = 0;
  for (const v of after) { run = v !== undefined && v >= 1.1 * r.median ? run + 1 : 0; best = Math.max(best, run); }
  return {
    real: best >= 3,
    evidence: `night minima m³/h from the alarm night on: ${after.map((v) => (v === undefined ? '—' : v.toFixed(1))).join(', ')} vs median of 14 nights before ${r.median.toFixed(1)}; ${best} night(s) running ≥ +10 %`,
  };
}

/** Rome summer time (last Sunday of March 01:00 UTC to last Sunday of October 01:00 UTC). */
function isSummer(ts: number): boolean {
  const y = new Date(ts).getUTCFullYear();
  const lastSunday = (m: number) => { const d = new Date(Date.UTC(y, m + 1, 0, 1)); d.setUTCDate(d.getUTCDate() - d.getUTCDay()); return d.getTime(); };
  return ts >= lastSunday(2) && ts < lastSunday(9);
}

function judge(a: AlarmRecord, series: Map<number, number>): { real: boolean; evidence: string } {
  if (a.type === 'burst') return judgeStep(series, a.raisedAt, 1);
  if (a.type === 'outage' || a.type === 'outage_warning') return judgeStep(series, a.raisedAt, -1);
  // a slow or small abrupt leak is judged as a new leak: real only when the night minimum is up ≥ 10 % for ≥ 3 nights
  if (a.type === 'new_leak' || a.type === 'leak_trend' || a.type === 'abrupt_leak') return judgeNight(series, a.raisedAt);
  return { real: false, evidence: 'no inflow judgement for this type' };
}

/** Throws ReferenceDataMissingError, before any work, when the data folder has no BWDF inflows. */
export async function runBwdf(opts: { log?: (line: string) => void } = {}): Promise<BwdfResult> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const inflows = referenceFile('bwdf-inflows');
  const dir = mkdtempSync(join(tmpdir(), 'aw-bench-bwdf-'));
  try {
    const config = join(dir, 'config.yaml');
    writeFileSync(config, toYaml({
      site: { name: 'BWDF', timezone: ZONE }, dataDir: join(dir, 'data'), store: { type: 'sqlite', path: 'tsdb.sqlite' },
      log: { level: 'warn' }, topology: bwdfTopology, calendar: BWDF_CALENDAR,
    }));
    const out: string[] = [];
    const importCode = await importCommand([inflows, '--map', BWDF_MAPPING, '--config', config, '--json', '--quiet', '--rejects', join(dir, 'rejects.jsonl')],
      { stdout: (l) => out.push(l), stderr: quiet(), env: {} });
    if (importCode !== 0) throw new Error(`aquawatch import exited with ${importCode}`);
    const imported = JSON.parse(out.pop()!) as BwdfResult['imported'] & { firstTs: number; lastTs: number };
    log(`bwdf: imported ${imported.readings} readings (${imported.gaps} gaps, ${imported.rejected} rejected) in ${imported.seconds.toFixed(1)} s`);

    const from = new Date(imported.firstTs).toISOString();
    const to = new Date(imported.lastTs + HOUR).toISOString();
    const errs: string[] = [];
    const t0 = performance.now();
    const analyzeCode = await analyzeCommand(['--config', config, '--from', from, '--to', to, '--json', '--chunk', '168'],
      { stdout: (l) => out.push(l), stderr: (l) => errs.push(l) });
    if (analyzeCode !== 0) throw new Error(`aquawatch analyze exited with ${analyzeCode}: ${errs.slice(-3).join(' | ')}`);
    const seconds = (performance.now() - t0) / 1000;
    const analysed = JSON.parse(out.pop()!) as { readings: number; readingsPerS: number; detectorErrors: number; database: string };
    log(`bwdf: analysed ${analysed.readings} readings in ${seconds.toFixed(1)} s`);

    // the inflow per DMA, hourly, to judge each alarm against
    const store = new SqliteStore(join(dir, 'data', 'tsdb.sqlite'));
    await store.init();
    const flows = await store.query({ measurement: 'flow', sensors: DMAS.map((d) => `${d}-inflow`), from: imported.firstTs, to: imported.lastTs + HOUR });
    await store.close();
    const series = new Map<string, Map<number, number>>();
    for (const [sensor, values] of flows) series.set(sensor.replace(/-inflow$/, ''), new Map(values.map((v: SeriesValue) => [v.ts, v.value])));

    const alarmStore = new AlarmStore(analysed.database);
    const records = alarmStore.listAlarms({ from: imported.firstTs, to: imported.lastTs + HOUR });
    alarmStore.close();
    const alarms: JudgedAlarm[] = [];
    const byType: Record<string, number> = {};
    for (const a of records.sort((x, y) => x.raisedAt - y.raisedAt)) {
      byType[a.type] = (byType[a.type] ?? 0) + 1;
      const dma = a.dma ?? '';
      const j = judge(a, series.get(dma) ?? new Map());
      alarms.push({ type: a.type, dma, raisedAt: new Date(a.raisedAt).toISOString(), condition: a.conditionId, ...j });
    }
    // DMA-weeks with data: a DMA counts from its first reading to its last
    let dmaWeeks = 0;
    for (const s of series.values()) {
      const ts = [...s.keys()];
      if (ts.length) dmaWeeks += (Math.max(...ts) - Math.min(...ts) + HOUR) / (7 * DAY);
    }
    const falseDetection = alarms.filter((a) => isDetection(a.type) && !a.real).length;
    return {
      imported, replay: { readings: analysed.readings, readingsPerS: analysed.readingsPerS, seconds, detectorErrors: analysed.detectorErrors },
      months: (imported.lastTs - imported.firstTs) / (30.44 * DAY), dmaWeeks, alarms, byType, falseDetection,
      falseAlarmsPerDma4w: (falseDetection / dmaWeeks) * 4,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One line per alarm with its evidence, then the counts by type and verdict and by DMA. */
export function describeBwdf(r: BwdfResult): string[] {
  const lines = r.alarms.map((a) => `${a.raisedAt.slice(0, 16)}Z ${a.type.padEnd(14)} ${a.dma.padEnd(10)} ${isDetection(a.type) ? (a.real ? 'REAL ' : 'FALSE') : 'other'}  ${a.condition}: ${a.evidence}`);
  const verdicts: Record<string, { real: number; false: number; other: number }> = {};
  const falseByDma: Record<string, number> = {};
  for (const a of r.alarms) {
    const v = verdicts[a.type] ??= { real: 0, false: 0, other: 0 };
    if (!isDetection(a.type)) v.other++;
    else if (a.real) v.real++;
    else { v.false++; falseByDma[a.dma] = (falseByDma[a.dma] ?? 0) + 1; }
  }
  lines.push(`bwdf: ${r.imported.readings} readings over ${r.months.toFixed(1)} months, ${r.dmaWeeks.toFixed(0)} DMA-weeks with data; replay ${r.replay.seconds.toFixed(1)} s`);
  lines.push(`bwdf: alarms by type (real / false / not a detection alarm): ${Object.entries(verdicts).map(([t, v]) => `${t} ${v.real}/${v.false}/${v.other}`).join(', ')}`);
  lines.push(`bwdf: false detection alarms by DMA: ${Object.entries(falseByDma).sort().map(([d, n]) => `${d} ${n}`).join(', ')}; ${r.falseDetection} false = ${r.falseAlarmsPerDma4w.toFixed(2)} per DMA per 4 weeks`);
  return lines;
}

async function main(): Promise<void> {
  let r: BwdfResult;
  try {
    r = await runBwdf();
  } catch (e) {
    if (!(e instanceof ReferenceDataMissingError)) throw e;
    reportMissingData(BWDF_FIGURE, e);
    process.exitCode = 1;
    return;
  }
  for (const l of describeBwdf(r)) console.error(l);
  console.log(JSON.stringify({ metric: BWDF_FIGURE, value: r.falseAlarmsPerDma4w }));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e: unknown) => { console.error(e); process.exit(1); });
}
