/**
 * Reports: the KPIs of a period (default: the current quarter) with charts, a CSV export link and
 * a printable page (print CSS hides the app's chrome and controls).
 */
import { useMemo, useState } from 'preact/hooks';
import { BarChart } from 'echarts/charts';
import { echarts, SERIES_COLORS, type EChartsOption } from '../charts.ts';
import { EChart } from '../components/EChart.tsx';
import { apiUrl } from '../api.ts';
import { reportNoteOf, t, tCode } from '../i18n.ts';
import { fmtDate, fmtNum, fromLocalInput, toLocalInput } from '../format.ts';
import { useApi } from '../hooks.ts';
import { useSession } from '../session.ts';
import { gradeText } from '../leakage-grade.ts';
import type { KpiReport } from '../../../contract/index.ts';

echarts.use([BarChart]);

const EXCLUDABLE = ['maintenance', 'retrofit', 'raw_water_shortage', 'power_failure'];

export function ReportsView() {
  const { site } = useSession();
  const [period, setPeriod] = useState<{ from?: number; to?: number }>({});
  const [exclude, setExclude] = useState<string[]>(EXCLUDABLE);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const query = { from: period.from, to: period.to, exclude: exclude.join(',') || undefined };
  const r = useApi<KpiReport>('/kpis', query);
  const rep = r.data;
  const apply = () => setPeriod({ from: fromLocalInput(from), to: fromLocalInput(to) });

  return (
    <div class="reports-view">
      <div class="toolbar no-print">
        <button type="button" class={period.from === undefined ? 'active small' : 'ghost small'} onClick={() => setPeriod({})}>{t('reports.thisQuarter')}</button>
        <button type="button" class="ghost small" data-action="last-week" onClick={() => { const now = Date.now(); setPeriod({ from: now - 7 * 86_400_000, to: now }); }}>{t('reports.lastWeek')}</button>
        <label>{t('history.from')}<input type="datetime-local" value={from || (rep ? toLocalInput(rep.period.from) : '')} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} /></label>
        <label>{t('history.to')}<input type="datetime-local" value={to || (rep ? toLocalInput(rep.period.to) : '')} onInput={(e) => setTo((e.target as HTMLInputElement).value)} /></label>
        <button type="button" class="small" onClick={apply} disabled={!from || !to}>{t('history.apply')}</button>
        <fieldset class="inline"><legend>{t('reports.exclude')}</legend>
          {EXCLUDABLE.map((c) => (
            <label key={c} class="check"><input type="checkbox" checked={exclude.includes(c)}
              onChange={(e) => setExclude((p) => (e.target as HTMLInputElement).checked ? [...p, c] : p.filter((x) => x !== c))} />{tCode('cause', c)}</label>
          ))}
        </fieldset>
        <a class="button small" href={apiUrl('/kpis.csv', query)} download data-action="csv">{t('reports.csv')}</a>
        <button type="button" class="small" onClick={() => print()}>{t('reports.print')}</button>
      </div>
      {r.error && <p class="error">{r.error}</p>}
      {!rep ? <p class="muted">{t('app.loading')}</p> : (
        <article class="report printable" data-testid="kpi-report">
          <h2>{site.name} · {t('reports.title')} · {rep.period.label}</h2>
          <p class="muted">{fmtDate(rep.period.from)} – {fmtDate(rep.period.to)} · {t('reports.asOf')} {fmtDate(rep.asOf)} · {rep.period.timezone}</p>
          <section class="kpi-grid">
            <Figure label={t('reports.saidi')} value={fmtNum(rep.outages.saidiMinutes, 1)} unit={t('reports.minPerCustomer')} testId="saidi" />
            <Figure label={t('reports.saifi')} value={fmtNum(rep.outages.saifi, 3)} />
            <Figure label={t('reports.unplanned')} value={fmtNum(rep.outages.unplanned.count, 0)} />
            <Figure label={t('reports.planned')} value={fmtNum(rep.outages.planned.count, 0)} />
            <Figure label={t('reports.customerMinutes')} value={fmtNum(rep.outages.customerMinutesLost, 0)} />
            <Figure label={t('reports.pressureCompliance')} value={rep.pressure.share == null ? '—' : fmtNum(rep.pressure.share * 100, 1)} unit="%"
              note={rep.pressure.meetsNorm == null ? '' : rep.pressure.meetsNorm ? t('reports.meetsNorm') : t('reports.belowNorm')} />
            <VolumeFigures rep={rep} />
          </section>
          <div class="report-charts">
            <LeakageChart rep={rep} />
            <OutageCauseChart rep={rep} />
          </div>
          <LeakageCorrections rep={rep} />
          <h3>{t('reports.byArea')}</h3>
          <table class="data">
            <thead><tr><th>{t('cs.area')}</th><th>{t('map.customers')}</th><th>{t('reports.input')}</th><th>{t('reports.billed')}</th><th>{t('reports.leakage')}</th><th>{t('reports.outageMin')}</th></tr></thead>
            <tbody>
              {rep.waterBalance.dmas.map((d) => {
                const area = rep.outages.byArea.find((a) => a.dma === d.dma);
                return (
                  <tr key={d.dma} data-dma={d.dma}><td>{d.dma}</td><td class="num">{fmtNum(d.customers, 0)}</td>
                    <td class="num">{d.systemInputM3 !== null ? fmtNum(d.systemInputM3, 0) : <>{fmtNum(d.input.measuredM3, 0)} <small class="muted">{t('reports.measuredShare', { pct: fmtNum(d.input.coverage * 100, 1) })}</small></>}</td>
                    <td class="num">{fmtNum(d.billedM3, 0)} <small class="muted">{t('reports.metersUsed', { used: d.metersUsed, all: d.meters })}</small></td><td class="num">{fmtNum(d.leakageRatePct, 1)}</td>
                    <td class="num">{fmtNum(area?.outageMinutesCounted, 0)}</td></tr>
                );
              })}
            </tbody>
          </table>
          {rep.notes.length > 0 && <ul class="notes">{rep.notes.map((n, i) => <li key={i}>{reportNoteOf(n)}</li>)}</ul>}
        </article>
      )}
    </div>
  );
}

