/**
 * Sensor health on the scenario suite (sensor faults, communications loss) and hand-made edge cases.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SensorHealthDetector } from './index.ts';
import { raises, runScenario } from '../../../test/support/sim-drive.ts';
import { Topology } from '../../../core/topology/topology.ts';
import { topologySchema } from '../../../core/config/schema.ts';
import { SqliteStore } from '../../../core/tsdb/sqlite.ts';
import { Simulation } from '../../../simulators/engine.ts';
import type { Point } from '../../../core/model/reading.ts';
import type { Condition } from '../../types.ts';
import { AlarmStore } from '../../../core/state/alarm-store.ts';
import { AlarmManager, type AlarmTransition } from '../../alarms/manager.ts';
import { AnalyticsWorker } from '../../worker.ts';

const MIN = 60_000;
const SUITE = 'simulators/scenarios/suite';

describe('sensor health on the scenario suite', () => {
  it('sensor-faults.yaml: the silent logger is stale within 3 intervals, the stuck flow meter a flatline; both recover', async () => {
    let health: SensorHealthDetector | undefined;
    const faultyAt = new Map<number, string[]>();
    const run = await runScenario({
      scenario: `${SUITE}/sensor-faults.yaml`,
      detectors: ({ topology }) => [health = new SensorHealthDetector({ topology })],
      beforeStep: (step) => {
        if (step.ts % (30 * MIN) === 0) faultyAt.set(step.ts, [...run_sensors].filter((s) => health!.isFaulty(s)));
      },
    });
    const stale = run.groundTruth.find((g) => g.type === 'sensor_stale')!;
    const flat = run.groundTruth.find((g) => g.type === 'sensor_flatline')!;
    const spike = run.groundTruth.find((g) => g.type === 'sensor_spike')!;
    const drift = run.groundTruth.find((g) => g.type === 'sensor_drift')!;
    const r = run.conditions.filter((c) => c.state === 'raise');
    expect(r.map((c) => c.id)).toEqual(['sensor_stale:P-n383', 'sensor_flatline:F-p1086', 'sensor_drift:WQ-n308.ph', 'sensor_spike:P-n274']);
    expect(r[0].ts - stale.start).toBeLessThanOrEqual(3 * MIN);
    expect(r[1].ts - flat.start).toBeLessThanOrEqual(30 * MIN);
    // the spike (two readings at 2.5×) as soon as the readings are back; the pH drift (0.8 a day) within 12 h
    expect(r[3].ts - spike.start).toBeLessThanOrEqual(3 * MIN);
    expect(r[2].ts - drift.start).toBeLessThanOrEqual(12 * 60 * MIN);
    const clears = run.conditions.filter((c) => c.state === 'clear');
    expect(clears.find((c) => c.id === 'sensor_stale:P-n383')!.ts - stale.end!).toBeLessThanOrEqual(MIN);
    expect(clears.find((c) => c.id === 'sensor_flatline:F-p1086')!.ts - flat.end!).toBeLessThanOrEqual(MIN);
    // the view the other detectors consult
    expect(faultyAt.get(stale.start + 2 * 60 * MIN)).toEqual(['P-n383']);
    expect(faultyAt.get(flat.start + 2 * 60 * MIN)).toEqual(['F-p1086']);
    expect(health!.isFaulty('P-n383') || health!.isFaulty('F-p1086')).toBe(false);
  }, 60_000);

  it('comms-loss.yaml: a Sparkplug death marks the edge node\'s sensors offline (not stale); a silent site or DMA goes stale; each loss is one comms_loss event', async () => {
    const scenario = `${SUITE}/comms-loss.yaml`;
    const edgeTruth = new Simulation({ scenario }).groundTruth.find((g) => g.expect.edgeNode)!;
    const edgeSensors = edgeTruth.expect.sensors as string[];
    let health: SensorHealthDetector | undefined;
    const run = await runScenario({
      scenario,
      detectors: ({ topology }) => [health = new SensorHealthDetector({ topology })],
      // ingest reports NDEATH/NBIRTH of the edge node as a status: the worker passes it on
      beforeStep: (step, emit) => {
        if (step.ts === edgeTruth.start) emit(health!.markOffline(edgeSensors, step.ts, 'sparkplug NDEATH demo/central'));
        if (step.ts === edgeTruth.end) emit(health!.markOnline(edgeSensors, step.ts));
      },
    });
    for (const g of run.groundTruth) {
      const sensors = g.expect.sensors as string[];
      const type = g.expect.edgeNode ? 'sensor_offline' : 'sensor_stale';
      for (const s of sensors) {
        const raised = run.conditions.find((c) => c.id === `${type}:${s}` && c.state === 'raise');
        expect(raised, `${g.id} ${s}`).toBeDefined();
        expect(raised!.ts - g.start).toBeLessThanOrEqual(3 * MIN);
        const cleared = run.conditions.find((c) => c.id === `${type}:${s}` && c.state === 'clear');
        expect(cleared!.ts - g.end!).toBeLessThanOrEqual(MIN);
      }
    }
    // the edge node's sensors were offline, never also stale
    const edge = run.groundTruth.find((g) => g.expect.edgeNode)!;
    expect(run.conditions.some((c) => c.type === 'sensor_stale' && (edge.expect.sensors as string[]).includes(c.sensor!))).toBe(false);
    expect(raises(run.conditions, 'sensor_stale')).toHaveLength(20); // the plant's 8 sensors, then Hill's 12
    // one event, one alarm: each loss is one comms_loss condition, every sensor's fault names it as parent
    const events = raises(run.conditions, 'comms_loss');
    expect(events).toHaveLength(run.groundTruth.length);
    for (const g of run.groundTruth) {
      const sensors = g.expect.sensors as string[];
      const event = events.find((e) => (e.evidence!.sensors as string[]).includes(sensors[0]))!;
      expect(event.ts - g.start, g.id).toBeLessThanOrEqual(3 * MIN);
      const children = run.conditions.filter((c) => c.state === 'raise' && sensors.includes(c.sensor!));
      expect(children.every((c) => c.evidence!.parent === event.id), g.id).toBe(true);
      const cleared = run.conditions.find((c) => c.id === event.id && c.state === 'clear')!;
      expect(cleared.ts - g.end!, g.id).toBeLessThanOrEqual(MIN);
      expect(cleared.evidence!.sensors).toEqual([...sensors].sort());
    }
  }, 60_000);
});

/** Sensors whose health the sensor-faults run samples every half hour. */
const run_sensors = ['P-n383', 'F-p1086', 'P-n274', 'WQ-n308.ph', 'P-n313'];

