/**
 * The area map from the network's own coordinates (GET /map): pipes as lines coloured by their
 * DMA's state, a label per DMA, sensors as points whose tooltip shows the live value. The data
 * aspect ratio is kept by sizing the grid to the box. A pressure-model alarm's ranked loggers (issue
 * #12.6) are numbered markers sized by their loss, listed under the map with their residuals. PolygonMap draws the same network for an
 * incident's affected part: a click adds a corner, a double-click closes the polygon, and the
 * area's meters inside it are marked.
 */
import { useMemo, useRef } from 'preact/hooks';
import { STATE_COLORS, type EChartsOption, type echarts } from '../charts.ts';
import { EChart } from './EChart.tsx';
import { t, tCode } from '../i18n.ts';
import { fmtNum, fmtTime } from '../format.ts';
import { latestValues } from '../liveValues.ts';
import { markerSize, type RankedOnMap } from '../ranked-loggers.ts';
import type { AlarmRecord, DmaState, NetworkMap } from '../../../contract/index.ts';

const NO_DMA_COLOR = '#6e7681';
/** No DMA state, pipe or other marker has this colour: a ranked logger is seen at once. */
const RANKED_COLOR = '#f778ba';

/** A pressure-model alarm and its loggers, in the detector's order. */
export interface RankedAlarm { alarm: AlarmRecord; loggers: RankedOnMap[] }

