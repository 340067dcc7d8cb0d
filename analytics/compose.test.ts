/**
 * One composition for live and replay: `aquawatch analyze` over a planned closure classes the outage
 * planned and suppresses its pressure alarms exactly as the live composition does, and reads the
 * live register without writing to it.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../core/config/load.ts';
import { AlarmStore, type AlarmEventRecord, type AlarmRecord } from '../core/state/alarm-store.ts';
import { SqliteStore } from '../core/tsdb/sqlite.ts';
import { Simulation } from '../simulators/engine.ts';
import { fillFromSimulation, SUITE } from '../test/support/sim-drive.ts';
import { run as analyzeCommand } from '../bin/commands/analyze.ts';
import { run as reportCommand } from '../bin/commands/report.ts';
import { pino } from 'pino';
import { buildAnalytics } from './compose.ts';
import type { CauseCode } from './outages/register.ts';
import { replay } from './replay.ts';

const SCENARIO = `${SUITE}planned-outage.yaml`;
// the first closure (South, 09:00–13:00 on Tuesday, 48 h notice) and the hours around it
const FROM_ISO = '2024-05-06T00:00:00+08:00';
const TO_ISO = '2024-05-07T15:00:00+08:00';
const FROM = Date.parse(FROM_ISO);
const TO = Date.parse(TO_ISO);

let dir: string;
let configFile: string;
let tsdb: SqliteStore;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'aw-compose-'));
  tsdb = new SqliteStore(join(dir, 'tsdb.sqlite'));
  await tsdb.init();
  const sim = new Simulation({ scenario: SCENARIO, to: TO });
  const { topology } = await fillFromSimulation(sim, tsdb);
  sim.close();
  configFile = join(dir, 'aquawatch.json');
  writeFileSync(configFile, JSON.stringify({
    dataDir: join(dir, 'data'), log: { level: 'silent' }, store: { type: 'sqlite', path: join(dir, 'tsdb.sqlite') }, topology: topology.config,
  }));
}, 600_000);

afterAll(async () => {
  await tsdb?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** What an alarm is, without the suppression's row id (each database numbers its own). */
const comparable = (a: AlarmRecord) => ({ ...a, suppressed: a.suppressed && { reason: a.suppressed.reason } });
/** An alarm's history event in event time: no sequence number, wall time or suppression row id. */
const comparableEvent = ({ alarmId, kind, fromState, toState, user, eventTs, comment }: AlarmEventRecord) => ({ alarmId, kind, fromState, toState, user, eventTs, comment });

