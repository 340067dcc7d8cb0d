/**
 * The analytics worker: detectors see readings in event-time order in fixed steps whatever the
 * batching, the watermark trails the newest reading by the allowed lateness, late readings are
 * dropped and counted, memory stays bounded, conditions reach the alarm manager whose clock follows
 * the watermark, and a step of the server's wall clock moves neither (F17); and live over a real
 * Mosquitto broker: telemetry and ingest conditions in, alarm transitions out.
 */
import { afterEach, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import type { Point, Reading } from '../core/model/reading.ts';
import { topologySchema } from '../core/config/schema.ts';
import { Topology } from '../core/topology/topology.ts';
import { SqliteStore } from '../core/tsdb/sqlite.ts';
import type { TimeSeriesStore } from '../core/tsdb/types.ts';
import { ALARM_FILTER, activeConditionsTopic, conditionTopic, offlineSensorsTopic, statusTopic, telemetryTopic } from '../core/bus/topics.ts';
import { encodeOfflineSensors, encodeSensorStatus } from '../core/bus/messages/status.ts';
import { encodeTelemetry } from '../core/bus/messages/telemetry.ts';
import type { Condition } from '../core/bus/messages/condition.ts';
import { decodeAlarmTransition } from '../core/bus/messages/alarm.ts';
import { AlarmStore } from '../core/state/alarm-store.ts';
import { MosquittoBroker } from '../test/support/mosquitto.ts';
import { waitFor } from '../test/support/ports.ts';
import type { Detector } from './types.ts';
import { AlarmManager } from './alarms/manager.ts';
import { AnalyticsWorker } from './worker.ts';
import { SensorHealthDetector } from './detectors/sensor-health/index.ts';

const T0 = Date.parse('2024-05-07T10:00:00Z'); // a whole minute
const MIN = 60_000;

const topology = new Topology(topologySchema.parse({
  sites: [{ id: 'net' }],
  dmas: [{ id: 'central', inlets: ['F-1'] }, { id: 'east', inlets: ['F-2'] }],
  sensors: [
    { id: 'F-1', kind: 'flow', site: 'net', dma: 'central', unit: 'm3/h' },
    { id: 'F-2', kind: 'flow', site: 'net', dma: 'east', unit: 'm3/h' },
    { id: 'P-1', kind: 'pressure', site: 'net', dma: 'central', unit: 'MPa' },
    { id: 'P-2', kind: 'pressure', site: 'net', dma: 'east', unit: 'MPa' },
  ],
}));

/** Test double of a detector: records every call; optionally raises a condition when pressure is low. */
class RecordingDetectorDouble implements Detector {
  readonly calls: string[] = [];
  readonly batches: Point[][] = [];
  warmedUntil?: number;
  derived: Point[] = [];
  constructor(readonly name = 'recording-double', private readonly lowPressure?: number) {}
  async warmUp(_history: TimeSeriesStore, until: number): Promise<void> { this.warmedUntil = until; }
  onReadings(batch: readonly Point[]): Condition[] {
    this.batches.push([...batch]);
    this.calls.push(`readings ${batch.map((r) => `${r.sensor}@${(r.ts - T0) / 1000}`).join(',')}`);
    const out: Condition[] = [];
    if (this.lowPressure !== undefined) {
      for (const r of batch) {
        if (r.measurement !== 'pressure') continue;
        const low = r.value < this.lowPressure;
        out.push({ id: `pressure_low:${r.sensor}`, type: 'pressure_low', state: low ? 'raise' : 'clear', ts: r.ts, dma: r.dma, sensor: r.sensor, message: `pressure ${r.value}` });
      }
    }
    return out;
  }
  onTime(eventTime: number): Condition[] {
    this.calls.push(`time ${(eventTime - T0) / 1000}`);
    this.derived.push({ measurement: 'test_derived', sensor: 'central', ts: eventTime, value: 1, quality: 'good', site: '', dma: 'central' });
    return [];
  }
  drainDerived(): Point[] { const d = this.derived; this.derived = []; return d; }
}

const r = (sensor: string, s: number, value = 0.3): Reading => ({ sensor, ts: T0 + s * 1000, value, quality: 'good' });

describe('AnalyticsWorker: event time', () => {
  it('gives detectors each step\'s readings sorted by (time, sensor), then onTime at the step boundary', () => {
    const d = new RecordingDetectorDouble();
    const w = new AnalyticsWorker({ topology, detectors: [d], allowedLatenessMs: 30_000 });
    w.startAt(T0);
    // out of order within the allowed lateness
    w.feed([r('P-1', 50), r('F-1', 10), r('P-2', 70)]);
    w.feed([r('F-2', 10), r('P-1', 5)]);
    expect(w.watermark).toBe(T0); // newest 70 s − 30 s = 40 s: the first step (to 60 s) is not complete
    w.feed([r('F-1', 95)]); // newest 95 − 30 = 65 s ≥ 60 s
    expect(d.calls).toEqual(['readings P-1@5,F-1@10,F-2@10,P-1@50', 'time 60']);
    expect(d.batches[0][1]).toMatchObject({ measurement: 'flow', site: 'net', dma: 'central', sensor: 'F-1' });
    expect(w.watermark).toBe(T0 + MIN);
    expect(w.stats).toMatchObject({ readings: 6, buffered: 2, late: 0 });
  });

  it('calls onTime for every step, also where no reading came (time-driven checks run through gaps)', () => {
    const d = new RecordingDetectorDouble();
    const w = new AnalyticsWorker({ topology, detectors: [d], allowedLatenessMs: 0 });
    w.startAt(T0);
    w.feed([r('F-1', 0), r('F-1', 240)]);
    expect(d.calls).toEqual(['readings F-1@0', 'time 60', 'time 120', 'time 180', 'time 240']);
  });

  it('drops and counts readings older than the watermark, and unknown sensors', () => {
    const d = new RecordingDetectorDouble();
    const w = new AnalyticsWorker({ topology, detectors: [d], allowedLatenessMs: 60_000 });
    w.startAt(T0);
    w.feed([r('F-1', 200)]); // watermark → 120 s
    w.feed([r('F-1', 100), r('F-1', 130), r('nope', 150)]);
    expect(w.stats).toMatchObject({ late: 1, unknownSensor: 1, readings: 2 });
    w.flush(T0 + 300_000);
    expect(d.batches.flat().map((x) => (x.ts - T0) / 1000)).toEqual([130, 200]);
  });

  it('makes the same detector calls however the input is batched', () => {
    const readings: Reading[] = [];
    for (let s = 0; s < 1800; s += 15) for (const id of ['F-1', 'F-2', 'P-1', 'P-2']) readings.push(r(id, s + (id === 'P-2' ? 3 : 0), 0.3 + (s % 7) / 100));
    const run = (split: (rs: Reading[]) => Reading[][]) => {
      const d = new RecordingDetectorDouble();
      const w = new AnalyticsWorker({ topology, detectors: [d], allowedLatenessMs: 90_000 });
      w.startAt(T0);
      for (const b of split(readings)) w.feed(b);
      w.flush(T0 + 1800_000);
      return d.calls;
    };
    const whole = run((rs) => [rs]);
    const oneByOne = run((rs) => rs.map((x) => [x]));
    // per sensor (as several ingest instances would deliver), shuffled within each 45 s
    const perSensor = run((rs) => {
      const out: Reading[][] = [];
      for (let i = 0; i < rs.length; i += 12) {
        const slice = rs.slice(i, i + 12);
        for (const id of ['P-2', 'F-1', 'P-1', 'F-2']) out.push(slice.filter((x) => x.sensor === id).reverse());
      }
      return out;
    });
    expect(whole.length).toBe(60);
    expect(oneByOne).toEqual(whole);
    expect(perSensor).toEqual(whole);
  });

  it('bounds memory: past maxBufferedReadings the watermark is forced forward', () => {
    const d = new RecordingDetectorDouble();
    const w = new AnalyticsWorker({ topology, detectors: [d], allowedLatenessMs: 3_600_000, maxBufferedReadings: 100 });
    w.startAt(T0);
    for (let s = 0; s < 1000; s++) w.feed([r('F-1', s)]);
    expect(w.stats.buffered).toBeLessThanOrEqual(100);
    expect(w.stats.forcedAdvances).toBeGreaterThan(0);
    expect(d.batches.flat().length + w.stats.buffered).toBe(1000);
  });

  it('collects derived series for storage', () => {
    const d = new RecordingDetectorDouble();
    const w = new AnalyticsWorker({ topology, detectors: [d], allowedLatenessMs: 0, maxDerivedBuffered: 3 });
    w.startAt(T0);
    w.feed([r('F-1', 300)]);
    const derived = w.drainDerived();
    expect(derived.map((p) => (p.ts - T0) / 1000)).toEqual([180, 240, 300]);
    expect(w.stats.derivedDropped).toBe(2);
    expect(w.drainDerived()).toEqual([]);
  });

  it('feeds conditions to the alarm manager, whose clock (on-delay) follows the watermark', () => {
    const store = new AlarmStore(':memory:');
    const alarms = new AlarmManager({ store, rules: { pressure_low: { onDelayMs: 3 * MIN } } });
    const d = new RecordingDetectorDouble('low-pressure-double', 0.2);
    const w = new AnalyticsWorker({ topology, detectors: [d], alarms, allowedLatenessMs: 0 });
    w.startAt(T0);
    w.feed([r('P-1', 0, 0.1), r('P-1', 60, 0.1), r('P-1', 120, 0.1)]);
    expect(alarms.openAlarms()).toHaveLength(0); // watermark 120 s: still within the 3-min on-delay
    w.feed([r('P-1', 180, 0.1), r('P-1', 240, 0.25)]);
    w.flush(T0 + 5 * MIN);
    expect(alarms.list().map((a) => [a.conditionId, (a.raisedAt - T0) / 1000, (a.clearedAt! - T0) / 1000])).toEqual([['pressure_low:P-1', 180, 240]]);
    store.close();
  });

  it('warms detectors from the store up to `until`; readings before it are late', async () => {
    const store = new SqliteStore(':memory:');
    await store.init();
    const d = new RecordingDetectorDouble();
    const w = new AnalyticsWorker({ topology, store, detectors: [d], allowedLatenessMs: 0 });
    await w.warmUp(T0 + 30_000);
    expect(d.warmedUntil).toBe(T0 + 30_000);
    w.feed([r('F-1', 10), r('F-1', 40), r('F-1', 70)]);
    expect(w.stats.late).toBe(1);
    expect(d.calls).toEqual(['readings F-1@40', 'time 60']);
    await store.close();
  });

  it('refuses bad options with the field named', () => {
    expect(() => new AnalyticsWorker({ topology, detectors: [], allowedLatenessMs: -1 })).toThrow(/allowedLatenessMs/);
    expect(() => new AnalyticsWorker({ topology, detectors: [{ name: 'x' } as never] })).toThrow(/detectors\[0\]/);
    expect(() => new AnalyticsWorker({ topology, detectors: [new RecordingDetectorDouble(), new RecordingDetectorDouble()] })).toThrow(/detectors\[1\]\.name/);
  });
});

// Two sources: an OPC UA plant and the MQTT sensors, as in the demo.
const twoSources = new Topology(topologySchema.parse({
  sites: [{ id: 'plant' }, { id: 'net' }],
  dmas: [{ id: 'central' }],
  sensors: [
    { id: 'PL-F', kind: 'flow', site: 'plant', unit: 'm3/h', source: { type: 'opcua', server: 'plant', nodeId: 'ns=1;s=F' } },
    { id: 'PL-P', kind: 'pressure', site: 'plant', unit: 'MPa', source: { type: 'opcua', server: 'plant', nodeId: 'ns=1;s=P' } },
    { id: 'MQ-P1', kind: 'pressure', site: 'net', dma: 'central', unit: 'MPa', source: { type: 'mqtt', topic: 'sensors/p1' } },
    { id: 'MQ-P2', kind: 'pressure', site: 'net', dma: 'central', unit: 'MPa', source: { type: 'mqtt', topic: 'sensors/p2' } },
  ],
  meters: [{ id: 'M-1', customer: 'C1', dma: 'central' }],
}));
const minuteReading = (sensor: string, minute: number): Reading => ({ sensor, ts: T0 + minute * MIN, value: 0.3 + 0.001 * (minute % 7), quality: 'good' });

/** A worker with fake clocks (wall and monotonic run together here) and the real sensor-health detector, recording its conditions. */
function pacedWorker(opts: { sourceIdleMs?: number; maxBufferedReadings?: number } = {}) {
  const wall = { now: 1_000_000 };
  const health = new SensorHealthDetector({ topology: twoSources });
  const recorder = new RecordingDetectorDouble();
  const w = new AnalyticsWorker({ topology: twoSources, detectors: [health, recorder], wallClock: () => wall.now, monotonicClock: () => wall.now, ...opts });
  const conditions: Condition[] = [];
  w.on('condition', (c) => conditions.push(c));
  w.startAt(T0);
  return { w, wall, health, recorder, conditions };
}

describe('AnalyticsWorker: watermark per source', () => {
  it('two sources at different paces (one 50× faster in event time per wall second): no late reading, no stale sensor', () => {
    const { w, wall, recorder, conditions } = pacedWorker();
    // Each wall second the plant sends 1 minute of event time and the MQTT sensors 50 minutes;
    // the MQTT sensors finish their 3 days long before the plant does, then wait for it.
    const days = 3 * 1440;
    let plant = 0; let mqttMinute = 0;
    while (plant < days) {
      wall.now += 1000;
      w.feed([minuteReading('PL-F', plant), minuteReading('PL-P', plant)]);
      plant++;
      const batch: Reading[] = [];
      for (let i = 0; i < 50 && mqttMinute < days; i++, mqttMinute++) batch.push(minuteReading('MQ-P1', mqttMinute), minuteReading('MQ-P2', mqttMinute));
      if (batch.length) w.feed(batch);
    }
    w.flush(T0 + days * MIN);
    expect(w.stats.late).toBe(0);
    expect(w.stats.forcedAdvances).toBe(0);
    expect(conditions.filter((c) => c.type === 'sensor_stale')).toEqual([]);
    expect(recorder.batches.flat().length).toBe(4 * days);
    // while both were running, the watermark followed the slow plant, not the fast MQTT sensors
    expect(w.stats).toMatchObject({ feeds: 4 });
  });

  it('the watermark follows the slowest active sensor, minus the lateness (also within one source)', () => {
    const { w, wall } = pacedWorker();
    w.feed(['PL-F', 'PL-P', 'MQ-P1', 'MQ-P2'].map((id) => minuteReading(id, 0)));
    wall.now += 1000;
    w.feed([minuteReading('MQ-P1', 100), minuteReading('MQ-P2', 100)]);
    expect(w.watermark).toBe(T0); // the plant is still at minute 0
    wall.now += 1000;
    w.feed([minuteReading('PL-F', 30)]);
    expect(w.watermark).toBe(T0); // one of the plant's items is still at minute 0
    w.feed([minuteReading('PL-P', 40)]);
    expect(w.watermark).toBe(T0 + 28 * MIN); // the plant's slower item at 30 − 2 min of lateness
  });

  it('a source that stops holds the watermark only for sourceIdleMs; its sensors then go stale', () => {
    const { w, wall, conditions } = pacedWorker({ sourceIdleMs: 30_000 });
    for (let m = 0; m < 10; m++) { wall.now += 1000; w.feed([minuteReading('PL-F', m), minuteReading('PL-P', m), minuteReading('MQ-P1', m), minuteReading('MQ-P2', m)]); }
    // the plant falls silent at minute 10; the MQTT sensors go on at a minute per wall second
    for (let m = 10; m < 30; m++) { wall.now += 1000; w.feed([minuteReading('MQ-P1', m), minuteReading('MQ-P2', m)]); }
    expect(w.watermark).toBe(T0 + 7 * MIN); // held: the plant's last minute (9) − 2 min, to a step
    expect(w.stats.activeFeeds).toBe(4);
    for (let m = 30; m < 60; m++) { wall.now += 1000; w.feed([minuteReading('MQ-P1', m), minuteReading('MQ-P2', m)]); }
    // silent for more than 30 s: the plant no longer holds the watermark
    expect(w.watermark).toBe(T0 + 57 * MIN);
    expect(w.stats).toMatchObject({ activeFeeds: 2, late: 0 });
    const stale = conditions.filter((c) => c.type === 'sensor_stale' && c.state === 'raise');
    expect(stale.map((c) => [c.sensor, (c.ts - T0) / MIN]).sort()).toEqual([['PL-F', 12], ['PL-P', 12]]);
    // the plant comes back: its sensors recover on their first recent reading
    wall.now += 1000;
    w.feed([minuteReading('PL-F', 60), minuteReading('PL-P', 60), minuteReading('MQ-P1', 60), minuteReading('MQ-P2', 60)]);
    w.flush(T0 + 61 * MIN);
    expect(conditions.filter((c) => c.type === 'sensor_stale' && c.state === 'clear').map((c) => c.sensor).sort()).toEqual(['PL-F', 'PL-P']);
  });

  it('at the start, a source not heard from yet is waited for (sourceIdleMs), so its first readings are not late', () => {
    const { w, wall, conditions } = pacedWorker();
    // the plant's first 10 minutes arrive before the MQTT sensors' first message
    for (let m = 0; m < 10; m++) { wall.now += 1000; w.feed([minuteReading('PL-F', m), minuteReading('PL-P', m)]); }
    expect(w.watermark).toBe(T0);
    wall.now += 1000;
    w.feed([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((m) => [minuteReading('MQ-P1', m), minuteReading('MQ-P2', m)]));
    expect(w.watermark).toBe(T0 + 7 * MIN);
    expect(w.stats.late).toBe(0);
    expect(conditions.filter((c) => c.type === 'sensor_stale')).toEqual([]);
  });

  it('a reading late by less than the allowed lateness is used, one later than that is dropped', () => {
    const { w, wall, recorder } = pacedWorker();
    for (let m = 0; m <= 10; m++) { wall.now += 1000; w.feed(['PL-F', 'PL-P', 'MQ-P1', 'MQ-P2'].map((id) => minuteReading(id, m))); }
    expect(w.watermark).toBe(T0 + 8 * MIN);
    w.feed([{ ...minuteReading('MQ-P2', 9), ts: T0 + 9 * MIN + 30_000 }]); // 1.5 min behind: within 2 min
    w.feed([{ ...minuteReading('MQ-P2', 7), ts: T0 + 7 * MIN + 30_000 }]); // 3.5 min behind: the watermark has passed it
    w.flush(T0 + 11 * MIN);
    expect(w.stats.late).toBe(1);
    expect(recorder.batches.flat().filter((x) => x.sensor === 'MQ-P2' && x.ts % MIN !== 0).map((x) => (x.ts - T0) / 1000)).toEqual([570]);
  });

  it('customer meters (PDA uploads) never hold the watermark back', () => {
    const { w, wall } = pacedWorker();
    wall.now += 1000;
    w.feed([{ sensor: 'M-1', ts: T0 - 86_400_000, value: 12, quality: 'good' }]); // a reading of yesterday: late, not waited for
    w.feed(['PL-F', 'PL-P', 'MQ-P1', 'MQ-P2'].map((id) => minuteReading(id, 20)));
    expect(w.watermark).toBe(T0 + 18 * MIN);
    expect(w.stats).toMatchObject({ late: 1, feeds: 4 });
  });

  it('memory stays bounded when a slow source lags far behind: the watermark is forced forward', () => {
    const { w, wall } = pacedWorker({ maxBufferedReadings: 500 });
    for (let m = 0; m < 2000; m++) {
      wall.now += 1000;
      w.feed([minuteReading('MQ-P1', m), minuteReading('MQ-P2', m)]);
      if (m % 50 === 0) w.feed([minuteReading('PL-F', m / 50)]);
    }
    expect(w.stats.buffered).toBeLessThanOrEqual(500);
    expect(w.stats.forcedAdvances).toBeGreaterThan(0);
  });

  it('refuses a bad sourceIdleMs, wallClock or monotonicClock', () => {
    expect(() => new AnalyticsWorker({ topology, detectors: [], sourceIdleMs: -5 })).toThrow(/sourceIdleMs/);
    expect(() => new AnalyticsWorker({ topology, detectors: [], wallClock: 5 as never })).toThrow(/wallClock/);
    expect(() => new AnalyticsWorker({ topology, detectors: [], monotonicClock: 5 as never })).toThrow(/monotonicClock/);
  });
});

describe('AnalyticsWorker: live on the bus (real Mosquitto)', () => {
  const broker = new MosquittoBroker();
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

  it('subscribes to telemetry and ingest conditions, and publishes alarm transitions per DMA', async () => {
    await broker.start();
    cleanups.push(() => broker.stop());
    const store = new AlarmStore(':memory:');
    cleanups.push(async () => store.close());
    const alarms = new AlarmManager({ store });
    const d = new RecordingDetectorDouble('low-pressure-double', 0.2);
    const w = new AnalyticsWorker({ topology, detectors: [d], alarms, allowedLatenessMs: 0 });
    w.startAt(T0);
    await w.start(broker.url, { idleAdvanceMs: 0, flushDerivedMs: 0 });
    cleanups.push(() => w.stop());

    const watcher = await mqtt.connectAsync(broker.url, { clientId: 'alarm-watcher' });
    cleanups.push(() => watcher.endAsync());
    const seen: { topic: string; kind: string; condition: string }[] = [];
    watcher.on('message', (topic, payload) => {
      const t = decodeAlarmTransition(payload);
      seen.push({ topic, kind: t.kind, condition: t.alarm.conditionId });
    });
    await watcher.subscribeAsync(ALARM_FILTER, { qos: 1 });

    const publisher = await mqtt.connectAsync(broker.url, { clientId: 'ingest-double' });
    cleanups.push(() => publisher.endAsync());
    await publisher.publishAsync(telemetryTopic('central'), encodeTelemetry([r('P-1', 0, 0.1), r('F-1', 0, 50)]), { qos: 1 });
    await publisher.publishAsync(telemetryTopic('east'), encodeTelemetry([r('P-2', 30, 0.3), r('P-1', 90, 0.3), r('F-1', 150, 50)]), { qos: 1 });
    await publisher.publishAsync(telemetryTopic('central'), Buffer.from('not json'), { qos: 1 });
    const ingestCondition: Condition = { id: 'ingest.outbox_full', type: 'ingest.outbox_full', state: 'raise', ts: T0 + 5000, priority: 'critical', message: 'outbox full' };
    await publisher.publishAsync(conditionTopic('ingest'), JSON.stringify(ingestCondition), { qos: 1 });
    // forged: a detector's condition id from the bus (a device with the platform's credentials)
    await publisher.publishAsync(conditionTopic('ingest'), JSON.stringify({ ...ingestCondition, id: 'pressure_low:P-1', type: 'pressure_low', state: 'clear' }), { qos: 1 });

    await waitFor(() => seen.length >= 3 && w.stats.busDropped.namespace === 1, 10_000, 20, 'three alarm transitions on the bus, the forged clear dropped');
    expect(seen.sort((a, b) => a.condition.localeCompare(b.condition) || a.kind.localeCompare(b.kind))).toEqual([
      { topic: 'aquawatch/v1/alarms/_', kind: 'raise', condition: 'ingest.outbox_full' },
      { topic: 'aquawatch/v1/alarms/central', kind: 'clear', condition: 'pressure_low:P-1' },
      { topic: 'aquawatch/v1/alarms/central', kind: 'raise', condition: 'pressure_low:P-1' },
    ]);
    expect(w.stats).toMatchObject({ readings: 5, busDropped: { undecodable: 1, namespace: 1, shape: 0, future: 0 } });
    expect(d.calls.slice(0, 4)).toEqual(['readings F-1@0,P-1@0,P-2@30', 'time 60', 'readings P-1@90', 'time 120']);
  });
});

describe('AnalyticsWorker: catching up on the sources\' offline sensors (the retained list)', () => {
  it('marks offline what a source lost while analytics was away, from when it went, and online what came back; never from a live copy, a forged or an incomplete list', () => {
    const WALL = T0 + 30 * MIN;
    const health = new SensorHealthDetector({ topology });
    const w = new AnalyticsWorker({ topology, detectors: [health], sensorStatus: health, allowedLatenessMs: 0, wallClock: () => WALL, busClockSkewMs: 5 * MIN });
    const conditions: Condition[] = [];
    w.on('condition', (c) => conditions.push(c));
    w.startAt(T0);
    const list = (source: string, offline: { since: number; sensors: string[] }[], complete = true, named = source) =>
      Buffer.from(encodeOfflineSensors({ source: named, ts: T0 + 20 * MIN, complete, offline }));
    const seen = () => conditions.map((c) => `${c.id} ${c.state} ${(c.ts - T0) / MIN}`);
    // another source's own live status, which the catch-up must leave alone
    w.onBusMessage(statusTopic('plant-opcua'), encodeSensorStatus({ source: 'plant-opcua', sensors: ['F-2'], status: 'offline', ts: T0 + MIN }));
    // forwarded live (not retained): the status topic says it already, in order
    w.onBusMessage(offlineSensorsTopic('plant-sparkplug'), list('plant-sparkplug', [{ since: T0 + 5 * MIN, sensors: ['P-1'] }]), false);
    // another source's name on this source's topic
    w.onBusMessage(offlineSensorsTopic('plant-sparkplug'), list('plant-sparkplug', [{ since: T0 + 5 * MIN, sensors: ['P-1'] }], true, 'plant-opcua'), true);
    expect(w.stats.busDropped.namespace).toBe(1);
    expect(seen()).toEqual(['sensor_offline:F-2 raise 1']);
    // the node died 5 minutes in, while analytics was away: offline from then, not stale
    w.onBusMessage(offlineSensorsTopic('plant-sparkplug'), list('plant-sparkplug', [{ since: T0 + 5 * MIN, sensors: ['P-1', 'NOT-IN-TOPOLOGY'] }]), true);
    expect(seen()).toEqual(['sensor_offline:F-2 raise 1', 'sensor_offline:P-1 raise 5']);
    expect(health.isFaulty('P-1')).toBe(true);
    // a list that does not hold everything marks nothing online
    w.onBusMessage(offlineSensorsTopic('plant-sparkplug'), list('plant-sparkplug', [], false), true);
    expect(health.isFaulty('P-1')).toBe(true);
    // the whole list, empty: P-1 came back; F-2, another source's, stays offline
    w.onBusMessage(offlineSensorsTopic('plant-sparkplug'), list('plant-sparkplug', []), true);
    expect(seen()).toEqual(['sensor_offline:F-2 raise 1', 'sensor_offline:P-1 raise 5', 'sensor_offline:P-1 clear 20']);
    expect(health.isFaulty('F-2')).toBe(true);
  });
});

describe('AnalyticsWorker: sensor status from the bus (real Mosquitto)', () => {
  const broker = new MosquittoBroker();
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

  it('a source losing its sensors (Sparkplug NDEATH, OPC UA session lost) marks them offline in sensor health, and back online', async () => {
    await broker.start();
    cleanups.push(() => broker.stop());
    const health = new SensorHealthDetector({ topology });
    const w = new AnalyticsWorker({ topology, detectors: [health], sensorStatus: health, allowedLatenessMs: 0 });
    const conditions: Condition[] = [];
    w.on('condition', (c) => conditions.push(c));
    w.startAt(T0);
    await w.start(broker.url, { idleAdvanceMs: 0, flushDerivedMs: 0 });
    cleanups.push(() => w.stop());

    const ingest = await mqtt.connectAsync(broker.url, { clientId: 'ingest-double' });
    cleanups.push(() => ingest.endAsync());
    const lost = Date.now();
    await ingest.publishAsync(statusTopic('plant-sparkplug'), encodeSensorStatus({ source: 'plant-sparkplug', sensors: ['P-1', 'NOT-IN-TOPOLOGY'], status: 'offline', ts: lost }), { qos: 1 });
    // a status naming another source than its topic's is not that source's word
    await ingest.publishAsync(statusTopic('plant-sparkplug'), encodeSensorStatus({ source: 'plant-opcua', sensors: ['P-2'], status: 'offline', ts: lost }), { qos: 1 });
    await waitFor(() => health.isFaulty('P-1') && w.stats.busDropped.namespace === 1, 10_000, 20, 'P-1 offline, the forged status dropped');
    expect(health.isFaulty('P-2')).toBe(false);
    expect(conditions.map((c) => `${c.id} ${c.state}`)).toEqual(['sensor_offline:P-1 raise']);
    expect(conditions[0]).toMatchObject({ ts: lost, sensor: 'P-1' });

    await ingest.publishAsync(statusTopic('plant-sparkplug'), encodeSensorStatus({ source: 'plant-sparkplug', sensors: ['P-1'], status: 'online', ts: lost + 1000 }), { qos: 1 });
    await waitFor(() => !health.isFaulty('P-1'), 10_000, 20, 'P-1 back online');
    expect(conditions.map((c) => `${c.id} ${c.state}`)).toEqual(['sensor_offline:P-1 raise', 'sensor_offline:P-1 clear']);
  });
});

describe('AnalyticsWorker: what it takes from the bus (F2: the bus is the platform\'s, not the devices\')', () => {
  const WALL = T0 + 30 * MIN;
  function guarded() {
    const store = new AlarmStore(':memory:');
    const alarms = new AlarmManager({ store });
    const d = new RecordingDetectorDouble();
    const w = new AnalyticsWorker({ topology, detectors: [d], alarms, allowedLatenessMs: 0, wallClock: () => WALL, busClockSkewMs: 5 * MIN });
    w.startAt(T0);
    const bus = (topic: string, message: unknown) => w.onBusMessage(topic, Buffer.from(typeof message === 'string' ? message : JSON.stringify(message)));
    return { alarms, store, d, w, bus };
  }
  const burst = { id: 'burst:central', type: 'burst', state: 'raise' as const, ts: T0, priority: 'critical' as const, dma: 'central', message: 'burst: +42 m3/h' };

  it('catches up from ingest\'s retained list of active conditions: raises what it missed, clears what ended; never a detector\'s alarm, never from a live copy or a forged list', () => {
    const { alarms, w, bus } = guarded();
    const session = { id: 'opcua.session_lost:plant1', type: 'opcua.session_lost', state: 'raise' as const, ts: T0, priority: 'high' as const, message: 'session lost' };
    bus(conditionTopic('ingest'), session);
    alarms.onCondition(burst);
    const outboxFull = { id: 'ingest.outbox_full', type: 'ingest.outbox_full', state: 'raise' as const, ts: T0 + MIN, priority: 'critical' as const, message: 'outbox full' };
    const list = (conditions: unknown[], complete = true) => Buffer.from(JSON.stringify({ ts: T0 + 2 * MIN, complete, conditions }));
    const active = () => alarms.openAlarms().filter((a) => a.state.startsWith('active')).map((a) => a.conditionId).sort();
    // forwarded live (not retained): the conditions topic says it already, in order
    w.onBusMessage(activeConditionsTopic('ingest'), list([outboxFull]), false);
    expect(active()).toEqual(['burst:central', 'opcua.session_lost:plant1']);
    // one forged entry refuses the whole list
    w.onBusMessage(activeConditionsTopic('ingest'), list([outboxFull, { ...burst, state: 'raise' }]), true);
    expect(w.stats.busDropped.namespace).toBe(1);
    expect(active()).toEqual(['burst:central', 'opcua.session_lost:plant1']);
    // a list that does not hold everything raises, and clears nothing
    w.onBusMessage(activeConditionsTopic('ingest'), list([outboxFull], false), true);
    expect(active()).toEqual(['burst:central', 'ingest.outbox_full', 'opcua.session_lost:plant1']);
    // the whole list: the session is back
    w.onBusMessage(activeConditionsTopic('ingest'), list([outboxFull]), true);
    expect(active()).toEqual(['burst:central', 'ingest.outbox_full']);
  });

  it('a forged clear of a detector\'s alarm is dropped and counted; the alarm stays open', () => {
    const { alarms, store, w, bus } = guarded();
    alarms.onCondition(burst);
    bus(conditionTopic('x'), { ...burst, state: 'clear', ts: T0 + 1000, message: 'ok' });
    bus(conditionTopic('ingest'), { ...burst, state: 'clear', ts: T0 + 1000, message: 'ok' });
    expect(alarms.openAlarms().map((a) => `${a.conditionId} ${a.state}`)).toEqual(['burst:central active-unacknowledged']);
    expect(w.stats.busDropped).toEqual({ undecodable: 0, shape: 0, namespace: 2, future: 0 });
    store.close();
  });

  it('forged raises outside ingest\'s namespaces, with topic wildcards, extra keys or far-future times raise nothing', () => {
    const { alarms, store, w, bus } = guarded();
    for (let i = 0; i < 50; i++) bus(conditionTopic('ingest'), { ...burst, id: `x:${i}` });
    bus(conditionTopic('ingest'), { ...burst, id: 'ingest.x', type: 'burst' }); // an ingest id with a detector's type (work orders)
    bus(conditionTopic('ingest'), { ...burst, id: 'ingest.x', type: 'ingest.x', dma: 'central/#' });
    bus(conditionTopic('ingest'), { ...burst, id: 'ingest.x', type: 'ingest.x', admin: true });
    bus(conditionTopic('ingest'), { ...burst, id: 'ingest.x', type: 'ingest.x', ts: WALL + 6 * MIN });
    bus(conditionTopic('ingest'), '{"id":');
    expect(alarms.openAlarms()).toEqual([]);
    expect(w.stats.busDropped).toEqual({ undecodable: 1, shape: 2, namespace: 51, future: 1 });
    // ingest's own condition, within the skew, passes
    bus(conditionTopic('ingest'), { id: 'ingest.outbox_full', type: 'ingest.outbox_full', state: 'raise', ts: WALL + 4 * MIN, priority: 'critical', message: 'outbox full' });
    expect(alarms.openAlarms().map((a) => a.conditionId)).toEqual(['ingest.outbox_full']);
    store.close();
  });

  it('telemetry: a reading beyond the allowed clock skew is dropped and counted, the others of its message kept; a malformed message is dropped whole', () => {
    const { d, w, bus } = guarded();
    bus(telemetryTopic('central'), encodeTelemetry([r('P-1', 0, 0.3), r('F-1', 0, 50), r('P-2', 0, 0.3), r('F-2', 0, 10)]).toString());
    const forged = { v: 1, s: ['P-1', 'F-1'], t: [9e12, T0 + 60_000], x: [0.1, 50], q: [0, 0] };
    bus(telemetryTopic('central'), forged);
    bus(telemetryTopic('central'), { v: 1, s: ['P-1'], t: [T0 + 60_000], x: [0.1, 0.2], q: [0] }); // columns of different lengths
    bus(telemetryTopic('central'), { v: 1, s: ['P-1'], t: [T0 + 60_000], x: ['0.1'], q: [0] });
    bus(telemetryTopic('central'), { v: 2, s: [], t: [], x: [], q: [] });
    expect(w.stats.busDropped).toEqual({ undecodable: 0, shape: 3, namespace: 0, future: 1 });
    expect(w.stats.readings).toBe(5);
    // the watermark did not walk towards year 2255 (9e12 ms)
    expect(w.watermark).toBeLessThanOrEqual(T0 + 60_000);
    expect(d.batches.flat().some((p) => p.ts === 9e12)).toBe(false);
  });
});

describe('AnalyticsWorker: one sensor whose clock is behind (F3)', () => {
  const twoSensors = new Topology(topologySchema.parse({
    sites: [{ id: 'P1' }], dmas: [{ id: 'D1' }],
    sensors: [
      { id: 'GOOD', kind: 'pressure', site: 'P1', dma: 'D1', source: { type: 'mqtt', topic: 'a' } },
      { id: 'LAGGING', kind: 'pressure', site: 'P1', dma: 'D1', source: { type: 'mqtt', topic: 'b' } },
    ],
  }));
  const at = (sensor: string, ts: number): Reading => ({ sensor, ts, value: 0.3, quality: 'good' });

  it('leaves the watermark after sensorClockLagMs and raises sensor_clock_skew; the other sensor is analysed on; it clears when the clock is right again', () => {
    const wall = { now: T0 };
    const d = new RecordingDetectorDouble();
    const conditions: Condition[] = [];
    const w = new AnalyticsWorker({ topology: twoSensors, detectors: [d], wallClock: () => wall.now, monotonicClock: () => wall.now, sensorClockLagMs: 10 * MIN });
    w.on('condition', (c) => conditions.push(c));
    w.startAt(T0);
    for (let m = 1; m <= 60; m++) {
      wall.now = T0 + m * MIN;
      w.feed([at('GOOD', wall.now)]);
      w.feed([at('LAGGING', wall.now - 86_400_000)]); // its clock one day behind
      // held back for at most the lag bound (the watermark trails GOOD by the 2-min lateness after it)
      if (m > 11) expect(w.watermark).toBe(T0 + (m - 2) * MIN);
    }
    expect(d.calls.filter((c) => c.startsWith('time')).length).toBeGreaterThanOrEqual(55);
    expect(conditions.map((c) => `${c.id} ${c.state} ${c.sensor} ${c.dma}`)).toEqual(['sensor_clock_skew:LAGGING raise LAGGING D1']);
    expect(w.stats).toMatchObject({ feeds: 2, activeFeeds: 1 });
    // its clock is set right: it holds the watermark again and the condition clears
    wall.now += MIN;
    w.feed([at('LAGGING', wall.now), at('GOOD', wall.now)]);
    expect(conditions.map((c) => `${c.id} ${c.state}`)).toEqual(['sensor_clock_skew:LAGGING raise', 'sensor_clock_skew:LAGGING clear']);
    expect(w.stats.activeFeeds).toBe(2);
  });

  it('after a restart, a sensor_clock_skew alarm left open is cleared by the sensor\'s first current reading', async () => {
    const wall = { now: T0 };
    const conditions: Condition[] = [];
    const open = [{ conditionId: 'sensor_clock_skew:LAGGING', type: 'sensor_clock_skew', dma: 'D1', raisedAt: T0 - 60 * MIN }];
    const w = new AnalyticsWorker({ topology: twoSensors, detectors: [new RecordingDetectorDouble()], wallClock: () => wall.now, monotonicClock: () => wall.now, openAlarms: () => open });
    w.on('condition', (c) => conditions.push(c));
    await w.warmUp(T0);
    wall.now += MIN;
    w.feed([at('LAGGING', wall.now), at('GOOD', wall.now)]);
    expect(conditions.map((c) => `${c.id} ${c.state}`)).toEqual(['sensor_clock_skew:LAGGING clear']);
  });

  it('a sensor catching up on old data within the bound still holds the watermark (nothing of it is dropped)', () => {
    const wall = { now: T0 };
    const w = new AnalyticsWorker({ topology: twoSensors, detectors: [], wallClock: () => wall.now, monotonicClock: () => wall.now, sensorClockLagMs: 10 * MIN, allowedLatenessMs: 0 });
    w.startAt(T0);
    wall.now += 5 * MIN;
    w.feed([at('GOOD', T0 + 5 * MIN), at('LAGGING', T0 - MIN)]);
    expect(w.watermark).toBe(T0);
    expect(w.stats.activeFeeds).toBe(2);
  });
});

describe('AnalyticsWorker: customer meter readings uploaded late', () => {
  const withMeter = new Topology(topologySchema.parse({
    sites: [{ id: 'net' }],
    dmas: [{ id: 'central', inlets: ['F-1'] }],
    sensors: [{ id: 'F-1', kind: 'flow', site: 'net', dma: 'central', unit: 'm3/h' }],
    meters: [{ id: 'M-1', customer: 'C-1', dma: 'central', address: '1 Main St' }],
  }));
  const meterPoint = (ts: number, value: number): Point => ({ measurement: 'meter', sensor: 'M-1', ts, value, quality: 'good', site: 'customers', dma: 'central' });
  const flowPoint = (ts: number): Point => ({ measurement: 'flow', sensor: 'F-1', ts, value: 10, quality: 'good', site: 'net', dma: 'central' });

  it('go to the meter detector (a PDA round uploads hours after reading) while other late readings are dropped', async () => {
    const { MeterAnomalyDetector } = await import('./detectors/meters/index.ts');
    const meters = new MeterAnomalyDetector({ topology: withMeter });
    const other = new RecordingDetectorDouble();
    const conditions: Condition[] = [];
    const w = new AnalyticsWorker({ topology: withMeter, detectors: [meters, other] });
    w.on('condition', (c) => conditions.push(c));
    w.startAt(T0);
    // the live feed runs 7 h ahead of the PDA round's readings
    for (let m = 0; m <= 7 * 60; m += 10) w.feedPoints([flowPoint(T0 + m * MIN)]);
    expect(w.watermark).toBeGreaterThan(T0 + 6 * 3_600_000);
    const seenByOther = other.batches.flat().length;
    // the round read M-1 at T0+1h and T0+2h; the second register went backwards (a digit slip)
    w.feedPoints([meterPoint(T0 + 3_600_000, 1234.5), meterPoint(T0 + 7_200_000, 1134.5), flowPoint(T0 - 10 * MIN)]);
    expect(w.stats.lateMeterReadings).toBe(2);
    expect(w.stats.late).toBe(1); // the late flow reading is still too late
    expect(conditions.map((c) => `${c.id} ${c.state} ${new Date(c.ts).toISOString()}`)).toEqual([
      `meter_backwards:M-1 raise ${new Date(T0 + 7_200_000).toISOString()}`,
    ]);
    // a detector that does not keep its own per-meter order never sees them
    expect(other.batches.flat().length).toBe(seenByOther);
  });
});

describe('AnalyticsWorker: the server clock stepped forwards (F17)', () => {
  // Stale after 3 × 3 min: the real 7-minute gap of the test is not yet a stale sensor.
  const twoSensors = new Topology(topologySchema.parse({
    sites: [{ id: 'P1' }], dmas: [{ id: 'D1' }],
    sensors: [
      { id: 'P-A', kind: 'pressure', site: 'P1', dma: 'D1', intervalS: 180, source: { type: 'mqtt', topic: 'a' } },
      { id: 'P-B', kind: 'pressure', site: 'P1', dma: 'D1', intervalS: 180, source: { type: 'mqtt', topic: 'b' } },
    ],
  }));
  const IDLE_ADVANCE_MS = 5 * MIN;
  const STEP_MS = 2 * 3_600_000;

  /** A worker fed over the bus, with a fake wall clock and a fake monotonic clock the test moves. */
  function clockedWorker() {
    const clock = { wall: T0, mono: 1_000 };
    const store = new AlarmStore(':memory:');
    const alarms = new AlarmManager({ store, now: () => clock.wall });
    const recorder = new RecordingDetectorDouble();
    const w = new AnalyticsWorker({
      topology: twoSensors, detectors: [new SensorHealthDetector({ topology: twoSensors }), recorder], alarms,
      wallClock: () => clock.wall, monotonicClock: () => clock.mono,
    });
    const conditions: Condition[] = [];
    w.on('condition', (c) => conditions.push(c));
    w.startAt(T0);
    /** One minute of both sensors at their true time, sent over the bus 5 s after it, the wall clock `wallAhead` ahead. */
    const minute = (m: number, wallAhead = 0) => {
      clock.mono += MIN;
      clock.wall = T0 + m * MIN + 5_000 + wallAhead;
      w.onBusMessage(telemetryTopic('D1'), encodeTelemetry([at('P-A', m), at('P-B', m)]));
      w.advanceIfIdle(IDLE_ADVANCE_MS); // what start()'s timer does
    };
    return { clock, store, alarms, recorder, w, conditions, minute };
  }
  const at = (sensor: string, m: number): Reading => ({ sensor, ts: T0 + m * MIN, value: 0.3, quality: 'good' });

  it('F17 a forward step of the wall clock while every source is silent: the idle advance moves by the time elapsed, the readings that follow are analysed, no alarm comes from the step and shelving holds', () => {
    const { clock, store, alarms, recorder, w, conditions, minute } = clockedWorker();
    for (let m = 0; m <= 10; m++) minute(m);
    alarms.onCondition({ id: 'ingest.test', type: 'ingest.test', state: 'raise', ts: T0 + 10 * MIN, priority: 'high', dma: 'D1', message: 'test' }, { advanceClock: false });
    const [alarm] = alarms.openAlarms();
    alarms.shelve(alarm.id, 'operator', T0 + 60 * MIN, 'pump overhaul');
    // six minutes of silence, start()'s timer ticking every 10 s; NTP steps the wall clock +2 h after the first tick
    for (let tick = 1; tick <= 36; tick++) {
      clock.mono += 10_000;
      clock.wall += 10_000 + (tick === 2 ? STEP_MS : 0);
      w.advanceIfIdle(IDLE_ADVANCE_MS);
    }
    // event time ran on by the silence (6 min past the last reading, minus the 2-min lateness), not by the step
    expect.soft(w.watermark).toBe(T0 + 14 * MIN);
    // the sources speak again at their true times
    for (let m = 17; m <= 25; m++) minute(m, STEP_MS);
    w.flush(T0 + 26 * MIN);
    expect.soft(w.stats.late).toBe(0);
    expect.soft(recorder.batches.flat().length).toBe(2 * (11 + 9));
    expect.soft(conditions.map((c) => `${c.id} ${c.state} ${new Date(c.ts).toISOString()}`)).toEqual([]);
    expect.soft(alarms.openAlarms().map((a) => a.shelved?.until)).toEqual([T0 + 60 * MIN]);
    store.close();
  });

  it('F17 a backward step of the wall clock while every source is silent: event time still runs on, so the silent sensors are reported stale', () => {
    const { clock, store, w, conditions, minute } = clockedWorker();
    for (let m = 0; m <= 10; m++) minute(m);
    for (let tick = 1; tick <= 6 * 20; tick++) { // 20 min of silence; the wall clock stepped back 2 h after the first tick
      clock.mono += 10_000;
      clock.wall += 10_000 - (tick === 2 ? STEP_MS : 0);
      w.advanceIfIdle(IDLE_ADVANCE_MS);
    }
    expect(w.watermark).toBe(T0 + 28 * MIN); // the last reading + 20 min − the lateness
    expect(conditions.map((c) => `${c.id} ${c.state} ${(c.ts - T0) / MIN}`)).toEqual(['sensor_stale:P-A raise 19', 'sensor_stale:P-B raise 19']);
    store.close();
  });

  it('F17 a forward step of the wall clock while the sources send at different paces: the slower one is not taken for silent, none of its readings is late', () => {
    const clock = { wall: T0, mono: 1_000 };
    const health = new SensorHealthDetector({ topology: twoSources });
    const w = new AnalyticsWorker({ topology: twoSources, detectors: [health], wallClock: () => clock.wall, monotonicClock: () => clock.mono });
    const conditions: Condition[] = [];
    w.on('condition', (c) => conditions.push(c));
    w.startAt(T0);
    const second = () => { clock.mono += 1000; clock.wall += 1000; };
    // a backfill: the plant sends a minute of event time per second, the MQTT sensors five
    for (let s = 0; s < 10; s++) {
      second();
      w.feed([minuteReading('PL-F', s), minuteReading('PL-P', s)]);
      w.feed([0, 1, 2, 3, 4].flatMap((i) => [minuteReading('MQ-P1', 5 * s + i), minuteReading('MQ-P2', 5 * s + i)]));
    }
    expect(w.watermark).toBe(T0 + 7 * MIN); // the plant's minute 9 − the lateness
    clock.wall += STEP_MS; // NTP steps the wall clock +2 h between two messages
    second();
    w.feed([minuteReading('MQ-P1', 50), minuteReading('MQ-P2', 50)]);
    w.feed([minuteReading('PL-F', 10), minuteReading('PL-P', 10)]);
    expect.soft(w.watermark).toBe(T0 + 8 * MIN);
    expect.soft(w.stats).toMatchObject({ late: 0, activeFeeds: 4 });
    expect.soft(conditions.map((c) => `${c.id} ${c.state}`)).toEqual([]);
  });
});
