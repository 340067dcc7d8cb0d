/**
 * Fuzz suite (README.md beside this file): every parser of outside input, with random and mutated
 * inputs; oracles: no crash, ≤ MAX_MS_PER_INPUT per input, each bad item refused with its reason,
 * good items kept.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { topologySchema } from '../../core/config/schema.ts';
import { Topology } from '../../core/topology/topology.ts';
import { checkTelemetry, encodeTelemetry } from '../../core/bus/messages/telemetry.ts';
import { checkActiveConditions, checkBusCondition } from '../../core/bus/messages/condition.ts';
import { checkOfflineSensors, OFFLINE_SENSORS_LISTED } from '../../core/bus/messages/status.ts';
import type { Reading } from '../../core/model/reading.ts';
import { PayloadDecoder } from '../../ingest/sources/mqtt/decode.ts';
import { topicPatternSchema } from '../../ingest/sources/mqtt/config.ts';
import { checkItemShape, csvBodyToItems, CsvBodyError, parseItemTime } from '../../ingest/sources/pda/items.ts';
import { parseDecimalText } from '../../ingest/sources/common/decimal-text.ts';
import { timestampReader } from '../../ingest/sources/csv/timestamps.ts';
import { decodePayload, metricValue } from '../../ingest/sources/sparkplug/payload.ts';
import { FuzzFigureCounter } from './figures.ts';

/** The bound per input (issue #11 §6). */
const MAX_MS_PER_INPUT = 100;
const RUNS = 300;
const NOW = Date.parse('2026-12-01T08:00:00Z');

const figures = new FuzzFigureCounter();
beforeEach(({ onTestFailed }) => onTestFailed(() => figures.propertyFailed()));
afterAll(() => { figures.report(); });

/**
 * Run one input through `parse`, timed. An input over the bound is timed once more (a GC or a
 * scheduler pause on a shared machine is not the parser's); a parser slow by nature fails both.
 * `items`: a body of that many records parsed at once (a CSV upload) is bounded per record.
 */
function timed<T>(parse: () => T, items = 1): T {
  figures.input();
  let t0 = performance.now();
  const out = parse();
  let ms = (performance.now() - t0) / items;
  if (ms > MAX_MS_PER_INPUT) {
    t0 = performance.now();
    try { parse(); } catch { /* the same answer as the first time */ }
    ms = Math.min(ms, (performance.now() - t0) / items);
  }
  figures.took(ms);
  if (ms > MAX_MS_PER_INPUT) throw new Error(`one input took ${ms.toFixed(1)} ms (bound ${MAX_MS_PER_INPUT} ms)`);
  return out;
}

const SENSORS = ['P-1', 'F-1', 'CL-1'];
const topology = new Topology(topologySchema.parse({
  sites: [{ id: 'S' }], dmas: [{ id: 'D' }],
  sensors: SENSORS.map((id, i) => ({ id, kind: (['pressure', 'flow', 'chlorine'] as const)[i], site: 'S', dma: 'D' })),
}));

/**
 * Text a device could send: printable, unicode, control characters, and the long digit runs that
 * trip a backtracking regex (up to 20,000 characters: a quadratic pattern takes about 0.4 s on
 * that, a linear one well under a millisecond; a PDA CSV record is at most 64 KiB).
 */
const hostileText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 50 }),
  fc.integer({ min: 1, max: 20_000 }).map((n) => `${'9'.repeat(n)}x`),
  fc.integer({ min: 1, max: 20_000 }).map((n) => `1.${'0'.repeat(n)}e`),
  fc.constantFrom('', ' ', '__proto__', 'constructor', 'NaN', 'Infinity', '-0', '1e999', '0x10', '١٢٣', '\u0000', '"', ',', '\r\n'),
);
/** CSV cells: the same, with runs of up to 8,000 characters (csv-parse itself costs about 1 µs a character here). */
const hostileCell = fc.oneof(hostileText.filter((t) => t.length <= 200), fc.integer({ min: 1, max: 8000 }).map((n) => `${'9'.repeat(n)}x`));
const anyJson = fc.oneof(fc.jsonValue({ maxDepth: 6 }), fc.object({ maxDepth: 4 }), hostileText);

