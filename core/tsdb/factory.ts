/** Build the store the configuration names. */
import { isAbsolute, join } from 'node:path';
import type { StoreConfig } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { TimeSeriesStore } from './types.ts';
import { SqliteStore } from './sqlite.ts';
import { InfluxV1Store, type StoreWrites } from './influx1.ts';
import { InfluxV2Store } from './influx2.ts';

export interface CreateStoreOptions {
  log?: Logger;
  /**
   * `retry`: a store that cannot be reached at start-up (a retryable error) is returned anyway and
   * its init retried in the background every `retryMs`, so a service whose writes go through an
   * outbox starts while the database is down. `fail` (default): the error is thrown.
   */
  whenUnavailable?: 'fail' | 'retry';
  retryMs?: number;
  /**
   * What this service writes: `readings` (default; ingest, import) or `derived` (analytics' own
   * series), which an influxdb1 store with a `derivedDatabase` (2.x: `derivedBucket`) writes there.
   */
  writes?: StoreWrites;
}

/** Does this store keep analytics' derived series apart (store.derivedDatabase, 2.x store.derivedBucket)? */
export function keepsDerivedApart(cfg: StoreConfig): boolean {
  return (cfg.type === 'influxdb1' && cfg.derivedDatabase !== undefined) || (cfg.type === 'influxdb2' && cfg.derivedBucket !== undefined);
}

export async function createStore(cfg: StoreConfig, dataDir: string, opts: CreateStoreOptions = {}): Promise<TimeSeriesStore> {
  let store: TimeSeriesStore;
  switch (cfg.type) {
    case 'sqlite':
      store = new SqliteStore(cfg.path === ':memory:' || isAbsolute(cfg.path) ? cfg.path : join(dataDir, cfg.path));
      break;
    case 'influxdb1':
      store = new InfluxV1Store(cfg, { writes: opts.writes });
      break;
    case 'influxdb2':
      store = new InfluxV2Store(cfg, { log: opts.log, writes: opts.writes });
      break;
    default:
      throw new Error(`store type ${(cfg as { type: string }).type} is not available in this build`);
  }
  try {
    await store.init();
  } catch (e) {
    if (opts.whenUnavailable !== 'retry' || (e as { retryable?: boolean }).retryable === false) throw e;
    opts.log?.warn({ store: store.describe, err: (e as Error).message }, 'store unavailable at start-up; retrying in the background');
    const retry = () => {
      store.init().then(
        () => opts.log?.info({ store: store.describe }, 'store available'),
        () => { setTimeout(retry, opts.retryMs ?? 5000).unref(); },
      );
    };
    setTimeout(retry, opts.retryMs ?? 5000).unref();
  }
  return store;
}
