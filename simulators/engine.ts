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
 */
import { dirname, resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import type { GroundTruth, MeterSample, SimDevice, SimSample, SimStep } from './types.ts';
import type { TopologyConfig } from '../core/config/schema.ts';
import { converterFor, normaliseUnit, type Kind } from '../core/model/units.ts';
import { HydraulicModel } from './hydraulics/model.ts';
import { GroupDemand, LocalClock, loadProfiles, WeeklyProfile } from './hydraulics/demand.ts';
import { hash32, Rng, SlowNoise } from './hydraulics/random.ts';
import { citySensors, cityTopology, type City, type CitySensor } from './city/city.ts';
import { loadCity } from './city/index.ts';
import { platformConfig, type PlatformConfigOptions } from './city/config.ts';
import { parseScenario, readScenarioFile, type ParsedScenario } from './scenarios/load.ts';
import { resolveScenario, type ScenarioRun, type SimEvent } from './scenarios/resolve.ts';

export type Speed = 'max' | 'realtime' | number;

/** `max`, `realtime`, `10x` or `10` (×10). */
export function parseSpeed(text: string): Speed {
  const t = text.trim().toLowerCase();
  if (t === 'max' || t === 'realtime') return t;
  const m = /^(\d+(?:\.\d+)?)x?$/.exec(t);
  if (!m || Number(m[1]) <= 0) throw new Error(`--speed: ${text} is not realtime, max or a factor such as 10x`);
  return Number(m[1]);
}

/** The scenario of `--network FILE` without `--scenario`: no events, from now until stopped. */
const QUIET_RUN = 'city: demo\nstart: now\nduration: open\ninterval: 1m\nseed: 1\n';

export interface SimulateArgs {
  /** A scenario file; absent with --network alone (a quiet open run from now). */
  scenario?: string;
  /** An .inp file that replaces the scenario's city. */
  network?: string;
  speed: Speed;
  from?: string;
  to?: string;
  scale: number;
  seed?: number;
}

/**
 * The options of `aquawatch simulate`:
 * --scenario FILE and/or --network FILE.inp, --speed realtime|max|10x [--from ISO] [--to ISO] [--scale N] [--seed N].
 * Errors name the option.
 */
export function parseSimulateArgs(argv: string[]): SimulateArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string' }, network: { type: 'string' }, speed: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' },
      scale: { type: 'string' }, seed: { type: 'string' },
    },
    strict: true, allowPositionals: false,
  });
  if (!values.scenario && !values.network) {
    throw new Error('--scenario: a scenario file is required (e.g. simulators/scenarios/suite/demo.yaml), or --network FILE.inp for a quiet run on that network');
  }
  const whole = (name: string, v: string | undefined, min: number): number | undefined => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || Number(v) < min) throw new Error(`--${name}: ${v} is not a whole number ≥ ${min}`);
    return Number(v);
  };
  for (const name of ['from', 'to'] as const) {
    const v = values[name];
    if (v !== undefined && !Number.isFinite(Date.parse(v))) throw new Error(`--${name}: ${v} is not an ISO 8601 time`);
  }
  return {
    scenario: values.scenario,
    network: values.network,
    speed: parseSpeed(values.speed ?? 'realtime'),
    from: values.from,
    to: values.to,
    scale: whole('scale', values.scale, 1) ?? 1,
    seed: whole('seed', values.seed, 0),
  };
}

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

/** Paces steps against a clock; tests give a simulated one. */
export interface SimClock {
  now(): number;
  /** Resolves after `ms`, or early when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: SimClock = {
  now: () => Date.now(),
  sleep: (ms, signal) => new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  }),
};

export interface RunOptions {
  /**
   * max: as fast as possible. realtime: each step is sent when the wall clock reaches its timestamp,
   * so steps already in the past go at once (a backfill) and later ones in real time. A number N:
   * N × real time from the first step on.
   */
  speed?: Speed;
  signal?: AbortSignal;
  clock?: SimClock;
  /** Call the devices' start() before the first step and stop() after the last (default true). */
  manageDevices?: boolean;
  /** Called after the devices have had each step. */
  onStep?: (step: SimStep) => void | Promise<void>;
}