describe('MQTT JSON decoder', () => {
  const decoder = new PayloadDecoder(topicPatternSchema.parse({ pattern: 'sensors/{sensor}', valuePath: 'value', timePath: 'ts', qualityPath: 'q' }), topology, () => NOW);
  const bySensorPath = new PayloadDecoder(topicPatternSchema.parse({ pattern: 'batch', sensorPath: 'id', valuePath: 'v', timePath: 't', timeFormat: 'iso' }), topology, () => NOW);

  it('never throws on any payload, answers in bounded time, and refuses what it cannot read with a reason', () => {
    fc.assert(fc.property(fc.oneof(anyJson.map((j) => JSON.stringify(j) ?? ''), fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b).toString('latin1')), hostileText), fc.constantFrom(...SENSORS, 'NOPE', ''), (text, sensor) => {
      for (const d of [decoder, bySensorPath]) {
        const out = timed(() => d.decode({ topic: `sensors/${sensor}`, payload: Buffer.from(text), topicSensor: d === decoder ? sensor : undefined }));
        for (const p of out.problems) expect(p.reason.length).toBeGreaterThan(0);
        for (const r of out.readings) {
          expect(SENSORS).toContain(r.sensor);
          expect(Number.isFinite(r.value)).toBe(true);
        }
        if (text.trim() !== '[]') expect(out.readings.length + out.problems.length).toBeGreaterThan(0);
      }
    }), { numRuns: RUNS });
  });

  it('in an array of good and bad elements, keeps every good one as sent and refuses each bad one with its reason', () => {
    const good = fc.record({ value: fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), ts: fc.integer({ min: NOW - 86_400_000, max: NOW }), q: fc.constantFrom('good', 'uncertain', 'bad') });
    const bad = fc.oneof(
      // numeric text ("12.5", "0") is a number to this decoder: the bad ones are not
      fc.record({ value: fc.oneof(fc.constantFrom('high', 'n/a', ''), fc.constant(null), fc.object()), ts: fc.integer({ min: NOW - 86_400_000, max: NOW }) }),
      fc.record({ value: fc.double({ noNaN: true, noDefaultInfinity: true }), ts: fc.oneof(fc.constantFrom('yesterday', 'x1', ''), fc.constant(null), fc.boolean()) }),
      fc.oneof(fc.integer(), fc.string(), fc.constant(null)),
    );
    fc.assert(fc.property(fc.array(fc.oneof(good.map((g) => ({ good: true as const, el: g })), bad.map((b) => ({ good: false as const, el: b }))), { maxLength: 200 }), (items) => {
      const out = timed(() => decoder.decode({ topic: 'sensors/P-1', payload: Buffer.from(JSON.stringify(items.map((i) => i.el))), topicSensor: 'P-1' }));
      const goods = items.filter((i) => i.good).map((i) => i.el as { value: number; ts: number; q: string });
      // JSON writes -0 as 0
      expect(out.readings).toEqual(goods.map((g) => ({ sensor: 'P-1', ts: g.ts, value: g.value === 0 ? 0 : g.value, quality: g.q })));
      expect(out.problems.length).toBe(items.length - goods.length);
      for (const p of out.problems) expect(p.reason).toMatch(/^(value|ts|quality|sensor): /);
    }), { numRuns: RUNS });
  });
});

describe('Sparkplug B payloads', () => {
  it('random bytes and mutated valid payloads: decoded or refused with an error, never a crash; every metric read as a number, a null or a reason', async () => {
    const spb = (await import('sparkplug-payload')).get('spBv1.0')!;
    const metric = fc.oneof(
      fc.record({ name: fc.string({ maxLength: 20 }), type: fc.constant('Double'), value: fc.double() }),
      fc.record({ name: fc.string({ maxLength: 20 }), type: fc.constant('Float'), value: fc.float() }),
      fc.record({ name: fc.string({ maxLength: 20 }), type: fc.constantFrom('Int32', 'UInt32'), value: fc.integer({ min: 0, max: 2 ** 31 - 1 }) }),
      fc.record({ name: fc.string({ maxLength: 20 }), type: fc.constantFrom('Int64', 'UInt64'), value: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }).map(Number) }),
      fc.record({ name: fc.string({ maxLength: 20 }), type: fc.constant('Boolean'), value: fc.boolean() }),
      fc.record({ name: fc.string({ maxLength: 20 }), type: fc.constant('String'), value: fc.string() }),
    );
    const valid = fc.record({ timestamp: fc.integer({ min: 0, max: NOW }), seq: fc.integer({ min: 0, max: 255 }), metrics: fc.array(metric, { maxLength: 30 }) })
      .map((p) => Buffer.from(spb.encodePayload(p as never)));
    const mutated = fc.tuple(valid, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.option(fc.nat()))
      .map(([bytes, flips, cut]) => {
        const b = Buffer.from(bytes);
        for (const [at, v] of flips) if (b.length) b[at % b.length] = v;
        return cut === null || !b.length ? b : b.subarray(0, cut % b.length);
      });
    fc.assert(fc.property(fc.oneof(valid, mutated, fc.uint8Array({ maxLength: 4000 }).map((a) => Buffer.from(a))), (bytes) => {
      timed(() => {
        let payload;
        try { payload = decodePayload(bytes); } catch (e) {
          expect((e as Error).message.length).toBeGreaterThan(0); // the source dead-letters it with this reason
          return;
        }
        for (const m of payload.metrics ?? []) {
          const v = metricValue(String(m.name), m, 'S');
          if ('value' in v) expect(Number.isFinite(v.value)).toBe(true);
          else if ('reason' in v) expect(v.reason.length).toBeGreaterThan(0);
          else expect(v.isNull).toBe(true);
        }
      });
    }), { numRuns: RUNS });
  });
});

