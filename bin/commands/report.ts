/**
 * `aquawatch report`: KPIs for a period (a quarter by default) as JSON, CSV or a printable HTML page:
 * planned and unplanned outages, customer-minutes lost, average outage time per customer (SAIDI)
 * and interruptions per customer (SAIFI) with chosen causes excluded, network-end pressure
 * compliance, the water balance and leakage rate per DMA (CJJ 92-2016), and the night-flow trend.
 * Figures come from the time-series store and the outage incidents in the state database.
 *
 * Exit codes: 0 done, 1 the computation failed, 2 usage or configuration error.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { Topology } from '../../core/topology/topology.ts';
import { createStore } from '../../core/tsdb/factory.ts';
import { createLogger } from '../../core/log.ts';
import {
  computeKpis, isoPeriod, KNOWN_CAUSE_CODES, openRegisterReadOnly, PeriodError, previousQuarter, quarterPeriod,
  SANYA_EXCLUDED_CAUSES, type Period,
} from '../../analytics/kpi/index.ts';
import { toCsv, toHtml, toJson } from '../../analytics/kpi/format.ts';
import { parseCommandLine } from '../../core/command-line.ts';
import { CONFIG_OPTION, loadConfigOrExplain } from './common.ts';

const USAGE = `usage: aquawatch report [--quarter YYYY-QN | --from TIME --to TIME] [--format json|csv|html] [options]

KPIs for a period: outages (planned, sudden, per cause), average outage time per customer, pressure
compliance, water balance and leakage rate per DMA, night-flow trend. Without a period, the last
complete quarter. Quarters are in the site's time zone (2026-Q3 = Jul 1 00:00 to Oct 1 00:00 local);
TIME is ISO 8601, read in the site's time zone when it has no offset.

options:
  -c, --config FILE          configuration (default: $AQUAWATCH_CONFIG, else the built-in defaults)
      --quarter YYYY-QN      a calendar quarter, e.g. 2026-Q3
      --from TIME            start (inclusive)
      --to TIME              end (exclusive)
      --format json|csv|html default json; html is a printable one-page report (Chinese, English labels)
      --exclude-causes LIST  cause codes left out of the average outage time per customer, comma-separated,
                             or 'none' (default: ${SANYA_EXCLUDED_CAUSES.join(',')})
      --state FILE           state database with the outage incidents (default: <dataDir>/state.sqlite)
      --out FILE             write to FILE instead of standard output
  -h, --help                 this text`;

export interface ReportIo {
  stdout?: (chunk: string) => void;
  stderr?: (line: string) => void;
  /** The wall clock: picks the default quarter and caps open incidents. Tests give their own. */
  now?: () => number;
}

export async function run(argv: string[], io: ReportIo = {}): Promise<number> {
  const write = io.stdout ?? ((s: string) => process.stdout.write(s));
  const err = io.stderr ?? ((l: string) => console.error(l));
  const now = (io.now ?? Date.now)();
  const cl = parseCommandLine({
    command: 'aquawatch report', usage: USAGE,
    options: {
      ...CONFIG_OPTION, quarter: { type: 'string' },
      from: { type: 'string' }, to: { type: 'string' }, format: { type: 'string' }, 'exclude-causes': { type: 'string' },
      state: { type: 'string' }, out: { type: 'string' },
    },
  }, argv, { out: (l) => write(`${l}\n`), err });
  if (typeof cl === 'number') return cl;
  const { values } = cl;
  const fail = (message: string) => { err(`aquawatch report: ${message}`); return 2; };

  const format = (values.format as string | undefined) ?? 'json';
  if (!['json', 'csv', 'html'].includes(format)) return fail(`--format: must be json, csv or html (got ${format})`);
  const excludeCauses = parseCauses(values['exclude-causes'] as string | undefined);
  if (typeof excludeCauses === 'string') return fail(excludeCauses);

  const config = loadConfigOrExplain(values.config as string | undefined);
  if (!config) return 2;
  const zone = config.site.timezone;
  let period: Period;
  try {
    if (values.quarter !== undefined) {
      if (values.from !== undefined || values.to !== undefined) return fail('--quarter: give either a quarter or --from and --to, not both');
      period = quarterPeriod(values.quarter as string, zone);
    } else if (values.from !== undefined || values.to !== undefined) {
      if (values.from === undefined) return fail('--from: required with --to');
      if (values.to === undefined) return fail('--to: required with --from');
      period = isoPeriod(values.from as string, values.to as string, zone);
    } else {
      period = previousQuarter(now, zone);
    }
  } catch (e) {
    if (e instanceof PeriodError || e instanceof RangeError) return fail(e instanceof PeriodError ? `--${e.message}` : e.message);
    throw e;
  }

  if (config.store.type === 'sqlite' && config.store.path !== ':memory:') {
    const path = isAbsolute(config.store.path) ? config.store.path : join(config.dataDir, config.store.path);
    if (!existsSync(path)) return fail(`store: ${path} does not exist (no data has been recorded with this configuration)`);
  }
  const topology = new Topology(config.topology, config.file);
  const statePath = typeof values.state === 'string' ? values.state : join(config.dataDir, 'state.sqlite');
  const register = openRegisterReadOnly(statePath);
  if ('missing' in register) err(`aquawatch report: no outage incidents (${register.missing}); outage figures will be empty`);

  const log = createLogger(config.log.level === 'info' ? 'warn' : config.log.level);
  const store = await createStore(config.store, config.dataDir, { log });
  try {
    const report = await computeKpis({
      store, topology, incidents: 'missing' in register ? undefined : register.source,
      from: period.from, to: period.to, timezone: zone, label: period.label, excludeCauses, asOf: now, leakage: config.leakage,
    });
    const text = format === 'json' ? `${toJson(report)}\n` : format === 'csv' ? toCsv(report) : toHtml(report, { siteName: config.site.name, generatedAt: now });
    if (typeof values.out === 'string') {
      writeFileSync(values.out, text);
      err(`report ${period.label} written to ${values.out} (${format})`);
    } else {
      write(text);
    }
    return 0;
  } catch (e) {
    err(`aquawatch report: ${(e as Error).message}`);
    return 1;
  } finally {
    if (!('missing' in register)) register.close();
    await store.close();
  }
}

/** `a,b` → cause codes (checked), `none` → [], absent → the default (undefined). */
function parseCauses(text: string | undefined): string[] | undefined | string {
  if (text === undefined) return undefined;
  if (text.trim() === 'none' || text.trim() === '') return [];
  const causes = text.split(',').map((c) => c.trim()).filter(Boolean);
  const unknown = causes.filter((c) => !KNOWN_CAUSE_CODES.includes(c));
  if (unknown.length) return `--exclude-causes: unknown cause code(s) ${unknown.join(', ')} (known: ${KNOWN_CAUSE_CODES.join(', ')})`;
  return causes;
}
