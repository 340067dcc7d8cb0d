/**
 * `aquawatch simulate --city large`: a generated city's whole fleet (plan.ts) reporting at its real
 * intervals through the real protocols: plant tags on the simulated OPC UA server, DMA loggers on
 * MQTT JSON and Sparkplug B, quality monitors on MQTT JSON, AMR meter registers through the PDA
 * upload API (amr-head-end.ts). Values come from the coarse-step hydraulics (hydraulics.ts).
 *
 * Work per tick is proportional to what is due: the schedule (schedule.ts) visits only the reports
 * due in the tick, each costs an interpolation, noise and a message. Ticks are 1 s of wall time in
 * real time (simulated time follows the wall clock × speed); at `max` they are `maxTickMs` of
 * simulated time each, sent as fast as the protocols take them. A tick never crosses a hydraulic
 * step, so every reading lies between the two solutions it is interpolated from.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { City } from '../city/city.ts';
import { writeCityMap } from '../city/map.ts';
import { decimalsFor, noiseSd, toDeclaredUnit } from '../sensors.ts';
import type { Speed } from '../simulate-args.ts';
import { Rng } from '../hydraulics/random.ts';
import { JsonSensorFleet } from '../mqtt-fleet/json-sensors.ts';
import { SparkplugFleet } from '../mqtt-fleet/sparkplug.ts';
import { PlantOpcuaServer } from '../plant-opcua/server.ts';
import { tokenSha256 } from '../pda-reader/reader.ts';
import type { SimDevice, SimSample, SimStep } from '../types.ts';
import type { TopologyConfig } from '../../core/config/schema.ts';
import { AmrHeadEnd, type AmrDevice } from './amr-head-end.ts';
import { CoarseHydraulics } from './hydraulics.ts';
import { fleetPlatformConfig, planFleet, type FleetPlan, type ReportingIntervals } from './plan.ts';
import { ReportingSchedule } from './schedule.ts';

const M_TO_MPA = 0.00980665;

export interface LargeCityOptions {
  city: City;
  intervals?: ReportingIntervals;
  seed?: number;
  /** Simulated start, ms; default now. */
  from?: number;
  /** Simulated end, ms (exclusive); default open. */
  to?: number;
  /** Hydraulic step, s (default 900). */
  hydraulicStepS?: number;
  /** Folder for the plant server's PKI and the map. */
  dataDir: string;
  opcuaPort?: number;
  /** AMR head-end devices (one upload stream each; meters split by DMA). Default 4. */
  amrDevices?: number;
  /** Keep the head-end devices' tokens here, so an emitted platform config stays valid. */
  tokenFile?: string;
  /** Simulated ms per tick at `max` speed (default 60 s). */
  maxTickMs?: number;
  log: Logger;
}

export interface LargeCityTargets {
  brokerUrl: string;
  brokerUsername?: string;
  brokerPassword?: string;
  httpBase: string;
}

export interface LargeCityStats {
  /** Readings generated and handed to the protocols (sensor samples + meter registers). */
  readings: number;
  sensorReadings: number;
  meterReadings: number;
  ticks: number;
  /** Simulated time reached, ms. */
  simTime: number;
  /** Largest delay of a tick behind its wall-clock time in real time, ms. */
  maxLagMs: number;
  hydraulicSolves: number;
  hydraulicSolveMs: number;
  /** Wall time spent generating readings (schedule, interpolation, noise) and waiting for the protocols, ms. */
  generateMs: number;
  publishMs: number;
}

export class LargeCitySimulator {
  readonly plan: FleetPlan;
  readonly plant: PlantOpcuaServer;
  readonly amrDevices: AmrDevice[];
  readonly stats: LargeCityStats = { readings: 0, sensorReadings: 0, meterReadings: 0, ticks: 0, simTime: NaN, maxLagMs: 0, hydraulicSolves: 0, hydraulicSolveMs: 0, generateMs: 0, publishMs: 0 };
  private readonly topology: TopologyConfig;
  private readonly schedule: ReportingSchedule;
  private readonly seed: number;
  private readonly start: number;
  private hydraulics?: CoarseHydraulics;
  private devices: SimDevice[] = [];
  private headEnd?: AmrHeadEnd;
  private readonly abort = new AbortController();
  /** Reports up to here are sent; (from, to] ticks, so the first instant is due too. */
  private simTime: number;
  private running?: Promise<LargeCityStats>;
  // per sensor
  private readonly noise: Rng[];
  private readonly toUnit: ((v: number) => number)[];
  private readonly decimals: Int8Array;
  // per meter
  private readonly meterStart: Float64Array;
  private readonly meterDevice: Int16Array;

