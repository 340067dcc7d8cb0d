/** Shapes of the dashboard API (dashboard/API.md). Server-side types are imported as types only. */
import type { AlarmRecord, AlarmEventRecord, AlarmPriority } from '../../../core/state/alarm-store.ts';
import type { KpiReport } from '../../../analytics/kpi/types.ts';
import type { Incident, PlannedOutage } from '../../../analytics/outages/register.ts';

export type { AlarmRecord, AlarmEventRecord, AlarmPriority, KpiReport, Incident, PlannedOutage };

export type Role = 'admin' | 'dispatcher' | 'maintenance' | 'customer_service' | 'viewer';
export type Permission = 'alarms.ack' | 'alarms.shelve' | 'outages.edit' | 'workorders.edit' | 'users.manage' | 'tokens.manage';

export interface User { username: string; displayName: string; role: Role; permissions: string[] }
export interface Session { user: User; csrfToken: string }
export interface AuthInfo { mode: string; site: { name: string; timezone: string }; demoUsers?: { username: string; password: string; role: Role }[] }
export interface Site { name: string; timezone: string; mode: string }

export interface Thresholds { low?: number; high?: number; lowLow?: number; highHigh?: number }
export interface MapDma { id: string; name: string; x: number; y: number; customers: number }
export interface MapSensor { id: string; name: string; kind: string; unit: string; site: string; dma?: string; x: number; y: number; place: string; thresholds?: Thresholds }
export interface MapLink { dma?: string; points: [number, number][] }
export interface NetworkMap { dmas: MapDma[]; sensors: MapSensor[]; links: MapLink[]; bounds: { minX: number; minY: number; maxX: number; maxY: number } }

export type DmaStateName = 'normal' | 'low_pressure' | 'burst' | 'outage';
export interface DmaState { dma: string; name: string; state: DmaStateName; openAlarms: number; customers: number; customersAffected: number; since?: number }

export type HealthState = 'ok' | 'stale' | 'flatline' | 'range' | 'bad_quality' | 'offline' | 'unknown';
export interface SensorInfo {
  id: string; name: string; kind: string; unit: string; site: string; dma?: string; place: string; intervalS: number;
  latest?: { ts: number; value: number; quality: string }; health: { state: HealthState; since?: number };
}
export interface History { stepMs: number; series: Record<string, [number, number][]> }
export interface KpiSummary {
  alarmsByPriority: Record<AlarmPriority, number>; areasWithoutWater: number; customersWithoutWater: number;
  totalInflowM3h: number | null; qualityCompliancePct: number | null;
}
export interface LiveValue { sensor: string; kind: string; ts: number; value: number; quality: string }

export interface CurrentOutage {
  dma: string; name: string; kind: 'outage' | 'low_pressure'; since: number; planned: boolean; cause: string;
  customersAffected: number; expectedRestoration?: number; plannedOutageId?: string; alarmId?: string;
}
export type PlannedOutageRow = PlannedOutage & { shortNotice: boolean };
export interface PlannedOutageInput { dmas: string[]; start: number; end: number; notifiedAt?: number; cause: string; reason: string }
export interface PlannedOutageSaved { outage: PlannedOutage; shortNotice: boolean; notice: { sms: string; web: string } }
export interface LookupRow { meter: string; customer: string; address: string; dma: string; dmaName: string; dmaState: DmaStateName }

export type WorkOrderStatus = 'new' | 'assigned' | 'in_progress' | 'resolved';
export interface WorkOrder {
  id: string; alarmId: string; dma: string; locationHint?: string; status: WorkOrderStatus; crew?: string;
  notes: { at: number; by: string; text: string }[]; createdAt: number; updatedAt: number; resolvedAt?: number;
  burstFlowM3h?: number; estimatedLossM3: number;
}
export interface UserRow { username: string; displayName: string; role: Role; createdAt: number; disabled: boolean }
export interface DeviceToken { deviceId: string; note?: string | null; createdAt: number }
export interface DeviceTokenCreated { deviceId?: string; device?: string; token?: string; secret?: string }
