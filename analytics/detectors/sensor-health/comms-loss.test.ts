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
