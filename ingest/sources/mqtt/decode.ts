/**
 * Payload decoders of the MQTT source: a plain number, or JSON with configurable dotted paths.
 * Decoding never throws: what cannot become a reading comes back as a problem naming the field,
 * for ctx.reject (kept in the dead-letter table with the raw payload).
 */
import type { Quality, RawReading } from '../../../core/model/reading.ts';
import { qualityFromAny } from '../common/mqtt/quality.ts';
import type { TopicPatternConfig } from './config.ts';
import type { Topology } from '../../../core/topology/topology.ts';

export interface DecodeProblem {
  /** Topic, with `[i]` for an element of a JSON array. */
  origin: string;
  reason: string;
}

export interface Decoded {
  readings: RawReading[];
  problems: DecodeProblem[];
}

/** A path split once at start-up; `[]` (from '') is the element itself. */
type Path = string[];

function splitPath(p: string | undefined): Path | undefined {
  if (p === undefined) return undefined;
  return p === '' ? [] : p.split('.');
}

function getPath(obj: unknown, path: Path): unknown {
  let cur = obj;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** A value as a number: numbers, numeric strings, and booleans (pump running = 1). */
function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function describe(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

export interface DecodeInput {
  topic: string;
  payload: Buffer;
  /** The sensor the topic names (`{sensor}` capture or an exact sensor.source.topic), if any. */
  topicSensor?: string;
}

/** One configured topic pattern's decoder. */
export class PayloadDecoder {
  private readonly valuePath: Path;
  private readonly timePath?: Path;
  private readonly unitPath?: Path;
  private readonly qualityPath?: Path;
  private readonly sensorPath?: Path;

  constructor(readonly config: TopicPatternConfig, private readonly topology: Topology, private readonly now: () => number) {
    this.valuePath = splitPath(config.valuePath) ?? ['value'];
    this.timePath = splitPath(config.timePath);
    this.unitPath = splitPath(config.unitPath);
    this.qualityPath = splitPath(config.qualityPath);
    this.sensorPath = splitPath(config.sensorPath);
  }

  /** True when payloads carry no time of their own, so arrival time is used. */
  get usesArrivalTime(): boolean {
    return this.config.format === 'number' || this.timePath === undefined;
  }

  decode(input: DecodeInput): Decoded {
    const out: Decoded = { readings: [], problems: [] };
    const text = input.payload.toString('utf8');
    if (this.config.format === 'number') {
      const sensor = this.checkSensor(input.topicSensor, input.topic, out, 'topic');
      if (sensor === undefined) return out;
      const value = text.trim() === '' ? NaN : Number(text);
      if (!Number.isFinite(value)) {
        out.problems.push({ origin: input.topic, reason: `value: payload is not a number (format: number): ${describe(text)}` });
        return out;
      }
      // A plain number carries no time: arrival time is the reading time.
      out.readings.push({ sensor, ts: this.now(), value, quality: 'good' });
      return out;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      out.problems.push({ origin: input.topic, reason: `payload: not JSON (${(e as Error).message})` });
      return out;
    }
    if (Array.isArray(doc)) {
      doc.forEach((el, i) => this.decodeElement(el, `${input.topic}[${i}]`, input, out));
    } else {
      this.decodeElement(doc, input.topic, input, out);
    }
    return out;
  }

  private checkSensor(id: string | undefined, origin: string, out: Decoded, from: string): string | undefined {
    if (id === undefined || id === '') {
      const inPayload = this.sensorPath && this.config.format === 'json' ? `, and ${this.config.sensorPath} is missing from the payload` : '';
      out.problems.push({ origin, reason: `sensor: no sensor for this message: the pattern has no {sensor} level and no sensor has this source.topic${inPayload}` });
      return undefined;
    }
    const sensor = this.topology.sensors.get(id);
    if (!sensor) {
      out.problems.push({ origin, reason: `sensor: unknown sensor ${describe(id)} (from ${from})` });
      return undefined;
    }
    // A payload may name only sensors not bound elsewhere (review L4): a sensor with a source
    // address is written from that address alone, so broker ACLs on its topic hold.
    const bound = sensor.source;
    if (from !== 'topic' && bound && !(bound.type === 'mqtt' && (bound as { topic?: string }).topic === originTopic(origin))) {
      const where = bound.type === 'mqtt' ? `topic ${(bound as { topic?: string }).topic}` : `its ${bound.type} source address`;
      out.problems.push({ origin, reason: `sensor: ${describe(id)} (from ${from}) is read from ${where}, not named in payloads on this topic` });
      return undefined;
    }
    return id;
  }

  private decodeElement(el: unknown, origin: string, input: DecodeInput, out: Decoded): void {
    const c = this.config;
    if (el === null || typeof el !== 'object') {
      if (this.valuePath.length > 0) {
        out.problems.push({ origin, reason: `value: expected a JSON object with ${c.valuePath}, got ${describe(el)}` });
        return;
      }
    }
    let sensor = input.topicSensor;
    let from = 'topic';
    if (sensor === undefined && this.sensorPath) {
      const s = getPath(el, this.sensorPath);
      if (s !== undefined && s !== null) { sensor = String(s); from = c.sensorPath!; }
    }
    const id = this.checkSensor(sensor, origin, out, from);
    if (id === undefined) return;

    const rawValue = getPath(el, this.valuePath);
    if (rawValue === undefined || rawValue === null) {
      out.problems.push({ origin, reason: `value: ${c.valuePath || '(payload)'} is missing` });
      return;
    }
    const value = toNumber(rawValue);
    if (value === undefined) {
      out.problems.push({ origin, reason: `value: ${c.valuePath || '(payload)'} is not a number: ${describe(rawValue)}` });
      return;
    }

    let ts: number;
    if (this.timePath) {
      const t = this.parseTime(getPath(el, this.timePath));
      if (typeof t === 'string') {
        out.problems.push({ origin, reason: `ts: ${c.timePath} ${t}` });
        return;
      }
      ts = t;
    } else {
      ts = this.now();
    }

    let quality: Quality = 'good';
    if (this.qualityPath) {
      const q = getPath(el, this.qualityPath);
      if (q !== undefined && q !== null) {
        const mapped = qualityFromAny(q);
        if (!mapped) {
          out.problems.push({ origin, reason: `quality: ${c.qualityPath} is not good/uncertain/bad, 0/1/2 or an OPC quality code: ${describe(q)}` });
          return;
        }
        quality = mapped;
      }
    }

    const reading: RawReading = { sensor: id, ts, value, quality };
    if (this.unitPath) {
      const u = getPath(el, this.unitPath);
      if (typeof u === 'string' && u !== '') reading.unit = u;
      else if (u !== undefined && u !== null) {
        out.problems.push({ origin, reason: `unit: ${c.unitPath} is not a unit name: ${describe(u)}` });
        return;
      }
    }
    out.readings.push(reading);
  }

  /** The time in ms, or the reason it is not one. */
  private parseTime(t: unknown): number | string {
    if (t === undefined || t === null) return 'is missing';
    const format = this.config.timeFormat;
    if (format === 'iso') {
      if (typeof t !== 'string') return `is not an ISO 8601 string: ${describe(t)}`;
      const ms = Date.parse(t);
      return Number.isFinite(ms) ? ms : `is not an ISO 8601 time: ${describe(t)}`;
    }
    const n = typeof t === 'number' ? t : typeof t === 'string' && t.trim() !== '' ? Number(t) : NaN;
    if (!Number.isFinite(n)) return `is not epoch ${format === 's' ? 'seconds' : 'milliseconds'}: ${describe(t)}`;
    return format === 's' ? Math.round(n * 1000) : n;
  }
}

/** The topic of an origin (`topic` or `topic[i]` for an array element). */
export function originTopic(origin: string): string {
  return origin.replace(/\[\d+\]$/, '');
}
