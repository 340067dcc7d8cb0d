/**
 * One event, one alarm for communications: loggers behind one gateway fall silent together, through
 * the real sensor-health detector and the real alarm manager (SQLite in memory).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../../core/tsdb/sqlite.ts';
import { topologySchema } from '../../../core/config/schema.ts';
import type { Point } from '../../../core/model/reading.ts';
import { AlarmStore } from '../../../core/state/alarm-store.ts';
import { Topology } from '../../../core/topology/topology.ts';
import { AlarmManager, type AlarmTransition } from '../../alarms/manager.ts';
import type { Condition } from '../../types.ts';
import { SensorHealthDetector } from './index.ts';
import { AnalyticsWorker } from '../../worker.ts';

const MIN = 60_000;
const T0 = Date.parse('2024-05-07T10:00:00+08:00');
/** Reporting interval (minutes) of each logger: the gateway's loggers report every 1, 2 and 5 minutes. */
const INTERVAL_MIN: Record<string, number> = { 'P-a1': 1, 'P-a2': 2, 'P-b1': 5, 'P-b2': 1, 'P-far': 1 };
const SENSORS = Object.keys(INTERVAL_MIN);

function topology(): Topology {
  return new Topology(topologySchema.parse({
    sites: [{ id: 'network' }],
    dmas: [{ id: 'a' }, { id: 'b' }],
    sensors: SENSORS.map((id) => ({
      id, kind: 'pressure', unit: 'MPa', site: 'network', dma: id === 'P-far' ? 'b' : id[2], intervalS: INTERVAL_MIN[id] * 60,
    })),
  }));
}

const closers: { close(): void }[] = [];
afterEach(() => { for (const c of closers.splice(0)) c.close(); });

/**
 * 120 minutes; `silent(sensor, minute)` says when a sensor sends nothing. Returns the alarms
 * presented to the operator, the comms_loss conditions and the manager.
 */
/** The readings of minute m: each logger on its own interval, unless silent. */
function readingsAt(m: number, silent: (sensor: string, m: number) => boolean): Point[] {
  return SENSORS.filter((s) => m % INTERVAL_MIN[s] === 0 && !silent(s, m))
    .map((sensor, k) => ({ measurement: 'pressure', sensor, ts: T0 + m * MIN, value: 0.3 + 0.001 * ((m + k) % 5), quality: 'good', site: 'network', dma: sensor[2] }));
}

function run(silent: (sensor: string, m: number) => boolean, options = {}) {
  const store = new AlarmStore(':memory:');
  closers.push(store);
  const alarms = new AlarmManager({ store, now: () => 0 });
  const transitions: AlarmTransition[] = [];
  alarms.on('transition', (t) => transitions.push(t));
  const health = new SensorHealthDetector({ topology: topology() }, options);
  const events: Condition[] = [];
  for (let m = 0; m < 120; m++) {
    const ts = T0 + m * MIN;
    const batch = readingsAt(m, silent);
    for (const c of [...health.onReadings(batch), ...health.onTime(ts)]) {
      alarms.onCondition(c);
      if (c.type === 'comms_loss') events.push(c);
    }
  }
  const presented = transitions.filter((t) => t.kind === 'raise' && t.annunciate).map((t) => t.alarm.conditionId);
  return { presented, events, alarms };
}

const GATEWAY = ['P-a1', 'P-a2', 'P-b1', 'P-b2'];

