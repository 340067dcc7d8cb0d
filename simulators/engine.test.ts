/**
 * The simulation against the real hydraulic model (the demo town for the physics, a four-junction
 * network in US units from an .inp file where only the mechanics and unit conversions matter): bursts, pump trips and valve closures behave as a network does; the same
 * scenario and seed give the same steps; the clock paces steps and hands them to devices in order.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Simulation } from './engine.ts';
import { parseSimulateArgs, parseSpeed } from './simulate-args.ts';
import type { SimClock } from './pacing.ts';
import { parseScenario } from './scenarios/load.ts';
import { converterFor } from '../core/model/units.ts';
import type { SimDevice, SimStep } from './types.ts';
import type { TopologyConfig } from '../core/config/schema.ts';

function simulation(yaml: string, options: { seed?: number; scale?: number; now?: number } = {}): Simulation {
  return new Simulation({ scenario: parseScenario(yaml, 'test.yaml'), ...options });
}

async function collect(sim: Simulation): Promise<SimStep[]> {
  const steps: SimStep[] = [];
  for await (const step of sim.steps()) steps.push(step);
  sim.close();
  return steps;
}

/** Values by sensor, converted to canonical units the way the platform's pipeline does. */
function canonicalSeries(steps: SimStep[], topology: TopologyConfig): Map<string, number[]> {
  const convert = new Map(topology.sensors.map((s) => [s.id, converterFor(s.kind, s.unit)!]));
  const out = new Map<string, number[]>();
  for (const step of steps) {
    for (const s of step.samples) {
      const list = out.get(s.sensor) ?? [];
      list.push(convert.get(s.sensor)!(s.value));
      out.set(s.sensor, list);
    }
  }
  return out;
}