export interface RunSummary {
  steps: number;
  firstTs?: number;
  lastTs?: number;
  wallMs: number;
  ended: 'end' | 'aborted';
}

// --- sensors at run time -------------------------------------------------------------------------

const M_TO_MPA = 0.00980665;

/** Standard deviation of measurement noise, in the model's SI unit (pressure m, flow m³/h...). */
export function noiseSd(quantity: CitySensor['measure']['quantity'], v: number): number {
  switch (quantity) {
    case 'pressure': return 0.05;
    case 'flow': return 0.003 * Math.abs(v) + 0.02;
    case 'level': return 0.003;
    case 'chlorine': return 0.004 + 0.01 * v;
    case 'turbidity': return 0.004 + 0.02 * v;
    case 'ph': return 0.01;
    case 'conductivity': return 1;
    case 'temperature': return 0.02;
    default: return 0;
  }
}

/** Decimals a device reports in its unit. */
export function decimalsFor(kind: Kind, unit: string | undefined): number {
  const u = normaliseUnit(unit ?? '');
  if (kind === 'pressure') return u === 'mpa' ? 5 : u === 'kpa' ? 2 : u === 'bar' ? 4 : 3;
  if (kind === 'pump') return 0;
  if (kind === 'speed' || kind === 'valve' || kind === 'conductivity') return 1;
  if (kind === 'ph' || kind === 'temperature') return 2;
  return 3;
}

/** From the kind's canonical unit to the sensor's declared unit (the inverse of the pipeline's conversion). */
export function toDeclaredUnit(kind: Kind, unit: string | undefined): (canonical: number) => number {
  const c = converterFor(kind, unit);
  if (!c) throw new Error(`unit ${unit} is not a unit of ${kind}`);
  const offset = c(0);
  const factor = c(1) - offset;
  if (factor === 1 && offset === 0) return (v) => v;
  return (v) => (v - offset) / factor;
}

/** One model quantity, read once per step and shared by a sensor and its copies. */
interface ModelPoint {
  def: CitySensor;
  /** True value in SI (pressure m, flow m³/h, level m, chlorine mg/L...). */
  read: (ts: number, dtS: number) => number;
  value: number;
}

interface LiveSensor {
  id: string;
  baseId: string;
  point: ModelPoint;
  toUnit: (canonical: number) => number;
  decimals: number;
  noise: Rng;
  /** Value frozen by a flatline fault. */
  frozen?: number;
  spikesLeft?: number;
}

interface LiveMeter {
  id: string;
  /** (junction index, share of that junction's consumption: domestic or industrial part). */
  junctions: { index: number; use: 'domestic' | 'industrial' }[];
  reading: number;
}

const EPOCH_2020 = Date.UTC(2020, 0, 1);

export class Simulation {
  readonly scenario: ScenarioRun;
  readonly city: City;
  readonly scale: number;
  private model?: HydraulicModel;
  private initPromise?: Promise<void>;
  private nextTs: number;
  private points: ModelPoint[] = [];
  private sensors: LiveSensor[] = [];
  private meters: LiveMeter[] = [];
  private readonly demand = new Map<string, GroupDemand>();
  private readonly localClock: LocalClock;
  private lastGridTs = 0;
  private readonly modelEpoch: number;

  // event state
  private readonly started = new Set<SimEvent>();
  private readonly finished = new Set<SimEvent>();
  /** Active bursts and leaks: junction and size (m³/h per √m of pressure, as an emitter's coefficient). */
  private readonly leaks = new Map<SimEvent, { node: number; coefficient: number }>();
  /** Junction → leak demand set now, m³/h. */
  private readonly leakFlow = new Map<number, number>();
  private readonly closedLinks = new Map<number, number>();
  private readonly tankForcing = new Map<SimEvent, { node: number; level0: number; floor: number }>();
  private readonly savedSource = new Map<SimEvent, number>();
  private readonly decayLinks = new Map<SimEvent, number[]>();
  /** Junction index → domestic and industrial mean demand (m³/h), for splitting metered use. */
  private junctionUse = new Map<number, { domestic: number; industrial: number; group: string }>();
  private groupMultiplier = new Map<string, number>();

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

