/**
 * The monitored items of an OPC UA source: one per topology sensor that reads from this server
 * (planned at start, node ids normalised so notifications can be matched), their monitoring
 * parameters, and their creation on a subscription in batches of `batchSize`, so that 10,000 items
 * never make one oversized request.
 */
import {
  AttributeIds, TimestampsToReturn, DataChangeFilter, DataChangeTrigger, DeadbandType, resolveNodeId,
  type ClientSubscription, type MonitoringParametersOptions, type StatusCode,
} from 'node-opcua';
import type { SensorInfo } from '../../../core/topology/topology.ts';
import { addressOf } from '../address.ts';
import type { OpcuaAddress, OpcuaSourceConfig } from './config.ts';

/** One sensor to monitor, with its node id normalised (`ns=1;s=x`) so notifications can be matched. */
export interface PlannedItem {
  sensor: string;
  nodeId: string;
  samplingIntervalMs: number;
  deadband?: number;
}

/** A sensor whose item cannot be monitored, and why. */
export type RejectItem = (sensor: string, nodeId: string, reason: string) => void;

/** One item per sensor; a node id that cannot even be parsed is rejected here, the others go on. */
export function planItems(sensors: SensorInfo[], config: OpcuaSourceConfig, reject: RejectItem): { plan: PlannedItem[]; sensorByNode: Map<string, string> } {
  const plan: PlannedItem[] = [];
  const sensorByNode = new Map<string, string>();
  for (const s of sensors) {
    const address = addressOf<OpcuaAddress>(s, 'opcua');
    if (!address) continue;
    let nodeId: string;
    try {
      nodeId = resolveNodeId(address.nodeId).toString();
    } catch (err) {
      reject(s.id, address.nodeId, `invalid node id: ${(err as Error).message}`);
      continue;
    }
    const other = sensorByNode.get(nodeId);
    if (other) {
      reject(s.id, address.nodeId, `node ${nodeId} is already read for sensor ${other}`);
      continue;
    }
    sensorByNode.set(nodeId, s.id);
    plan.push({ sensor: s.id, nodeId, samplingIntervalMs: address.samplingIntervalMs ?? config.samplingIntervalMs, deadband: address.deadband });
  }
  return { plan, sensorByNode };
}

export function monitoringParameters(config: OpcuaSourceConfig, item: PlannedItem): MonitoringParametersOptions {
  const sampling = item.samplingIntervalMs;
  // Queue enough samples for one publishing interval so that fast sampling loses nothing between publishes.
  const queueSize = config.queueSize ?? Math.min(100, Math.max(1, Math.ceil(config.publishingIntervalMs / Math.max(sampling, 10)) + 1));
  // StatusValueTimestamp reports a repeated value with a new source timestamp (a pump that stays on),
  // so a steady sensor is not taken for a stale one.
  const trigger = config.reportSameValue ? DataChangeTrigger.StatusValueTimestamp : DataChangeTrigger.StatusValue;
  const deadband = item.deadband !== undefined && item.deadband > 0;
  const filter = deadband || config.reportSameValue
    ? new DataChangeFilter({ trigger, deadbandType: deadband ? DeadbandType.Absolute : DeadbandType.None, deadbandValue: deadband ? item.deadband : 0 })
    : null;
  return { samplingInterval: sampling, queueSize, discardOldest: true, filter };
}

/**
 * Items with the same sampling interval and deadband share one set of parameters; each such group is
 * sent in batches of `batchSize`. A node the server refuses is reported and skipped; a batch that fails
 * as a whole while the connection is up is reported item by item; a lost connection (`connectionLost()`)
 * aborts the attempt. Returns the sensors now monitored.
 */
export async function createMonitoredItems(
  subscription: ClientSubscription, plan: readonly PlannedItem[], config: OpcuaSourceConfig,
  o: { reject: RejectItem; accepted: (sensor: string) => void; connectionLost: () => boolean },
): Promise<string[]> {
  const byParameters = new Map<string, PlannedItem[]>();
  for (const item of plan) {
    const key = `${item.samplingIntervalMs}|${item.deadband ?? ''}`;
    const list = byParameters.get(key) ?? [];
    list.push(item);
    byParameters.set(key, list);
  }
  const monitored: string[] = [];
  for (const items of byParameters.values()) {
    const parameters = monitoringParameters(config, items[0]);
    for (let start = 0; start < items.length; start += config.batchSize) {
      const batch = items.slice(start, start + config.batchSize);
      let results: StatusCode[];
      try {
        const group = await subscription.monitorItems(
          batch.map((i) => ({ nodeId: i.nodeId, attributeId: AttributeIds.Value })),
          parameters,
          TimestampsToReturn.Both,
        );
        results = group.monitoredItems.map((m) => m.statusCode);
      } catch (err) {
        if (o.connectionLost()) throw err;
        const reason = `CreateMonitoredItems failed: ${(err as Error).message}`;
        for (const i of batch) o.reject(i.sensor, i.nodeId, reason);
        continue;
      }
      batch.forEach((item, index) => {
        const status = results[index];
        if (status?.isGood()) {
          monitored.push(item.sensor);
          o.accepted(item.sensor);
        } else {
          o.reject(item.sensor, item.nodeId, `the server refused the monitored item: ${status?.toString() ?? 'no result'}`);
        }
      });
    }
  }
  return monitored;
}
