/**
 * A store whose reads stop once a signal fires (review finding F9): a KPI report reads the store
 * once per day of its period, so a client that went away must not keep that loop going. Every
 * read first checks the signal, then carries it to the store (InfluxDB cancels its request; the
 * embedded store's synchronous reads cannot be cut, so the check between reads is what stops them).
 */
import type { TimeSeriesStore } from './types.ts';

export function abortableReads(store: TimeSeriesStore, signal: AbortSignal | undefined): TimeSeriesStore {
  if (!signal) return store;
  return {
    get describe() { return store.describe; },
    init: () => store.init(),
    write: (points) => store.write(points),
    query: async (q) => {
      signal.throwIfAborted();
      return store.query({ ...q, signal });
    },
    latest: async (measurement, sensors) => {
      signal.throwIfAborted();
      return store.latest(measurement, sensors);
    },
    ping: () => store.ping(),
    close: () => store.close(),
  };
}
