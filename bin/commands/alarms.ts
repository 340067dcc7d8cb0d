/**
 * `aquawatch alarms --from ISO --to ISO --format csv|json`: export alarms raised in a period, with
 * type, area, sensor, raise time, clear time and evidence. By default the alarms `aquawatch analyze`
 * recorded (<dataDir>/analysis.sqlite); `--source live` exports the platform's own alarms from the
 * state database instead.
 *
 * Exit codes: 0 done, 2 usage or configuration error.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AlarmStore, type AlarmRecord } from '../../core/state/alarm-store.ts';
import { timeZone } from '../../core/time/zoned.ts';
import { parseCommandLine } from '../../core/command-line.ts';
import { CONFIG_OPTION, loadConfigOrExplain } from './common.ts';
import { parseTimeOption } from './analyze.ts';
import { csvCell } from '../../core/csv-cell.ts';

const USAGE = `usage: aquawatch alarms --from TIME --to TIME [--format csv|json] [options]

Exports the alarms raised between two times (TIME is ISO 8601; without an offset it is read in the
site's time zone). Times in the export are ISO 8601 in the site's time zone.

options:
  -c, --config FILE         configuration (default: $AQUAWATCH_CONFIG, else the built-in defaults)
      --from TIME           raised at or after
      --to TIME             raised before
      --format csv|json     default csv; json is one alarm per line (JSON lines)
      --source analysis|live  what 'aquawatch analyze' recorded (default), or the live alarms
      --db FILE             read this database instead
      --dma ID              only this area
      --type TYPE           only this alarm type
  -h, --help                this text`;

export const CSV_COLUMNS = ['id', 'type', 'priority', 'area', 'sensor', 'raised', 'cleared', 'state', 'condition_since',
  'acknowledged_by', 'linked_to', 'secondaries', 'message', 'evidence'] as const;

/** ISO 8601 with the zone's offset, e.g. 2024-05-07T19:03:00+08:00. */
export function localIso(ts: number | undefined, zone: string): string {
  if (ts === undefined) return '';
  const off = timeZone(zone).offsetAt(ts);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off) / 60_000;
  return `${new Date(ts + off).toISOString().slice(0, 19)}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

const csvField = (v: string): string => csvCell(v);

export function alarmRow(a: AlarmRecord, zone: string): Record<(typeof CSV_COLUMNS)[number], string> {
  return {
    id: a.id, type: a.type, priority: a.priority, area: a.dma ?? '', sensor: a.sensor ?? '',
    raised: localIso(a.raisedAt, zone), cleared: localIso(a.clearedAt, zone), state: a.state,
    condition_since: localIso(a.conditionSince, zone), acknowledged_by: a.ackedBy ?? '', linked_to: a.parentAlarmId ?? '',
    secondaries: a.secondaries.map((s) => s.sensor ?? s.conditionId).join(' '),
    message: a.message, evidence: a.evidence ? JSON.stringify(a.evidence) : '',
  };
}

export async function run(argv: string[], io: { stdout?: (chunk: string) => void; stderr?: (line: string) => void } = {}): Promise<number> {
  const write = io.stdout ?? ((s: string) => process.stdout.write(s));
  const err = io.stderr ?? ((l: string) => console.error(l));
  const cl = parseCommandLine({
    command: 'aquawatch alarms', usage: USAGE,
    options: {
      ...CONFIG_OPTION, from: { type: 'string' }, to: { type: 'string' },
      format: { type: 'string' }, source: { type: 'string' }, db: { type: 'string' }, dma: { type: 'string' }, type: { type: 'string' },
    },
  }, argv, { out: (l) => write(`${l}\n`), err });
  if (typeof cl === 'number') return cl;
  const { values } = cl;
  const format = (values.format as string | undefined) ?? 'csv';
  if (format !== 'csv' && format !== 'json') { err(`aquawatch alarms: --format: must be csv or json (got ${format})`); return 2; }
  const source = (values.source as string | undefined) ?? 'analysis';
  if (source !== 'analysis' && source !== 'live') { err(`aquawatch alarms: --source: must be analysis or live (got ${source})`); return 2; }
  const config = loadConfigOrExplain(values.config as string | undefined);
  if (!config) return 2;
  const zone = config.site.timezone;
  const from = parseTimeOption('from', values.from, zone);
  const to = parseTimeOption('to', values.to, zone);
  for (const v of [from, to]) if (typeof v === 'string') { err(`aquawatch alarms: ${v}`); return 2; }
  const path = (values.db as string | undefined) ?? join(config.dataDir, source === 'live' ? 'state.sqlite' : 'analysis.sqlite');
  if (!existsSync(path)) {
    err(`aquawatch alarms: --db: ${path} does not exist${source === 'analysis' && !values.db ? " (run 'aquawatch analyze' first, or use --source live)" : ''}`);
    return 2;
  }
  const store = new AlarmStore(path);
  try {
    const alarms = store.listAlarms({ from: from as number, to: to as number, dma: values.dma as string | undefined, type: values.type as string | undefined });
    if (format === 'json') {
      for (const a of alarms) write(`${JSON.stringify({ ...a, raisedAtLocal: localIso(a.raisedAt, zone), clearedAtLocal: localIso(a.clearedAt, zone) || undefined })}\n`);
    } else {
      write(`${CSV_COLUMNS.join(',')}\n`);
      for (const a of alarms) {
        const row = alarmRow(a, zone);
        write(`${CSV_COLUMNS.map((c) => csvField(row[c])).join(',')}\n`);
      }
    }
    return 0;
  } finally {
    store.close();
  }
}