describe('PDA uploads', () => {
  const goodItem = fc.record({
    meter: fc.stringMatching(/^[A-Z]-[0-9]{1,6}$/),
    reading: fc.double({ min: 0, max: 1e7, noNaN: true }),
    time: fc.integer({ min: NOW - 30 * 86_400_000, max: NOW }),
  });

  it('JSON items: good ones kept as sent, each bad one refused with its field and reason', () => {
    fc.assert(fc.property(fc.oneof(goodItem, anyJson), (raw) => {
      const c = timed(() => checkItemShape(raw));
      if (c.ok) {
        expect(c.item).toEqual(raw);
        expect(Number.isFinite(c.item.reading) && c.item.reading >= 0).toBe(true);
        const t = timed(() => parseItemTime(c.item.time));
        if (!t.ok) expect(t.reason.length).toBeGreaterThan(0);
      } else {
        expect(c.field.length).toBeGreaterThan(0);
        expect(c.reason.length).toBeGreaterThan(0);
      }
    }), { numRuns: RUNS });
  });

  it('CSV bodies: any text is items or a CsvBodyError, in bounded time (long cells included); well-formed rows come back as sent', () => {
    fc.assert(fc.property(fc.array(fc.array(hostileCell, { maxLength: 3 }), { maxLength: 20 }), (rows) => {
      const text = ['meter,reading,time', ...rows.map((r) => r.join(','))].join('\n');
      try { timed(() => csvBodyToItems(text), rows.length + 1); } catch (e) {
        if (!(e instanceof CsvBodyError)) throw e;
        expect(e.message).toMatch(/^body: /);
      }
    }), { numRuns: RUNS });
    fc.assert(fc.property(fc.array(goodItem, { minLength: 1, maxLength: 50 }), (items) => {
      const text = ['meter,reading,time', ...items.map((i) => `${i.meter},${i.reading},${i.time}`)].join('\r\n');
      expect(timed(() => csvBodyToItems(`\uFEFF${text}`))).toEqual(items);
    }), { numRuns: RUNS });
  });
});

describe('CSV import cells', () => {
  it('numbers and timestamps of every format: a value or a reason, in bounded time; well-formed ones read back exactly', () => {
    const readers = [timestampReader('iso', 'Asia/Shanghai'), timestampReader('epoch-ms'), timestampReader('epoch-s'), timestampReader('YYYY-MM-DD HH:mm:ss', 'Europe/Berlin')];
    fc.assert(fc.property(hostileText, (cell) => {
      // NaN when not a number; ±Infinity for "1e999", which the pipeline then refuses as not finite
      expect(typeof timed(() => parseDecimalText(cell))).toBe('number');
      for (const read of readers) {
        const r = timed(() => read(cell));
        if (r.ok) expect(Number.isFinite(r.utc)).toBe(true);
        else expect(r.reason.length).toBeGreaterThan(0);
      }
    }), { numRuns: RUNS });
    fc.assert(fc.property(fc.integer({ min: 946_684_800_000, max: 4_102_444_800_000 }), fc.double({ min: -1e9, max: 1e9, noNaN: true }), (ms, x) => {
      expect(timed(() => readers[1](String(ms)))).toMatchObject({ ok: true, utc: ms });
      expect(timed(() => readers[0](new Date(ms).toISOString()))).toMatchObject({ ok: true, utc: ms });
      expect(timed(() => parseDecimalText(String(x)))).toBe(Number(String(x)));
    }), { numRuns: RUNS });
  });
});

