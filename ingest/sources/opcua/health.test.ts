/**
 * The OPC UA source's silence watchdog counts on the process's monotonic clock: a step of the
 * server's wall clock (NTP, an RTC fixed) neither raises a false "subscription silent" with its
 * subscription rebuild nor hides a real silence (review finding F17). Unit level: the watchdog is
 * driven directly with clocks the test moves; opcua.test.ts covers it against a real server.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { topologySchema } from '../../../core/config/schema.ts';
import { Topology } from '../../../core/topology/topology.ts';
import { RecordingContext } from '../../../test/support/recording-context.ts';
import { SourceHealth, type ConnectionView, type SourceHealthOptions } from './health.ts';

const T0 = Date.parse('2026-12-04T06:00:00Z');
const SILENCE_MS = 5_000;
const STEP_MS = 2 * 3_600_000;

afterEach(() => { vi.useRealTimers(); });

function watchedSource() {
  // The wall clock is the process's own, faked so that it can be stepped; the monotonic one is injected.
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(T0);
  const mono = { now: 1_000 };
  const ctx = new RecordingContext(new Topology(topologySchema.parse({ sites: [{ id: 'plant' }], sensors: [] })));
  const rebuilds: string[] = [];
  const options: SourceHealthOptions = {
    name: 'plant1', endpoint: 'opc.tcp://plant1:4840', silenceTimeoutMs: SILENCE_MS,
    ctx: () => ctx, log: () => undefined, stopping: () => false,
    monitoredSensors: () => [], plannedSensors: () => [], monotonicClock: () => mono.now,
  };
  const health = new SourceHealth(options);
  const connection: ConnectionView = { hasClient: true, hasSession: true, isReconnecting: false, rebuildSubscription: (reason) => rebuilds.push(reason) };
  /** `ms` pass on both clocks, then the watchdog's timer fires. */
  const elapse = (ms: number) => { mono.now += ms; vi.setSystemTime(Date.now() + ms); health.checkLiveness(connection); };
  const silent = () => ctx.conditions.filter((c) => c.id === 'opcua.subscription_silent:plant1').map((c) => c.state);
  return { health, elapse, silent, rebuilds };
}

describe('OPC UA silence watchdog and the wall clock (F17)', () => {
  it('F17 a forward step of the wall clock is no silence; a real silence is still found', () => {
    const { health, elapse, silent, rebuilds } = watchedSource();
    health.sessionUp();
    for (let s = 0; s < 3; s++) { elapse(1_000); health.activity(); }
    vi.setSystemTime(Date.now() + STEP_MS); // NTP steps the wall clock +2 h between two keep-alives
    elapse(500);
    expect.soft(health.state).toBe('connected');
    expect.soft(silent()).toEqual([]);
    expect.soft(rebuilds).toEqual([]);
    // the server really goes quiet: silent after the timeout, the subscription rebuilt one timeout later
    for (let s = 0; s < 6; s++) elapse(1_000);
    expect(health.state).toBe('silent');
    expect(silent()).toEqual(['raise']);
    for (let s = 0; s < 6; s++) elapse(1_000);
    expect(rebuilds).toEqual(['subscription silent']);
  });

  it('F17 a backward step of the wall clock does not hide a real silence', () => {
    const { health, elapse, silent } = watchedSource();
    health.sessionUp();
    elapse(1_000);
    health.activity();
    vi.setSystemTime(Date.now() - STEP_MS); // the wall clock stepped back 2 h
    for (let s = 0; s < 6; s++) elapse(1_000);
    expect(health.state).toBe('silent');
    expect(silent()).toEqual(['raise']);
  });
});
