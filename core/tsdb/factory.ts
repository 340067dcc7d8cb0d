/** Build the store the configuration names. */
import { isAbsolute, join } from 'node:path';
import type { StoreConfig } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { TimeSeriesStore } from './types.ts';
import { SqliteStore } from './sqlite.ts';
import { InfluxV1Store } from './influx1.ts';
import { InfluxV2Store } from './influx2.ts';

export async function createStore(cfg: StoreConfig, dataDir: string, opts: { log?: Logger } = {}): Promise<TimeSeriesStore> {
  let store: TimeSeriesStore;
  switch (cfg.type) {
    case 'sqlite':
      store = new SqliteStore(cfg.path === ':memory:' || isAbsolute(cfg.path) ? cfg.path : join(dataDir, cfg.path));
      break;
    case 'influxdb1':
      store = new InfluxV1Store(cfg);
      break;
    case 'influxdb2':
      store = new InfluxV2Store(cfg, { log: opts.log });
      break;
    default:
      throw new Error(`store type ${(cfg as { type: string }).type} is not available in this build`);
  }
  await store.init();
  return store;
}