export function AreaMap(props: {
  map: NetworkMap; states: DmaState[] | undefined; selectedDma?: string; onSelectDma: (dma?: string) => void;
  /** Pressure-model alarms whose loggers are drawn; `selectedAlarm` when one was chosen (`#/control/<alarm id>`). */
  ranked?: RankedAlarm[]; selectedAlarm?: string; onShowActive?: () => void;
}) {
  const { map, states } = props;
  const ranked = props.ranked ?? [];
  const stateOf = useMemo(() => new Map((states ?? []).map((s) => [s.dma, s])), [states]);

  const option = useMemo<EChartsOption>(() => {
    const colorOf = (dma?: string) => (dma ? STATE_COLORS[stateOf.get(dma)?.state ?? 'normal'] : NO_DMA_COLOR);
    const dim = (dma?: string) => (props.selectedDma && dma !== props.selectedDma ? 0.35 : 0.95);
    return {
      ...networkAxes(map),
      tooltip: { trigger: 'item', confine: true, formatter: (p: unknown) => tooltip(p as TooltipParams, map, stateOf) },
      series: [
        pipesSeries(map, colorOf, (dma) => (dma && stateOf.get(dma)?.state !== 'normal' ? 2.5 : 1.5), dim),
        {
          id: 'sensors', type: 'scatter', z: 3, symbolSize: 7,
          itemStyle: { color: '#e6edf3', borderColor: '#0d1117', borderWidth: 1 },
          data: map.sensors.filter((s) => Number.isFinite(s.x) && Number.isFinite(s.y)).map((s) => ({ value: [s.x, s.y], name: s.id })),
        },
        {
          id: 'ranked', type: 'scatter', z: 5,
          data: ranked.flatMap(({ loggers }) => {
            const largestLoss = Math.max(0, ...loggers.map((l) => -l.residualKpa));
            return loggers.filter((l) => l.at).map((l) => ({
              value: l.at, name: l.sensor, rank: l.rank, residualKpa: l.residualKpa, z: l.z,
              symbolSize: markerSize(l.residualKpa, largestLoss),
              itemStyle: { color: RANKED_COLOR, opacity: 1, borderColor: '#0d1117', borderWidth: 1.5 },
              label: { show: true, position: 'inside', formatter: String(l.rank), color: '#0d1117', fontSize: 12, fontWeight: 'bold' },
            }));
          }),
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
  }, [map, stateOf, props.selectedDma, props.ranked]);
  const dmaName = (id?: string) => (id ? map.dmas.find((d) => d.id === id)?.name ?? id : '—');

  const states_ = states ?? [];
  return (
    <section class="card map-card">
      <h2>{t('map.title')}</h2>
      <NetworkChart map={map} option={option} class="area-map" label={t('map.title')}
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
      {ranked.map(({ alarm, loggers }) => (
        <section key={alarm.id} class="ranked-loggers" data-testid="ranked-loggers" data-alarm-id={alarm.id}>
          <h3>{t(alarm.clearedAt === undefined ? 'pmodel.title' : 'pmodel.titleCleared', { dma: dmaName(alarm.dma) })}</h3>
          <ol>
            {loggers.map((l) => (
              <li key={l.sensor} data-sensor={l.sensor} data-rank={l.rank}>
                <span class="rank-badge">{l.rank}</span> <b>{l.name}</b>{l.name !== l.sensor && <span class="muted"> {l.sensor}</span>}
                {' · '}{t('pmodel.entry', { residual: fmtNum(l.residualKpa, 2), z: fmtNum(l.z, 1) })}
                {!l.at && <span class="muted"> · {t('pmodel.notOnMap')}</span>}
              </li>
            ))}
          </ol>
        </section>
      ))}
      {props.selectedAlarm && <button type="button" class="ghost small" data-action="show-active" onClick={props.onShowActive}>{t('pmodel.showActive')}</button>}
    </section>
  );
}

type Point = [number, number];

/**
 * The network with an incident's area highlighted, to draw the part affected on: a click adds a
 * corner (a second click on the same spot, as in a double-click, does not), a double-click closes
 * the polygon; the area's meters are points, those inside the polygon marked.
 */
export function PolygonMap(props: {
  map: NetworkMap; dma: string; meters: { id: string; x: number; y: number }[]; inside: ReadonlySet<string>;
  polygon: Point[]; closed: boolean; onAdd: (p: Point) => void; onClose: () => void;
}) {
  const { map, dma, meters, inside, polygon, closed } = props;
  const option = useMemo<EChartsOption>(() => {
    const outline = closed && polygon.length >= 3 ? [...polygon, polygon[0]] : polygon;
    return {
      ...networkAxes(map),
      tooltip: { trigger: 'item', confine: true, formatter: (p: unknown) => esc((p as TooltipParams).data?.name ?? '') },
      series: [
        pipesSeries(map, (d) => (d === dma ? '#58a6ff' : NO_DMA_COLOR), (d) => (d === dma ? 2 : 1), (d) => (d === dma ? 0.9 : 0.35)),
        {
          id: 'meters', type: 'scatter', z: 3, symbolSize: 9,
          data: meters.map((m) => ({
            value: [m.x, m.y], name: m.id,
            itemStyle: inside.has(m.id) ? { color: POLYGON_COLOR, borderColor: '#0d1117', borderWidth: 1 } : { color: '#e6edf3', borderColor: '#0d1117', borderWidth: 1, opacity: 0.8 },
          })),
        },
        {
          id: 'outline', type: 'lines', coordinateSystem: 'cartesian2d', polyline: true, silent: true, z: 4,
          lineStyle: { color: POLYGON_COLOR, width: 2, type: closed ? 'solid' : 'dashed', opacity: 1 },
          data: outline.length >= 2 ? [{ coords: outline }] : [],
        },
        {
          id: 'corners', type: 'scatter', z: 5, symbolSize: 7, silent: true,
          itemStyle: { color: '#0d1117', borderColor: POLYGON_COLOR, borderWidth: 2 },
          data: polygon.map((p) => ({ value: p })),
        },
      ],
    } as EChartsOption;
  }, [map, dma, meters, inside, polygon, closed]);
  const lastClick = useRef<Point | null>(null);
  return (
    <NetworkChart map={map} option={option} class="polygon-map" label={t('inc.drawMap')}
      onMapClick={(at, pixel) => {
        const last = lastClick.current;
        lastClick.current = pixel;
        if (closed || (last && Math.hypot(pixel[0] - last[0], pixel[1] - last[1]) < 4)) return;
        props.onAdd(at);
      }}
      onMapDoubleClick={() => { lastClick.current = null; props.onClose(); }} />
  );
}

const POLYGON_COLOR = '#f0883e';

/** No grid here: NetworkChart's fit() owns it. */
function networkAxes(map: NetworkMap): EChartsOption {
  const b = map.bounds;
  return {
    animation: false,
    backgroundColor: 'transparent',
    // a grid copied from a ref at render time reached the chart after fit() had set the real one
    // (the option is applied in a later effect), drew the map in a 100-pixel corner, and fit() then
    // saw nothing to change (issue #14.7)
    xAxis: { type: 'value', min: b.minX, max: b.maxX, show: false },
    yAxis: { type: 'value', min: b.minY, max: b.maxY, show: false },
  };
}

function pipesSeries(map: NetworkMap, colorOf: (dma?: string) => string, widthOf: (dma?: string) => number, opacityOf: (dma?: string) => number) {
  return {
    id: 'pipes', type: 'lines', coordinateSystem: 'cartesian2d', polyline: true, silent: true, z: 1,
    data: map.links.map((l) => ({ coords: l.points, lineStyle: { color: colorOf(l.dma), width: widthOf(l.dma), opacity: opacityOf(l.dma) } })),
  } as const;
}

/**
 * The network to scale in its box: the grid is fitted inside the box keeping the network's
 * proportions. `onMapClick` gets clicks anywhere on the chart in map coordinates (and pixels).
 */
function NetworkChart(props: {
  map: NetworkMap; option: EChartsOption; class: string; label: string;
  onClick?: (p: { seriesId?: string; data?: unknown }) => void;
  onMapClick?: (at: Point, pixel: Point) => void;
  onMapDoubleClick?: () => void;
}) {
  const grid = useRef({ left: 0, top: 0, width: 0, height: 0 });
  const latest = useRef(props);
  latest.current = props;
  const fit = (chart: echarts.ECharts, w: number, h: number) => {
    const b = latest.current.map.bounds;
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
  const ready = (c: echarts.ECharts) => {
    const el = c.getDom();
    fit(c, el.clientWidth, el.clientHeight);
    const zr = c.getZr();
    zr.on('click', (e) => {
      const pixel: Point = [e.offsetX, e.offsetY];
      const at = c.convertFromPixel({ gridIndex: 0 }, pixel) as number[] | undefined;
      if (at && at.every(Number.isFinite)) latest.current.onMapClick?.([at[0], at[1]], pixel);
    });
    zr.on('dblclick', () => latest.current.onMapDoubleClick?.());
  };
  return <EChart option={props.option} class={props.class} label={props.label} onResize={fit} onReady={ready} onClick={(p) => latest.current.onClick?.(p)} />;
}

interface TooltipParams { seriesId?: string; data?: { name?: string; rank?: number; residualKpa?: number; z?: number } }

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
  if (p.seriesId === 'ranked' && p.data) {
    return `<b>${esc(sensor?.name ?? id)}</b> <span style="opacity:.7">${esc(id)}</span><br/>${esc(t('pmodel.tooltip', { rank: p.data.rank ?? '' }))}`
      + `<br/>${esc(t('pmodel.entry', { residual: fmtNum(p.data.residualKpa, 2), z: fmtNum(p.data.z, 1) }))}`;
  }
  const v = latestValues.get(id);
  return `<b>${esc(sensor?.name ?? id)}</b> <span style="opacity:.7">${esc(id)}</span><br/>${esc(tCode('kind', sensor?.kind ?? ''))}`
    + `<br/>${v ? `<b>${fmtNum(v.value, 3)}</b> ${esc(sensor?.unit ?? '')} · ${fmtTime(v.ts)}` : esc(t('map.noValue'))}`;
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]!));
