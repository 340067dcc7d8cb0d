/**
 * The analytics metrics (analytics/metrics.ts) read from a real worker and a real alarm manager:
 * the watermark and how far behind the wall clock it is, the worker's counts, the open alarms by
 * priority and acknowledgement, the transitions, down channels and the calendar's days left; and the
 * worker's own health (degraded when it falls further behind than its waiting rules allow, or when
 * the bus has been lost for longer than a reconnect, over a real Mosquitto).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { Point, Reading } from '../core/model/reading.ts';
import type { Condition } from '../core/bus/messages/condition.ts';
import { topologySchema } from '../core/config/schema.ts';
import { Topology } from '../core/topology/topology.ts';
import { AlarmStore } from '../core/state/alarm-store.ts';
import { MosquittoBroker } from '../test/support/mosquitto.ts';
import { waitFor } from '../test/support/ports.ts';
import type { Detector } from './types.ts';
import { AlarmManager } from './alarms/manager.ts';
import { AnalyticsWorker, BUS_RECONNECT_GRACE_MS } from './worker.ts';
import { registerAnalyticsMetrics } from './metrics.ts';

const T0 = Date.parse('2026-03-02T08:00:00Z');
const MIN = 60_000;

const topology = new Topology(topologySchema.parse({
  sites: [{ id: 'net' }],
  dmas: [{ id: 'central', inlets: ['F-1'] }],
  sensors: [
    { id: 'F-1', kind: 'flow', site: 'net', dma: 'central', unit: 'm3/h' },
    { id: 'P-1', kind: 'pressure', site: 'net', dma: 'central', unit: 'MPa' },
  ],
}));

/** A detector double: a pressure under 0.2 MPa raises `pressure_low` (high priority), otherwise clears it. */
const lowPressureDouble: Detector = {
  name: 'low-pressure-double',
  onReadings(batch: readonly Point[]): Condition[] {
    return batch.filter((p) => p.measurement === 'pressure').map((p) => ({
      id: `pressure_low:${p.sensor}`, type: 'pressure_low', state: p.value < 0.2 ? 'raise' : 'clear', ts: p.ts,
      dma: p.dma, sensor: p.sensor, priority: 'high', message: `pressure ${p.value}`,
    }));
  },
  onTime: () => [],
};

const reading = (sensor: string, min: number, value: number): Reading => ({ sensor, ts: T0 + min * MIN, value, quality: 'good' });

/** One sample's value from Prometheus text, by metric name and exact label set ('' for none). */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('analytics metrics', () => {
  it('reports the watermark, how far behind it is, the counts, open alarms and transitions, down channels and the calendar', async () => {
    const store = new AlarmStore(':memory:');
    const alarms = new AlarmManager({ store });
    let wall = T0 + 5 * MIN;
    const worker = new AnalyticsWorker({ topology, detectors: [lowPressureDouble], alarms, allowedLatenessMs: 0, wallClock: () => wall });
    worker.startAt(T0);
    const registry = new Registry();
    let down: string[] = [];
    let daysLeft = 12;
    const stop = registerAnalyticsMetrics(registry, {
      worker, alarms, downChannels: () => down, calendarDaysLeft: () => daysLeft, wallClock: () => wall,
    });

    worker.feed([reading('F-1', 0, 50), reading('P-1', 0, 0.1)]);
    worker.feed([reading('F-1', 2, 51), reading('P-1', 2, 0.3)]);
    worker.feed([reading('P-1', 1, 0.3)]); // older than the watermark now: late
    let text = await registry.metrics();
    expect(sample(text, 'aquawatch_analytics_watermark_seconds')).toBe((T0 + 2 * MIN) / 1000);
    expect(sample(text, 'aquawatch_analytics_behind_seconds')).toBe(180);
    expect(sample(text, 'aquawatch_analytics_readings_total')).toBe(4);
    expect(sample(text, 'aquawatch_analytics_readings_late_total')).toBe(1);
    expect(sample(text, 'aquawatch_analytics_bus_connected')).toBe(0); // never started on a bus
    // the step of minute 0 has run (raised); minute 2's waits for the watermark to pass it
    expect(sample(text, 'aquawatch_alarm_transitions_total', 'type="pressure_low",kind="raise"')).toBe(1);
    expect(sample(text, 'aquawatch_alarms_open', 'priority="high",acknowledged="false"')).toBe(1);
    expect(sample(text, 'aquawatch_notify_channels_down')).toBe(0);
    expect(sample(text, 'aquawatch_calendar_days_left')).toBe(12);

    // minute 2 clears it (cleared-unacknowledged is not open); minute 3 raises it again and it stays
    worker.feed([reading('P-1', 3, 0.1), reading('F-1', 3, 50)]);
    text = await registry.metrics();
    expect(sample(text, 'aquawatch_alarm_transitions_total', 'type="pressure_low",kind="clear"')).toBe(1);
    expect(sample(text, 'aquawatch_alarms_open', 'priority="high",acknowledged="false"')).toBe(0);
    worker.feed([reading('P-1', 4, 0.1), reading('F-1', 4, 50)]);
    text = await registry.metrics();
    expect(sample(text, 'aquawatch_alarm_transitions_total', 'type="pressure_low",kind="raise"')).toBe(2);
    expect(sample(text, 'aquawatch_alarms_open', 'priority="high",acknowledged="false"')).toBe(1);
    expect(sample(text, 'aquawatch_alarms_open', 'priority="high",acknowledged="false"')).toBe(1);
    const open = alarms.openAlarms().find((a) => a.type === 'pressure_low' && a.state === 'active-unacknowledged')!;
    alarms.acknowledge(open.id, 'dispatcher-1');
    down = ['sms'];
    daysLeft = -3;
    wall = T0 + 90 * MIN;
    text = await registry.metrics();
    expect(sample(text, 'aquawatch_alarms_open', 'priority="high",acknowledged="false"')).toBe(0);
    expect(sample(text, 'aquawatch_alarms_open', 'priority="high",acknowledged="true"')).toBe(1);
    expect(sample(text, 'aquawatch_alarm_transitions_total', 'type="pressure_low",kind="acknowledge"')).toBe(1);
    expect(sample(text, 'aquawatch_notify_channels_down')).toBe(1);
    expect(sample(text, 'aquawatch_calendar_days_left')).toBe(-3);
    expect(sample(text, 'aquawatch_analytics_behind_seconds')).toBe(90 * 60 - 4 * 60);

    // stopped: transitions are no longer counted
    stop();
    worker.feed([reading('P-1', 5, 0.3), reading('F-1', 5, 50)]);
    worker.feed([reading('P-1', 6, 0.3), reading('F-1', 6, 50)]);
    expect(alarms.openAlarms().find((a) => a.id === open.id)?.state ?? 'cleared').toBe('cleared');
    text = await registry.metrics();
    expect(sample(text, 'aquawatch_alarm_transitions_total', 'type="pressure_low",kind="clear"')).toBe(1);
    store.close();
  });

  it('leaves out the calendar gauge for a site that keeps no calendar, and the channels gauge without notifications', async () => {
    const store = new AlarmStore(':memory:');
    const alarms = new AlarmManager({ store });
    const worker = new AnalyticsWorker({ topology, detectors: [], alarms });
    worker.startAt(T0);
    const registry = new Registry();
    registerAnalyticsMetrics(registry, { worker, alarms });
    const text = await registry.metrics();
    expect(text).not.toMatch(/^aquawatch_calendar_days_left /m);
    expect(text).not.toMatch(/^aquawatch_notify_channels_down/m);
    expect(text).toMatch(/^aquawatch_analytics_feeds\{state="active"\} /m);
    store.close();
  });
});

