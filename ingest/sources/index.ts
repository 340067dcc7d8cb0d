/**
 * Builds the sources a configuration names, from the registry (registry.ts). Protocol sources (OPC
 * UA, MQTT, Sparkplug B) are objects with start/stop; HTTP sources (PDA uploads) are routes on the
 * service's HTTP server.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../../core/config/load.ts';
import type { TimeSeriesStore } from '../../core/tsdb/types.ts';
import { DeviceTokenStore } from '../../core/state/device-tokens.ts';
import { stateDbPath } from '../../core/state/state-db.ts';
import type { Source, SourceContext, SourceEnvironment } from './types.ts';
import { SOURCES, sourceSection } from './registry.ts';
import { pda as pdaSource } from './pda/index.ts';
import { pdaRoutes } from './pda/routes.ts';
import { meterLookupsFromStore } from './pda/lookups.ts';
import { PdaCorrectionLog } from './pda/corrections.ts';
import { mqtt as mqttSource } from './mqtt/index.ts';
import { letterDecoder } from './mqtt/routes.ts';
import type { Topology } from '../../core/topology/topology.ts';
import type { LetterDecoder } from '../pipeline/replay.ts';

/**
 * The Source objects of every protocol source the configuration lists. A source's module is
 * imported only when its section lists an instance: node-opcua alone adds some 100 MB to a
 * process, which an MQTT-only ingest instance should not pay.
 */
export async function buildSources(config: LoadedConfig, opts: { brokerUrl: string }): Promise<Source[]> {
  const env: SourceEnvironment = {
    dataDir: config.dataDir,
    demoMode: config.mode === 'demo',
    platformBroker: { ...config.broker, url: opts.brokerUrl },
  };
  const sources: Source[] = [];
  for (const descriptor of SOURCES) {
    if (!('load' in descriptor)) continue;
    const instances = sourceSection(config, descriptor);
    if (!instances.length) continue;
    const { createSource } = await descriptor.load();
    sources.push(...instances.map((c) => createSource(c, env)));
  }
  return sources;
}

/** Register HTTP-borne sources. Returns what must be closed with the service. */
export async function registerHttpSources(app: FastifyInstance, config: LoadedConfig, ctx: SourceContext, store: TimeSeriesStore, log: Logger): Promise<{ close(): void }> {
  const pda = sourceSection(config, pdaSource);
  if (!pda.enabled) return { close() {} };
  // Tokens issued with `aquawatch token create` (hashes in the state database); hashes listed in
  // sources.pda.devices are accepted by the route itself.
  const issued = new DeviceTokenStore(stateDbPath(config));
  const corrections = new PdaCorrectionLog(stateDbPath(config));
  log.debug({ devices: issued.list().length + pda.devices.length }, 'PDA uploads enabled');
  await app.register(pdaRoutes, { ctx, tokens: issued, config: pda, corrections, ...meterLookupsFromStore(store) });
  return { close: () => { issued.close(); corrections.close(); } };
}

/**
 * Decoders of the sources whose refused input can be decoded again for a replay (by source name):
 * the MQTT sources' messages, with today's topology and topic patterns. What Sparkplug B (payloads
 * kept as base64), OPC UA or the PDA route refused must come from the sender again.
 */
export function letterDecoders(config: LoadedConfig, topology: Topology): Map<string, LetterDecoder> {
  return new Map(sourceSection(config, mqttSource).map((c) => [c.name, letterDecoder(c, topology)]));
}
