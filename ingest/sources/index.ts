/**
 * Builds the sources a configuration names. Protocol sources (OPC UA, MQTT, Sparkplug B) are
 * objects with start/stop; HTTP sources (PDA uploads) are routes on the service's HTTP server.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../../core/config/load.ts';
import type { TimeSeriesStore } from '../../core/tsdb/types.ts';
import { DeviceTokenStore } from '../../core/state/device-tokens.ts';
import type { Source, SourceContext } from './types.ts';
import { pdaRoutes } from './pda/routes.ts';
import { meterLookupsFromStore } from './pda/lookups.ts';

export function stateDbPath(config: LoadedConfig): string {
  return join(config.dataDir, 'state.sqlite');
}

/**
 * Sources are imported only when configured: node-opcua alone adds some 100 MB to a process, which
 * an MQTT-only ingest instance should not pay.
 */
export async function buildSources(config: LoadedConfig, opts: { brokerUrl: string }): Promise<Source[]> {
  // The platform broker as sources see it: the embedded broker's real address replaces `embedded`.
  const platformBroker = { ...config.broker, url: opts.brokerUrl };
  const demoMode = config.mode === 'demo';
  const sources: Source[] = [];
  if (config.sources.opcua.length) {
    const { OpcuaSource } = await import('./opcua/source.ts');
    sources.push(...config.sources.opcua.map((c) => new OpcuaSource(c, { dataDir: config.dataDir, demoMode })));
  }
  if (config.sources.mqtt.length) {
    const { MqttSource } = await import('./mqtt/mqtt-source.ts');
    sources.push(...config.sources.mqtt.map((c) => new MqttSource(c, platformBroker)));
  }
  if (config.sources.sparkplug.length) {
    const { SparkplugSource } = await import('./sparkplug/sparkplug-source.ts');
    sources.push(...config.sources.sparkplug.map((c) => new SparkplugSource(c, platformBroker)));
  }
  return sources;
}

/** Register HTTP-borne sources. Returns what must be closed with the service. */
export async function registerHttpSources(app: FastifyInstance, config: LoadedConfig, ctx: SourceContext, store: TimeSeriesStore, log: Logger): Promise<{ close(): void }> {
  const pda = config.sources.pda;
  if (!pda.enabled) return { close() {} };
  // Tokens issued with `aquawatch token create` (hashes in the state database); hashes listed in
  // sources.pda.devices are accepted by the route itself.
  const issued = new DeviceTokenStore(stateDbPath(config));
  log.debug({ devices: issued.list().length + pda.devices.length }, 'PDA uploads enabled');
  await app.register(pdaRoutes, { ctx, tokens: issued, config: pda, ...meterLookupsFromStore(store) });
  return { close: () => issued.close() };
}