describe('communications loss', () => {
  it('four loggers of two DMAs silent from minute 30 to 90: one alarm, their stale faults under it, over when all are heard again', () => {
    const { presented, events, alarms } = run((s, m) => GATEWAY.includes(s) && m >= 30 && m < 90);
    // the two 1-min loggers go stale first, alone: alarms until the third silence shows a common cause
    expect(presented).toEqual(['sensor_stale:P-a1', 'sensor_stale:P-b2', 'comms_loss:P-a1']);
    expect(events.map((e) => e.state)).toEqual(['raise', 'clear']);
    // the 1-min loggers are stale at minute 32 (3 intervals after their last reading at 29); the
    // 2-min one at 34: the third silence forms the event, the 5-min logger (stale at 40) joins it
    expect(events[0].ts).toBe(T0 + 34 * MIN);
    expect(events[0].evidence).toMatchObject({ sensors: ['P-a1', 'P-a2', 'P-b2'], dmas: ['a', 'b'], since: T0 + 28 * MIN });
    expect(events[1].evidence!.sensors).toEqual(GATEWAY);
    // over when the last of them (the 5-min logger, next reading at 90) is heard
    expect(events[1].ts).toBe(T0 + 90 * MIN);
    const event = alarms.list().find((a) => a.type === 'comms_loss')!;
    expect(event.secondaries.map((s) => s.conditionId).sort()).toEqual(GATEWAY.map((s) => `sensor_stale:${s}`));
    // the two raised before the event formed keep their own alarm, grouped under it (no longer annunciated)
    expect(alarms.list().filter((a) => a.parentAlarmId === event.id).map((a) => a.conditionId).sort()).toEqual(['sensor_stale:P-a1', 'sensor_stale:P-b2']);
  });

  it('a logger falling silent long after the others is its own alarm, not part of their loss', () => {
    const { presented, events } = run((s, m) => (GATEWAY.includes(s) && m >= 30 && m < 90) || (s === 'P-far' && m >= 60 && m < 100));
    expect(presented).toEqual(['sensor_stale:P-a1', 'sensor_stale:P-b2', 'comms_loss:P-a1', 'sensor_stale:P-far']);
    expect(events[events.length - 1].evidence!.sensors).toEqual(GATEWAY);
  });

  it('fewer than commsLossMinSensors silent together stay alarms of their own', () => {
    const { presented, events } = run((s, m) => (s === 'P-a1' || s === 'P-b2') && m >= 30 && m < 90);
    expect(presented).toEqual(['sensor_stale:P-a1', 'sensor_stale:P-b2']);
    expect(events).toEqual([]);
    expect(run((s, m) => (s === 'P-a1' || s === 'P-b2') && m >= 30 && m < 90, { commsLossMinSensors: 2 }).presented).toEqual(['comms_loss:P-a1']);
  });

  it('a source that reports its sensors lost (Sparkplug death) makes one event of their offline faults', () => {
    const health = new SensorHealthDetector({ topology: topology() });
    const lost = health.markOffline(GATEWAY, T0, 'sparkplug NDEATH demo/gw1');
    expect(lost.map((c) => `${c.id} ${c.state}`)).toEqual(['comms_loss:P-a1 raise', ...GATEWAY.map((s) => `sensor_offline:${s} raise`)]);
    expect(lost.slice(1).every((c) => c.evidence!.parent === 'comms_loss:P-a1')).toBe(true);
    expect(health.markOnline(GATEWAY.slice(0, 3), T0 + 5 * MIN).map((c) => c.id)).not.toContain('comms_loss:P-a1');
    expect(health.markOnline(['P-b2'], T0 + 6 * MIN).map((c) => `${c.id} ${c.state}`)).toEqual(['sensor_offline:P-b2 clear', 'comms_loss:P-a1 clear']);
  });

  it('a restart during the loss (warmUp from the store) knows the event again: its clear comes when the sensors are back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'comms-loss-warmup-'));
    const tsdb = new SqliteStore(join(dir, 'tsdb.sqlite'));
    await tsdb.init();
    try {
      const silent = (s: string, m: number) => GATEWAY.includes(s) && m >= 30 && m < 90;
      const first = new SensorHealthDetector({ topology: topology() });
      const raised: Condition[] = [];
      for (let m = 0; m < 50; m++) {
        await tsdb.write(readingsAt(m, silent));
        raised.push(...first.onReadings(readingsAt(m, silent)), ...first.onTime(T0 + m * MIN));
      }
      expect(raised.filter((c) => c.type === 'comms_loss').map((c) => `${c.id} ${c.state}`)).toEqual(['comms_loss:P-a1 raise']);
      const second = new SensorHealthDetector({ topology: topology() });
      await second.warmUp(tsdb, T0 + 49 * MIN);
      const after: Condition[] = [];
      for (let m = 50; m < 120; m++) after.push(...second.onReadings(readingsAt(m, silent)), ...second.onTime(T0 + m * MIN));
      // nothing raised again; the stale faults and the event clear when the loggers are back
      expect(after.filter((c) => c.state === 'raise')).toEqual([]);
      expect(after.filter((c) => c.type === 'comms_loss').map((c) => `${c.id} ${c.state} ${(c.ts - T0) / MIN}`)).toEqual(['comms_loss:P-a1 clear 90']);
    } finally {
      await tsdb.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('communications loss across a restart (the worker reconciles the open alarms after its warm-up)', () => {
  /**
   * The platform runs minutes [0, stopAt), then analytics is down while ingest goes on storing
   * until `restartAt`, when a new worker (new detector, new manager on the same state) warms up
   * from the store and reconciles the alarms left open. Returns what the restart annunciated.
   */
  async function restartAcross(silent: (sensor: string, m: number) => boolean, stopAt: number, restartAt: number) {
    const dir = mkdtempSync(join(tmpdir(), 'comms-loss-restart-'));
    const tsdb = new SqliteStore(join(dir, 'tsdb.sqlite'));
    await tsdb.init();
    closers.push({ close: () => { void tsdb.close().then(() => rmSync(dir, { recursive: true, force: true })); } });
    const state = new AlarmStore(':memory:');
    closers.push(state);
    const before = new AlarmManager({ store: state, now: () => 0 });
    const first = new SensorHealthDetector({ topology: topology() });
    for (let m = 0; m < restartAt; m++) {
      const batch = readingsAt(m, silent);
      await tsdb.write(batch);
      if (m < stopAt) for (const c of [...first.onReadings(batch), ...first.onTime(T0 + m * MIN)]) before.onCondition(c);
    }
    const openBefore = state.openAlarms().map((a) => a.conditionId);
    const alarms = new AlarmManager({ store: state, now: () => 0 });
    const transitions: AlarmTransition[] = [];
    alarms.on('transition', (t) => transitions.push(t));
    const health = new SensorHealthDetector({ topology: topology() });
    const worker = new AnalyticsWorker({
      topology: topology(), store: tsdb, detectors: [health], alarms,
      openAlarms: () => state.openAlarms().filter((a) => a.state.startsWith('active')),
    });
    await worker.warmUp(T0 + restartAt * MIN);
    // raises and clears (a secondary joining its event is recorded on the event, not presented)
    const atRestart = transitions.splice(0).filter((t) => t.kind === 'raise' || t.kind === 'clear').map((t) => `${t.alarm.conditionId} ${t.kind}${t.annunciate ? '' : ' (silent)'}`);
    return { openBefore, atRestart, alarms, health, transitions };
  }

  it('a loss that ended while analytics was down: its alarm and its loggers\' own are cleared at the restart', async () => {
    const { openBefore, atRestart, alarms } = await restartAcross((s, m) => GATEWAY.includes(s) && m >= 30 && m < 90, 50, 100);
    expect(openBefore).toEqual(['sensor_stale:P-a1', 'sensor_stale:P-b2', 'comms_loss:P-a1']);
    expect(atRestart.sort()).toEqual(['comms_loss:P-a1 clear', 'sensor_stale:P-a1 clear (silent)', 'sensor_stale:P-b2 clear (silent)']);
    expect(alarms.list().filter((a) => a.state.startsWith('active'))).toEqual([]);
  });

  it('a loss that began while analytics was down is one alarm at the restart, its loggers under it; it clears when they are back', async () => {
    const silent = (s: string, m: number) => GATEWAY.includes(s) && m >= 30 && m < 90;
    const { openBefore, atRestart, alarms, health } = await restartAcross(silent, 25, 60);
    expect(openBefore).toEqual([]);
    expect(atRestart).toEqual(['comms_loss:P-a1 raise']);
    const event = alarms.list().find((a) => a.type === 'comms_loss')!;
    expect(event.secondaries.map((x) => x.conditionId).sort()).toEqual(GATEWAY.map((x) => `sensor_stale:${x}`));
    expect(event.raisedAt).toBe(T0 + 60 * MIN);
    const after: Condition[] = [];
    for (let m = 60; m < 120; m++) after.push(...health.onReadings(readingsAt(m, silent)), ...health.onTime(T0 + m * MIN));
    for (const c of after) alarms.onCondition(c);
    expect(after.filter((c) => c.type === 'comms_loss').map((c) => `${c.id} ${c.state} ${(c.ts - T0) / MIN}`)).toEqual(['comms_loss:P-a1 clear 90']);
    expect(alarms.list().filter((a) => a.state.startsWith('active'))).toEqual([]);
  });

  it('a loss still on at the restart keeps its alarm: nothing raised or cleared, its clear comes when the loggers are back', async () => {
    const silent = (s: string, m: number) => GATEWAY.includes(s) && m >= 30 && m < 90;
    const { atRestart, alarms, health } = await restartAcross(silent, 50, 70);
    expect(atRestart).toEqual([]);
    const after: Condition[] = [];
    for (let m = 70; m < 120; m++) after.push(...health.onReadings(readingsAt(m, silent)), ...health.onTime(T0 + m * MIN));
    for (const c of after) alarms.onCondition(c);
    expect(after.filter((c) => c.state === 'raise')).toEqual([]);
    expect(alarms.list().filter((a) => a.state.startsWith('active'))).toEqual([]);
  });
});