/**
 * Supplied and billed volume and the leakage rate. Over a period the data only partly cover (a
 * week of demo data in a quarter), the volumes measured are shown with their coverage, and the
 * leakage rate says why it is not given, instead of three dashes (issue #14.7).
 */
function VolumeFigures({ rep }: { rep: KpiReport }) {
  const { total, dmas } = rep.waterBalance;
  const measured = dmas.reduce((s, d) => s + d.input.measuredM3, 0);
  const estimated = dmas.reduce((s, d) => s + (d.input.estimatedM3 ?? 0), 0);
  const coverage = estimated > 0 ? measured / estimated : 0;
  const billed = dmas.reduce((s, d) => s + d.billedM3, 0);
  const metersUsed = dmas.reduce((s, d) => s + d.metersUsed, 0);
  const meters = dmas.reduce((s, d) => s + d.meters, 0);
  return <>
    <Figure label={t('reports.supplied')} value={fmtNum(total.systemInputM3 ?? measured, 0)} unit="m³" testId="supplied"
      note={total.systemInputM3 !== null && total.complete ? '' : t('reports.coverage', { pct: fmtNum(coverage * 100, 1) })} />
    <Figure label={t('reports.billedVolume')} value={fmtNum(billed, 0)} unit="m³" testId="billed" note={t('reports.metersUsed', { used: metersUsed, all: meters })} />
    <Figure label={t('reports.leakageTotal')} value={fmtNum(total.leakageRatePct, 1)} unit="%" testId="leakage"
      note={total.leakageRatePct === null ? t('reports.leakageNeeds', { pct: fmtNum(coverage * 100, 1) }) : ''} />
    <Figure label={t('reports.leakageCorrected')} value={fmtNum(rep.leakage.correctedRatePct, 1)} unit="%" testId="leakage-corrected"
      note={rep.leakage.correctedRatePct === null
        ? (rep.leakage.missing.length ? t('reports.missingInputs', { what: rep.leakage.missing.join('; ') }) : '')
        : gradeText(rep.leakage.grade)} />
    <Figure label={t('reports.nrw')} value={fmtNum(total.nonRevenueM3, 0)} unit="m³" />
  </>;
}


