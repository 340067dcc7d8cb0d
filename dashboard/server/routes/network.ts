/** Site, area map, area states, sensor catalogue, history and the live KPI tiles. */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { LatestValue } from '../../../core/tsdb/types.ts';
import { API, type AnalysisStatus, type HealthState, type NetworkMap, type SensorInfo } from '../../contract/index.ts';
import { ApiError, type DashboardContext } from '../context.ts';
import { isActive } from '../area-state.ts';
import { serve, type ServeOptions } from '../schemas.ts';
import { checkPeriod } from './period.ts';
import { readHistory, HistoryQueryError, DEFAULT_HISTORY_POINTS } from '../history.ts';
import { clientGoneSignal } from './client-gone.ts';

export type { NetworkMap };

/** Reads the topology's map file: `{ links: [{ dma?, points: [[x, y], …] }] }`; errors name the field. */
export function readMapFile(file: string): NetworkMap['links'] {
  let doc: unknown;
  try { doc = JSON.parse(readFileSync(file, 'utf8')); } catch (e) { throw new Error(`topology.map ${file}: ${(e as Error).message}`); }
  const links = (doc as { links?: unknown }).links;
  if (!Array.isArray(links)) throw new Error(`topology.map ${file}: links: expected an array`);
  return links.map((l, i) => {
    const { dma, points } = l as { dma?: unknown; points?: unknown };
    if (!Array.isArray(points) || points.length < 2 || !points.every((p) => Array.isArray(p) && p.length === 2 && p.every(Number.isFinite))) {
      throw new Error(`topology.map ${file}: links[${i}].points: expected at least two [x, y] pairs`);
    }
    if (dma !== undefined && typeof dma !== 'string') throw new Error(`topology.map ${file}: links[${i}].dma: expected a DMA id`);
    return { ...(dma ? { dma } : {}), points: points as [number, number][] };
  });
}

export function buildMap(ctx: DashboardContext): NetworkMap {
  const t = ctx.topology;
  const links = t.config.map ? readMapFile(t.config.map) : [];
  const dmas = [...t.dmas.values()].map((d) => ({ id: d.id, name: d.name ?? d.id, ...(d.x !== undefined ? { x: d.x, y: d.y } : {}), customers: d.customers }));
  const sensors = t.networkSensors().map((s) => ({
    id: s.id, name: s.name ?? s.id, kind: s.kind, unit: s.canonicalUnit, site: s.site, dma: s.dma, place: s.place,
    ...(s.x !== undefined && s.y !== undefined ? { x: s.x, y: s.y } : {}),
    ...(s.thresholds ? { thresholds: s.thresholds } : {}),
  }));
  let minX = Infinity; let minY = Infinity; let maxX = -Infinity; let maxY = -Infinity;
  const add = (x?: number, y?: number) => {
    if (x === undefined || y === undefined) return;
    minX = Math.min(minX, x); minY = Math.min(minY, y); maxX = Math.max(maxX, x); maxY = Math.max(maxY, y);
  };
  for (const l of links) for (const [x, y] of l.points) add(x, y);
  for (const s of sensors) add(s.x, s.y);
  for (const d of dmas) add(d.x, d.y);
  // meters are drawn around on the incidents view: on the map, whatever the pipes' extent
  for (const m of t.meters.values()) add(m.x, m.y);
  const bounds = Number.isFinite(minX) ? { minX, minY, maxX, maxY } : { minX: 0, minY: 0, maxX: 1, maxY: 1 };
  return { dmas, sensors, links, bounds };
}

