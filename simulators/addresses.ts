/**
 * The sensor addresses the simulated devices answer to. They are the shapes the platform's sources
 * read (ingest/sources/<name>/config.ts); simulators may import only core, and core knows an address
 * by its `type` alone, so the simulators name the fields they emulate here.
 */
import type { SensorConfig } from '../core/config/schema.ts';

export interface OpcuaAddress { type: 'opcua'; server: string; nodeId: string }
export interface MqttAddress { type: 'mqtt'; topic: string }
export interface SparkplugAddress { type: 'sparkplug'; group: string; node: string; device?: string; metric: string }

type Address = OpcuaAddress | MqttAddress | SparkplugAddress;

/** The sensor's address when it is of this type. */
export function addressOf<T extends Address['type']>(sensor: Pick<SensorConfig, 'source'>, type: T): Extract<Address, { type: T }> | undefined {
  return sensor.source?.type === type ? sensor.source as unknown as Extract<Address, { type: T }> : undefined;
}