    for (let i = 1; i <= model.nodeCount; i++) {
      if (!model.isJunction(i)) continue;
      const cats = model.junctionDemandCategories(i);
      if (!cats.length) continue;
      const id = model.nodeId(i);
      this.junctionUse.set(i, {
        domestic: cats.filter((c) => !c.flat).reduce((a, c) => a + c.meanM3h, 0),
        industrial: cats.filter((c) => c.flat).reduce((a, c) => a + c.meanM3h, 0),
        group: this.city.junctionDma.get(id) ?? 'default',
      });
    }

    this.buildSensors(model);
    this.meters = this.city.meters.map((m) => ({
      id: m.id,
      junctions: m.junctions.map((j) => ({ index: model.nodeIndex(j), use: m.use })),
      // a register that has been turning since 2020 at the meter's average rate, so runs started at
      // different times give readings that never go backwards
      reading: 50 + (hash32(m.id) % 2000) + (m.meanM3h * (s.start - EPOCH_2020)) / 3_600_000,
    }));

    // warm-up: tanks and chlorine settle before the first sample
    this.lastGridTs = this.modelEpoch;
    model.advanceTo(s.warmupMs / 1000, (t) => this.beforeSolve(this.modelEpoch + t * 1000));
    if (warmupStepS !== intervalS) model.setHydraulicStep(intervalS);
  }

  private buildSensors(model: HydraulicModel): void {
    const s = this.scenario;
    const byBase = new Map<string, ModelPoint>();
    for (const def of this.city.sensors) {
      const m = def.measure;
      const node = m.node !== undefined && model.hasNode(m.node) ? model.nodeIndex(m.node) : -1;
      const link = m.link !== undefined ? model.linkIndex(m.link) : -1;
      const slow = (sd: number, tauH: number) => new SlowNoise(new Rng(s.seed, `synthetic:${def.id}`), sd * s.noise, tauH * 3600);
      let read: ModelPoint['read'];
      switch (m.quantity) {
        // a zone cut off from supply drains to atmospheric pressure; the model's negative heads there
        // are an artefact of pressure-driven analysis, not something a gauge would show
        case 'pressure': read = () => Math.max(0, model.pressureM(node)); break;
        case 'flow': read = () => model.flowM3h(link); break;
        case 'level': read = () => model.tankLevelM(node); break;
        case 'chlorine': read = () => Math.max(0, model.quality(node)); break;
        case 'pump_state': read = () => (model.linkOpen(link) && Math.abs(model.flowM3h(link)) > 1e-6 ? 1 : 0); break;
        case 'pump_speed': read = () => (Math.abs(model.flowM3h(link)) > 1e-6 ? model.pumpSpeed(link) * 100 : 0); break;
        case 'turbidity': {
          const wander = slow(0.02, 2);
          read = (ts, dt) => Math.max(0.01, (m.base ?? 0.15) + wander.step(dt) + this.turbidityExcursion(def.id, ts, m.base ?? 0.15));
          break;
        }
        case 'ph': {
          const wander = slow(0.04, 6);
          read = (_ts, dt) => (m.base ?? 7.4) + wander.step(dt);
          break;
        }
        case 'conductivity': {
          const wander = slow(10, 12);
          read = (_ts, dt) => (m.base ?? 430) + wander.step(dt);
          break;
        }
        case 'temperature': {
          const wander = slow(0.15, 6);
          read = (ts, dt) => {
            // seasonal water temperature (northern hemisphere), a small daily swing, the site's offset
            const local = this.localClock.local(ts);
            const dayOfYear = (local - Date.UTC(new Date(local).getUTCFullYear(), 0, 1)) / 86_400_000;
            const hour = (local % 86_400_000) / 3_600_000;
            return 16 + 8 * Math.sin((2 * Math.PI * (dayOfYear - 110)) / 365.25)
              + 0.3 * Math.sin((2 * Math.PI * (hour - 9)) / 24) + (m.base ?? 0) + wander.step(dt);
          };
          break;
        }
      }
      const point: ModelPoint = { def, read, value: 0 };
      byBase.set(def.id, point);
      this.points.push(point);
    }
    // copies come in whole rounds of the city's sensors, in the same order
    citySensors(this.city, this.scale).forEach((def, i) => {
      const baseId = this.city.sensors[i % this.city.sensors.length].id;
      this.sensors.push({
        id: def.id, baseId, point: byBase.get(baseId)!,
        toUnit: toDeclaredUnit(def.kind, def.unit), decimals: decimalsFor(def.kind, def.unit),
        noise: new Rng(s.seed, `noise:${def.id}`),
      });
    });
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
    for (const e of this.scenario.events) {
      if (!this.started.has(e) && e.start <= ts) {
        this.started.add(e);
        this.begin(e);
      }
      if (this.started.has(e) && !this.finished.has(e) && e.end !== undefined && e.end <= ts) {
        this.finished.add(e);
        this.finish(e);
      }
    }
    // continuous changes of the active events
    for (const node of new Set([...this.leaks.values()].map((l) => l.node))) this.updateLeak(node, ts, false);
    for (const [e, f] of this.tankForcing) {
      const level = Math.max(f.floor, f.level0 - ((e.kind === 'tank_drain' ? e.rateMPerH : 0) * (ts - e.start)) / 3_600_000);
      model.setTankLevel(f.node, level);
    }
  }

  /**
   * Set a junction's leak demand from its active leaks: each lets out C·√p at the pressure of the
   * last solution, scaled by how far it has grown. Between events the change is damped by half, so
   * the pressure a leak lowers and the flow it lets out settle together instead of swinging; when a
   * leak starts or ends (`sudden`) the new flow applies at once.
   */
  private updateLeak(node: number, ts: number, sudden: boolean): void {
    const model = this.model!;
    const root = Math.sqrt(model.pressureM(node) > 0 ? model.pressureM(node) : 0);
    let target = 0;
    for (const [e, leak] of this.leaks) {
      if (leak.node !== node || e.kind !== 'leak') continue;
      const grown = e.growthMs > 0 ? Math.min(1, Math.max(0, (ts - e.start) / e.growthMs)) : 1;
      target += leak.coefficient * grown * root;
    }
    const current = this.leakFlow.get(node) ?? 0;
    const flow = sudden ? target : current + 0.5 * (target - current);
    this.leakFlow.set(node, flow);
    model.setLeakDemand(node, flow);
  }

  private begin(e: SimEvent): void {
    const model = this.model!;
    switch (e.kind) {
      case 'leak': {
        const node = model.nodeIndex(e.junction);
        // sized at the pressure before the event (the last solution): a 40 m³/h burst lets out 40 m³/h now
        this.leaks.set(e, { node, coefficient: e.flowM3h / Math.sqrt(Math.max(model.pressureM(node), 1)) });
        this.updateLeak(node, e.start, true);
        break;
      }
      case 'pump_trip': model.setPumpTripped(model.linkIndex(e.pump), true); break;
      case 'close_links':
        for (const id of e.links) {
          const l = model.linkIndex(id);
          this.closedLinks.set(l, (this.closedLinks.get(l) ?? 0) + 1);
          model.setLinkClosed(l, true);
        }
        break;
      case 'tank_drain': {
        const node = model.nodeIndex(e.tank);
        this.tankForcing.set(e, { node, level0: model.tankLevelM(node), floor: e.floorM ?? model.tankLimitsM(node).min });
        break;
      }
      case 'source_chlorine': {
        const node = model.nodeIndex(e.node);
        this.savedSource.set(e, model.sourceQuality(node));
        model.setSourceQuality(node, e.level);
        break;
      }
      case 'dma_decay': {
        const links = model.linksWithin(new Set(e.junctions.map((j) => model.nodeIndex(j))));
        this.decayLinks.set(e, links);
        model.setBulkDecayFactor(links, e.factor);
        break;
      }
      default: break; // sensor-side events act when samples are taken
    }
  }

  private finish(e: SimEvent): void {
    const model = this.model!;
    switch (e.kind) {
      case 'leak': {
        const leak = this.leaks.get(e);
        this.leaks.delete(e);
        if (leak) this.updateLeak(leak.node, e.end ?? e.start, true);
        break;
      }
      case 'pump_trip': model.setPumpTripped(model.linkIndex(e.pump), false); break;
      case 'close_links':
        for (const id of e.links) {
          const l = model.linkIndex(id);
          const n = (this.closedLinks.get(l) ?? 1) - 1;
          if (n > 0) this.closedLinks.set(l, n);
          else {
            this.closedLinks.delete(l);
            model.setLinkClosed(l, false);
          }
        }
        break;
      case 'tank_drain': this.tankForcing.delete(e); break;
      case 'source_chlorine': model.setSourceQuality(model.nodeIndex(e.node), this.savedSource.get(e) ?? 0); break;
      case 'dma_decay': model.setBulkDecayFactor(this.decayLinks.get(e) ?? [], 1); break;
      default: break;
    }
  }

  private active(e: SimEvent, ts: number): boolean {
    return e.start <= ts && (e.end === undefined || ts < e.end);
  }

  /** Extra turbidity of a sensor at ts from turbidity events: a ramp up, a plateau, a ramp down. */
  private turbidityExcursion(sensor: string, ts: number, base: number): number {
    let extra = 0;
    for (const e of this.scenario.events) {
      if (e.kind !== 'turbidity' || !e.sensors.includes(sensor) || ts < e.start) continue;
      const up = e.rampMs > 0 ? Math.min(1, (ts - e.start) / e.rampMs) : 1;
      const down = e.end === undefined ? 1 : e.rampMs > 0 ? Math.min(1, Math.max(0, (e.end - ts) / e.rampMs)) : ts < e.end ? 1 : 0;
      extra = Math.max(extra, (e.ntu - base) * Math.min(up, down));
    }
    return extra;
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

    for (const p of this.points) p.value = p.read(ts, dtS);

    // sensor-side events active now
    const silentBase = new Set<string>();
    const silentExact = new Set<string>();
    const faults = new Map<string, SimEvent & { kind: 'fault' }>();
    for (const e of s.events) {
      if (!this.active(e, ts)) continue;
      if (e.kind === 'silence') for (const id of e.sensors) (e.withCopies ? silentBase : silentExact).add(id);
      else if (e.kind === 'fault') {
        if (e.fault === 'stale') silentExact.add(e.sensor);
        else faults.set(e.sensor, e);
      }
    }

    const samples: SimSample[] = [];
    const silent: string[] = [];
    for (const x of this.sensors) {
      if (silentBase.has(x.baseId) || silentExact.has(x.id)) {
        silent.push(x.id);
        continue;
      }
      const q = x.point.def.measure.quantity;
      const v = x.point.value;
      const sd = noiseSd(q, v) * s.noise;
      let si = sd > 0 ? v + sd * x.noise.normal() : v;
      if (q !== 'flow' && q !== 'pressure') si = Math.max(0, si);
      let value = x.toUnit(q === 'pressure' ? si * M_TO_MPA : si);
      const fault = faults.get(x.id);
      if (fault) value = this.applyFault(x, fault, value, ts);
      else {
        x.frozen = undefined;
        x.spikesLeft = undefined;
      }
      samples.push({ sensor: x.id, ts, value: round(value, x.decimals), quality: 'good' });
    }

    const meters = this.stepMeters(ts, dtS, first);
    return { ts, samples, meters, silent };
  }

  private applyFault(x: LiveSensor, e: SimEvent & { kind: 'fault' }, value: number, ts: number): number {
    switch (e.fault) {
      case 'flatline':
        x.frozen ??= value;
        return x.frozen;
      case 'spike':
        x.spikesLeft ??= e.count ?? 1;
        if (x.spikesLeft <= 0) return value;
        x.spikesLeft--;
        return e.value ?? value * (e.factor ?? 3);
      case 'drift':
        return value + ((e.ratePerDay ?? 0) * (ts - e.start)) / 86_400_000;
      default:
        return value;
    }
  }

  /** Integrate customer use since the last step and, on meter intervals, report the registers. */
  private stepMeters(ts: number, dtS: number, first: boolean): MeterSample[] {
    const s = this.scenario;
    if (!first && dtS > 0) {
      const model = this.model!;
      const demands = model.allDemandsM3h();
      const delivered = new Map<number, { domestic: number; industrial: number }>();
      const part = (index: number) => {
        let d = delivered.get(index);
        if (!d) {
          const use = this.junctionUse.get(index);
          // pressure-driven delivery cuts every demand of a junction alike, so the outflow splits in
          // the proportions of what each would draw now: domestic, industrial, and the (unbilled) leak
          const domestic = use ? use.domestic * (this.groupMultiplier.get(use.group) ?? 1) : 0;
          const industrial = use?.industrial ?? 0;
          const full = domestic + industrial + (this.leakFlow.get(index) ?? 0);
          const outflow = Math.max(0, demands[index - 1]);
          d = full > 0 ? { domestic: (outflow * domestic) / full, industrial: (outflow * industrial) / full } : { domestic: 0, industrial: 0 };
          delivered.set(index, d);
        }
        return d;
      };
      const hours = dtS / 3600;
      for (const m of this.meters) {
        let rate = 0;
        for (const j of m.junctions) rate += part(j.index)[j.use];
        m.reading += rate * hours;
      }
    }
    if ((ts - s.start) % s.meterIntervalMs !== 0) return [];
    return this.meters.map((m) => ({ meter: m.id, ts, reading: round(m.reading, 3) }));
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
  async run(devices: SimDevice[], options: RunOptions = {}): Promise<RunSummary> {
    const speed = options.speed ?? 'max';
    const clock = options.clock ?? systemClock;
    const manage = options.manageDevices ?? true;
    const wallStart = clock.now();
    let steps = 0;
    let firstTs: number | undefined;
    let lastTs: number | undefined;
    let ended: RunSummary['ended'] = 'end';
    const begun: SimDevice[] = [];
    try {
      if (manage) {
        for (const d of devices) {
          await d.start();
          begun.push(d);
        }
      }
      for (;;) {
        if (options.signal?.aborted) {
          ended = 'aborted';
          break;
        }
        const step = await this.next();
        if (!step) break;
        firstTs ??= step.ts;
        if (speed !== 'max') {
          const due = speed === 'realtime' ? step.ts : wallStart + (step.ts - firstTs) / speed;
          const wait = due - clock.now();
          if (wait > 0) await clock.sleep(wait, options.signal);
          if (options.signal?.aborted) {
            ended = 'aborted';
            break;
          }
        }
        for (const d of devices) await d.onStep(step);
        await options.onStep?.(step);
        steps++;
        lastTs = step.ts;
      }
    } finally {
      if (manage) for (const d of begun.reverse()) await d.stop();
    }
    return { steps, firstTs, lastTs, wallMs: clock.now() - wallStart, ended };
  }

  /** Free the model. */
  close(): void {
    this.model?.close();
  }
}

function round(v: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(v * f) / f;
}

function toMs(v: number | string | undefined, option: string): number | undefined {
  if (v === undefined || typeof v === 'number') return v;
  const ms = Date.parse(v);
  if (!Number.isFinite(ms)) throw new Error(`${option}: ${v} is not an ISO 8601 time`);
  return ms;
}