describe('analytics worker health', () => {
  it('is degraded when the watermark is further behind the wall clock than its own waiting rules hold it', () => {
    let wall = T0;
    const worker = new AnalyticsWorker({ topology, detectors: [], allowedLatenessMs: 2 * MIN, sensorClockLagMs: 10 * MIN, wallClock: () => wall });
    worker.startAt(T0);
    // lateness 2 + the longest hold (a lagging sensor, 10) + one step (1): 13 min
    expect(worker.health()).toMatchObject({ status: 'ok', problems: [], behindSeconds: 0, behindExpectedMaxSeconds: 13 * 60 });
    wall = T0 + 13 * MIN;
    expect(worker.health().status).toBe('ok');
    wall = T0 + 14 * MIN;
    const h = worker.health();
    expect(h).toMatchObject({ status: 'degraded', behindSeconds: 14 * 60, watermark: new Date(T0).toISOString() });
    expect(h.problems).toEqual([{ code: 'behind', minutes: 14, maxMinutes: 13, message: expect.stringMatching(/14 min behind the wall clock .*at most 13 min.*alarms come late/) }]);
  });

  describe('over a real Mosquitto', () => {
    const broker = new MosquittoBroker();
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

    it('is degraded once the bus has been lost for longer than a reconnect takes, and ok when it is back', async () => {
      await broker.start();
      cleanups.push(() => broker.stop());
      let mono = 1_000_000;
      const worker = new AnalyticsWorker({ topology, detectors: [], monotonicClock: () => mono });
      worker.startAt(Date.now());
      await worker.start(broker.url, { idleAdvanceMs: 0, flushDerivedMs: 0 });
      cleanups.push(() => worker.stop());
      expect(worker.health()).toMatchObject({ status: 'ok', busConnected: true });

      const port = broker.port;
      await broker.stop();
      await waitFor(() => !worker.connected, 10_000, 20, 'the worker sees the bus lost');
      // a reconnect in progress is not a problem yet
      expect(worker.health()).toMatchObject({ status: 'ok', busConnected: false });
      mono += BUS_RECONNECT_GRACE_MS;
      const h = worker.health();
      expect(h.status).toBe('degraded');
      expect(h.problems).toEqual([{ code: 'bus_lost', seconds: 30, message: expect.stringMatching(/^not connected to the telemetry bus for 30 s: no reading is analysed/) }]);

      await broker.start(port);
      await waitFor(() => worker.connected, 20_000, 50, 'the worker reconnected');
      expect(worker.health()).toMatchObject({ status: 'ok', busConnected: true, problems: [] });
    });
  });
});
