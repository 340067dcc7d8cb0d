/**
 * The area map from the network's own coordinates (GET /map): pipes as lines coloured by their
 * DMA's state, a label per DMA, sensors as points whose tooltip shows the live value. The data
 * aspect ratio is kept by sizing the grid to the box.
 */
import { useMemo, useRef } from 'preact/hooks';
import { STATE_COLORS, type EChartsOption, type echarts } from '../charts.ts';
import { EChart } from './EChart.tsx';
import { t, tCode } from '../i18n.ts';
import { fmtNum, fmtTime } from '../format.ts';
import { latestValues } from '../liveValues.ts';
import type { DmaState, NetworkMap } from '../../../contract/index.ts';

const NO_DMA_COLOR = '#6e7681';

export function AreaMap(props: { map: NetworkMap; states: DmaState[] | undefined; selectedDma?: string; onSelectDma: (dma?: string) => void }) {
  const { map, states } = props;
  const stateOf = useMemo(() => new Map((states ?? []).map((s) => [s.dma, s])), [states]);
  const grid = useRef({ left: 0, top: 0, width: 0, height: 0 });

  const option = useMemo<EChartsOption>(() => {
    const b = map.bounds;
    const colorOf = (dma?: string) => (dma ? STATE_COLORS[stateOf.get(dma)?.state ?? 'normal'] : NO_DMA_COLOR);
    const dim = (dma?: string) => (props.selectedDma && dma !== props.selectedDma ? 0.35 : 0.95);
    return {
      animation: false,
      backgroundColor: 'transparent',
      // no grid here: fit() owns it. A grid copied from the ref at render time reached the chart after
      // fit() had set the real one (the option is applied in a later effect), drew the map in a
      // 100-pixel corner, and fit() then saw nothing to change (issue #14.7)
      xAxis: { type: 'value', min: b.minX, max: b.maxX, show: false },
      yAxis: { type: 'value', min: b.minY, max: b.maxY, show: false },
      tooltip: { trigger: 'item', confine: true, formatter: (p: unknown) => tooltip(p as TooltipParams, map, stateOf) },
      series: [
        {
          id: 'pipes', type: 'lines', coordinateSystem: 'cartesian2d', polyline: true, silent: true, z: 1,
          data: map.links.map((l) => ({ coords: l.points, lineStyle: { color: colorOf(l.dma), width: l.dma && stateOf.get(l.dma)?.state !== 'normal' ? 2.5 : 1.5, opacity: dim(l.dma) } })),
        },
        {
          id: 'sensors', type: 'scatter', z: 3, symbolSize: 7,
          itemStyle: { color: '#e6edf3', borderColor: '#0d1117', borderWidth: 1 },
          data: map.sensors.filter((s) => Number.isFinite(s.x) && Number.isFinite(s.y)).map((s) => ({ value: [s.x, s.y], name: s.id })),
        },
        {
          id: 'dmas', type: 'scatter', z: 4, symbolSize: 16, symbol: 'roundRect',
          data: map.dmas.map((d) => ({
            value: [d.x, d.y], name: d.id,
            itemStyle: { color: colorOf(d.id), borderColor: '#0d1117', borderWidth: 2 },
            label: {
              show: true, position: 'right', color: '#e6edf3', fontSize: 13, fontWeight: 'bold',
              backgroundColor: 'rgba(13,17,23,0.75)', padding: [2, 4],
              formatter: `${d.name}\n${tCode('state', stateOf.get(d.id)?.state ?? 'normal')}`,
            },
          })),
        },
      ],
    } as EChartsOption;
  }, [map, stateOf, props.selectedDma]);

  // keep the network's proportions: fit the grid inside the box
  const fit = (chart: echarts.ECharts, w: number, h: number) => {
    const b = map.bounds;
    const dx = Math.max(1e-9, b.maxX - b.minX), dy = Math.max(1e-9, b.maxY - b.minY);
    const pad = 24;
    const scale = Math.min((w - 2 * pad) / dx, (h - 2 * pad) / dy);
    if (!(scale > 0)) return;
    const gw = dx * scale, gh = dy * scale;
    const next = { left: Math.round((w - gw) / 2), top: Math.round((h - gh) / 2), width: Math.round(gw), height: Math.round(gh) };
    const g = grid.current;
    // a redraw of ~900 pipes is not free: only when the box really changed
    if (g.left === next.left && g.top === next.top && g.width === next.width && g.height === next.height) return;
    grid.current = next;
    chart.setOption({ grid: next });
  };

  const states_ = states ?? [];
  return (
    <section class="card map-card">
      <h2>{t('map.title')}</h2>
      <EChart option={option} class="area-map" label={t('map.title')} onResize={fit}
        onReady={(c) => { const el = c.getDom(); fit(c, el.clientWidth, el.clientHeight); }}
        onClick={(p) => { if (p.seriesId === 'dmas') { const id = (p.data as { name: string }).name; props.onSelectDma(props.selectedDma === id ? undefined : id); } }} />
      <ul class="dma-states" data-testid="dma-states">
        {states_.map((s) => (
          <li key={s.dma} data-dma={s.dma} data-state={s.state} class={props.selectedDma === s.dma ? 'selected' : ''}>
            <button type="button" class="chip" onClick={() => props.onSelectDma(props.selectedDma === s.dma ? undefined : s.dma)}>
              <span class="swatch" style={{ background: STATE_COLORS[s.state] }} />
              {s.name} · <span class="state-name">{tCode('state', s.state)}</span>
              {s.customersAffected > 0 && <> · {t('map.customersAffected', { n: fmtNum(s.customersAffected, 0) })}</>}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

interface TooltipParams { seriesId?: string; data?: { name?: string } }

function tooltip(p: TooltipParams, map: NetworkMap, stateOf: Map<string, DmaState>): string {
  const id = p.data?.name ?? '';
  if (p.seriesId === 'dmas') {
    const d = map.dmas.find((x) => x.id === id);
    const s = stateOf.get(id);
    return `<b>${esc(d?.name ?? id)}</b><br/>${esc(tCode('state', s?.state ?? 'normal'))}<br/>${esc(t('map.customers'))}: ${fmtNum(d?.customers, 0)}`
      + (s && s.customersAffected ? `<br/>${esc(t('map.customersAffected', { n: fmtNum(s.customersAffected, 0) }))}` : '')
      + (s?.openAlarms ? `<br/>${esc(t('map.openAlarms'))}: ${s.openAlarms}` : '');
  }
  const sensor = map.sensors.find((x) => x.id === id);
  const v = latestValues.get(id);
  return `<b>${esc(sensor?.name ?? id)}</b> <span style="opacity:.7">${esc(id)}</span><br/>${esc(tCode('kind', sensor?.kind ?? ''))}`
    + `<br/>${v ? `<b>${fmtNum(v.value, 3)}</b> ${esc(sensor?.unit ?? '')} · ${fmtTime(v.ts)}` : esc(t('map.noValue'))}`;
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]!));