/** CJJ 92-2016's four corrections: each input with where it came from, or the configuration key missing. */
function LeakageCorrections({ rep }: { rep: KpiReport }) {
  const l = rep.leakage;
  return <>
    <h3>{t('reports.corrections')}</h3>
    <table class="data" data-testid="leakage-corrections">
      <thead><tr><th>{t('reports.correction')}</th><th>{t('reports.correctionInput')}</th><th>{t('reports.correctionPct')}</th><th>{t('reports.correctionSource')}</th></tr></thead>
      <tbody>
        {l.corrections.map((c) => (
          <tr key={c.key} data-correction={c.key}><td>{t(`reports.${c.key}`)}</td>
            <td class="num">{c.input === null ? '—' : `${fmtNum(c.input, c.unit === 'share' ? 3 : 2)}${c.unit === 'share' ? '' : ` ${c.unit}`}`}</td>
            <td class="num">{fmtNum(c.pct, 2)}</td>
            <td>{c.source ?? <span class="warn">{t('reports.missing', { what: c.missing ?? '' })}</span>}</td></tr>
        ))}
        <tr><td>{t('reports.correctionTotal')}</td><td /><td class="num">{fmtNum(l.totalCorrectionPct, 2)}</td><td /></tr>
        <tr><td>{t('reports.leakageTotal')} → {t('reports.leakageCorrected')}</td><td class="num">{fmtNum(l.basicRatePct, 2)} %</td>
          <td class="num"><b>{fmtNum(l.correctedRatePct, 2)} %</b></td><td>{gradeText(l.grade)}</td></tr>
      </tbody>
    </table>
  </>;
}

function Figure(props: { label: string; value: string; unit?: string; note?: string; testId?: string }) {
  return <div class="tile" data-testid={props.testId}><span class="tile-label">{props.label}</span><span class="tile-value">{props.value}{props.unit && <small> {props.unit}</small>}</span>{props.note && <small>{props.note}</small>}</div>;
}

const axisStyle = { axisLabel: { color: '#8b949e' }, axisLine: { lineStyle: { color: '#30363d' } }, splitLine: { lineStyle: { color: '#21262d' } } };

function LeakageChart({ rep }: { rep: KpiReport }) {
  const option = useMemo<EChartsOption>(() => ({
    animation: false, color: SERIES_COLORS, grid: { left: 48, right: 16, top: 36, bottom: 28 },
    tooltip: { trigger: 'axis' }, legend: { top: 4, textStyle: { color: '#c9d1d9' } },
    xAxis: { type: 'category', data: rep.waterBalance.dmas.map((d) => d.dma), ...axisStyle },
    yAxis: { type: 'value', name: '%', ...axisStyle },
    series: [{
      type: 'bar', name: t('reports.leakage'), data: rep.waterBalance.dmas.map((d) => d.leakageRatePct),
      markLine: { symbol: 'none', silent: true, data: [{ yAxis: 9, name: t('reports.nationalAim'), label: { formatter: `${t('reports.nationalAim')} 9%`, color: '#d29922' }, lineStyle: { color: '#d29922', type: 'dashed' } }] },
    }],
  }) as EChartsOption, [rep]);
  return <section class="card chart-card"><h3>{t('reports.leakageChart')}</h3><EChart option={option} class="report-chart" /></section>;
}

function OutageCauseChart({ rep }: { rep: KpiReport }) {
  const option = useMemo<EChartsOption>(() => ({
    animation: false, color: SERIES_COLORS, grid: { left: 56, right: 16, top: 36, bottom: 28 },
    tooltip: { trigger: 'axis' }, legend: { top: 4, textStyle: { color: '#c9d1d9' } },
    xAxis: { type: 'category', data: rep.outages.byCause.map((c) => tCode('cause', c.cause)), ...axisStyle },
    yAxis: { type: 'value', name: t('reports.customerMinutes'), ...axisStyle },
    series: [{ type: 'bar', name: t('reports.customerMinutes'), data: rep.outages.byCause.map((c) => c.customerMinutes) }],
  }) as EChartsOption, [rep]);
  return <section class="card chart-card"><h3>{t('reports.causeChart')}</h3><EChart option={option} class="report-chart" /></section>;
}
