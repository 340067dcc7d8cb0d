/** Build the store the configuration names. */
import { isAbsolute, join } from 'node:path';
import type { StoreConfig } from '../config/schema.ts';
import type { TimeSeriesStore } from './types.ts';
import { SqliteStore } from './sqlite.ts';

export async function createStore(cfg: StoreConfig, dataDir: string): Promise<TimeSeriesStore> {
  let store: TimeSeriesStore;
  switch (cfg.type) {
    case 'sqlite':
      store = new SqliteStore(cfg.path === ':memory:' || isAbsolute(cfg.path) ? cfg.path : join(dataDir, cfg.path));
      break;
    default:
      throw new Error(`store type ${(cfg as { type: string }).type} is not available in this build`);
  }
  await store.init();
  return store;
}
