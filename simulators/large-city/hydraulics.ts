/**
 * The large city's hydraulics on a coarse step: the whole network solved by EPANET every
 * `stepS` seconds of simulated time (default 15 min), with each DMA's demand multiplier from its
 * real demand profile (as the engine does), and the values a sensor reads between two solutions
 * interpolated linearly. A 100,000-junction solution takes about 0.4 s on this machine: once per
 * 15 simulated minutes that is 0.05 % of a core in real time, whatever the number of sensors, and
 * a reading costs an interpolation. (The engine's 1-min step on the whole city would cost 40 % of a
 * core for the model alone and sample every sensor every minute.)
 *
 * Water quality is not transported (chlorine, turbidity, pH, conductivity and temperature are
 * synthetic, slowly wandering around typical values); no scenario events: a quiet city.
 */
import type { City, CitySensor } from '../city/city.ts';
import { GroupDemand, LocalClock, loadProfiles, WeeklyProfile } from '../hydraulics/demand.ts';
import { HydraulicModel } from '../hydraulics/model.ts';
import { Rng, SlowNoise } from '../hydraulics/random.ts';

/** Typical values of the synthetic quality quantities, with their slow wandering (sd, correlation time h). */
const SYNTHETIC: Record<string, { base: number; sd: number; tauH: number }> = {
  chlorine: { base: 0.45, sd: 0.05, tauH: 6 },
  turbidity: { base: 0.15, sd: 0.02, tauH: 2 },
  ph: { base: 7.4, sd: 0.04, tauH: 6 },
  conductivity: { base: 430, sd: 10, tauH: 12 },
  temperature: { base: 16, sd: 0.15, tauH: 6 },
};

export interface CoarseHydraulicsOptions {
  seed: number;
  /** Simulated time of the first solution, ms (aligned down to the step). */
  start: number;
  /** Hydraulic step, s. Default 900. */
  stepS?: number;
}

export class CoarseHydraulics {
  readonly stepMs: number;
  /** Solutions made (for the figures). */
  solves = 0;
  solveMs = 0;
  private readonly epoch: number;
  private readonly demand = new Map<string, GroupDemand>();
  private readonly clock: LocalClock;
  /** What each sensor reads from the model (undefined: synthetic). */
  private readonly readers: (((m: HydraulicModel) => number) | undefined)[];
  private readonly synthetic: (SlowNoise | undefined)[];
  private readonly syntheticBase: Float64Array;
  /** Values at the bracketing solutions: [t0, t1]. */
  private before: Float64Array;
  private after: Float64Array;
  private t0: number;
  private t1: number;
  private readonly dmaIndex: Map<string, number>;
  /** Each DMA's demand multiplier at t0 and t1, and its integral from the start to t0 (hours). */
  private multiplierBefore: Float64Array;
  private multiplierAfter: Float64Array;
  private readonly volumeBefore: Float64Array;

  private constructor(private readonly city: City, private readonly model: HydraulicModel, o: CoarseHydraulicsOptions) {
    this.stepMs = (o.stepS ?? 900) * 1000;
    this.epoch = Math.floor(o.start / this.stepMs) * this.stepMs;
    this.clock = new LocalClock(city.spec.timezone);
    const profiles = loadProfiles().profiles;
    for (const d of city.dmas) {
      const p = profiles[d.profile];
      if (!p) throw new Error(`city ${city.name}: unknown demand profile ${d.profile}`);
      this.demand.set(d.id, new GroupDemand(d.id, new WeeklyProfile(p), o.seed));
    }
    this.readers = city.sensors.map((s) => readerOf(model, s));
    this.synthetic = city.sensors.map((s, i) => {
      const syn = SYNTHETIC[s.measure.quantity];
      return this.readers[i] || !syn ? undefined : new SlowNoise(new Rng(o.seed, `synthetic:${s.id}`), syn.sd, syn.tauH * 3600);
    });
    // a temperature monitor's base is its site's offset from the network's water temperature
    this.syntheticBase = Float64Array.from(city.sensors, (s) => (s.measure.quantity === 'temperature'
      ? SYNTHETIC.temperature.base + (s.measure.base ?? 0)
      : s.measure.base ?? SYNTHETIC[s.measure.quantity]?.base ?? 0));
    this.dmaIndex = new Map(city.dmas.map((d, k) => [d.id, k]));
    this.multiplierBefore = new Float64Array(city.dmas.length);
    this.multiplierAfter = new Float64Array(city.dmas.length);
    this.volumeBefore = new Float64Array(city.dmas.length);
    this.before = new Float64Array(city.sensors.length);
    this.after = new Float64Array(city.sensors.length);
    this.t0 = this.t1 = this.epoch;
  }

  /** Opens the city's model and solves its first instant (a 100,000-junction model takes some 20 s). */
  static async open(city: City, o: CoarseHydraulicsOptions): Promise<CoarseHydraulics> {
    const groups = new Map<string, string>();
    for (const [j, d] of city.junctionDma) groups.set(j, d);
    let self: CoarseHydraulics | undefined;
    const stepS = o.stepS ?? 900;
    const model = await HydraulicModel.open(city.inpText, { hydraulicStepS: stepS, demandGroups: groups }, (m) => {
      self = new CoarseHydraulics(city, m, o);
      self.setDemand(self.epoch, 0);
    });
    const h = self!;
    h.read(h.after, h.epoch, 0);
    h.solves = 1;
    return h;
  }