// --- hand-made edge cases ---------------------------------------------------------------------------

const topology = new Topology(topologySchema.parse({
  sites: [{ id: 'net' }],
  dmas: [{ id: 'a' }],
  sensors: [
    { id: 'P1', kind: 'pressure', unit: 'MPa', site: 'net', dma: 'a' },
    { id: 'F1', kind: 'flow', unit: 'm3/h', site: 'net', dma: 'a' },
    { id: 'PUMP', kind: 'pump', unit: 'state', site: 'net' },
    { id: 'CL', kind: 'chlorine', unit: 'mg/L', site: 'net', dma: 'a', intervalS: 300 },
  ],
  meters: [{ id: 'M1', customer: 'C1', dma: 'a' }],
}));
const T0 = Date.parse('2024-10-27T00:00:00Z'); // the night clocks go back in Europe: irrelevant in event time
const r = (sensor: string, m: number, value: number, quality: Point['quality'] = 'good'): Point => {
  const s = topology.sensors.get(sensor)!;
  return { measurement: s.kind, sensor, ts: T0 + m * MIN, value, quality, site: s.site, dma: s.dma };
};
function drive(h: SensorHealthDetector, from: number, to: number, values: (m: number) => Record<string, number | [number, Point['quality']] | undefined>): Condition[] {
  const out: Condition[] = [];
  for (let m = from; m < to; m++) {
    const batch = Object.entries(values(m)).filter(([, v]) => v !== undefined)
      .map(([s, v]) => (Array.isArray(v) ? r(s, m, v[0], v[1]) : r(s, m, v as number)));
    out.push(...h.onReadings(batch), ...h.onTime(T0 + m * MIN));
  }
  return out;
}
const live = (m: number) => ({ P1: 0.3 + 0.001 * (m % 7), F1: 10 + (m % 3), PUMP: 1, ...(m % 5 === 0 ? { CL: 0.5 + 0.01 * (m % 4) } : {}) });

