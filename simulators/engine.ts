/**
 * The simulation: a scenario run on a city's hydraulic model, step by step in simulated time, giving
 * per sample interval what every sensor measures (in its declared unit, with noise and sensor faults)
 * and the customer meter registers. A clock paces the steps (real time, ×N, or as fast as possible)
 * and hands each one to the simulated devices, which speak the protocols.
 *
 *   const sim = new Simulation({ scenario: 'simulators/scenarios/suite/demo.yaml' });
 *   await sim.run([plantServer, mqttFleet, pdaReaders], { speed: 'realtime' });
 *
 * The same scenario and seed give the same steps: the model is deterministic and every random stream
 * is seeded from (seed, name of what it drives).
 *
 * This file runs the model in time (demand, then events, before each solution); the parts are beside it:
 * events.ts (scenario events as model changes), sensors.ts (what the sensors report), meters.ts
 * (customer registers), pacing.ts (the clock and the devices), simulate-args.ts (the CLI options).
 */
import { dirname, resolve as resolvePath } from 'node:path';
import type { GroundTruth, SimDevice, SimStep } from './types.ts';
import type { TopologyConfig } from '../core/config/schema.ts';
import { HydraulicModel } from './hydraulics/model.ts';
import { GroupDemand, LocalClock, loadProfiles, WeeklyProfile } from './hydraulics/demand.ts';
import { cityTopology, type City } from './city/city.ts';
import { loadCity } from './city/index.ts';
import { platformConfig, type PlatformConfigOptions } from './city/config.ts';
import { parseScenario, readScenarioFile, type ParsedScenario } from './scenarios/load.ts';
import { resolveScenario, type ScenarioRun } from './scenarios/resolve.ts';
import { EventEffects } from './events.ts';
import { SensorFleet } from './sensors.ts';
import { CustomerMeters } from './meters.ts';
import { paceSteps, type RunOptions, type RunSummary } from './pacing.ts';

/** The scenario of `--network FILE` without `--scenario`: no events, from now until stopped. */
const QUIET_RUN = 'city: demo\nstart: now\nduration: open\ninterval: 1m\nseed: 1\n';

export interface SimulationOptions {
  /** A scenario file path, or one already parsed; default a quiet open run from now (with `network`). */
  scenario?: string | ParsedScenario;
  /** The city, or its name; default the one the scenario names. */
  city?: City | string;
  /** An .inp file to run on instead of the scenario's city (its events must name this network's elements). */
  network?: string;
  /** Overrides the scenario's seed. */
  seed?: number;
  /** N × the sensor fleet: copies with suffixed ids (-x1, -x2...), same model values, own noise. */
  scale?: number;
  /** Override the scenario's start and end (ms or ISO 8601). */
  from?: number | string;
  to?: number | string;
  /** The instant `now` in the scenario's start stands for; default the wall clock. */
  now?: number;
}

export class Simulation {
  readonly scenario: ScenarioRun;
  readonly city: City;
  readonly scale: number;
  private model?: HydraulicModel;
  private initPromise?: Promise<void>;
  private nextTs: number;
  private events?: EventEffects;
  private sensors?: SensorFleet;
  private meters?: CustomerMeters;
  private readonly demand = new Map<string, GroupDemand>();
  /** Demand group → the multiplier set for the last solution. */
  private readonly groupMultiplier = new Map<string, number>();
  private readonly localClock: LocalClock;
  private lastGridTs = 0;
  private readonly modelEpoch: number;

  constructor(options: SimulationOptions) {
    if (options.scenario === undefined && options.network === undefined) throw new Error('a scenario or a network is required');
    const parsed = options.scenario === undefined ? parseScenario(QUIET_RUN, '(quiet run)')
      : typeof options.scenario === 'string' ? readScenarioFile(options.scenario) : options.scenario;
    const baseDir = parsed.file.startsWith('(') ? undefined : dirname(resolvePath(parsed.file));
    this.city = options.network !== undefined ? loadCity(options.network)
      : options.city === undefined ? loadCity(parsed.scenario.city, { baseDir })
        : typeof options.city === 'string' ? loadCity(options.city) : options.city;
    this.scenario = resolveScenario(parsed, this.city, {
      now: options.now, seed: options.seed, from: toMs(options.from, '--from'), to: toMs(options.to, '--to'),
      otherCity: options.network !== undefined,
    });
    this.scale = options.scale ?? 1;
    if (!Number.isInteger(this.scale) || this.scale < 1) throw new Error(`--scale: must be a whole number ≥ 1 (got ${options.scale})`);
    this.nextTs = this.scenario.start;
    this.modelEpoch = this.scenario.start - this.scenario.warmupMs;
    this.localClock = new LocalClock(this.scenario.timezone);
  }

  get groundTruth(): GroundTruth[] {
    return this.scenario.groundTruth;
  }

  /** The topology the simulated devices report for (scaled, with this run's sample interval). */
  topology(): TopologyConfig {
    return cityTopology(this.city, { scale: this.scale, intervalS: this.scenario.intervalMs / 1000 });
  }