/** A DMA's net inflow per step, m³/h: Σ inlets − Σ outlets, as the platform computes it. */
function netInflow(series: Map<string, number[]>, topology: TopologyConfig, dma: string): number[] {
  const d = topology.dmas.find((x) => x.id === dma)!;
  const n = series.get(d.inlets[0])!.length;
  return Array.from({ length: n }, (_, i) =>
    d.inlets.reduce((s, id) => s + series.get(id)![i], 0) - d.outlets.reduce((s, id) => s + series.get(id)![i], 0));
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const demo = (events: string, extra = '') => `
city: demo
start: 2024-05-07T18:00:00+08:00
duration: 4h
interval: 1m
seed: 5
warmup: 6h
${extra}
events:
${events}
`;

/** The 4-hour demo town run without events, computed once: the reference leak and burst runs differ from. */
let quietRun: Promise<SimStep[]> | undefined;
const quiet = () => (quietRun ??= collect(simulation(demo('  []'))));

describe('a burst', () => {
  it('raises its DMA\'s inflow and lowers its pressures, most at the nearest sensor', async () => {
    const burst = simulation(demo('  - { type: burst, at: 1h, junction: n383, flow: 20, duration: 2h }'));
    const topology = burst.topology();
    const [withBurst, without] = await Promise.all([collect(burst), quiet()]);
    const a = canonicalSeries(withBurst, topology);
    const b = canonicalSeries(without, topology);
    // same seed, same noise: the difference between the runs is the burst alone
    const during = (xs: number[]) => xs.slice(65, 180);
    const after = (xs: number[]) => xs.slice(185, 240);
    const inflowRise = mean(during(netInflow(a, topology, 'central'))) - mean(during(netInflow(b, topology, 'central')));
    expect(inflowRise).toBeGreaterThan(15);
    expect(inflowRise).toBeLessThan(25);
    const afterRepair = mean(after(netInflow(a, topology, 'central'))) - mean(after(netInflow(b, topology, 'central')));
    expect(Math.abs(afterRepair)).toBeLessThan(1);

    const pressureSensors = topology.sensors.filter((s) => s.kind === 'pressure' && s.dma === 'central').map((s) => s.id);
    const drops = pressureSensors.map((id) => ({ id, drop: mean(during(b.get(id)!)) - mean(during(a.get(id)!)) }));
    for (const d of drops) expect(d.drop, d.id).toBeGreaterThan(0);
    const largest = drops.reduce((x, y) => (y.drop > x.drop ? y : x));
    expect(largest.drop).toBeGreaterThan(0.008); // MPa: about a metre at P-n383, the burst's own junction
    expect(burst.groundTruth[0]).toMatchObject({ type: 'burst', dma: 'central', element: 'n383', expect: { nearestSensor: largest.id } });
    // other DMAs barely notice
    const west = mean(during(netInflow(a, topology, 'hill'))) - mean(during(netInflow(b, topology, 'hill')));
    expect(Math.abs(west)).toBeLessThan(1);
  });
});

describe('an incipient leak', () => {
  it('grows from nothing to its full size, and its water is not billed', async () => {
    const leak = simulation(demo('  - { type: leak, at: 1h, junction: n383, flow: 20, growth: 2h }'));
    const topology = leak.topology();
    const [withLeak, without] = await Promise.all([collect(leak), quiet()]);
    const a = canonicalSeries(withLeak, topology);
    const b = canonicalSeries(without, topology);
    const rise = (i: number) => netInflow(a, topology, 'central')[i] - netInflow(b, topology, 'central')[i];
    expect(Math.abs(rise(59))).toBeLessThan(0.01);
    expect(rise(90)).toBeGreaterThan(3);
    expect(rise(90)).toBeLessThan(7); // a quarter grown
    expect(rise(150)).toBeGreaterThan(12);
    expect(rise(150)).toBeLessThan(17); // three quarters
    expect(rise(239)).toBeGreaterThan(17);
    // the customers' registers do not see the leak
    const billed = (steps: SimStep[]) => {
      const withMeters = steps.filter((x) => x.meters.length);
      const last = withMeters[withMeters.length - 1].meters;
      return last.reduce((t, m, i) => t + m.reading - withMeters[0].meters[i].reading, 0);
    };
    expect(Math.abs(billed(withLeak) - billed(without)) / billed(without)).toBeLessThan(0.002);
  });
});

describe('a pump trip', () => {
  it('drains its tank, then the zone the tank feeds loses pressure; the pump back refills it', async () => {
    const sim = simulation(`
city: demo
start: 2024-05-06T00:00:00+08:00
duration: 60h
interval: 5m
seed: 6
warmup: 6h
events:
  - { type: pump_trip, at: 2h, pump: PUMP_1, duration: 48h }
`);
    const topology = sim.topology();
    const steps = await collect(sim);
    const s = canonicalSeries(steps, topology);
    const level = s.get('PS1.T1.level')!;
    const pressure = s.get('P-n2')!; // MPa, a hill logger
    const state = s.get('PS1.PUMP_1.state')!;
    const tripAt = 2 * 12; // 5-min steps
    const restoreAt = 50 * 12;
    expect(state.slice(tripAt, restoreAt).every((v) => v === 0)).toBe(true);
    // the tank falls steadily while the pump is off
    const emptyAt = level.findIndex((v, i) => i > tripAt && v < 0.05);
    expect(emptyAt).toBeGreaterThan(tripAt + 12 * 20); // it holds for more than 20 hours (a day and a half of use when full)
    expect(emptyAt).toBeLessThan(restoreAt);
    expect(level[tripAt + 12 * 12]).toBeLessThan(level[tripAt] - 0.5);
    // pressure holds while there is water in the tank, and collapses once it is empty
    expect(Math.min(...pressure.slice(tripAt, emptyAt - 12))).toBeGreaterThan(0.2);
    // (the last 5 cm of water still hold the zone for up to an hour)
    expect(Math.max(...pressure.slice(emptyAt + 12, restoreAt))).toBeLessThan(0.01);
    // and comes back with the pump
    expect(state[restoreAt + 1]).toBe(1);
    expect(level[level.length - 1]).toBeGreaterThan(0.5);
    expect(pressure[pressure.length - 1]).toBeGreaterThan(0.2);
  });
});

describe('a planned valve closure', () => {
  it('takes the zone behind it to near-zero pressure and back', async () => {
    const sim = simulation(demo('  - { type: valve_closure, at: 1h, links: [PRV-3], duration: 2h, notice: 48h }'));
    const topology = sim.topology();
    const s = canonicalSeries(await collect(sim), topology);
    const zone = s.get('P-n632')!; // MPa, a logger of the low zone
    const before = mean(zone.slice(0, 60));
    expect(before).toBeGreaterThan(0.3);
    expect(Math.max(...zone.slice(61, 180))).toBeLessThan(0.005);
    expect(mean(zone.slice(182, 240))).toBeGreaterThan(before - 0.01);
    expect(Math.max(...s.get('F-PRV-3')!.slice(61, 180))).toBeLessThan(0.1);
    expect(sim.groundTruth[0]).toMatchObject({
      type: 'planned_outage', dma: 'south', expect: { dmas: ['south'], planned: true, noticeH: 48, shortNotice: false },
    });
  });
});

describe('determinism', () => {
  const scenario = demo(`
  - { type: burst, at: 30m, dma: east, flow: 20, duration: 1h }
  - { type: sensor_spike, at: 40m, sensor: P-n274 }
  - { type: comms_loss, at: 1h, edgeNode: central, duration: 20m }
  - { type: quality_chlorine_low, at: 10m, source: R2, level: 0.1, duration: 1h }`).replace('duration: 4h', 'duration: 2h');

  it('gives identical steps for the same scenario and seed, different ones for another seed', async () => {
    const [first, second, other] = await Promise.all([
      collect(simulation(scenario)), collect(simulation(scenario)), collect(simulation(scenario, { seed: 99 })),
    ]);
    expect(first.length).toBe(120);
    expect(second).toEqual(first);
    expect(other.map((s) => s.samples)).not.toEqual(first.map((s) => s.samples));
  });
});

/** Our own four-junction network in US units (GPM, ft, psi): a city from a user's .inp file. */
const US_TOWN = fileURLToPath(new URL('./networks/small-us-town.inp', import.meta.url));

const usTown = (events: string, extra = '') => `
city: ${US_TOWN}
start: 2024-05-06T00:00:00Z
duration: 2h
interval: 1m
seed: 3
warmup: 1h
${extra}
events:
${events}
`;

describe('sensors', () => {
  it('report in their declared units: a flow in L/s and the same flow in m³/h agree', async () => {
    const steps = await collect(simulation(usTown('  []', 'noise: 0')));
    const sample = (step: SimStep, id: string) => step.samples.find((s) => s.sensor === id)!.value;
    // MAIN carries the reservoir's whole flow: F-MAIN is a logger in L/s, plant.SRC.flow the plant's m³/h
    for (const step of steps.slice(0, 30)) expect(sample(step, 'F-MAIN') * 3.6).toBeCloseTo(sample(step, 'plant.SRC.flow'), 0);
    // a pressure logger in bar and the plant's MPa are both plausible for the town (about 55-60 m)
    expect(sample(steps[0], 'P-J2')).toBeGreaterThan(4);
    expect(sample(steps[0], 'plant.SRC.pressure')).toBeGreaterThan(0.4);
  });

  it('show faults: stale and comms loss are silent, flatline is constant, spike and drift move the value', async () => {
    const steps = await collect(simulation(usTown(`
  - { type: sensor_stale, at: 10m, sensor: P-J2, duration: 10m }
  - { type: sensor_flatline, at: 10m, sensor: P-J3, duration: 30m }
  - { type: sensor_spike, at: 15m, sensor: F-MAIN, factor: 4, count: 2 }
  - { type: sensor_drift, at: 0m, sensor: WQ-J2.ph, ratePerDay: 24 }
  - { type: comms_loss, at: 30m, site: plant, duration: 5m }`)));
    const value = (i: number, id: string) => steps[i].samples.find((s) => s.sensor === id)?.value;
    expect(steps[9].silent).not.toContain('P-J2');
    expect(steps[10].silent).toContain('P-J2');
    expect(value(10, 'P-J2')).toBeUndefined();
    expect(steps[20].silent).not.toContain('P-J2');
    const flat = steps.slice(10, 40).map((_, i) => value(10 + i, 'P-J3'));
    expect(new Set(flat).size).toBe(1);
    expect(new Set(steps.slice(0, 10).map((_, i) => value(i, 'P-J3'))).size).toBeGreaterThan(1);
    expect(value(15, 'F-MAIN')! / value(14, 'F-MAIN')!).toBeGreaterThan(3);
    expect(value(16, 'F-MAIN')! / value(14, 'F-MAIN')!).toBeGreaterThan(3);
    expect(value(17, 'F-MAIN')! / value(14, 'F-MAIN')!).toBeLessThan(1.2);
    // +1 pH per hour
    expect(value(119, 'WQ-J2.ph')! - value(0, 'WQ-J2.ph')!).toBeGreaterThan(1.7);
    const plant = steps[0].samples.filter((s) => s.sensor.startsWith('plant.')).map((s) => s.sensor);
    expect(steps[31].silent).toEqual(expect.arrayContaining(plant));
    expect(steps[36].silent).toEqual([]);
  });

  it('scale N gives N copies of every sensor: the same model value, each with its own noise', async () => {
    const exact = await collect(simulation(usTown('  []', 'noise: 0').replace('duration: 2h', 'duration: 5m'), { scale: 3 }));
    const noisy = await collect(simulation(usTown('  []').replace('duration: 2h', 'duration: 5m'), { scale: 3 }));
    const base = exact[0].samples.filter((s) => !/-x\d+$/.test(s.sensor));
    expect(exact[0].samples.length).toBe(3 * base.length);
    const by = new Map(exact[0].samples.map((s) => [s.sensor, s.value]));
    for (const s of base) expect(by.get(`${s.sensor}-x2`)).toBe(s.value);
    const byNoisy = new Map(noisy[0].samples.map((s) => [s.sensor, s.value]));
    expect(byNoisy.get('P-J2-x1')).not.toBe(byNoisy.get('P-J2'));
    const topology = simulation(usTown('  []'), { scale: 3 }).topology();
    expect(topology.sensors.length).toBe(3 * base.length);
  });
});

describe('customer meters', () => {
  it('register what the customers drew: the plant\'s output less what the tank stored', async () => {
    const sim = simulation(demo('  []', 'noise: 0\nmeterInterval: 1h').replace('duration: 4h', 'duration: 6h'));
    const topology = sim.topology();
    const steps = await collect(sim);
    const s = canonicalSeries(steps, topology);
    const hourly = steps.filter((x) => x.meters.length);
    expect(hourly.length).toBe(6);
    const total = (i: number) => hourly[i].meters.reduce((a, m) => a + m.reading, 0);
    for (let i = 1; i < hourly.length; i++) {
      for (let m = 0; m < hourly[i].meters.length; m++) expect(hourly[i].meters[m].reading).toBeGreaterThanOrEqual(hourly[i - 1].meters[m].reading);
    }
    const billed = total(5) - total(0);
    // steps 1..300 add to the registers between hour 0 and hour 5
    const input = s.get('WTP.R1.flow')!.slice(1, 301).concat(s.get('WTP.R2.flow')!.slice(1, 301)).reduce((a, b) => a + b, 0) / 60;
    const level = s.get('PS1.T1.level')!;
    const tankRadius = sim.city.network.tanks.get('T1')!.diameter / 2;
    const stored = (level[300] - level[0]) * Math.PI * tankRadius * tankRadius;
    expect(billed).toBeGreaterThan(0);
    expect(Math.abs(billed - (input - stored)) / billed).toBeLessThan(0.02);
  });
});

describe('the clock', () => {
  /** A test double of the wall clock: sleeping moves it on at once. */
  class FakeClock implements SimClock {
    sleeps: number[] = [];
    constructor(public t: number) {}
    now() { return this.t; }
    async sleep(ms: number) { this.sleeps.push(ms); this.t += ms; }
  }

  /** A test double of a device: records what it receives and when, and takes its time. */
  class RecordingDevice implements SimDevice {
    calls: string[] = [];
    constructor(readonly name: string, private readonly clock: FakeClock, private readonly log: string[]) {}
    async start() { this.log.push(`${this.name}:start`); }
    async stop() { this.log.push(`${this.name}:stop`); }
    async onStep(step: SimStep) {
      await new Promise((r) => setImmediate(r));
      expect(this.clock.now()).toBeGreaterThanOrEqual(step.ts); // never before its time in real time
      this.log.push(`${this.name}:${step.ts}`);
    }
  }

  it('in real time sends past steps at once (backfill) and later ones when their time comes, to every device in order', async () => {
    const now = Date.parse('2024-05-06T10:00:00Z');
    const clock = new FakeClock(now);
    const sim = simulation(usTown('  []').replace('2024-05-06T00:00:00Z', 'now-10m').replace('duration: 2h', 'duration: 20m'), { now });
    const log: string[] = [];
    const devices = [new RecordingDevice('a', clock, log), new RecordingDevice('b', clock, log)];
    const summary = await sim.run(devices, { speed: 'realtime', clock });
    expect(summary).toMatchObject({ steps: 20, ended: 'end' });
    expect(clock.sleeps.length).toBe(9); // steps 11..19 are in the future; 0..10 are not
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBe(9 * 60_000);
    expect(log[0]).toBe('a:start');
    expect(log[1]).toBe('b:start');
    expect(log.slice(-2)).toEqual(['b:stop', 'a:stop']);
    const stepsLog = log.slice(2, -2);
    for (let i = 0; i < stepsLog.length; i += 2) expect([stepsLog[i][0], stepsLog[i + 1][0]]).toEqual(['a', 'b']);
  });

  it('at ×N spaces steps by interval / N, and stops when aborted', async () => {
    const clock = new FakeClock(0);
    const sim = simulation(usTown('  []').replace('duration: 2h', 'duration: 10m'));
    const controller = new AbortController();
    let seen = 0;
    const summary = await sim.run([], {
      speed: parseSpeed('60x'), clock, signal: controller.signal,
      onStep: () => { if (++seen === 5) controller.abort(); },
    });
    expect(summary).toMatchObject({ steps: 5, ended: 'aborted' });
    expect(clock.sleeps).toEqual([1000, 1000, 1000, 1000]);
    expect(parseSpeed('max')).toBe('max');
    expect(parseSpeed('realtime')).toBe('realtime');
    expect(() => parseSpeed('fast')).toThrow(/--speed: fast/);
  });

  it('--from/--to override the scenario\'s window', async () => {
    const sim = new Simulation({
      scenario: parseScenario(usTown('  []'), 'test.yaml'), from: '2024-05-06T01:00:00Z', to: '2024-05-06T01:10:00Z',
    });
    const steps = await collect(sim);
    expect(steps.length).toBe(10);
    expect(steps[0].ts).toBe(Date.parse('2024-05-06T01:00:00Z'));
  });

  it('reads the options of aquawatch simulate, naming a bad one', () => {
    expect(parseSimulateArgs(['--scenario', 'demo.yaml', '--speed', '10x', '--scale', '50', '--from', '2024-05-06T00:00:00Z']))
      .toEqual({ scenario: 'demo.yaml', network: undefined, speed: 10, scale: 50, from: '2024-05-06T00:00:00Z', to: undefined, seed: undefined });
    expect(parseSimulateArgs(['--network', 'L-TOWN.inp'])).toMatchObject({ scenario: undefined, network: 'L-TOWN.inp' });
    expect(parseSimulateArgs(['--scenario', 'x.yaml']).speed).toBe('realtime');
    expect(() => parseSimulateArgs(['--speed', 'max'])).toThrow(/--scenario/);
    expect(() => parseSimulateArgs(['--scenario', 'x', '--scale', '0'])).toThrow(/--scale: 0/);
    expect(() => parseSimulateArgs(['--scenario', 'x', '--to', 'tomorrow'])).toThrow(/--to: tomorrow/);
  });
});
