/**
 * A sensor's source address in its source's own type. Core knows an address only by its `type`;
 * the source's schema (<name>/config.ts) checked the rest when the configuration was loaded with
 * the registry, or when ingest started (registry.ts checkSourceConfig).
 */
import type { SensorConfig } from '../../core/config/schema.ts';

export function addressOf<A extends { type: string }>(sensor: Pick<SensorConfig, 'source'>, type: A['type']): A | undefined {
  return sensor.source?.type === type ? sensor.source as unknown as A : undefined;
}