  constructor(private readonly o: LargeCityOptions) {
    this.plan = planFleet(o.city, o.intervals);
    this.seed = o.seed ?? 1;
    this.start = Math.floor((o.from ?? Date.now()) / 1000) * 1000;
    this.simTime = this.start - 1;
    const city = o.city;
    this.topology = fleetPlatformConfig(this.plan).topology;
    this.plant = new PlantOpcuaServer({
      topology: this.topology, port: o.opcuaPort ?? 0, pkiFolder: join(o.dataDir, 'sim-plant-pki'),
      acceptUnknownClientCertificates: true,
    });
    const kept: Record<string, string> = o.tokenFile && existsSync(o.tokenFile) ? JSON.parse(readFileSync(o.tokenFile, 'utf8')) as Record<string, string> : {};
    const n = o.amrDevices ?? 4;
    this.amrDevices = Array.from({ length: n }, (_, k) => {
      const deviceId = `amr-${String(k + 1).padStart(2, '0')}`;
      return { deviceId, token: kept[deviceId] ??= randomBytes(24).toString('base64url') };
    });
    if (o.tokenFile) writeFileSync(o.tokenFile, JSON.stringify(kept, null, 2), { mode: 0o600 });

    const ids = [...city.sensors.map((s) => s.id), ...city.meters.map((m) => m.id)];
    const intervals = new Float64Array(ids.length);
    intervals.set(this.plan.sensorIntervalS);
    intervals.fill(this.plan.intervals.meterS, city.sensors.length);
    this.schedule = new ReportingSchedule(ids, intervals, this.seed);
    this.noise = city.sensors.map((s) => new Rng(this.seed, `noise:${s.id}`));
    this.toUnit = city.sensors.map((s) => toDeclaredUnit(s.kind, s.unit));
    this.decimals = Int8Array.from(city.sensors, (s) => decimalsFor(s.kind, s.unit));
    const dmaIndex = new Map(city.dmas.map((d, k) => [d.id, k]));
    const registers = new Rng(this.seed, 'amr-registers');
    this.meterStart = Float64Array.from(city.meters, () => Math.round(registers.uniform(50, 2000)));
    this.meterDevice = Int16Array.from(city.meters, (m) => (dmaIndex.get(m.dma ?? '') ?? 0) % n);
  }

  /** The AMR head-end's upload counts (after connect()). */
  get headEndStats(): AmrHeadEnd['stats'] | undefined { return this.headEnd?.stats; }

  /** Sensors and meters of the fleet. */
  get size(): number { return this.plan.size; }

  /** Start the plant server and open the model (the large city's takes some 20 s). */
  async open(): Promise<void> {
    await this.plant.start();
    this.hydraulics = await CoarseHydraulics.open(this.o.city, { seed: this.seed, start: this.start, stepS: this.o.hydraulicStepS });
  }

