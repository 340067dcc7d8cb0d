/**
 * The stored meter readings the PDA route compares an upload with, read from the time-series store
 * (customer meters are series of measurement `meter`, see core/topology/topology.ts).
 */
import type { TimeSeriesStore } from '../../../core/tsdb/types.ts';
import type { MeterValue } from './recent.ts';

export type LastReadingLookup = (meterIds: string[]) => Promise<Map<string, MeterValue>>;
export type StoredReadingsLookup = (meterIds: string[], from: number, to: number) => Promise<Map<string, MeterValue[]>>;

export function meterLookupsFromStore(store: TimeSeriesStore): { lastReading: LastReadingLookup; storedReadings: StoredReadingsLookup } {
  return {
    async lastReading(meterIds) {
      const out = new Map<string, MeterValue>();
      if (meterIds.length === 0) return out;
      for (const l of await store.latest('meter', meterIds)) out.set(l.sensor, { ts: l.ts, value: l.value });
      return out;
    },
    async storedReadings(meterIds, from, to) {
      const out = new Map<string, MeterValue[]>();
      if (meterIds.length === 0) return out;
      const r = await store.query({ measurement: 'meter', sensors: meterIds, from, to });
      for (const [meter, values] of r) out.set(meter, values.map((v) => ({ ts: v.ts, value: v.value })));
      return out;
    },
  };
}
