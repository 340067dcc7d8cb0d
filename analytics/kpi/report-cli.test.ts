/** `aquawatch report` end to end: a configuration, a SQLite store filled by the simulator, a state database with incidents. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../core/tsdb/sqlite.ts';
import { Simulation } from '../../simulators/engine.ts';
import { run } from '../../bin/commands/report.ts';
import { OutageRegister } from '../outages/register.ts';
import { fillFromSimulation } from '../../test/support/sim-drive.ts';

const dayFrom = Date.parse('2024-05-06T00:00:00+08:00');
const dayTo = Date.parse('2024-05-07T00:00:00+08:00');
const MIN = 60_000;
let dir: string;
let configFile: string;

async function report(argv: string[], now = Date.parse('2024-07-15T00:00:00Z')): Promise<{ code: number; out: string; err: string[] }> {
  let out = '';
  const err: string[] = [];
  const code = await run(['--config', configFile, ...argv], { stdout: (s) => { out += s; }, stderr: (l) => err.push(l), now: () => now });
  return { code, out, err };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'aquawatch-report-'));
  const sim = new Simulation({ scenario: join(import.meta.dirname, '../../simulators/scenarios/suite/quiet-week.yaml'), from: dayFrom, to: dayTo + 15 * MIN });
  const store = new SqliteStore(join(dir, 'tsdb.sqlite'));
  await store.init();
  await fillFromSimulation(sim, store);
  await store.close();
  configFile = join(dir, 'aquawatch.yaml');
  // JSON is YAML: the simulator's own topology, inline
  writeFileSync(configFile, JSON.stringify({
    site: { name: 'Demo town water', timezone: 'Asia/Shanghai' }, dataDir: dir, store: { type: 'sqlite', path: 'tsdb.sqlite' },
    log: { level: 'silent' }, topology: sim.topology(),
  }));
  const register = new OutageRegister(join(dir, 'state.sqlite'));
  // a burst in West, 2 h for all 1981 customers, and planned works in South (excluded by default), 1 h
  register.recordIncident({ id: 'west:1', dma: 'west', start: dayFrom + 10 * 60 * MIN, end: dayFrom + 12 * 60 * MIN, customersAffected: 1981, planned: false, cause: 'burst' });
  register.recordIncident({ id: 'south:1', dma: 'south', start: dayFrom + 3 * 60 * MIN, end: dayFrom + 4 * 60 * MIN, customersAffected: 1824, planned: true, plannedOutageId: 'po-1', cause: 'maintenance' });
  register.close();
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('aquawatch report', () => {
  it('prints every figure as JSON for a period given by --from and --to (local times)', async () => {
    const { code, out, err } = await report(['--from', '2024-05-06T00:00', '--to', '2024-05-07T00:00']);
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const r = JSON.parse(out);
    expect(r.period).toMatchObject({ from: dayFrom, to: dayTo, fromLocal: '2024-05-06T00:00:00+08:00' });
    expect(r.outages.planned.count).toBe(1);
    expect(r.outages.unplanned).toMatchObject({ count: 1, totalMinutes: 120, areas: ['west'] });
    // customers served 1817 + 1981 + 1883 + 1893 + 1824 = 9398 (the demo town); the maintenance outage is excluded
    expect(r.outages.customersServed).toBe(9398);
    expect(r.outages.saidiMinutes).toBeCloseTo((1981 * 120) / 9398, 9);
    expect(r.outages.saidiMinutesAllCauses).toBeCloseTo((1981 * 120 + 1824 * 60) / 9398, 9);
    expect(r.waterBalance.dmas).toHaveLength(5);
    expect(Math.abs(r.waterBalance.total.leakageRatePct)).toBeLessThan(0.1);
    expect(r.pressure.samples).toBe(5 * 1440);
  });

  it('takes --exclude-causes, and none', async () => {
    const none = JSON.parse((await report(['--from', '2024-05-06T00:00', '--to', '2024-05-07T00:00', '--exclude-causes', 'none'])).out);
    expect(none.outages.excludedCauses).toEqual([]);
    expect(none.outages.saidiMinutes).toBeCloseTo((1981 * 120 + 1824 * 60) / 9398, 9);
    const bursts = JSON.parse((await report(['--from', '2024-05-06T00:00', '--to', '2024-05-07T00:00', '--exclude-causes', 'burst,pump_trip'])).out);
    expect(bursts.outages.saidiMinutes).toBeCloseTo((1824 * 60) / 9398, 9);
  });

  it('writes CSV rows for a quarter, and a printable HTML page to --out', async () => {
    const csv = await report(['--quarter', '2024-Q2', '--format', 'csv']);
    expect(csv.code).toBe(0);
    const lines = csv.out.trimEnd().split('\n');
    expect(lines[0]).toBe('section,area,item,metric,value,unit');
    expect(lines).toContain('period,,,label,2024-Q2,');
    expect(lines).toContain('period,,,from,2024-04-01T00:00:00+08:00,');
    expect(lines).toContain('outages,,unplanned,count,1,');
    expect(lines.some((l) => l.startsWith('water_balance,west,,leakage_rate,'))).toBe(true);

    const file = join(dir, 'q2.html');
    const html = await report(['--quarter', '2024-Q2', '--format', 'html', '--out', file]);
    expect(html.code).toBe(0);
    expect(html.out).toBe('');
    expect(html.err).toEqual([`report 2024-Q2 written to ${file} (html)`]);
    const page = readFileSync(file, 'utf8');
    expect(page).toContain('Demo town water');
    expect(page).toContain('2024-Q2');
    expect(page).toContain('用户平均停水时间');
    expect(page).toContain('west');
  });

  it('defaults to the last complete quarter', async () => {
    const r = JSON.parse((await report([], Date.parse('2024-08-01T00:00:00Z'))).out);
    expect(r.period.label).toBe('2024-Q2');
  });

  it('works without a state database, saying so', async () => {
    const { code, out, err } = await report(['--quarter', '2024-Q2', '--state', join(dir, 'none.sqlite')]);
    expect(code).toBe(0);
    expect(err[0]).toMatch(/no outage incidents \(.*none\.sqlite does not exist\)/);
    expect(JSON.parse(out).outages.all.count).toBe(0);
    expect(existsSync(join(dir, 'none.sqlite'))).toBe(false);
  });

  it('refuses bad options with the field and the reason', async () => {
    const cases: [string[], RegExp][] = [
      [['--format', 'xml'], /--format: must be json, csv or html \(got xml\)/],
      [['--exclude-causes', 'burst,aliens'], /--exclude-causes: unknown cause code\(s\) aliens/],
      [['--quarter', '2024-Q5'], /--quarter: "2024-Q5" is not a quarter/],
      [['--quarter', '2024-Q2', '--from', '2024-05-01'], /--quarter: give either a quarter or --from and --to/],
      [['--from', '2024-05-01'], /--to: required with --from/],
      [['--from', '2024-05-02', '--to', '2024-05-01'], /--to: must be after from/],
      [['--from', 'last week', '--to', '2024-05-01'], /--from: "last week" is not an ISO 8601 time/],
      [['--bogus'], /Unknown option '--bogus'/],
    ];
    for (const [argv, message] of cases) {
      const { code, err } = await report(argv);
      expect(code, argv.join(' ')).toBe(2);
      expect(err.join('\n')).toMatch(message);
    }
  });
});