describe('analytics composition, live and replay', () => {
  it('#12.3 a live platform warns at start when its calendar names no day from a month ahead on', () => {
    const base = JSON.parse(readFileSync(configFile, 'utf8'));
    const config = parseConfig({ ...base, calendar: { holidays: ['2025-10-01'] } }, configFile);
    const warnings: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => { warnings.push(JSON.parse(line).msg as string); } });
    const live = buildAnalytics({ config, statePath: join(dir, 'calendar-state.sqlite'), mode: 'live', log });
    live.close();
    expect(warnings.filter((m) => m.startsWith('calendar: names no day after 2025-10-01'))).toHaveLength(1);
    warnings.length = 0;
    const ahead = parseConfig({ ...base, calendar: { holidays: ['2099-10-01'] } }, configFile);
    buildAnalytics({ config: ahead, statePath: join(dir, 'calendar-state.sqlite'), mode: 'live', log }).close();
    expect(warnings).toEqual([]);
  });

  it('#12.3 aquawatch analyze over a year its calendar names no day in says so', async () => {
    const base = JSON.parse(readFileSync(configFile, 'utf8'));
    const withCalendar = join(dir, 'calendar-2025.json');
    writeFileSync(withCalendar, JSON.stringify({ ...base, dataDir: join(dir, 'calendar-data'), calendar: { holidays: ['2025-10-01'] } }));
    const lines: string[] = [];
    const args = ['--config', withCalendar, '--from', FROM_ISO, '--to', TO_ISO, '--out', join(dir, 'calendar-analysis.sqlite'), '--no-warmup'];
    expect(await analyzeCommand([...args, '--json'], { stdout: (l) => lines.push(l), stderr: () => {} })).toBe(0);
    expect(JSON.parse(lines[0]).calendarWarning).toBe('calendar: names no day in 2024 (the period runs 2024-05-06 to 2024-05-07): holidays there are compared as the weekdays they fall on');
    lines.length = 0;
    expect(await analyzeCommand(args, { stdout: (l) => lines.push(l), stderr: () => {} })).toBe(0);
    expect(lines).toContain('warning: calendar: names no day in 2024 (the period runs 2024-05-06 to 2024-05-07): holidays there are compared as the weekdays they fall on');
  });

  it('aquawatch analyze over a planned closure classes it planned and suppresses as live does; the live register is only read', async () => {
    const config = parseConfig(JSON.parse(readFileSync(configFile, 'utf8')), configFile);
    const statePath = join(config.dataDir, 'state.sqlite');

    // Live: the dispatcher enters the announced closures in the register; the suppressions follow its edits.
    const live = buildAnalytics({ config, statePath, mode: 'live' });
    const truth = new Simulation({ scenario: SCENARIO }).groundTruth.filter((g) => g.type === 'planned_outage');
    for (const g of truth) {
      live.register.createPlanned({
        id: g.id, dmas: g.expect.dmas as string[], start: g.start, end: g.end!, notifiedAt: g.expect.noticeAt as number,
        cause: g.expect.cause as CauseCode, reason: g.id,
      });
    }
    const suppressedRaises: AlarmRecord[] = [];
    live.alarms.on('transition', (t) => { if (t.kind === 'raise' && t.alarm.suppressed) suppressedRaises.push(t.alarm); });
    await replay({ store: tsdb, topology: live.topology, detectors: live.detectors.all, alarms: live.alarms, from: FROM, to: TO, warmUp: false, writeDerived: false });
    const liveAlarms = live.alarmStore.listAlarms();
    const liveEvents = live.alarmStore.events();
    const liveIncidents = live.register.listIncidents();
    live.close();

    const closure = truth.find((g) => g.id === 'south-maintenance')!;
    const outage = liveAlarms.find((a) => a.type === 'outage' && a.dma === 'south' && a.raisedAt >= closure.start && a.raisedAt <= closure.end!);
    expect(outage?.evidence).toMatchObject({ planned: true, plannedOutageId: 'south-maintenance' });
    // the closure's pressure alarms in South were raised suppressed (not annunciated), the outage alarm not
    expect(suppressedRaises.length).toBeGreaterThan(0);
    for (const a of suppressedRaises) {
      expect(a.dma).toBe('south');
      expect(a.type === 'outage_warning' || a.type.startsWith('pressure')).toBe(true);
      expect(a.suppressed!.reason).toMatch(/^planned outage south-maintenance/);
    }
    expect(suppressedRaises.map((a) => a.id)).not.toContain(outage!.id);
    // and the suppression ended with the window (recorded in the alarms' history, compared below)
    expect(liveEvents.filter((e) => e.kind === 'unsuppress').map((e) => e.eventTs)).toEqual(suppressedRaises.map(() => closure.end!));
    expect(liveIncidents.map((i) => [i.dma, i.planned, i.plannedOutageId])).toEqual([['south', true, 'south-maintenance']]);

    // Replay of the same history through `aquawatch analyze`: the same alarms, classed and suppressed alike.
    const out = join(dir, 'analysis.sqlite');
    const lines: string[] = [];
    expect(await analyzeCommand(['--config', configFile, '--from', FROM_ISO, '--to', TO_ISO, '--out', out, '--no-warmup', '--json'],
      { stdout: (l) => lines.push(l), stderr: () => {} })).toBe(0);
    const analysis = new AlarmStore(out);
    const replayed = analysis.listAlarms();
    const replayedEvents = analysis.events();
    analysis.close();
    expect(JSON.parse(lines[0])).toMatchObject({ alarms: replayed.length, detectorErrors: 0 });
    expect(replayed.map(comparable)).toEqual(liveAlarms.map(comparable));
    expect(replayedEvents.map(comparableEvent)).toEqual(liveEvents.map(comparableEvent));

    // The live register was read, not written: its incidents are live's alone.
    const after = buildAnalytics({ config, statePath, mode: 'live' });
    expect(after.register.listIncidents()).toEqual(liveIncidents);
    after.close();

    // The replay found the same incidents and kept them beside its alarms: the period's KPIs come from them.
    expect(JSON.parse(lines[0])).toMatchObject({ incidents: 1, plannedIncidents: 1, replacedIncidents: 0 });
    let json = '';
    expect(await reportCommand(['--config', configFile, '--from', FROM_ISO, '--to', TO_ISO, '--state', out, '--format', 'json'],
      { stdout: (c) => { json += c; }, stderr: () => {}, now: () => TO })).toBe(0);
    const kpis = JSON.parse(json) as { outages: { planned: { count: number }; unplanned: { count: number }; incidents: { dma: string; plannedOutageId?: string }[] } };
    expect(kpis.outages.planned.count).toBe(1);
    expect(kpis.outages.unplanned.count).toBe(0);
    expect(kpis.outages.incidents).toEqual([expect.objectContaining({ dma: 'south', plannedOutageId: 'south-maintenance' })]);
  }, 600_000);
  it('live hands the state database\'s open alarms to the detectors that take up old leaks after a restart, and to the worker; a replay does not', async () => {
    const config = parseConfig(JSON.parse(readFileSync(configFile, 'utf8')), configFile);
    const read = vi.spyOn(AlarmStore.prototype, 'openAlarms');
    const emptyStore = new SqliteStore(join(dir, 'empty-tsdb.sqlite'));
    await emptyStore.init();
    try {
      const handedToWorker: boolean[] = [];
      const warmLeakDetectors = async (a: ReturnType<typeof buildAnalytics>) => {
        for (const d of a.detectors.all.filter((x) => x.name === 'night-flow' || x.name === 'leak-change')) await d.warmUp!(emptyStore, TO);
        // the worker's reconciliation after its warm-up (analytics/service.ts) gets them too, live only
        handedToWorker.push(a.openAlarms !== undefined);
        a.close();
      };
      await warmLeakDetectors(buildAnalytics({ config, statePath: join(dir, 'open-alarms-state.sqlite'), mode: 'live' }));
      const live = read.mock.calls.length;
      read.mockClear();
      await warmLeakDetectors(buildAnalytics({ config, statePath: join(dir, 'open-alarms-state.sqlite'), mode: 'replay', replay: { alarmsPath: join(dir, 'open-alarms-replay.sqlite'), from: FROM, to: TO } }));
      // the alarm manager reloads its open alarms when built: the detectors' reads come on top
      expect(live - read.mock.calls.length).toBe(2);
      expect(handedToWorker).toEqual([true, false]);
    } finally {
      read.mockRestore();
      await emptyStore.close();
    }
  });
});
