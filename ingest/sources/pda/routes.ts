/**
 * `POST /api/v1/pda/readings`: handheld meter readers upload customer meter readings in batches,
 * often hours after reading and sometimes twice. Each item is answered on its own (accepted,
 * duplicate or rejected with field and reason); only a malformed envelope fails the request.
 *
 * The answer is sent after `ctx.submit` resolves, i.e. when the accepted readings are durable: a PDA
 * may delete what the answer calls accepted or duplicate, and must re-send the batch on any non-200.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RawReading, Quality } from '../../../core/model/reading.ts';
import type { PdaSourceConfig } from './config.ts';
import { HashedTokenList, anyVerifier, type TokenVerifier } from '../../../core/state/device-tokens.ts';
import { BackpressureError } from '../../pipeline/contract.ts';
import type { SourceContext } from '../types.ts';
import { checkItemShape, csvBodyToItems, CsvBodyError, parseItemTime, type PdaItem } from './items.ts';
import { RecentMeterReadings, type MeterValue } from './recent.ts';
import type { LastReadingLookup, StoredReadingsLookup } from './lookups.ts';
import type { PdaCorrection, PdaCorrectionLog } from './corrections.ts';
import type { Topology } from '../../../core/topology/topology.ts';

export const PDA_READINGS_PATH = '/api/v1/pda/readings';
const DAY_MS = 86_400_000;

export interface PdaRoutesOptions {
  ctx: SourceContext;
  /** Tokens issued by the server (DeviceTokenStore). Tokens in `config.devices` are accepted as well. */
  tokens?: TokenVerifier;
  config: PdaSourceConfig;
  /** The last stored reading of each meter (meterLookupsFromStore(store).lastReading). */
  lastReading: LastReadingLookup;
  /** Stored readings of the meters in [from, to); lets a re-sent older reading be told apart as a duplicate. */
  storedReadings?: StoredReadingsLookup;
  /** Source name given to ctx.submit and ctx.reject. */
  sourceName?: string;
  /** Where accepted corrections (items that replace a stored reading) are recorded. */
  corrections: Pick<PdaCorrectionLog, 'record'>;
}

/**
 * The meters each device may write (sources.pda.routes), or undefined when no routes are
 * configured (any device, any meter). Throws naming a route's meter or DMA the topology lacks.
 */
export function metersByDevice(config: PdaSourceConfig, topology: Topology): Map<string, Set<string>> | undefined {
  if (config.routes.length === 0) return undefined;
  const byDma = new Map<string, string[]>();
  for (const m of topology.meters.values()) {
    if (m.dma) byDma.set(m.dma, [...(byDma.get(m.dma) ?? []), m.id]);
  }
  const out = new Map<string, Set<string>>();
  config.routes.forEach((route, i) => {
    const meters: string[] = [];
    route.meters.forEach((m, k) => {
      if (!topology.meters.has(m)) throw new Error(`sources.pda.routes[${i}].meters[${k}]: unknown meter ${m}`);
      meters.push(m);
    });
    route.dmas.forEach((d, k) => {
      if (!topology.dmas.has(d)) throw new Error(`sources.pda.routes[${i}].dmas[${k}]: unknown DMA ${d}`);
      meters.push(...(byDma.get(d) ?? []));
    });
    for (const device of route.devices) {
      const set = out.get(device) ?? new Set<string>();
      for (const m of meters) set.add(m);
      out.set(device, set);
    }
  });
  return out;
}

export type ItemStatus = 'accepted' | 'duplicate' | 'rejected';
export type ItemFlag = 'rollback' | 'replaces';

export interface ItemResult {
  index: number;
  meter?: string;
  status: ItemStatus;
  flags?: ItemFlag[];
  field?: string;
  reason?: string;
}

export interface UploadAnswer {
  deviceId: string;
  readerId?: string;
  totals: { items: number; accepted: number; duplicates: number; rejected: number; flagged: number };
  items: ItemResult[];
}

