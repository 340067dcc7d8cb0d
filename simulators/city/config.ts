/**
 * A ready-to-use platform configuration for a simulated city: the sources the simulated devices speak
 * to (the plant's OPC UA server, MQTT JSON topics, Sparkplug B group, PDA uploads) and the city's
 * topology. Written out as YAML it is what `aquawatch start --config` reads.
 */
import type { TopologyConfig } from '../../core/config/schema.ts';
import type { SimCity } from '../types.ts';
import { cityTopology, type City, type TopologyOptions } from './city.ts';

export interface PlatformConfigOptions extends TopologyOptions {
  /** Endpoint of the simulated plant OPC UA server. */
  opcuaEndpoint?: string;
  /** Overrides for the OPC UA source (security mode, user...): keys of `sources.opcua[]` (ingest/sources/opcua/config.ts). */
  opcua?: Record<string, unknown>;
  /** PDA devices with the SHA-256 of their tokens, when the PDA readers use fixed tokens. */
  pdaDevices?: { id: string; tokenSha256: string }[];
  /** The meters each PDA device reads (`sources.pda.routes`). */
  pdaRoutes?: { id: string; devices: string[]; meters: string[] }[];
  /** Broker settings (the platform's embedded broker by default). */
  broker?: Record<string, unknown>;
  dataDir?: string;
}

/** Where simulators/plant-opcua listens by default. */
export const DEFAULT_OPCUA_ENDPOINT = 'opc.tcp://127.0.0.1:4840';

/**
 * The JSON payload the simulated MQTT sensors publish (simulators/mqtt-fleet):
 * {"v": 0.42, "t": 1767571200000, "u": "mg/L", "q": "good"}.
 */
export const MQTT_JSON_LAYOUT = { format: 'json', valuePath: 'v', timePath: 't', timeFormat: 'ms', unitPath: 'u', qualityPath: 'q' } as const;

/** Configuration input (configSchema's input shape, defaults left to the schema). */
export function platformConfig(city: City, options: PlatformConfigOptions = {}): Record<string, unknown> & { topology: TopologyConfig } {
  const spec = city.spec;
  return {
    mode: 'demo',
    site: { name: `${spec.title} (simulated)`, timezone: spec.timezone },
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.broker ? { broker: options.broker } : {}),
    sources: {
      opcua: [{
        name: spec.opcuaServer,
        endpoint: options.opcuaEndpoint ?? DEFAULT_OPCUA_ENDPOINT,
        securityMode: 'None',
        securityPolicy: 'None',
        auth: { type: 'anonymous' },
        // exception-based: every step's value is reported, also when the simulation runs ahead of real time
        samplingIntervalMs: 0,
        ...options.opcua,
      }],
      mqtt: [{ name: `${city.name}-mqtt`, topics: [{ pattern: `${spec.mqttRoot}/#`, ...MQTT_JSON_LAYOUT }] }],
      sparkplug: [{ name: `${city.name}-sparkplug`, groups: [spec.sparkplugGroup] }],
      pda: { enabled: true, devices: options.pdaDevices ?? [], routes: options.pdaRoutes ?? [] },
    },
    topology: cityTopology(city, options),
  };
}

/** What the simulator tells the platform about itself (simulators/types.ts SimCity). */
export function simCity(city: City, options: PlatformConfigOptions = {}): SimCity {
  return {
    topology: cityTopology(city, options),
    endpoints: { opcua: [{ name: city.spec.opcuaServer, endpoint: options.opcuaEndpoint ?? DEFAULT_OPCUA_ENDPOINT }] },
  };
}
