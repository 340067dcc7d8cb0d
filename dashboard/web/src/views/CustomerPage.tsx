/**
 * The page of one customer (account), `#/customers/<account>` (issue #14.2): their meters, the
 * consumption from the meter readings (chart and table, per day or per reading interval), their
 * meter anomalies open and closed, every outage and low-pressure period that reached them with its
 * minutes (a partial area leaves out the customers it did not reach), the notices they were sent, and
 * their complaints with a link to their compensation statement (CustomerComplaints.tsx).
 * Reached from the lookup, the anomaly queue and an incident's affected meters.
 */
import { useMemo, useState } from 'preact/hooks';
import { BarChart } from 'echarts/charts';
import { t, tCode, lang } from '../i18n.ts';
import { fmtDate, fmtNum, fmtShort } from '../format.ts';
import { useApi } from '../hooks.ts';
import { echarts, SERIES_COLORS, type EChartsOption } from '../charts.ts';
import { EChart } from '../components/EChart.tsx';
import { AnomalyTable } from './CustomerAnomalies.tsx';
import { CustomerComplaints } from './CustomerComplaints.tsx';
import type { CustomerPage as Page } from '../../../contract/index.ts';

echarts.use([BarChart]);

const DAY = 86_400_000;
const PERIODS = [30, 90, 365] as const;

export function CustomerPage({ account }: { account: string }) {
  const [days, setDays] = useState<number>(90);
  // the default period is the server's (its event time); another one counts back from now
  const query = useMemo(() => (days === 90 ? {} : { from: Date.now() - days * DAY, to: Date.now() }), [days]);
  const r = useApi<Page>(`/customers/${encodeURIComponent(account)}`, query);
  const p = r.data;
  return (
    <div class="customer-page" data-testid="customer-page" data-account={account}>
      <div class="row between">
        <h2>{t('cust.pageTitle', { account })}</h2>
        <div class="row">
          <select value={days} aria-label={t('cust.period')} onChange={(e) => setDays(Number((e.target as HTMLSelectElement).value))}>
            {PERIODS.map((d) => <option key={d} value={d}>{t('cust.lastDays', { n: d })}</option>)}
          </select>
          <a href="#/customers" class="button ghost">{t('cust.back')}</a>
        </div>
      </div>
      {r.error && <p class="error">{r.error}</p>}
      {!p && !r.error && <p class="muted">{t('app.loading')}</p>}
      {p && <>
        <CustomerMeters page={p} />
        <Consumption page={p} />
        <section class="card">
          <h2>{t('cust.anomaliesOf')}</h2>
          <div data-testid="customer-anomalies"><AnomalyTable rows={p.anomalies} /></div>
          {!p.anomalies.length && <p class="muted">{t('cust.noAnomaliesOf')}</p>}
        </section>
        <Interruptions page={p} />
        <NoticesSent page={p} />
        <CustomerComplaints account={account} />
      </>}
    </div>
  );
}