describe('OPC UA DataValue variants', () => {
  it('every type, array, bigint, NaN, null and status code: a reading with a finite value, or a reason', async () => {
    const { DataValue, Variant, DataType, VariantArrayType, StatusCodes } = await import('node-opcua');
    const { toRawReading } = await import('../../ingest/sources/opcua/values.ts');
    const statuses = Object.values(StatusCodes).filter((s) => typeof s === 'object' && s !== null && 'value' in s).slice(0, 200);
    const scalar = fc.oneof(
      fc.record({ dataType: fc.constant(DataType.Double), value: fc.double() }),
      fc.record({ dataType: fc.constant(DataType.Float), value: fc.float() }),
      fc.record({ dataType: fc.constant(DataType.Int32), value: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) }),
      fc.record({ dataType: fc.constant(DataType.Int64), value: fc.tuple(fc.nat({ max: 2 ** 32 - 1 }), fc.nat({ max: 2 ** 32 - 1 })) }),
      fc.record({ dataType: fc.constant(DataType.UInt64), value: fc.tuple(fc.nat({ max: 2 ** 32 - 1 }), fc.nat({ max: 2 ** 32 - 1 })) }),
      fc.record({ dataType: fc.constant(DataType.Boolean), value: fc.boolean() }),
      fc.record({ dataType: fc.constant(DataType.String), value: fc.string() }),
      fc.record({ dataType: fc.constant(DataType.Null), value: fc.constant(null) }),
    );
    const variant = fc.oneof(
      scalar.map((v) => new Variant({ ...v, arrayType: VariantArrayType.Scalar } as never)),
      fc.array(fc.double(), { maxLength: 5 }).map((a) => new Variant({ dataType: DataType.Double, arrayType: VariantArrayType.Array, value: a })),
      fc.constant(undefined),
    );
    fc.assert(fc.property(variant, fc.constantFrom(...statuses), fc.option(fc.date({ noInvalidDate: true })), (value, statusCode, sourceTimestamp) => {
      const dv = new DataValue({ value, statusCode: statusCode as never, sourceTimestamp: sourceTimestamp ?? undefined });
      const r = timed(() => toRawReading('P-1', dv, () => NOW));
      if ('reading' in r) {
        expect(Number.isFinite(r.reading.value)).toBe(true);
        expect(['good', 'uncertain', 'bad']).toContain(r.reading.quality);
      } else expect(r.reason.length).toBeGreaterThan(0);
    }), { numRuns: RUNS });
  });
});

