/**
 * A live trend: history from GET /history for the chosen range, then the live values of room
 * `values:<sensor>` appended (for ranges that end now). The sensors' thresholds are markLines.
 * The chart is redrawn at most once a second whatever the update rate.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { SERIES_COLORS, type EChartsOption } from '../charts.ts';
import { EChart } from './EChart.tsx';
import { useLiveEvent, useRooms } from '../live.ts';
import { t, tCode } from '../i18n.ts';
import { fmtHm, fmtNum, fmtShort, fmtTime } from '../format.ts';
import { RANGE_MS, type HistoryRange } from './HistoryControls.tsx';
import { effectiveThresholds } from '../thresholds.ts';
import type { History, LiveValue, MapSensor, Thresholds } from '../../../contract/index.ts';

const THRESHOLD_COLORS: Record<keyof Thresholds, string> = { lowLow: '#f85149', low: '#d29922', high: '#d29922', highHigh: '#f85149' };

export function TrendChart(props: { id: string; title: string; sensors: MapSensor[]; range: HistoryRange }) {
  const { sensors, range } = props;
  const ids = sensors.map((s) => s.id);
  const idKey = ids.join(',');
  const data = useRef(new Map<string, [number, number][]>());
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [loadedKey, setLoadedKey] = useState('');
  const dirty = useRef(false);
  const isLive = range.kind !== 'custom';
  const rangeKey = JSON.stringify(range);

  useRooms(isLive ? ids.map((id) => `values:${id}`) : []);

  useEffect(() => {
    if (!ids.length) return;
    let alive = true;
    const to = range.kind === 'custom' ? range.to : Date.now();
    const from = range.kind === 'custom' ? range.from : to - RANGE_MS[range.kind];
    api.get<History>('/history', { sensors: idKey, from, to, points: 600 }).then((h) => {
      if (!alive) return;
      const m = new Map<string, [number, number][]>();
      for (const id of ids) m.set(id, [...(h.series[id] ?? [])]);
      // live values that arrived while the history loaded are kept
      for (const [id, pts] of data.current) {
        const have = m.get(id);
        const last = have?.at(-1)?.[0] ?? -Infinity;
        if (have && isLive) have.push(...pts.filter((p) => p[0] > last));
      }
      data.current = m;
      setError(null);
      setLoadedKey(`${idKey}|${rangeKey}`);
      setVersion((v) => v + 1);
    }, (e: Error) => { if (alive) setError(e.message); });
    return () => { alive = false; };
  }, [idKey, rangeKey]);

  useLiveEvent<LiveValue[]>('values', (batch) => {
    if (!isLive) return;
    const cutoff = Date.now() - RANGE_MS[range.kind as '1h'];
    for (const v of batch) {
      const pts = data.current.get(v.sensor);
      if (!pts) continue;
      if (pts.length && pts[pts.length - 1][0] >= v.ts) continue;
      pts.push([v.ts, v.value]);
      while (pts.length && pts[0][0] < cutoff) pts.shift();
      dirty.current = true;
    }
  });

  useEffect(() => {
    const id = setInterval(() => { if (dirty.current) { dirty.current = false; setVersion((v) => v + 1); } }, 1000);
    return () => clearInterval(id);
  }, []);

  const option = useMemo<EChartsOption>(() => ({
    animation: false,
    backgroundColor: 'transparent',
    color: SERIES_COLORS,
    grid: { left: 56, right: 72, top: 36, bottom: 28 },
    legend: { top: 4, type: 'scroll', textStyle: { color: '#c9d1d9' } },
    tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => fmtNum(v as number, 3) },
    xAxis: { type: 'time', splitNumber: 5, axisLabel: { color: '#8b949e', hideOverlap: true, formatter: (v: number) => (range.kind === '1h' || range.kind === '24h' ? fmtHm(v) : fmtShort(v)) }, axisLine: { lineStyle: { color: '#30363d' } } },
    yAxis: { type: 'value', scale: true, min: (e: Extent) => near(e, sensors, 'min'), max: (e: Extent) => near(e, sensors, 'max'), axisLabel: { color: '#8b949e' }, splitLine: { lineStyle: { color: '#21262d' } } },
    series: sensors.map((s, i) => ({
      id: s.id, name: s.name || s.id, type: 'line', showSymbol: false, sampling: 'lttb', lineStyle: { width: 1.6 },
      data: data.current.get(s.id) ?? [],
      markLine: i === 0 ? thresholdLines(sensors) : undefined,
    })),
  }) as EChartsOption, [version, idKey, range.kind]);

  const latest = sensors.map((s) => ({ s, p: data.current.get(s.id)?.at(-1) }));
  return (
    <section class="card trend" data-testid={`trend-${props.id}`} data-loaded={loadedKey ? 'yes' : 'no'}>
      <h2>{props.title}{sensors[0]?.unit ? <small class="muted"> ({sensors[0].unit})</small> : null}</h2>
      {error && <p class="error">{error}</p>}
      {!ids.length ? <p class="muted">{t('trend.noSensors')}</p> : <EChart option={option} notMerge class="trend-chart" label={props.title} />}
      <ul class="latest-values">
        {latest.map(({ s, p }, i) => (
          <li key={s.id} data-sensor={s.id} data-ts={p?.[0] ?? ''} data-value={p?.[1] ?? ''}>
            <span class="swatch" style={{ background: SERIES_COLORS[i % SERIES_COLORS.length] }} />
            <span class="name">{s.name || s.id}</span>
            <b>{p ? fmtNum(p[1], 3) : '—'}</b> <small>{s.unit}</small>
            <small class="muted"> {p ? fmtTime(p[0]) : ''}</small>
          </li>
        ))}
      </ul>
      <span class="sr-only">{tCode('kind', sensors[0]?.kind ?? '')}</span>
    </section>
  );
}

interface Extent { min: number; max: number }

/** Widen the axis to show thresholds close to the data (within two data spans), not far-off ones. */
function near(e: Extent, sensors: MapSensor[], side: 'min' | 'max'): number {
  const span = e.max - e.min || Math.abs(e.max) * 0.1 || 1;
  const values = sensors.flatMap((s) => Object.values(effectiveThresholds(s)).filter((v): v is number => typeof v === 'number'));
  // a round step, so the axis' end labels read 0.25, not 0.2487
  const step = 10 ** Math.floor(Math.log10(span)) / 2;
  if (side === 'min') {
    const lo = Math.floor((Math.min(e.min, ...values.filter((v) => v < e.min && v >= e.min - 2 * span)) - span * 0.05) / step) * step;
    return e.min >= 0 ? Math.max(0, lo) : lo; // no negative pressure axis for positive data
  }
  return Math.ceil((Math.max(e.max, ...values.filter((v) => v > e.max && v <= e.max + 2 * span)) + span * 0.05) / step) * step;
}

/** The thresholds of the shown sensors as horizontal lines (each distinct value once). */
function thresholdLines(sensors: MapSensor[]) {
  const seen = new Set<string>();
  const data: { yAxis: number; name: string; lineStyle: { color: string; type: 'dashed' }; label: { formatter: string; color: string } }[] = [];
  for (const s of sensors) {
    for (const k of ['lowLow', 'low', 'high', 'highHigh'] as const) {
      const v = effectiveThresholds(s)[k];
      if (v === undefined || seen.has(`${k}:${v}`)) continue;
      seen.add(`${k}:${v}`);
      data.push({ yAxis: v, name: k, lineStyle: { color: THRESHOLD_COLORS[k], type: 'dashed' }, label: { formatter: `${t(`threshold.${k}`)} ${v}`, color: THRESHOLD_COLORS[k] } });
    }
  }
  return data.length ? { symbol: 'none', silent: true, data } : undefined;
}
