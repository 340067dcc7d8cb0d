/** Data hooks: a REST read kept fresh by its live room where the API has one. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from './api.ts';
import { useLiveEvent, useRooms } from './live.ts';
import type { AlarmRecord, AlarmTransition, DmaState, KpiSummary, NetworkMap } from '../../contract/index.ts';

type Query = Record<string, string | number | boolean | undefined>;

export interface Loaded<T> { data: T | undefined; error: string | undefined; loading: boolean; reload: () => void; set: (fn: (prev: T | undefined) => T | undefined) => void }

/**
 * GET `path` once per change of `query`, with a manual `reload`. A read no longer wanted (the query
 * changed, the view closed) is cancelled, so the server stops a report nobody will see. Live
 * updates (`set`) that come while a read is on its way are applied to its answer too: the answer
 * may have been read before them, and must not undo them.
 */
export function useApi<T>(path: string | null, query?: Query): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [loading, setLoading] = useState(false);
  const [tick, setTick] = useState(0);
  /** The updates since the read on its way began (undefined: none on its way). */
  const sinceRead = useRef<((prev: T | undefined) => T | undefined)[] | undefined>(undefined);
  const qkey = JSON.stringify(query ?? {});
  useEffect(() => {
    if (!path) return;
    let live = true;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const wanted = new AbortController();
    setLoading(true);
    sinceRead.current = [];
    api.get<T>(path, query, { signal: wanted.signal }).then(
      (d) => {
        if (!live) return;
        const updates = sinceRead.current ?? [];
        sinceRead.current = undefined;
        setData(updates.reduce<T | undefined>((acc, f) => f(acc), d));
        setError(undefined);
        setLoading(false);
      },
      (e: Error) => {
        if (!live) return;
        sinceRead.current = undefined;
        setError(e.message);
        setLoading(false);
        // 503: a part of the platform is unavailable (a server restarting behind a proxy): try again
        if (e instanceof ApiError && e.status === 503) retry = setTimeout(() => setTick((n) => n + 1), 5000);
      });
    return () => { live = false; wanted.abort(); if (retry) clearTimeout(retry); };
  }, [path, qkey, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  const set = useCallback((fn: (prev: T | undefined) => T | undefined) => {
    sinceRead.current?.push(fn);
    setData(fn);
  }, []);
  return { data, error, loading, reload, set };
}

let mapCache: Promise<NetworkMap> | undefined;
/** Start loading the map before the control room mounts (it is the largest first-load answer). */
export function prefetchNetworkMap(): void {
  mapCache ??= api.get<NetworkMap>('/map', undefined, { quiet401: true });
  mapCache.catch(() => { mapCache = undefined; });
}
/** The network map: static for the session, fetched once. */
export function useNetworkMap(): NetworkMap | undefined {
  const [map, setMap] = useState<NetworkMap | undefined>(undefined);
  useEffect(() => {
    mapCache ??= api.get<NetworkMap>('/map');
    mapCache.then(setMap, () => { mapCache = undefined; api.get<NetworkMap>('/map').then(setMap, () => {}); });
  }, []);
  return map;
}

/** Area states, live from room `dmas`. */
export function useDmaStates(): DmaState[] | undefined {
  const r = useApi<DmaState[]>('/dmas/state');
  useRooms(['dmas']);
  useLiveEvent<DmaState[]>('dmas', (d) => r.set(() => d));
  return r.data;
}

/** KPI tiles, live from room `kpis`. */
export function useKpiSummary(): KpiSummary | undefined {
  const r = useApi<KpiSummary>('/kpis/summary');
  useRooms(['kpis']);
  useLiveEvent<KpiSummary>('kpis', (d) => r.set(() => d));
  return r.data;
}

export const isOpenAlarm = (a: AlarmRecord) => a.state !== 'cleared';

/** Open alarms, live from room `alarms`: each transition replaces the record; closed ones leave. */
export function useOpenAlarms(onTransition?: (kind: string, alarm: AlarmRecord) => void): Loaded<AlarmRecord[]> {
  const r = useApi<AlarmRecord[]>('/alarms', { open: true, limit: 1000 });
  useRooms(['alarms'], r.reload);
  useLiveEvent<AlarmTransition>('alarm', ({ kind, alarm }) => {
    r.set((prev) => {
      const rest = (prev ?? []).filter((a) => a.id !== alarm.id);
      return isOpenAlarm(alarm) ? [alarm, ...rest].sort((a, b) => b.raisedAt - a.raisedAt) : rest;
    });
    onTransition?.(kind, alarm);
  });
  return r;
}

/** Re-render every `ms` (for "since" durations and loss estimates that grow). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => { const id = setInterval(() => setNow(Date.now()), ms); return () => clearInterval(id); }, [ms]);
  return now;
}
