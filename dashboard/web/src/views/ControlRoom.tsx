/**
 * The control room: alarm banner, KPI tiles, the area map, live trends of pressure and quality with
 * their history range. Clicking an area on the map narrows the trends to its sensors. The map numbers
 * the ranked loggers of every active pressure-model alarm in the user's queue (of the chosen area's,
 * when one is chosen), or of the one alarm chosen from its detail (`#/control/<alarm id>`, issue #12.6).
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { t, tCode } from '../i18n.ts';
import { useApi, useDmaStates, useKpiSummary, useNetworkMap, useOpenAlarms } from '../hooks.ts';
import { href, useRouteParam } from '../router.ts';
import { placeRanked, PRESSURE_MODEL_TYPE } from '../ranked-loggers.ts';
import { useLiveEvent, useRooms } from '../live.ts';
import { recordValues } from '../liveValues.ts';
import { beep } from '../sound.ts';
import { useSession } from '../session.ts';
import { inQueues, queuesOf } from '../alarm-queue.ts';
import { AlarmBanner } from '../components/AlarmBanner.tsx';
import { KpiTiles } from '../components/KpiTiles.tsx';
import { AreaMap, type RankedAlarm } from '../components/AreaMap.tsx';
import { TrendChart } from '../components/TrendChart.tsx';
import { HistoryControls, type HistoryRange } from '../components/HistoryControls.tsx';
import type { AlarmDetail, AlarmRecord, LiveValue, MapSensor } from '../../../contract/index.ts';

const QUALITY_KINDS = ['chlorine', 'turbidity', 'ph', 'conductivity', 'temperature'];
const MAX_TREND_SERIES = 6;

export function ControlRoom({ wall }: { wall: boolean }) {
  const map = useNetworkMap();
  const states = useDmaStates();
  const kpis = useKpiSummary();
  const alarms = useOpenAlarms((kind, a) => {
    if (kind === 'raise' && inMyQueue(a) && !a.shelved && !a.suppressed && (a.priority === 'critical' || a.priority === 'high')) beep(a.priority);
  });
  const inMyQueue = inQueues(queuesOf(useSession().user.role));
  const [dma, setDma] = useState<string | undefined>(undefined);
  const [range, setRange] = useState<HistoryRange>({ kind: '1h' });
  const [qualityKind, setQualityKind] = useState('chlorine');
  const chosenAlarm = useRouteParam();
  const chosen = useApi<AlarmDetail>(chosenAlarm ? `/alarms/${encodeURIComponent(chosenAlarm)}` : null);
  const ranked = useMemo<RankedAlarm[]>(() => {
    if (!map) return [];
    let shown: AlarmRecord[];
    if (chosenAlarm) {
      // the open list's copy is the newest; a cleared or closed alarm only the detail has
      const open = alarms.data?.find((a) => a.id === chosenAlarm);
      shown = open ? [open] : chosen.data?.alarm.id === chosenAlarm ? [chosen.data.alarm] : [];
    } else {
      shown = (alarms.data ?? []).filter((a) => inMyQueue(a) && a.type === PRESSURE_MODEL_TYPE && a.clearedAt === undefined
        && !a.shelved && !a.suppressed && (!dma || a.dma === dma));
    }
    return shown.map((alarm) => ({ alarm, loggers: placeRanked(alarm, map.sensors) })).filter((r) => r.loggers.length > 0);
  }, [map, alarms.data, chosenAlarm, chosen.data, dma]);

  // every sensor of every area, for the map's hover values
  useRooms(map ? [...map.dmas.map((d) => `values:dma:${d.id}`), ...map.sensors.filter((s) => !s.dma).slice(0, 100).map((s) => `values:${s.id}`)] : []);
  useLiveEvent<LiveValue[]>('values', recordValues);

  const qualityKinds = useMemo(() => QUALITY_KINDS.filter((k) => map?.sensors.some((s) => s.kind === k)), [map]);
  const pick = (kind: string): MapSensor[] => {
    if (!map) return [];
    const all = map.sensors.filter((s) => s.kind === kind);
    const inDma = dma ? all.filter((s) => s.dma === dma) : all;
    // without a chosen area, the network ends first: where low pressure shows
    const ordered = [...(inDma.length ? inDma : all)].sort((a, b) => rank(a) - rank(b) || a.id.localeCompare(b.id));
    return ordered.slice(0, MAX_TREND_SERIES);
  };
  const pressure = useMemo(() => pick('pressure'), [map, dma]);
  const quality = useMemo(() => pick(qualityKind), [map, dma, qualityKind]);
  const ready = !!(map && states && kpis);
  useEffect(() => {
    // first-load figure (bench/dashboard-web.ts): map and tiles drawn, after ECharts' next frame
    if (ready && !performance.getEntriesByName('aw:control-ready').length) requestAnimationFrame(() => requestAnimationFrame(() => performance.mark('aw:control-ready')));
  }, [ready]);
  const dmaName = dma ? map?.dmas.find((d) => d.id === dma)?.name ?? dma : t('control.allAreas');

  return (
    <div class={`control-room ${wall ? 'wall' : ''}`} data-ready={ready ? 'yes' : 'no'}>
      <AlarmBanner alarms={alarms.data?.filter(inMyQueue)} />
      <KpiTiles kpis={kpis} />
      <div class="control-grid">
        {map && states ? <AreaMap map={map} states={states} selectedDma={dma} onSelectDma={setDma}
          ranked={ranked} selectedAlarm={chosenAlarm} onShowActive={() => { location.hash = href('control'); }} /> : <section class="card map-card"><p class="muted">{t('app.loading')}</p></section>}
        <div class="trends">
          <div class="trends-head">
            <span class="muted">{t('control.showing', { area: dmaName })}</span>
            <HistoryControls range={range} onRange={setRange} />
          </div>
          <TrendChart id="pressure" title={t('control.pressureTrend')} sensors={pressure} range={range} />
          <div class="quality-kind">
            <label>{t('control.qualityParam')}{' '}
              <select value={qualityKind} onChange={(e) => setQualityKind((e.target as HTMLSelectElement).value)}>
                {qualityKinds.map((k) => <option key={k} value={k}>{tCode('kind', k)}</option>)}
              </select>
            </label>
          </div>
          <TrendChart id="quality" title={t('control.qualityTrend', { kind: tCode('kind', qualityKind) })} sensors={quality} range={range} />
        </div>
      </div>
    </div>
  );
}

const PLACE_RANK: Record<string, number> = { 'network-end': 0, network: 1, 'plant-outlet': 2, inlet: 3 };
const rank = (s: MapSensor) => PLACE_RANK[s.place] ?? 4;