const itemResultSchema = {
  type: 'object',
  required: ['index', 'status'],
  properties: {
    index: { type: 'integer' },
    meter: { type: 'string' },
    status: { type: 'string', enum: ['accepted', 'duplicate', 'rejected'] },
    flags: { type: 'array', items: { type: 'string', enum: ['rollback', 'replaces'] } },
    field: { type: 'string' },
    reason: { type: 'string' },
  },
} as const;

const errorSchema = {
  type: 'object',
  properties: { error: { type: 'string' }, field: { type: 'string' }, reason: { type: 'string' }, retryAfterS: { type: 'integer' } },
} as const;

const envelopeSchema = {
  type: 'object',
  required: ['readings'],
  properties: {
    readerId: { type: 'string', minLength: 1, maxLength: 128 },
    deviceId: { type: 'string', minLength: 1, maxLength: 128 },
    // Items are checked one by one in the handler (zod), so that one bad item does not fail the batch.
    readings: { type: 'array', items: {} },
  },
} as const;

/** Maps the pipeline's field names (RawReading) to the PDA's. */
const PIPELINE_FIELD: Record<string, string> = { sensor: 'meter', ts: 'time', value: 'reading', unit: 'reading', quality: 'reading' };

interface Known extends MeterValue {
  /** Index of the batch item it came from; undefined for readings already stored. */
  item?: number;
}

function iso(ts: number): string {
  return new Date(ts).toISOString();
}