export function registerNetworkRoutes(app: FastifyInstance, ctx: DashboardContext, opts: ServeOptions = {}): void {
  serve(app, API.network.site, async () => ({
    name: ctx.config.site.name, timezone: ctx.config.site.timezone, mode: ctx.config.mode,
  }), opts);

  let map: NetworkMap | undefined;
  serve(app, API.network.map, async () => {
    // a broken map file is the server's configuration problem: a 500 whose message names the file
    try { map ??= buildMap(ctx); } catch (e) { throw new ApiError('internal', (e as Error).message); }
    return map;
  }, opts);

  serve(app, API.network.dmaStates, async () => ctx.area.dmaStates(), opts);

  serve(app, API.network.kpiSummary, async () => ctx.area.kpiSummary(), opts);

  serve(app, API.network.analysisStatus, async (): Promise<AnalysisStatus> => {
    const analytics = ctx.analytics();
    if (!analytics) return { status: 'not_running', busConnected: false, analysedUpTo: null, behindSeconds: null, problems: [] };
    const h = analytics.health();
    return {
      status: h.status, busConnected: h.busConnected, analysedUpTo: h.watermark === null ? null : Date.parse(h.watermark), behindSeconds: h.behindSeconds,
      // the codes and figures: the web app words them in the reader's language
      problems: h.problems.map(({ message: _words, ...problem }) => problem),
    };
  }, opts);

  serve(app, API.network.sensors, async () => {
    const sensors = ctx.topology.networkSensors();
    const byKind = new Map<string, string[]>();
    for (const s of sensors) byKind.set(s.kind, [...(byKind.get(s.kind) ?? []), s.id]);
    const latest = new Map<string, LatestValue>();
    await Promise.all([...byKind].map(async ([kind, ids]) => {
      for (const l of await ctx.store.latest(kind, ids).catch(() => [])) latest.set(l.sensor, l);
    }));
    const faults = new Map<string, { state: HealthState; since: number }>();
    for (const a of ctx.analytics()?.alarms.openAlarms() ?? []) {
      if (!isActive(a) || !a.sensor || !a.type.startsWith('sensor_')) continue;
      const fault = a.type.slice('sensor_'.length) as HealthState;
      if (!faults.has(a.sensor)) faults.set(a.sensor, { state: fault, since: a.conditionSince });
    }
    const now = ctx.now();
    const running = !!ctx.analytics();
    return sensors.map((s): SensorInfo => {
      const l = latest.get(s.id);
      let health: SensorInfo['health'];
      const fault = faults.get(s.id);
      if (fault) health = fault;
      else if (!l) health = { state: running ? 'offline' : 'unknown' };
      else if (now - l.ts > 3 * s.intervalS * 1000) health = { state: 'stale', since: l.ts };
      else if (l.quality !== 'good') health = { state: 'bad_quality' };
      else health = { state: 'ok' };
      return {
        id: s.id, name: s.name ?? s.id, kind: s.kind, unit: s.canonicalUnit, site: s.site, dma: s.dma, place: s.place, intervalS: s.intervalS,
        ...(l ? { latest: { ts: l.ts, value: l.value, quality: l.quality } } : {}),
        health,
      };
    });
  }, opts);

  serve(app, API.network.history, async (req, reply) => {
    const q = req.query;
    checkPeriod(q.from, q.to);
    const ids = [...new Set(q.sensors.split(',').map((s) => s.trim()).filter(Boolean))];
    if (ids.length === 0 || ids.length > 20) throw new ApiError('validation', `querystring.sensors: give 1 to 20 sensor ids (got ${ids.length})`, 'querystring.sensors');
    const unknown = ids.filter((id) => !ctx.topology.sensors.has(id));
    if (unknown.length) throw new ApiError('validation', `querystring.sensors: unknown sensor ${unknown.join(', ')}`, 'querystring.sensors');
    try {
      const signal = clientGoneSignal(reply);
      return await readHistory(ctx.store, { sensors: ids, from: q.from, to: q.to, points: q.points ?? DEFAULT_HISTORY_POINTS, signal }, ctx.topology);
    } catch (e) {
      if (e instanceof HistoryQueryError) throw new ApiError('validation', `querystring.${e.message}`, `querystring.${e.field}`);
      throw e;
    }
  }, opts);
}