describe('sensor health edge cases', () => {
  it('a healthy fleet raises nothing: a pump state that holds still and a flow at exactly zero are no flatline; meters are never stale', () => {
    const h = new SensorHealthDetector({ topology });
    expect(drive(h, 0, 240, (m) => ({ ...live(m), F1: 0 }))).toEqual([]);
  });

  it('stale on the watermark at 3 × the sensor\'s own interval; a late reading from before does not revive it', () => {
    const h = new SensorHealthDetector({ topology });
    drive(h, 0, 30, live);
    const out = drive(h, 30, 60, (m) => ({ ...live(m), CL: undefined }));
    // CL reports every 5 min; its last reading was at minute 25: stale at 25 + 15
    expect(raises(out, 'sensor_stale').map((c) => [c.sensor, c.ts])).toEqual([['CL', T0 + 40 * MIN]]);
    expect(h.onReadings([r('CL', 26, 0.5)])).toEqual([]);
    expect(h.isFaulty('CL')).toBe(true);
    const back = h.onReadings([r('CL', 60, 0.5)]);
    expect(back.map((c) => [c.id, c.state])).toEqual([['sensor_stale:CL', 'clear']]);
  });

  it('#12.2 readings coarser than declared (15-min samples of a sensor declared at 5 min): silence counted in their own intervals', () => {
    const h = new SensorHealthDetector({ topology });
    const out: Condition[] = [];
    // as the worker steps: the watermark reaches a minute before that minute's readings arrive
    for (let m = 0; m < 300; m++) {
      out.push(...h.onTime(T0 + m * MIN));
      const cl = m < 240 && m % 15 === 0 ? { CL: 0.5 + 0.01 * ((m / 15) % 4) } : {};
      out.push(...h.onReadings(Object.entries({ ...live(m), CL: undefined, ...cl }).filter(([, v]) => v !== undefined).map(([k, v]) => r(k, m, v as number))));
    }
    // until 2026-12-06 stale at every sample (3 × 5 min is the samples' own interval), a comms_loss each
    // time; now once, before the first gap has shown the interval (minute 15), then not until 45 min
    // after the last reading (minute 225)
    expect(raises(out, 'sensor_stale').map((c) => [c.sensor, (c.ts - T0) / MIN])).toEqual([['CL', 15], ['CL', 270]]);
  });

  it('a sensor never heard from is stale counted from the detector\'s first watermark', () => {
    const h = new SensorHealthDetector({ topology });
    const out = drive(h, 0, 10, (m) => ({ P1: 0.3 + 0.001 * m, F1: 10 + (m % 3), PUMP: 1, CL: 0.5 }));
    expect(out).toEqual([]);
    const silentPump = drive(h, 10, 20, (m) => ({ P1: 0.3 + 0.001 * m, F1: 10 + (m % 3) }));
    expect(raises(silentPump, 'sensor_stale').map((c) => c.sensor)).toEqual(['PUMP']);
  });

  it('out of physical range raises at once and clears after three readings back in range', () => {
    const h = new SensorHealthDetector({ topology, }, { range: { pressure: [0, 2] } });
    const out = drive(h, 0, 20, (m) => ({ ...live(m), P1: m >= 5 && m < 8 ? 25 : 0.3 + 0.001 * m }));
    expect(out.map((c) => [c.id, c.state, c.ts])).toEqual([['sensor_range:P1', 'raise', T0 + 5 * MIN], ['sensor_range:P1', 'clear', T0 + 10 * MIN]]);
    expect(out[0].evidence).toMatchObject({ value: 25, min: 0, max: 2 });
  });

  it('bad quality three times in a row is a fault; uncertain is not', () => {
    const h = new SensorHealthDetector({ topology });
    const out = drive(h, 0, 30, (m) => ({ ...live(m), P1: m >= 10 && m < 20 ? [0.3, 'bad'] : [0.3 + 0.001 * m, m < 10 ? 'uncertain' : 'good'] }));
    expect(out.map((c) => [c.id, c.state, c.ts])).toEqual([['sensor_bad_quality:P1', 'raise', T0 + 12 * MIN], ['sensor_bad_quality:P1', 'clear', T0 + 22 * MIN]]);
  });

  it('flatline after 30 identical readings, cleared by the first reading that moves', () => {
    const h = new SensorHealthDetector({ topology });
    const out = drive(h, 0, 60, (m) => ({ ...live(m), F1: m >= 10 && m < 50 ? 12.5 : 10 + (m % 3) }));
    expect(out.map((c) => [c.id, c.state, c.ts])).toEqual([['sensor_flatline:F1', 'raise', T0 + 39 * MIN], ['sensor_flatline:F1', 'clear', T0 + 50 * MIN]]);
  });

  it('after a restart, a sensor silent through the replayed hours keeps the interval its readings came at', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'health-warmup-interval-'));
    const store = new SqliteStore(join(dir, 'tsdb.sqlite'));
    await store.init();
    try {
      // P1 (declared 60 s) read every 15 min for a day, then silent for 6 h; the others every minute
      const points: Point[] = [];
      for (let m = 0; m < 1440 + 360; m++) {
        if (m % 15 === 0 && m < 1440) points.push(r('P1', m, 0.3 + 0.001 * (m % 7)));
        for (const [id, v] of Object.entries(live(m))) if (id !== 'P1' && v !== undefined) points.push(r(id, m, v));
      }
      await store.write(points);
      const h = new SensorHealthDetector({ topology });
      await h.warmUp(store, T0 + (1440 + 360) * MIN);
      // back at 15-min samples: until 2026-12-06 stale 3 minutes after its first reading (the
      // declared 60 s stood for its interval), cleared by the next
      const back = drive(h, 1440 + 360, 1440 + 420, (m) => ({ ...live(m), P1: m % 15 === 0 ? 0.3 : undefined }));
      expect(back.filter((c) => c.sensor === 'P1').map((c) => [c.id, c.state, (c.ts - T0) / MIN])).toEqual([['sensor_stale:P1', 'clear', 1800]]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('markOffline/markOnline: offline supersedes stale and ends with the source coming back', () => {
    const h = new SensorHealthDetector({ topology });
    drive(h, 0, 10, live);
    const stale = drive(h, 10, 20, (m) => ({ ...live(m), P1: undefined }));
    expect(raises(stale, 'sensor_stale').map((c) => c.sensor)).toEqual(['P1']);
    const off = h.markOffline(['P1'], T0 + 20 * MIN, 'opcua session lost');
    expect(off.map((c) => [c.id, c.state])).toEqual([['sensor_offline:P1', 'raise'], ['sensor_stale:P1', 'clear']]);
    expect(drive(h, 20, 40, (m) => ({ ...live(m), P1: undefined }))).toEqual([]);
    expect(h.faultsOf('P1')).toEqual(['offline']);
    expect(h.markOnline(['P1'], T0 + 40 * MIN).map((c) => [c.id, c.state])).toEqual([['sensor_offline:P1', 'clear']]);
    expect(h.isFaulty('P1')).toBe(false);
  });

  it('a restart (warmUp from the store) remembers a frozen sensor and does not call every sensor stale', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'health-warmup-'));
    const store = new SqliteStore(join(dir, 'tsdb.sqlite'));
    await store.init();
    try {
      const values = (m: number) => ({ ...live(m), F1: m >= 20 ? 12.5 : 10 + (m % 3) });
      const first = new SensorHealthDetector({ topology });
      expect(raises(drive(first, 0, 60, values), 'sensor_flatline')).toHaveLength(1);
      const points: Point[] = [];
      for (let m = 0; m < 60; m++) for (const [s, v] of Object.entries(values(m))) points.push(r(s, m, v));
      await store.write(points);
      const second = new SensorHealthDetector({ topology });
      await second.warmUp(store, T0 + 60 * MIN);
      expect(second.isFaulty('F1')).toBe(true);
      expect(second.isFaulty('P1')).toBe(false);
      const after = drive(second, 60, 70, (m) => ({ ...values(m), F1: m < 65 ? 12.5 : 11 }));
      expect(after.map((c) => [c.id, c.state])).toEqual([['sensor_flatline:F1', 'clear']]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /**
   * Runs minutes [0, stopAt) live (readings stored and analysed; `during` may act on the detector
   * and the manager), then analytics is down while the readings go on being stored until
   * `restartAt`, when a new worker warms up and reconciles the alarms left open. Returns the
   * alarms' conditions presented at the restart and what is needed to go on.
   */
  async function restartAcross(values: (m: number) => Record<string, number | undefined>, stopAt: number, restartAt: number,
    during?: (m: number, h: SensorHealthDetector, alarms: AlarmManager) => void) {
    const dir = mkdtempSync(join(tmpdir(), 'health-restart-'));
    const tsdb = new SqliteStore(join(dir, 'tsdb.sqlite'));
    await tsdb.init();
    const state = new AlarmStore(':memory:');
    const before = new AlarmManager({ store: state, now: () => 0 });
    const first = new SensorHealthDetector({ topology });
    for (let m = 0; m < restartAt; m++) {
      const batch = Object.entries(values(m)).filter(([, v]) => v !== undefined).map(([id, v]) => r(id, m, v!));
      await tsdb.write(batch);
      if (m >= stopAt) continue;
      for (const c of [...first.onReadings(batch), ...first.onTime(T0 + m * MIN)]) before.onCondition(c);
      during?.(m, first, before);
    }
    const openBefore = state.openAlarms().map((a) => a.conditionId);
    const alarms = new AlarmManager({ store: state, now: () => 0 });
    const transitions: AlarmTransition[] = [];
    alarms.on('transition', (t) => transitions.push(t));
    const health = new SensorHealthDetector({ topology });
    const worker = new AnalyticsWorker({ topology, store: tsdb, detectors: [health], alarms, openAlarms: () => state.openAlarms().filter((a) => a.state.startsWith('active')) });
    await worker.warmUp(T0 + restartAt * MIN);
    const atRestart = transitions.filter((t) => t.kind === 'raise' || t.kind === 'clear').map((t) => `${t.alarm.conditionId} ${t.kind}`);
    const close = async () => { state.close(); await tsdb.close(); rmSync(dir, { recursive: true, force: true }); };
    return { openBefore, atRestart, alarms, health, close };
  }

  it('a restart clears the alarm of a fault that ended while analytics was down and raises one that began then', async () => {
    // F1 frozen from minute 20 to 70; P1 silent from minute 80; analytics down from 60 to 120
    const values = (m: number) => ({ ...live(m), F1: m >= 20 && m < 70 ? 12.5 : 10 + (m % 3), P1: m >= 80 ? undefined : live(m).P1 });
    const { openBefore, atRestart, alarms, close } = await restartAcross(values, 60, 120);
    try {
      expect(openBefore).toEqual(['sensor_flatline:F1']);
      expect(atRestart).toEqual(['sensor_flatline:F1 clear', 'sensor_stale:P1 raise']);
      const stale = alarms.list().find((a) => a.conditionId === 'sensor_stale:P1')!;
      expect(stale.raisedAt).toBe(T0 + 120 * MIN);
      expect(stale.evidence).toMatchObject({ lastReading: T0 + 79 * MIN, afterRestart: true });
    } finally {
      await close();
    }
  });

  it('a first start on an empty store raises nothing (every sensor only looks silent), and a healthy restart changes nothing', async () => {
    const empty = await restartAcross(live, 0, 0);
    try {
      expect(empty.atRestart).toEqual([]);
    } finally {
      await empty.close();
    }
    const healthy = await restartAcross(live, 60, 90);
    try {
      expect(healthy.openBefore).toEqual([]);
      expect(healthy.atRestart).toEqual([]);
    } finally {
      await healthy.close();
    }
  });

  it('a restart takes up an offline sensor: cleared when it was heard while analytics was down, else by its next reading', async () => {
    // PUMP's source said it was lost at minute 30; readings come back at minute 90 (the birth fell in the downtime)
    const values = (m: number) => ({ ...live(m), PUMP: m >= 30 && m < 90 ? undefined : 1 });
    const markLost = (m: number, h: SensorHealthDetector, a: AlarmManager) => {
      if (m === 30) for (const c of h.markOffline(['PUMP'], T0 + 30 * MIN, 'sparkplug NDEATH')) a.onCondition(c);
    };
    const heard = await restartAcross(values, 60, 100, markLost);
    try {
      expect(heard.openBefore).toEqual(['sensor_offline:PUMP']);
      expect(heard.atRestart).toEqual(['sensor_offline:PUMP clear']);
    } finally {
      await heard.close();
    }
    const silent = await restartAcross(values, 60, 80, markLost);
    try {
      // still silent: taken up as offline, no stale beside it
      expect(silent.atRestart).toEqual([]);
      expect(silent.health.faultsOf('PUMP')).toEqual(['offline']);
      const after = drive(silent.health, 80, 95, values);
      expect(after.map((c) => `${c.id} ${c.state} ${(c.ts - T0) / MIN}`)).toEqual(['sensor_offline:PUMP clear 90']);
    } finally {
      await silent.close();
    }
  });

  it('refuses bad options naming the key', () => {
    expect(() => new SensorHealthDetector({ topology }, { staleIntervals: 0 })).toThrow(/sensor-health\.staleIntervals/);
  });
});

// --- spikes and drift -------------------------------------------------------------------------------

const dmaTopology = new Topology(topologySchema.parse({
  sites: [{ id: 'net' }],
  dmas: [{ id: 'a' }],
  sensors: ['P1', 'P2', 'P3', 'P4'].map((id) => ({ id, kind: 'pressure', unit: 'MPa', site: 'net', dma: 'a' })),
}));
/** Pressures of the four loggers at minute m: a daily demand swing, fixed offsets, a little noise. */
function dmaPressure(m: number, id: string): number {
  const swing = 0.03 * Math.sin((2 * Math.PI * m) / 1440);
  const offset = { P1: 0, P2: 0.04, P3: -0.03, P4: 0.07 }[id]!;
  const noise = 0.0008 * Math.sin(m * 12.9898 + offset * 1000); // deterministic jitter
  return 0.35 + offset - swing + noise;
}
function driveDma(h: SensorHealthDetector, from: number, to: number, value: (m: number, id: string) => number): Condition[] {
  const out: Condition[] = [];
  for (let m = from; m < to; m++) {
    const batch: Point[] = ['P1', 'P2', 'P3', 'P4'].map((id) => ({ measurement: 'pressure', sensor: id, ts: T0 + m * MIN, value: value(m, id), quality: 'good', site: 'net', dma: 'a' }));
    out.push(...h.onReadings(batch), ...h.onTime(T0 + m * MIN));
  }
  return out;
}
const DAY_MIN = 1440;

describe('sensor health: spikes', () => {
  it('a pump start (a step up with a one-reading overshoot) and a lone transient raise no spike', () => {
    const h = new SensorHealthDetector({ topology: dmaTopology });
    const out = driveDma(h, 0, 600, (m, id) => {
      const base = dmaPressure(m, id);
      if (id !== 'P1') return base;
      if (m === 200) return base + 0.25; // pump start: surge for one reading...
      if (m > 200 && m < 400) return base + 0.08; // ...then the new, higher level
      if (m === 500) return base * 2.5; // one transient on its own
      return base;
    });
    expect(raises(out, 'sensor_spike')).toEqual([]);
  });

  it('two isolated spikes within an hour raise a spike fault; it clears after an hour without one', () => {
    const h = new SensorHealthDetector({ topology: dmaTopology });
    const out = driveDma(h, 0, 300, (m, id) => (id === 'P2' && (m === 100 || m === 130) ? dmaPressure(m, id) * 2.5 : dmaPressure(m, id)));
    expect(out.map((c) => [c.id, c.state, (c.ts - T0) / MIN])).toEqual([['sensor_spike:P2', 'raise', 131], ['sensor_spike:P2', 'clear', 190]]);
    expect(out[0].evidence).toMatchObject({ spikesInWindow: 2 });
  });

  it('spikes a peer in the DMA shows at the same instant the same way are the water\'s: no spike fault (BattLeDIM\'s inlets at a pump start)', () => {
    // P1 and P4 both jump 0.3 MPa for one reading at minutes 100 and 130 (a transient the network
    // carries to both); P2 alone twice at 200 and 230, while P3 dips at 200 as P2 jumps (not the same way)
    const together = (m: number, id: string) => {
      const base = dmaPressure(m, id);
      if ((id === 'P1' || id === 'P4') && (m === 100 || m === 130)) return base + 0.3;
      if (id === 'P2' && (m === 200 || m === 230)) return base + 0.3;
      if (id === 'P3' && m === 200) return base - 0.2;
      return base;
    };
    const out = driveDma(new SensorHealthDetector({ topology: dmaTopology }), 0, 300, together);
    // until 2026-12-06 P1 and P4 raised a spike fault each
    expect(raises(out, 'sensor_spike').map((c) => [c.sensor, (c.ts - T0) / MIN])).toEqual([['P2', 231]]);
  });

  it('two spiked readings in a row (as the simulator injects them) are one spike of two readings: raised', () => {
    const h = new SensorHealthDetector({ topology: dmaTopology });
    const out = driveDma(h, 0, 150, (m, id) => (id === 'P3' && (m === 100 || m === 101) ? dmaPressure(m, id) * 2.5 : dmaPressure(m, id)));
    expect(raises(out, 'sensor_spike').map((c) => [c.sensor, (c.ts - T0) / MIN])).toEqual([['P3', 102]]);
    expect(h.isFaulty('P3')).toBe(true); // other detectors skip it until it clears
  });
});

describe('sensor health: drift', () => {
  it('a burst (every logger of the DMA drops together, for 8 hours) raises no drift; neither does a burst felt more by one logger', () => {
    const h = new SensorHealthDetector({ topology: dmaTopology });
    const out = driveDma(h, 0, 4 * DAY_MIN, (m, id) => {
      const inBurst = m >= 2 * DAY_MIN && m < 2 * DAY_MIN + 480;
      const near = m >= 3 * DAY_MIN && m < 3 * DAY_MIN + 480;
      // day 2: a drop felt alike; day 3: a burst near P4, which drops 0.05 MPa more than the others
      return dmaPressure(m, id) - (inBurst ? 0.08 : 0) - (near ? (id === 'P4' ? 0.13 : 0.08) : 0);
    });
    expect(raises(out, 'sensor_drift')).toEqual([]);
  });

  it('a DMA losing its supply for 12 hours (its loggers fall to near zero over three hours, their offsets with them) raises no drift', () => {
    // as Hill when its tank runs empty after a pump trip: each logger's difference to its peers'
    // median (its elevation offset, 16 kPa for P2) fades within three hours, each hour by less than
    // half the drift size (10 kPa), then stays gone for 12 hours: enough for the CUSUM
    const offsets: Record<string, number> = { P1: 0, P2: 0.016, P3: -0.018, P4: 0.025 };
    const h = new SensorHealthDetector({ topology: dmaTopology });
    const lost = 2 * DAY_MIN;
    const out = driveDma(h, 0, 4 * DAY_MIN, (m, id) => {
      const normal = dmaPressure(m, id) - { P1: 0, P2: 0.04, P3: -0.03, P4: 0.07 }[id]! + offsets[id];
      if (m < lost || m >= lost + 15 * 60) return normal;
      const share = Math.min(1, (m - lost) / 180); // falling for three hours, then empty
      // (near zero, the gauges' noise stays: no flatline hides the loggers from one another)
      return normal * (1 - share) + (0.002 + 0.0008 * Math.sin(m * 7.31 + id.charCodeAt(1))) * share;
    });
    expect(raises(out, 'sensor_drift')).toEqual([]);
  });

  it('a logger drifting 0.01 MPa/day is found within 2 days of the drift starting (after a day of learning)', () => {
    const h = new SensorHealthDetector({ topology: dmaTopology });
    const start = DAY_MIN; // the first day sets the references
    const out = driveDma(h, 0, 5 * DAY_MIN, (m, id) => dmaPressure(m, id) + (id === 'P3' && m >= start ? (0.01 * (m - start)) / DAY_MIN : 0));
    const drift = raises(out, 'sensor_drift');
    expect(drift.map((c) => c.sensor)).toEqual(['P3']);
    const days = (drift[0].ts - T0 - start * MIN) / (DAY_MIN * MIN);
    expect(days).toBeGreaterThan(0.5); // no sooner than the drift could be told from noise...
    expect(days).toBeLessThanOrEqual(2); // ...and within 2 days
    expect(h.isFaulty('P3')).toBe(true);
    expect(h.isFaulty('P1') || h.isFaulty('P2') || h.isFaulty('P4')).toBe(false);
  });

  it('a restart with a drift alarm open resumes from the reference it was raised against: still drifting, it stays raised (no second raise); recalibrated meanwhile, it clears within the hour', () => {
    const start = DAY_MIN;
    const drifting = (m: number, id: string) => dmaPressure(m, id) + (id === 'P3' && m >= start ? (0.01 * (m - start)) / DAY_MIN : 0);
    const before = new SensorHealthDetector({ topology: dmaTopology });
    const raised = raises(driveDma(before, 0, 4 * DAY_MIN, drifting), 'sensor_drift')[0];
    expect(raised.evidence).toMatchObject({ reference: expect.any(Number) });
    const open = [{ conditionId: raised.id, type: raised.type, dma: 'a', raisedAt: raised.ts, evidence: raised.evidence }];
    const restartAt = 4 * DAY_MIN;
    const driftOf = (out: Condition[]) => out.filter((c) => c.type === 'sensor_drift').map((c) => `${c.state} ${(c.ts - T0) / MIN - restartAt}`);
    // the logger drifts on: nothing new, and other detectors still skip it
    const still = new SensorHealthDetector({ topology: dmaTopology });
    expect(still.reconcile(open, T0 + restartAt * MIN)).toEqual([]);
    expect(driftOf(driveDma(still, restartAt, restartAt + 2 * DAY_MIN, drifting))).toEqual([]);
    expect(still.isFaulty('P3')).toBe(true);
    // recalibrated while the platform was down: cleared at the end of the first whole hour
    const fixed = new SensorHealthDetector({ topology: dmaTopology });
    fixed.reconcile(open, T0 + restartAt * MIN);
    expect(driftOf(driveDma(fixed, restartAt, restartAt + DAY_MIN, dmaPressure))).toEqual(['clear 60']);
    // an alarm raised without its reference (before it was kept) is left as it was: the detector learns afresh
    const old = new SensorHealthDetector({ topology: dmaTopology });
    old.reconcile([{ ...open[0], evidence: { residual: 0.02 } }], T0 + restartAt * MIN);
    expect(driftOf(driveDma(old, restartAt, restartAt + DAY_MIN, dmaPressure))).toEqual([]);
  });

  it('a restart while a drift is growing learns from the stored week: raised when it would have been, or at the restart when it was passed meanwhile', async () => {
    const start = DAY_MIN;
    const drifting = (m: number, id: string) => dmaPressure(m, id) + (id === 'P3' && m >= start ? (0.01 * (m - start)) / DAY_MIN : 0);
    const straight = raises(driveDma(new SensorHealthDetector({ topology: dmaTopology }), 0, 5 * DAY_MIN, drifting), 'sensor_drift');
    expect(straight.map((c) => c.sensor)).toEqual(['P3']);
    const raisedAt = (straight[0].ts - T0) / MIN;
    const dir = mkdtempSync(join(tmpdir(), 'aw-drift-restart-'));
    try {
      /** Readings stored until `restartAt` (minutes); a new detector warms up from them and goes on live. */
      const restartAt = async (restart: number) => {
        const store = new SqliteStore(join(dir, `tsdb-${restart}.sqlite`));
        await store.init();
        try {
          const points: Point[] = [];
          for (let m = 0; m < restart; m++) for (const id of ['P1', 'P2', 'P3', 'P4']) points.push({ measurement: 'pressure', sensor: id, ts: T0 + m * MIN, value: drifting(m, id), quality: 'good', site: 'net', dma: 'a' });
          await store.write(points);
          const h = new SensorHealthDetector({ topology: dmaTopology });
          await h.warmUp(store, T0 + restart * MIN);
          const found = h.reconcile([], T0 + restart * MIN).filter((c) => c.type === 'sensor_drift');
          const after = raises(driveDma(h, restart, 5 * DAY_MIN, drifting), 'sensor_drift');
          return { found: found.map((c) => `${c.sensor} ${(c.ts - T0) / MIN}`), after: after.map((c) => `${c.sensor} ${(c.ts - T0) / MIN}`) };
        } finally {
          await store.close();
        }
      };
      // restarted half a day before the raise: raised within the hour of it (learning afresh, a day later at best)
      const before = await restartAt(raisedAt - 720);
      expect(before.found).toEqual([]);
      expect(before.after).toHaveLength(1);
      expect(Math.abs(Number(before.after[0].split(' ')[1]) - raisedAt)).toBeLessThanOrEqual(60);
      // restarted after the raise it never made (down meanwhile): raised at the restart, not again
      const meanwhile = await restartAt(raisedAt + 120);
      expect(meanwhile.found).toEqual([`P3 ${raisedAt + 120}`]);
      expect(meanwhile.after).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad spike and drift options naming the key', () => {
    expect(() => new SensorHealthDetector({ topology }, { spikeWindow: 2.5 })).toThrow(/sensor-health\.spikeWindow/);
    expect(() => new SensorHealthDetector({ topology }, { driftSize: { pressure: -1 } })).toThrow(/sensor-health\.driftSize\.pressure/);
  });
});