describe('bus messages (what the analytics worker and the live gateway accept)', () => {
  const clock = { now: () => NOW, maxFutureMs: 5 * 60_000 };
  const reading = fc.record({
    sensor: fc.constantFrom(...SENSORS),
    ts: fc.integer({ min: NOW - 86_400_000, max: NOW + 5 * 60_000 }),
    value: fc.double({ noNaN: true, noDefaultInfinity: true }),
    quality: fc.constantFrom('good' as const, 'uncertain' as const, 'bad' as const),
  });

  it('telemetry ingest publishes comes back exactly; future readings are left out one by one; anything else is refused with a reason', () => {
    fc.assert(fc.property(fc.array(reading, { maxLength: 100 }), fc.array(fc.integer({ min: 1, max: 1e9 }), { maxLength: 5 }), (readings, ahead) => {
      const future: Reading[] = ahead.map((a) => ({ sensor: 'P-1', ts: NOW + 5 * 60_000 + a, value: 1, quality: 'good' }));
      const r = timed(() => checkTelemetry(encodeTelemetry([...readings, ...future]), clock));
      expect(r).toEqual({ ok: true, readings: readings.map((x) => ({ ...x, value: Object.is(x.value, -0) ? 0 : x.value })), future: future.length });
    }), { numRuns: RUNS });
    fc.assert(fc.property(fc.oneof(anyJson.map((j) => JSON.stringify(j) ?? ''), fc.uint8Array({ maxLength: 500 }).map((b) => Buffer.from(b).toString('latin1')), hostileText), (text) => {
      const r = timed(() => checkTelemetry(text, clock));
      if (!r.ok) expect(r.detail.length).toBeGreaterThan(0);
      else for (const x of r.readings) expect(x.ts).toBeLessThanOrEqual(NOW + 5 * 60_000);
    }), { numRuns: RUNS });
  });

  it('conditions: only ingest\'s namespaces within the clock skew pass, with no extra keys or topic wildcards', () => {
    const condition = fc.record({
      id: fc.oneof(fc.constantFrom('ingest.outbox_full', 'opcua.session_lost:plant', 'burst:D', 'pressure_low:P-1'), fc.string()),
      type: fc.oneof(fc.constantFrom('ingest.outbox_full', 'source.silent', 'burst'), fc.string()),
      state: fc.oneof(fc.constantFrom('raise', 'update', 'clear'), fc.string()),
      ts: fc.oneof(fc.integer({ min: NOW - 1e9, max: NOW + 1e9 }), fc.double()),
      message: fc.string(),
      dma: fc.option(fc.oneof(fc.constant('D'), fc.string()), { nil: undefined }),
    }, { requiredKeys: ['id', 'type', 'state', 'ts', 'message'] });
    fc.assert(fc.property(fc.oneof(condition, anyJson), fc.constantFrom('aquawatch/v1/conditions/ingest', 'aquawatch/v1/conditions/x'), (c, topic) => {
      const r = timed(() => checkBusCondition(topic, JSON.stringify(c) ?? '', clock));
      if (r.ok) {
        expect(topic).toBe('aquawatch/v1/conditions/ingest');
        expect(r.condition.id).toMatch(/^(ingest|opcua|mqtt|sparkplug|pda|csv)\./);
        expect(r.condition.ts).toBeLessThanOrEqual(NOW + 5 * 60_000);
        expect(r.condition.dma ?? '').not.toMatch(/[#+/]/);
      } else expect(r.detail.length).toBeGreaterThan(0);
    }), { numRuns: RUNS });
    // a publisher's list of active conditions: every entry as above, and none a clear
    const list = fc.record({ ts: fc.oneof(fc.integer({ min: NOW - 1e9, max: NOW + 1e9 }), fc.double()), complete: fc.oneof(fc.boolean(), fc.string()), conditions: fc.array(fc.oneof(condition, anyJson), { maxLength: 5 }) });
    fc.assert(fc.property(fc.oneof(list, anyJson), fc.constantFrom('aquawatch/v1/conditions-active/ingest', 'aquawatch/v1/conditions-active/x'), (l, topic) => {
      const r = timed(() => checkActiveConditions(topic, JSON.stringify(l) ?? '', clock));
      if (r.ok) {
        expect(topic).toBe('aquawatch/v1/conditions-active/ingest');
        expect(r.active.ts).toBeLessThanOrEqual(NOW + 5 * 60_000);
        for (const c of r.active.conditions) {
          expect(c.id).toMatch(/^(ingest|opcua|mqtt|sparkplug|pda|csv)\./);
          expect(c.state).not.toBe('clear');
          expect(c.ts).toBeLessThanOrEqual(NOW + 5 * 60_000);
        }
      } else expect(r.detail.length).toBeGreaterThan(0);
    }), { numRuns: RUNS });
  });

  it('a source\'s offline list: only its own, within the clock skew, sensor ids without wildcards, at most the listed bound', () => {
    const group = fc.record({
      since: fc.oneof(fc.integer({ min: NOW - 1e9, max: NOW + 1e9 }), fc.double()),
      sensors: fc.array(fc.oneof(fc.constantFrom('P-1', 'F-1', 'a/#', ''), fc.string()), { maxLength: 5 }),
    });
    const list = fc.record({
      v: fc.oneof(fc.constant(1), anyJson), source: fc.oneof(fc.constantFrom('plant', 'other'), fc.string()),
      ts: fc.oneof(fc.integer({ min: NOW - 1e9, max: NOW + 1e9 }), fc.double()), complete: fc.oneof(fc.boolean(), fc.string()),
      offline: fc.array(fc.oneof(group, anyJson), { maxLength: 5 }),
    });
    fc.assert(fc.property(fc.oneof(list, anyJson), (l) => {
      const r = timed(() => checkOfflineSensors('aquawatch/v1/status-offline/plant', JSON.stringify(l) ?? '', clock));
      if (r.ok) {
        expect(r.offline.source).toBe('plant');
        expect(r.offline.ts).toBeLessThanOrEqual(NOW + 5 * 60_000);
        for (const g of r.offline.offline) {
          expect(g.since).toBeLessThanOrEqual(NOW + 5 * 60_000);
          for (const id of g.sensors) expect(id).toMatch(/^[A-Za-z0-9_.:-]+$/);
        }
      } else expect(r.detail.length).toBeGreaterThan(0);
    }), { numRuns: RUNS });
    // more sensors than a list may hold is refused whole, in time
    const many = { v: 1, source: 'plant', ts: NOW, complete: true, offline: [{ since: NOW, sensors: Array.from({ length: OFFLINE_SENSORS_LISTED + 1 }, (_, i) => `S-${i}`) }] };
    expect(timed(() => checkOfflineSensors('aquawatch/v1/status-offline/plant', JSON.stringify(many), clock))).toMatchObject({ ok: false, reason: 'shape' });
  });
});
