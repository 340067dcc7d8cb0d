/** Site, area map, area states, sensor catalogue, history and the live KPI tiles. */
import { z } from 'zod';
import { KINDS } from '../../core/model/units.ts';
import { thresholdsSchema } from '../../core/config/schema.ts';
import { endpoint, epochMs, type Equal, type Expect } from './common.ts';
import type { DmaState as ServerDmaState, KpiSummary as ServerKpiSummary } from '../server/area-state.ts';
import type { HistoryAnswer } from '../server/history.ts';

export const site = z.strictObject({ name: z.string(), timezone: z.string(), mode: z.enum(['demo', 'production']) });
export type Site = z.infer<typeof site>;

export const thresholds = thresholdsSchema;
export type Thresholds = z.infer<typeof thresholds>;
const place = z.enum(['plant-outlet', 'network', 'network-end', 'inlet', 'tank', 'pump-station']);

export const mapDma = z.strictObject({ id: z.string(), name: z.string(), x: z.number().optional(), y: z.number().optional(), customers: z.number() });
export const mapSensor = z.strictObject({
  id: z.string(), name: z.string(), kind: z.enum(KINDS), unit: z.string(), site: z.string(),
  /** Empty when the sensor is in no area (plant, reservoir). */
  dma: z.string(), x: z.number().optional(), y: z.number().optional(), place, thresholds: thresholds.optional(),
});
export const mapLink = z.strictObject({ dma: z.string().optional(), points: z.array(z.tuple([z.number(), z.number()])) });
export const networkMap = z.strictObject({
  dmas: z.array(mapDma), sensors: z.array(mapSensor), links: z.array(mapLink),
  bounds: z.strictObject({ minX: z.number(), minY: z.number(), maxX: z.number(), maxY: z.number() }),
});
export type MapDma = z.infer<typeof mapDma>;
export type MapSensor = z.infer<typeof mapSensor>;
export type MapLink = z.infer<typeof mapLink>;
export type NetworkMap = z.infer<typeof networkMap>;

export const dmaStateName = z.enum(['normal', 'low_pressure', 'burst', 'outage']);
export type DmaStateName = z.infer<typeof dmaStateName>;
export const dmaState = z.strictObject({
  dma: z.string(), name: z.string(), state: dmaStateName, openAlarms: z.number(), customers: z.number(),
  customersAffected: z.number(), since: epochMs.optional(),
});
export type DmaState = z.infer<typeof dmaState>;

export const healthState = z.enum(['ok', 'stale', 'flatline', 'range', 'bad_quality', 'offline', 'unknown']);
export type HealthState = z.infer<typeof healthState>;
export const sensorInfo = z.strictObject({
  id: z.string(), name: z.string(), kind: z.enum(KINDS), unit: z.string(), site: z.string(), dma: z.string(), place,
  intervalS: z.number(),
  latest: z.strictObject({ ts: epochMs, value: z.number(), quality: z.string() }).optional(),
  health: z.strictObject({ state: healthState, since: epochMs.optional() }),
});
export type SensorInfo = z.infer<typeof sensorInfo>;

export const history = z.strictObject({
  /** The window each point is the mean of. */
  stepMs: z.number(),
  series: z.record(z.string(), z.array(z.tuple([epochMs, z.number()]))),
});
export type History = z.infer<typeof history>;

export const kpiSummary = z.strictObject({
  alarmsByPriority: z.strictObject({ low: z.number(), medium: z.number(), high: z.number(), critical: z.number() }),
  areasWithoutWater: z.number(), customersWithoutWater: z.number(), totalInflowM3h: z.number(), qualityCompliancePct: z.number(),
});
export type KpiSummary = z.infer<typeof kpiSummary>;

/**
 * Whether the analysis keeps up with the live data, so a quiet alarm list can be trusted: `degraded`
 * when it has lost the telemetry bus (no new alarm is raised) or runs further behind live than its
 * own waiting rules keep it (alarms come late); `not_running` when this server runs no analysis.
 */
export const analysisProblem = z.discriminatedUnion('code', [
  z.strictObject({ code: z.literal('bus_lost'), seconds: z.number().int().min(0) }),
  z.strictObject({ code: z.literal('behind'), minutes: z.number().int().min(0), maxMinutes: z.number().int().min(0) }),
]);
export const analysisStatus = z.strictObject({
  status: z.enum(['ok', 'degraded', 'not_running']),
  busConnected: z.boolean(),
  /** The event time up to which every reading has been analysed. */
  analysedUpTo: epochMs.nullable(),
  behindSeconds: z.number().int().min(0).nullable(),
  problems: z.array(analysisProblem),
});
export type AnalysisStatus = z.infer<typeof analysisStatus>;
export type AnalysisProblem = z.infer<typeof analysisProblem>;

export type NetworkMatchServer = [
  Expect<Equal<DmaState, ServerDmaState>>,
  Expect<Equal<KpiSummary, ServerKpiSummary>>,
  Expect<Equal<History, HistoryAnswer>>,
];

export const network = {
  site: endpoint({ method: 'GET', url: '/site', tags: ['network'], summary: 'Site name, time zone, mode', response: site }),
  map: endpoint({ method: 'GET', url: '/map', tags: ['network'], summary: 'Areas, sensors and pipes in the network\'s own coordinates', response: networkMap }),
  dmaStates: endpoint({ method: 'GET', url: '/dmas/state', tags: ['network'], summary: 'State of each area', response: z.array(dmaState) }),
  kpiSummary: endpoint({ method: 'GET', url: '/kpis/summary', tags: ['network'], summary: 'Live KPI tiles', response: kpiSummary }),
  analysisStatus: endpoint({
    method: 'GET', url: '/analysis/status', tags: ['network'],
    summary: 'Whether the analysis keeps up with live data (bus connected, how far behind live): when it does not, alarms come late or not at all', response: analysisStatus,
  }),
  sensors: endpoint({ method: 'GET', url: '/sensors', tags: ['network'], summary: 'Sensor catalogue with health and latest values', response: z.array(sensorInfo) }),
  history: endpoint({
    method: 'GET', url: '/history', tags: ['network'],
    summary: 'Downsampled history: the mean per window, the window chosen from the range (the smallest of 1 min, 5 min, 15 min, 1 h, 6 h, 1 d giving at most `points`), computed by the store',
    querystring: z.strictObject({
      /** Comma-separated sensor ids, 1 to 20. */
      sensors: z.string().min(1).max(4000), from: epochMs, to: epochMs, points: z.number().int().min(10).max(5000).optional(),
    }),
    response: history,
  }),
};