  /** The platform configuration that reads this fleet (config-schema input), as the rig's. */
  platformConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
    mkdirSync(this.o.dataDir, { recursive: true });
    const mapFile = writeCityMap(this.o.city, resolve(this.o.dataDir, 'network-map.json'));
    const base = fleetPlatformConfig(this.plan, {
      opcuaEndpoint: this.plant.endpointUrl,
      opcua: {
        securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256', trustedServerCertificates: [this.plant.certificateFile],
        samplingIntervalMs: 0, queueSize: 10_000, reportSameValue: true,
      },
      pdaDevices: this.amrDevices.map((d) => ({ id: d.deviceId, tokenSha256: tokenSha256(d.token) })),
    });
    return { ...base, topology: { ...base.topology, map: mapFile }, ...extra };
  }

  /** Connect the MQTT devices and the AMR head-end to the platform. */
  async connect(t: LargeCityTargets): Promise<void> {
    const broker = { url: t.brokerUrl, username: t.brokerUsername, password: t.brokerPassword };
    this.devices = [this.plant, new JsonSensorFleet({ topology: this.topology, broker }), new SparkplugFleet({ topology: this.topology, broker })];
    for (const d of this.devices) if (d !== this.plant) await d.start();
    this.headEnd = new AmrHeadEnd({
      baseUrl: t.httpBase, devices: this.amrDevices, timezone: this.o.city.spec.timezone,
      flushEveryMs: Math.min(60_000, this.plan.intervals.meterS * 1000),
    });
  }

  /**
   * Run until `until` (default options.to) or stop(); resolves with the figures. A later run goes
   * on from where the last one ended (e.g. a backfill at `max`, then real time).
   */
  run(speed: Speed, until?: number): Promise<LargeCityStats> {
    this.running = this.loop(speed, until ?? this.o.to ?? Number.POSITIVE_INFINITY);
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.abort.signal.aborted) return;
    this.abort.abort();
    await this.running?.catch((e: unknown) => this.o.log.warn({ err: String(e) }, 'large-city simulation ended with an error'));
    for (const d of this.devices.length ? this.devices : [this.plant]) {
      await d.stop().catch((e: unknown) => this.o.log.warn({ device: d.name, err: String(e) }, 'device stop failed'));
    }
    this.hydraulics?.close();
  }

  private async loop(speed: Speed, end: number): Promise<LargeCityStats> {
    const h = this.hydraulics;
    if (!h || !this.headEnd) throw new Error('large-city: run() before open() and connect()');
    const factor = speed === 'realtime' ? 1 : speed;
    const wall0 = Date.now();
    let simTime = this.simTime;
    const simStart = simTime + 1;
    while (!this.abort.signal.aborted && simTime < end - 1) {
      let target: number;
      if (factor === 'max') target = simTime + (this.o.maxTickMs ?? 60_000);
      else {
        // real time: simulated time is the wall clock (a run behind it catches up at once); N×: from where it starts
        const wallTarget = speed === 'realtime' ? Date.now() : simStart + (Date.now() - wall0) * factor;
        if (wallTarget <= simTime + 1) {
          await sleep(Math.max(1, Math.ceil((simTime + 1000 - wallTarget) / factor)), this.abort.signal);
          continue;
        }
        this.stats.maxLagMs = Math.max(this.stats.maxLagMs, (wallTarget - simTime) / factor - 1000);
        target = Math.floor(wallTarget);
      }
      // never across a hydraulic step: each reading lies between its two solutions
      const grid = (Math.floor(simTime / h.stepMs) + 1) * h.stepMs;
      const to = Math.min(target, grid, end - 1);
      await this.tick(simTime, to);
      simTime = this.simTime = to;
    }
    await this.headEnd.drain();
    this.stats.hydraulicSolves = h.solves;
    this.stats.hydraulicSolveMs = h.solveMs;
    return this.stats;
  }

  /** The reports due in (from, to], to their protocols. */
  private async tick(from: number, to: number): Promise<void> {
    const h = this.hydraulics!;
    const head = this.headEnd!;
    const t0 = performance.now();
    const city = this.o.city;
    const sensors = city.sensors;
    const nSensors = sensors.length;
    h.solveAhead(to);
    const samples: SimSample[] = [];
    let meters = 0;
    this.schedule.due(from, to, (item, ts) => {
      if (item < nSensors) {
        const s = sensors[item];
        const q = s.measure.quantity;
        const v = h.valueAt(item, ts);
        let si = v + noiseSd(q, v) * this.noise[item].normal();
        if (q !== 'flow' && q !== 'pressure') si = Math.max(0, si);
        const value = this.toUnit[item](q === 'pressure' ? si * M_TO_MPA : si);
        samples.push({ sensor: s.id, ts, value: round(value, this.decimals[item]), quality: 'good' });
        return;
      }
      const k = item - nSensors;
      const m = city.meters[k];
      const hours = m.use === 'industrial' ? h.demandHours(undefined, ts) : h.demandHours(m.dma, ts);
      head.add(this.meterDevice[k], m.id, round(this.meterStart[k] + m.meanM3h * hours, 3), ts);
      meters++;
    });
    samples.sort((a, b) => a.ts - b.ts);
    const step: SimStep = { ts: to, samples, meters: [], silent: [] };
    const t1 = performance.now();
    this.stats.generateMs += t1 - t0;
    await Promise.all([...this.devices.map((d) => d.onStep(step)), head.send()]);
    this.stats.publishMs += performance.now() - t1;
    this.stats.ticks++;
    this.stats.sensorReadings += samples.length;
    this.stats.meterReadings += meters;
    this.stats.readings += samples.length + meters;
    this.stats.simTime = to;
  }
}

function round(v: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(v * f) / f;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() { signal.removeEventListener('abort', done); clearTimeout(timer); resolve(); }
    signal.addEventListener('abort', done, { once: true });
  });
}