function CustomerMeters({ page }: { page: Page }) {
  return (
    <section class="card">
      <p class="muted">{fmtShort(page.from)} – {fmtShort(page.to)}</p>
      <table class="data" data-testid="customer-meters">
        <thead><tr><th>{t('cs.meter')}</th><th>{t('cs.address')}</th><th>{t('cs.area')}</th><th>{t('notice.phone')}</th><th>{t('cust.accountType')}</th></tr></thead>
        <tbody>
          {page.meters.map((m) => (
            <tr key={m.meter}><td>{m.meter}</td><td>{m.address || '—'}</td><td>{m.dmaName}</td><td>{m.phone ?? t('cust.noPhone')}</td>
              <td>{m.large ? t('cust.large') : t('cust.household')}{!m.active && <span class="badge">{t('cust.inactive')}</span>}</td></tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Consumption({ page }: { page: Page }) {
  const { consumption: c } = page;
  const perDay = c.step === 'day';
  const option = useMemo<EChartsOption>(() => ({
    animation: false,
    backgroundColor: 'transparent',
    color: SERIES_COLORS,
    grid: { left: 56, right: 24, top: 28, bottom: 28 },
    legend: { top: 0, textStyle: { color: '#c9d1d9' } },
    tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => `${fmtNum(v as number, 3)} ${t('cust.m3PerDay')}` },
    xAxis: { type: 'time', axisLabel: { color: '#8b949e', hideOverlap: true } },
    yAxis: { type: 'value', name: t('cust.m3PerDay'), nameTextStyle: { color: '#8b949e' }, axisLabel: { color: '#8b949e' }, splitLine: { lineStyle: { color: '#30363d' } } },
    // m³ per day at the interval's end, so a longer interval (a misread reading skipped, monthly rounds) compares with a day
    series: c.series.map((s) => ({ type: 'bar', name: s.meter, data: s.rows.map((row) => [row.to, row.m3PerDay]) })),
  }), [page]);
  const rows = c.series.flatMap((s) => s.rows.map((row) => ({ meter: s.meter, ...row }))).sort((a, b) => b.to - a.to);
  return (
    <section class="card" data-testid="consumption" data-step={c.step} data-total={c.totalM3}>
      <h2>{t('cust.consumption')} <small class="muted">{perDay ? t('cust.perDay') : t('cust.perReading')} · {t('cust.total', { m3: fmtNum(c.totalM3, 3) })}</small></h2>
      {rows.length ? <EChart option={option} class="consumption-chart" notMerge label={t('cust.consumption')} /> : <p class="muted">{t('cust.noReadings')}</p>}
      {rows.length > 0 && (
        <details>
          <summary>{t('cust.table')}</summary>
          <table class="data" data-testid="consumption-table">
            <thead><tr><th>{perDay ? t('cust.day') : t('cust.interval')}</th><th>{t('cs.meter')}</th><th>m³</th><th>{t('cust.m3PerDay')}</th></tr></thead>
            <tbody>
              {rows.map((row) => (
                <tr key={`${row.meter}:${row.to}`}>
                  <td class="time">{perDay ? fmtDate(row.to) : `${fmtShort(row.from)} – ${fmtShort(row.to)}`}</td><td>{row.meter}</td>
                  <td class="num">{row.m3 === null ? <span class="warn" title={t('cust.backwardsHelp')}>{t('cust.backwards')}</span> : fmtNum(row.m3, 3)}</td>
                  <td class="num">{fmtNum(row.m3PerDay, 3)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
    </section>
  );
}

function Interruptions({ page }: { page: Page }) {
  const areaName = new Map(page.meters.map((m) => [m.dma, m.dmaName]));
  return (
    <section class="card" data-testid="customer-incidents" data-outage-minutes={page.minutes.outage} data-low-pressure-minutes={page.minutes.low_pressure}>
      <h2>{t('cust.interruptions')}</h2>
      <p>{t('cust.minutesTotal', { outage: fmtNum(page.minutes.outage, 0), low: fmtNum(page.minutes.low_pressure, 0) })}</p>
      {page.incidents.length > 0 && (
        <table class="data">
          <thead><tr><th>{t('cs.kind')}</th><th>{t('cs.area')}</th><th>{t('cs.start')}</th><th>{t('cs.end')}</th><th>{t('cust.minutes')}</th><th>{t('cs.cause')}</th><th></th></tr></thead>
          <tbody>
            {page.incidents.map((row) => (
              <tr key={row.incident.id} data-incident={row.incident.id} data-kind={row.incident.kind} data-minutes={row.minutes}>
                <td>{tCode('state', row.incident.kind)}{row.incident.planned && <span class="badge">{t('cs.planned')}</span>}</td>
                <td>{areaName.get(row.incident.dma) ?? row.incident.dma}</td>
                <td class="time">{fmtShort(row.from)}</td>
                <td class="time">{row.incident.end === undefined ? t('inc.ongoing') : fmtShort(row.to)}</td>
                <td class="num"><b>{fmtNum(row.minutes, 0)}</b></td>
                <td>{tCode('cause', row.incident.cause)}</td>
                <td>{row.incident.affectedPart && <small class="muted">{row.placed ? t('inc.partial') : t('cust.notPlaced')}</small>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {!page.incidents.length && <p class="muted">{t('cust.noInterruptions')}</p>}
    </section>
  );
}

function NoticesSent({ page }: { page: Page }) {
  const language = lang();
  return (
    <section class="card" data-testid="customer-notices">
      <h2>{t('cust.notices')}</h2>
      {page.notices.length > 0 && (
        <table class="data">
          <thead><tr><th>{t('cust.sentAt')}</th><th>{t('cs.kind')}</th><th>{t('cust.text')}</th><th>{t('notice.state')}</th></tr></thead>
          <tbody>
            {page.notices.map((n) => (
              <tr key={n.id} data-notice={n.id}>
                <td class="time">{fmtShort(n.sentAt)}</td>
                <td>{tCode('cust.noticeKind', n.kind)}</td>
                <td>{n.sms[language]}</td>
                <td>{n.delivery ? tCode('noticeState', n.delivery.state) : t('cust.noPhone')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {!page.notices.length && <p class="muted">{t('cust.noNotices')}</p>}
    </section>
  );
}