  /** The true value (SI: pressure m, flow m³/h, level m...) of sensor `i` at `ts` (≥ the start; time moves forward). */
  valueAt(i: number, ts: number): number {
    while (ts > this.t1) this.solveNext();
    const b = this.after[i];
    if (this.t1 === this.t0) return b;
    const a = this.before[i];
    // states (pump on/off) keep the earlier solution's value; quantities move linearly
    if (this.city.sensors[i].measure.quantity.startsWith('pump_')) return ts < this.t1 ? a : b;
    return a + ((b - a) * (ts - this.t0)) / (this.t1 - this.t0);
  }

  /**
   * Hours of average demand a DMA has used from the start to `ts`: the integral of its demand
   * multiplier (linear between solutions). A meter's register moves by its mean use × this. A
   * meter outside every DMA, or an industrial one (flat use), uses the plain hours.
   */
  demandHours(dma: string | undefined, ts: number): number {
    while (ts > this.t1) this.solveNext();
    const k = dma === undefined ? undefined : this.dmaIndex.get(dma);
    if (k === undefined) return (ts - this.epoch) / 3_600_000;
    const m0 = this.multiplierBefore[k];
    const m1 = this.multiplierAfter[k];
    const f = this.t1 === this.t0 ? 0 : (ts - this.t0) / (this.t1 - this.t0);
    const mt = m0 + (m1 - m0) * f;
    return this.volumeBefore[k] + ((m0 + mt) / 2) * ((ts - this.t0) / 3_600_000);
  }

  /** Solve the next step now (so that a pause for it does not fall in the middle of a tick). */
  solveAhead(ts: number): void {
    while (ts > this.t1) this.solveNext();
  }

  close(): void {
    this.model.close();
  }

  private solveNext(): void {
    const started = performance.now();
    const next = this.t1 + this.stepMs;
    // t1 becomes t0: its volume and multipliers move over before the solution writes next's
    const hours = this.stepMs / 3_600_000;
    if (this.t1 > this.t0) {
      for (let k = 0; k < this.volumeBefore.length; k++) this.volumeBefore[k] += ((this.multiplierBefore[k] + this.multiplierAfter[k]) / 2) * hours;
    }
    this.multiplierBefore.set(this.multiplierAfter);
    this.model.advanceTo((next - this.epoch) / 1000, (t) => {
      const ts = this.epoch + t * 1000;
      // demand wanders on the step grid only, as in the engine
      this.setDemand(ts, (ts - this.epoch) % this.stepMs === 0 ? this.stepMs / 1000 : 0);
    });
    [this.before, this.after] = [this.after, this.before];
    this.t0 = this.t1;
    this.t1 = next;
    this.read(this.after, next, this.stepMs / 1000);
    this.solves++;
    this.solveMs += performance.now() - started;
  }

  private setDemand(ts: number, dtS: number): void {
    const local = this.clock.local(ts);
    for (const [group, d] of this.demand) {
      if (dtS > 0) d.advance(dtS);
      const m = d.at(local);
      this.model.setGroupMultiplier(group, m);
      // the grid instants' multipliers are what the meters integrate (EPANET's extra solutions are not on the grid)
      if ((ts - this.epoch) % this.stepMs === 0) this.multiplierAfter[this.dmaIndex.get(group)!] = m;
    }
  }

  private read(into: Float64Array, ts: number, dtS: number): void {
    const local = this.clock.local(ts);
    for (let i = 0; i < into.length; i++) {
      const r = this.readers[i];
      if (r) { into[i] = r(this.model); continue; }
      const wander = this.synthetic[i]?.step(dtS) ?? 0;
      const q = this.city.sensors[i].measure.quantity;
      if (q === 'temperature') {
        const hour = (local % 86_400_000) / 3_600_000;
        into[i] = this.syntheticBase[i] + 0.3 * Math.sin((2 * Math.PI * (hour - 9)) / 24) + wander;
      } else into[i] = Math.max(0, this.syntheticBase[i] + wander);
    }
  }
}

function readerOf(model: HydraulicModel, s: CitySensor): ((m: HydraulicModel) => number) | undefined {
  const m = s.measure;
  const node = m.node !== undefined && model.hasNode(m.node) ? model.nodeIndex(m.node) : -1;
  const link = m.link !== undefined ? model.linkIndex(m.link) : -1;
  switch (m.quantity) {
    case 'pressure': return (x) => Math.max(0, x.pressureM(node));
    case 'flow': return (x) => x.flowM3h(link);
    case 'level': return (x) => x.tankLevelM(node);
    case 'pump_state': return (x) => (x.linkOpen(link) && Math.abs(x.flowM3h(link)) > 1e-6 ? 1 : 0);
    case 'pump_speed': return (x) => (Math.abs(x.flowM3h(link)) > 1e-6 ? x.pumpSpeed(link) * 100 : 0);
    default: return undefined;
  }
}