export async function pdaRoutes(app: FastifyInstance, opts: PdaRoutesOptions): Promise<void> {
  const { ctx, config } = opts;
  if (!config.enabled) return;
  if (!opts.corrections) throw new Error('pdaRoutes: a correction log is required (corrections)');
  const source = opts.sourceName ?? 'pda';
  const verifier = anyVerifier(opts.tokens, config.devices.length ? new HashedTokenList(config.devices) : undefined);
  const recent = new RecentMeterReadings();
  const scope = metersByDevice(config, ctx.topology);
  if (!scope) ctx.log.warn('sources.pda.routes is empty: every PDA device token may write every customer meter');
  const devices = new WeakMap<FastifyRequest, string>();
  // A JSON item is about 100 bytes; 512 per item is generous and still stops a broken client early.
  const bodyLimit = Math.max(1 << 20, config.maxItems * 512);

  // Uploads are handled one at a time, so a batch sent twice in parallel is still answered `duplicate`.
  let queue: Promise<unknown> = Promise.resolve();
  /** Uploads taken and not yet answered: the one being handled and those waiting behind it. */
  let queued = 0;
  const queuedGauge = ctx.metrics.gauge('aquawatch_pda_uploads_queued', 'PDA uploads taken and not yet answered (one handled, the rest waiting)', []);
  const serially = <T>(fn: () => Promise<T>): Promise<T> => {
    queuedGauge.set(++queued);
    const run = queue.then(fn, fn).finally(() => { queuedGauge.set(--queued); });
    queue = run.catch(() => undefined);
    return run;
  };

  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit }, (_req, body, done) => done(null, body));

  // fastify's own refusals (bad JSON, body too large, unknown content type) in this route's format.
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const status = err.statusCode ?? 500;
    if (status >= 500) {
      ctx.log.error({ err }, 'pda upload failed');
      return reply.code(500).send({ error: 'internal error', reason: 'the upload was not stored; re-send it later' });
    }
    const error = status === 413 ? 'too large' : status === 415 ? 'unsupported media type' : 'bad request';
    const reason = status === 415 ? `${err.message}; send application/json or text/csv` : err.message;
    return reply.code(status).send({ error, field: 'body', reason });
  });

  app.post(PDA_READINGS_PATH, {
    bodyLimit,
    attachValidation: true,
    schema: {
      summary: 'Upload a batch of customer meter readings from a PDA',
      headers: { type: 'object', properties: { authorization: { type: 'string' } } },
      querystring: { type: 'object', properties: { readerId: { type: 'string', minLength: 1, maxLength: 128 } } },
      body: { content: { 'application/json': { schema: envelopeSchema }, 'text/csv': { schema: { type: 'string' } } } },
      response: {
        200: {
          type: 'object',
          properties: {
            deviceId: { type: 'string' },
            readerId: { type: 'string' },
            totals: {
              type: 'object',
              properties: { items: { type: 'integer' }, accepted: { type: 'integer' }, duplicates: { type: 'integer' }, rejected: { type: 'integer' }, flagged: { type: 'integer' } },
            },
            items: { type: 'array', items: itemResultSchema },
          },
        },
        '4xx': errorSchema,
        503: errorSchema,
      },
    },
    // Authenticate before the body is read: an unknown device gets nothing parsed or stored.
    onRequest: async (req, reply) => {
      const header = req.headers.authorization;
      const m = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
      const deviceId = m ? verifier.verify(m[1]) : undefined;
      if (!deviceId) {
        ctx.log.warn({ ip: req.ip, reason: m ? 'unknown token' : 'no bearer token' }, 'pda upload refused');
        return reply.code(401).header('www-authenticate', 'Bearer realm="aquawatch-pda"').send({
          error: 'unauthorized',
          reason: m ? 'unknown or revoked device token' : 'missing Authorization: Bearer <device token>',
        });
      }
      devices.set(req, deviceId);
    },
  }, async (req, reply) => {
    const deviceId = devices.get(req)!;
    if (req.validationError) {
      const v = req.validationError as Error & { validation?: { instancePath?: string }[] };
      const at = v.validation?.[0]?.instancePath?.replace(/^\//, '').replace(/\//g, '.') || 'body';
      return reply.code(400).send({ error: 'bad request', field: at, reason: v.message });
    }

    let rawItems: unknown[];
    let readerId: string | undefined = (req.query as { readerId?: string }).readerId;
    if (typeof req.body === 'string') {
      try {
        rawItems = csvBodyToItems(req.body);
      } catch (e) {
        if (e instanceof CsvBodyError) return reply.code(400).send({ error: 'bad request', field: 'body', reason: e.message.replace(/^body: /, '') });
        throw e;
      }
    } else {
      const body = req.body as { readerId?: string; deviceId?: string; readings: unknown[] };
      if (body.deviceId !== undefined && body.deviceId !== deviceId) {
        return reply.code(403).send({ error: 'forbidden', field: 'deviceId', reason: `${body.deviceId} is not the device of this token` });
      }
      readerId = body.readerId ?? readerId;
      rawItems = body.readings;
    }
    if (rawItems.length > config.maxItems) {
      return reply.code(413).send({ error: 'too many items', field: 'readings', reason: `${rawItems.length} items; the limit is ${config.maxItems} per upload (sources.pda.maxItems)` });
    }

    if (queued > config.maxQueuedUploads) {
      // One slow upload (store lookups) must not let the bodies of all the others pile up in memory.
      ctx.log.warn({ deviceId, queued }, 'pda upload refused for now: too many uploads waiting');
      return reply.code(503).header('retry-after', String(config.retryAfterS))
        .send({ error: 'busy', reason: `${queued} uploads are waiting (sources.pda.maxQueuedUploads ${config.maxQueuedUploads}); nothing was stored, re-send the whole batch`, retryAfterS: config.retryAfterS });
    }
    try {
      const answer = await serially(() => handleUpload(deviceId, readerId, rawItems));
      return reply.code(200).send(answer);
    } catch (e) {
      if (e instanceof BackpressureError) {
        ctx.log.warn({ deviceId, items: rawItems.length, reason: e.message }, 'pda upload refused for now (outbox full, or the server clock behind)');
        return reply.code(503).header('retry-after', String(config.retryAfterS))
          .send({ error: 'busy', reason: `${e.message}; nothing was stored, re-send the whole batch`, retryAfterS: config.retryAfterS });
      }
      throw e;
    }
  });

  async function handleUpload(deviceId: string, readerId: string | undefined, rawItems: unknown[]): Promise<UploadAnswer> {
    const now = ctx.now();
    const oldest = now - config.maxAgeDays * DAY_MS;
    const results: ItemResult[] = rawItems.map((_, index) => ({ index, status: 'rejected' }));
    const candidates: { index: number; item: PdaItem; ts: number }[] = [];
    const reject = (index: number, field: string, reason: string) => Object.assign(results[index], { status: 'rejected', field, reason });

    // 1. Each item on its own: shape, meter, time window.
    rawItems.forEach((raw, index) => {
      const shape = checkItemShape(raw);
      if (!shape.ok) {
        const meter = (raw as { meter?: unknown } | null)?.meter;
        if (typeof meter === 'string') results[index].meter = meter;
        return reject(index, shape.field, shape.reason);
      }
      const { item } = shape;
      results[index].meter = item.meter;
      if (!ctx.topology.meters.has(item.meter)) return reject(index, 'meter', `unknown meter ${item.meter}`);
      if (scope && !scope.get(deviceId)?.has(item.meter)) return reject(index, 'meter', `${item.meter} is not on a route of device ${deviceId} (sources.pda.routes)`);
      const t = parseItemTime(item.time);
      if (!t.ok) return reject(index, 'time', t.reason);
      if (t.ts < oldest) {
        return reject(index, 'time', `${iso(t.ts)} is ${Math.floor((now - t.ts) / DAY_MS)} days ago; older than the ${config.maxAgeDays}-day limit (sources.pda.maxAgeDays)`);
      }
      // A time ahead of the server clock is the pipeline's to judge (ingest.maxFutureMs): the PDA's
      // clock wrong (rejected), or the server's, when most sensors agree (503, held for a retry).
      candidates.push({ index, item, ts: t.ts });
    });

    // 2. What is known of these meters: the last stored reading, stored readings in the batch's
    //    time range, and what this process accepted moments ago (maybe not yet in the store).
    const meterIds = [...new Set(candidates.map((c) => c.item.meter))];
    const known = new Map<string, Known[]>(meterIds.map((m) => [m, []]));
    const remember = (meter: string, k: Known) => {
      const list = known.get(meter)!;
      if (k.item === undefined && list.some((x) => x.ts === k.ts && x.item === undefined)) return;
      list.push(k);
    };
    if (meterIds.length) {
      const last = await opts.lastReading(meterIds);
      for (const [meter, v] of last) if (known.has(meter)) remember(meter, { ts: v.ts, value: v.value });
      if (opts.storedReadings) {
        const from = Math.min(...candidates.map((c) => c.ts));
        const to = Math.max(...candidates.map((c) => c.ts)) + 1;
        for (const [meter, list] of await opts.storedReadings(meterIds, from, to)) {
          if (known.has(meter)) for (const v of list) remember(meter, { ts: v.ts, value: v.value });
        }
      }
      for (const meter of meterIds) for (const v of recent.get(meter)) remember(meter, { ts: v.ts, value: v.value });
    }

    // 3. Duplicates and rollbacks, item by item in upload order (an item is compared with the
    //    stored readings and with the batch items before it).
    const toSubmit: RawReading[] = [];
    const submittedIndex: number[] = [];
    const corrections = new Map<number, PdaCorrection>();
    for (const { index, item, ts } of candidates) {
      const list = known.get(item.meter)!;
      const res = results[index];
      const sameTime = list.filter((k) => k.ts === ts);
      const fromBatch = sameTime.find((k) => k.item !== undefined);
      if (fromBatch) {
        if (fromBatch.value === item.reading) {
          Object.assign(res, { status: 'duplicate', reason: `same meter, time and reading as item ${fromBatch.item}` });
        } else {
          reject(index, 'reading', `${item.reading} m³ conflicts with item ${fromBatch.item} (${fromBatch.value} m³ for the same meter and time)`);
        }
        continue;
      }
      const stored = sameTime.find((k) => k.item === undefined);
      if (stored && stored.value === item.reading) {
        Object.assign(res, { status: 'duplicate', reason: 'already stored' });
        // Still part of this batch: a later item with another value for this time conflicts with it.
        list.push({ ts, value: item.reading, item: index });
        continue;
      }
      const flags: ItemFlag[] = [];
      const notes: string[] = [];
      if (stored) {
        // The store would overwrite the same series and time: only an explicit correction may, and
        // it is recorded (who, when, the value before).
        if (!item.correction) {
          reject(index, 'reading', `${stored.value} m³ is stored for this meter and time; send the item with "correction": true to replace it`);
          continue;
        }
        flags.push('replaces');
        notes.push(`replaces the stored ${stored.value} m³ at the same time`);
        corrections.set(index, { at: now, deviceId, readerId: item.readerId ?? readerId, meter: item.meter, ts, previous: stored.value, value: item.reading });
      }
      // A cumulative register never runs backwards: compare with the nearest readings before and
      // after in time (an old reading uploaded late is lower than the last one, and that is fine).
      let before: Known | undefined;
      let after: Known | undefined;
      for (const k of list) {
        if (k.ts < ts && (!before || k.ts > before.ts)) before = k;
        if (k.ts > ts && (!after || k.ts < after.ts)) after = k;
      }
      let rollback: string | undefined;
      if (before && item.reading < before.value) {
        rollback = `lower than ${before.value} m³ read at ${iso(before.ts)} (mistyped reading or meter replaced?)`;
      } else if (after && item.reading > after.value) {
        rollback = `higher than ${after.value} m³ read later, at ${iso(after.ts)} (mistyped reading or meter replaced?)`;
      }
      if (rollback) {
        flags.push('rollback');
        notes.push(rollback);
      }
      // Accepted but marked: the value is kept, and analytics and customer service see it is doubtful.
      const quality: Quality = rollback ? 'uncertain' : 'good';
      Object.assign(res, { status: 'accepted', ...(flags.length ? { flags, reason: notes.join('; ') } : {}) });
      list.push({ ts, value: item.reading, item: index });
      submittedIndex.push(index);
      toSubmit.push({ sensor: item.meter, ts, value: item.reading, quality });
    }

    // 4. Make the accepted readings durable (BackpressureError propagates: nothing is claimed).
    if (toSubmit.length) {
      const result = await ctx.submit(source, toSubmit);
      for (const r of result.rejected) {
        const index = submittedIndex[r.index];
        // Kept in the dead-letter table by the pipeline already; only the answer changes.
        results[index] = { index, meter: results[index].meter, status: 'rejected', field: PIPELINE_FIELD[r.field] ?? r.field, reason: r.reason };
      }
      toSubmit.forEach((r, k) => {
        if (results[submittedIndex[k]].status === 'accepted') recent.add(r.sensor, { ts: r.ts, value: r.value });
      });
      opts.corrections.record([...corrections].filter(([index]) => results[index].status === 'accepted').map(([, c]) => c));
    }

    // 5. Keep what was refused here for inspection (after submit: a 503 must not dead-letter twice),
    //    all of the upload in one commit.
    const pipelineRejected = new Set(submittedIndex);
    ctx.reject(source, results.filter((res) => res.status === 'rejected' && !pipelineRejected.has(res.index)).map((res) => ({
      origin: `pda device ${deviceId}${readerId ? ` reader ${readerId}` : ''} item ${res.index}`,
      reason: `${res.field}: ${res.reason}`,
      raw: safeJson(rawItems[res.index]),
    })));

    const totals = { items: results.length, accepted: 0, duplicates: 0, rejected: 0, flagged: 0 };
    for (const r of results) {
      if (r.status === 'accepted') totals.accepted++;
      else if (r.status === 'duplicate') totals.duplicates++;
      else totals.rejected++;
      if (r.flags?.includes('rollback')) totals.flagged++;
    }
    ctx.log.info({ deviceId, readerId, ...totals }, 'pda upload');
    return { deviceId, ...(readerId ? { readerId } : {}), totals, items: results };
  }
}

function safeJson(v: unknown): string {
  try {
    return (JSON.stringify(v) ?? String(v)).slice(0, 2000);
  } catch {
    return String(v).slice(0, 2000);
  }
}
