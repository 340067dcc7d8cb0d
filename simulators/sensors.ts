/**
 * The sensors at run time: each reads one model quantity (or a synthetic one: turbidity, pH,
 * conductivity, temperature) once per step, shared by the sensor and its copies (`scale`), and
 * reports it in its declared unit with measurement noise, rounded as such a device reports, with the
 * scenario's sensor faults applied and silent sensors left out.
 */
import type { SimSample } from './types.ts';
import { converterFor, normaliseUnit, type Kind } from '../core/model/units.ts';
import type { HydraulicModel } from './hydraulics/model.ts';
import type { LocalClock } from './hydraulics/demand.ts';
import { Rng, SlowNoise } from './hydraulics/random.ts';
import { citySensors, type City, type CitySensor } from './city/city.ts';
import type { SimEvent } from './scenarios/resolve.ts';
import type { EventEffects } from './events.ts';

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

export class SensorFleet {
  private readonly points: ModelPoint[] = [];
  private readonly sensors: LiveSensor[] = [];

  constructor(
    city: City,
    scale: number,
    model: HydraulicModel,
    private readonly events: EventEffects,
    localClock: LocalClock,
    seed: number,
    /** The scenario's noise factor (0: exact values). */
    private readonly noise: number,
  ) {
    const byBase = new Map<string, ModelPoint>();
    for (const def of city.sensors) {
      const m = def.measure;
      const node = m.node !== undefined && model.hasNode(m.node) ? model.nodeIndex(m.node) : -1;
      const link = m.link !== undefined ? model.linkIndex(m.link) : -1;
      const slow = (sd: number, tauH: number) => new SlowNoise(new Rng(seed, `synthetic:${def.id}`), sd * noise, tauH * 3600);
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
          read = (ts, dt) => Math.max(0.01, (m.base ?? 0.15) + wander.step(dt) + events.turbidityExcursion(def.id, ts, m.base ?? 0.15));
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
            const local = localClock.local(ts);
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
    citySensors(city, scale).forEach((def, i) => {
      const baseId = city.sensors[i % city.sensors.length].id;
      this.sensors.push({
        id: def.id, baseId, point: byBase.get(baseId)!,
        toUnit: toDeclaredUnit(def.kind, def.unit), decimals: decimalsFor(def.kind, def.unit),
        noise: new Rng(seed, `noise:${def.id}`),
      });
    });
  }

  /** Read every model quantity at `ts` (`dtS` since the last step moves the synthetic ones on). */
  read(ts: number, dtS: number): void {
    for (const p of this.points) p.value = p.read(ts, dtS);
  }

  /** What the sensors report at `ts` from the values last read, and which are silent. */
  sample(ts: number): { samples: SimSample[]; silent: string[] } {
    // sensor-side events active now
    const silentBase = new Set<string>();
    const silentExact = new Set<string>();
    const faults = new Map<string, SimEvent & { kind: 'fault' }>();
    for (const e of this.events.list) {
      if (!this.events.active(e, ts)) continue;
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
      const sd = noiseSd(q, v) * this.noise;
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
    return { samples, silent };
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
}

export function round(v: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(v * f) / f;
}