  /** A platform configuration to start `aquawatch` against this simulation. */
  platformConfig(options: Omit<PlatformConfigOptions, 'scale' | 'intervalS'> = {}): ReturnType<typeof platformConfig> {
    return platformConfig(this.city, { ...options, scale: this.scale, intervalS: this.scenario.intervalMs / 1000 });
  }

  /** EPANET warnings counted so far (code → count), for diagnostics. */
  get modelWarnings(): ReadonlyMap<number, number> {
    return this.model?.warnings ?? new Map();
  }

  private init(): Promise<void> {
    this.initPromise ??= this.setUp();
    return this.initPromise;
  }

  private async setUp(): Promise<void> {
    const s = this.scenario;
    const intervalS = s.intervalMs / 1000;
    // a coarse step for the warm-up keeps 1-s runs from spending seconds on it
    const warmupStepS = intervalS >= 60 || 60 % intervalS !== 0 ? intervalS : 60;
    const groups = new Map<string, string>();
    for (const [j, d] of this.city.junctionDma) groups.set(j, d);
    this.model = await HydraulicModel.open(this.city.inpText, {
      hydraulicStepS: s.warmupMs % (warmupStepS * 1000) === 0 ? warmupStepS : intervalS,
      quality: this.city.spec.quality,
      demandGroups: groups,
      leakJunctions: s.events.flatMap((e) => (e.kind === 'leak' ? [e.junction] : [])),
    });
    const model = this.model;

    const profiles = loadProfiles().profiles;
    const profileOf = (name: string) => {
      const p = profiles[name];
      if (!p) throw new Error(`city ${this.city.name}: unknown demand profile ${name}`);
      return new WeeklyProfile(p);
    };
    for (const d of this.city.dmas) this.demand.set(d.id, new GroupDemand(d.id, profileOf(d.profile), s.seed, s.noise));
    this.demand.set('default', new GroupDemand('default', profileOf(this.city.dmas[0].profile), s.seed, s.noise));

    const events = new EventEffects(model, s.events);
    this.events = events;
    this.sensors = new SensorFleet(this.city, this.scale, model, events, this.localClock, s.seed, s.noise);
    this.meters = new CustomerMeters(this.city, model, events, this.groupMultiplier, s.start, s.meterIntervalMs);

    // warm-up: tanks and chlorine settle before the first sample
    this.lastGridTs = this.modelEpoch;
    model.advanceTo(s.warmupMs / 1000, (t) => this.beforeSolve(this.modelEpoch + t * 1000));
    if (warmupStepS !== intervalS) model.setHydraulicStep(intervalS);
  }

  /** Set what varies in time for the solution at `ts`: demand, event changes. */
  private beforeSolve(ts: number): void {
    const model = this.model!;
    // demand wanders on the grid of the hydraulic step only: EPANET's extra solutions (a tank
    // filling, a control firing) differ between runs with different events, and must not change
    // which random numbers the demand draws
    const onGrid = (ts - this.modelEpoch) % (model.hydraulicStepS * 1000) === 0;
    const dtS = onGrid ? (ts - this.lastGridTs) / 1000 : 0;
    if (onGrid) this.lastGridTs = ts;
    const local = this.localClock.local(ts);
    for (const [group, demand] of this.demand) {
      if (dtS > 0) demand.advance(dtS);
      const m = demand.at(local);
      this.groupMultiplier.set(group, m);
      model.setGroupMultiplier(group, m);
    }
    this.events!.apply(ts);
  }

  /** The next step, or undefined when the run has reached its end. */
  async next(): Promise<SimStep | undefined> {
    await this.init();
    const s = this.scenario;
    const ts = this.nextTs;
    if (s.end !== undefined && ts >= s.end) return undefined;
    this.nextTs += s.intervalMs;
    const model = this.model!;
    const first = ts === s.start;
    if (!first) model.advanceTo((ts - this.modelEpoch) / 1000, (t) => this.beforeSolve(this.modelEpoch + t * 1000));
    const dtS = first ? 0 : s.intervalMs / 1000;

    this.sensors!.read(ts, dtS);
    const { samples, silent } = this.sensors!.sample(ts);
    const meters = this.meters!.step(ts, dtS, first);
    return { ts, samples, meters, silent };
  }

  /** All steps, as fast as they can be computed. */
  async *steps(): AsyncGenerator<SimStep> {
    for (;;) {
      const step = await this.next();
      if (!step) return;
      yield step;
    }
  }


  /**
   * Run the scenario through the devices: each step goes to every device in order (each onStep
   * awaited), paced by the clock.
   */
  run(devices: SimDevice[], options: RunOptions = {}): Promise<RunSummary> {
    return paceSteps(() => this.next(), devices, options);
  }

  /** Free the model. */
  close(): void {
    this.model?.close();
  }
}

function toMs(v: number | string | undefined, option: string): number | undefined {
  if (v === undefined || typeof v === 'number') return v;
  const ms = Date.parse(v);
  if (!Number.isFinite(ms)) throw new Error(`${option}: ${v} is not an ISO 8601 time`);
  return ms;
}
