/**
 * The quarterly disclosure (季度公示, issue #14.4), for admins: prepare a quarter's draft (the figures
 * computed now, with the data coverage behind them), add a remark, approve, publish; the archive of
 * every quarter with its status, and for a published one the public page, the PDF and its SHA-256.
 */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { t, tCode, reportNoteOf } from '../i18n.ts';
import { fmtDateTime, fmtNum } from '../format.ts';
import { useApi } from '../hooks.ts';
import type { Disclosure, DisclosureFigures } from '../../../contract/index.ts';
import { gradeText } from '../leakage-grade.ts';

/** The last quarter that has ended, as `2026-Q3` (by the browser's calendar; the server checks). */
function lastEndedQuarter(now = new Date()): string {
  const q = Math.floor(now.getMonth() / 3);
  return q === 0 ? `${now.getFullYear() - 1}-Q4` : `${now.getFullYear()}-Q${q}`;
}

export function DisclosureView() {
  const list = useApi<Disclosure[]>('/disclosures');
  const [quarter, setQuarter] = useState(lastEndedQuarter());
  const [selected, setSelected] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const act = async (run: () => Promise<Disclosure>) => {
    setBusy(true);
    setError(null);
    try {
      const d = await run();
      setSelected(d.quarter);
      list.reload();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const current = list.data?.find((d) => d.quarter === selected) ?? null;

  return (
    <div class="disclosure-view">
      <section class="card">
        <h2>{t('disclosure.title')}</h2>
        <p class="muted">{t('disclosure.intro')}</p>
        <form class="row wrap" data-testid="disclosure-prepare" onSubmit={(e) => { e.preventDefault(); void act(() => api.post<Disclosure>('/disclosures', { quarter: quarter.trim() })); }}>
          <label>{t('disclosure.quarter')}<input name="quarter" value={quarter} pattern="\d{4}-Q[1-4]" onInput={(e) => setQuarter((e.target as HTMLInputElement).value)} /></label>
          <button type="submit" data-action="prepare" disabled={busy}>{t('disclosure.prepare')}</button>
          <a class="button ghost" href="/outages" target="_blank" rel="noopener">{t('disclosure.publicPage')}</a>
        </form>
        {error && <p class="error" role="alert">{error}</p>}
      </section>
      {current && <DisclosureDetail key={`${current.quarter}:${current.status}:${current.preparedAt}`} d={current} busy={busy} act={act} />}
      <section class="card" data-testid="disclosure-archive">
        <h3>{t('disclosure.archive')}</h3>
        {list.error && <p class="error">{list.error}</p>}
        <table class="data">
          <thead><tr><th>{t('disclosure.quarter')}</th><th>{t('disclosure.status')}</th><th>{t('disclosure.prepared')}</th><th>{t('disclosure.approved')}</th><th>{t('disclosure.published')}</th><th /></tr></thead>
          <tbody>
            {(list.data ?? []).map((d) => (
              <tr key={d.quarter} data-quarter={d.quarter} data-status={d.status} class={d.quarter === selected ? 'selected' : ''}>
                <td>{d.quarter}</td><td>{tCode('disclosure.status', d.status)}</td>
                <td>{fmtDateTime(d.preparedAt)} <small class="muted">{d.preparedBy}</small></td>
                <td>{d.approvedAt ? <>{fmtDateTime(d.approvedAt)} <small class="muted">{d.approvedBy}</small></> : '—'}</td>
                <td>{d.publishedAt ? <>{fmtDateTime(d.publishedAt)} · <a href={`/outages/disclosure/${d.quarter}.pdf`} download data-action="pdf">{t('disclosure.pdf')}</a></> : '—'}</td>
                <td><button type="button" class="ghost small" data-action="open" onClick={() => setSelected(d.quarter)}>{t('disclosure.open')}</button></td>
              </tr>
            ))}
            {list.data && !list.data.length && <tr><td colSpan={6} class="muted">{t('disclosure.none')}</td></tr>}
          </tbody>
        </table>
      </section>
    </div>
  );
}

function DisclosureDetail({ d, busy, act }: { d: Disclosure; busy: boolean; act: (run: () => Promise<Disclosure>) => Promise<void> }) {
  const [remark, setRemark] = useState(d.remark ?? '');
  const path = `/disclosures/${d.quarter}`;
  return (
    <section class="card" data-testid="disclosure-detail" data-quarter={d.quarter} data-status={d.status}>
      <div class="row between">
        <h3>{d.quarter} · {tCode('disclosure.status', d.status)}</h3>
        <div class="row">
          {d.status === 'draft' && <button type="button" data-action="approve" disabled={busy} onClick={() => void act(() => api.post<Disclosure>(`${path}/approve`))}>{t('disclosure.approve')}</button>}
          {d.status === 'approved' && <button type="button" data-action="publish" disabled={busy} onClick={() => void act(() => api.post<Disclosure>(`${path}/publish`))}>{t('disclosure.publish')}</button>}
          {d.status !== 'published' && <button type="button" class="ghost" data-action="recompute" disabled={busy} onClick={() => void act(() => api.post<Disclosure>('/disclosures', { quarter: d.quarter }))}>{t('disclosure.recompute')}</button>}
        </div>
      </div>
      <p class="muted">{t('disclosure.computedAt', { at: fmtDateTime(d.figures.computedAt) })}</p>
      <Figures f={d.figures} />
      {d.status === 'published' ? (
        <p data-testid="disclosure-published">
          {d.remark && <>{t('disclosure.remark')}: {d.remark}<br /></>}
          <a href={`/outages/disclosure/${d.quarter}`} target="_blank" rel="noopener">{t('disclosure.publicPage')}</a> · <a href={`/outages/disclosure/${d.quarter}.pdf`} download>{t('disclosure.pdf')}</a>
          <br /><small class="muted">{t('disclosure.sha')}: <code>{d.pdfSha256}</code></small>
        </p>
      ) : (
        <form class="row wrap" onSubmit={(e) => { e.preventDefault(); void act(() => api.patch<Disclosure>(path, { remark })); }}>
          <label class="grow">{t('disclosure.remark')}<textarea name="remark" rows={2} value={remark} disabled={d.status !== 'draft'} onInput={(e) => setRemark((e.target as HTMLTextAreaElement).value)} /></label>
          {d.status === 'draft' && <button type="submit" class="ghost" data-action="save-remark" disabled={busy}>{t('disclosure.saveRemark')}</button>}
        </form>
      )}
    </section>
  );
}

function Figures({ f }: { f: DisclosureFigures }) {
  const l = f.leakage;
  const rows: [string, string][] = [
    [t('reports.planned'), t('disclosure.outageLine', { count: f.plannedOutages.count, hours: fmtNum(f.plannedOutages.hours, 1), customerHours: fmtNum(f.plannedOutages.customerHours, 0) })],
    [t('reports.unplanned'), t('disclosure.outageLine', { count: f.suddenOutages.count, hours: fmtNum(f.suddenOutages.hours, 1), customerHours: fmtNum(f.suddenOutages.customerHours, 0) })],
    [t('reports.saidi'), `${fmtNum(f.averageOutageMinutesPerCustomer, 1)} ${t('reports.minPerCustomer')} · ${t('disclosure.excluded')}: ${f.excludedCauses.map((c) => tCode('cause', c)).join(', ') || '—'}`],
    [t('reports.leakageTotal'), `${fmtNum(l.basicRatePct, 2)} %`],
    [t('reports.leakageCorrected'), l.correctedRatePct === null ? t('reports.missingInputs', { what: l.missing.join('; ') }) : `${fmtNum(l.correctedRatePct, 2)} % · ${gradeText(l.grade)}`],
    ...l.corrections.map((c): [string, string] => [t(`reports.${c.key}`), c.pct === null ? t('reports.missing', { what: c.missing ?? '' }) : `${fmtNum(c.pct, 2)} % (${c.source})`]),
    [t('reports.pressureCompliance'), f.pressureCompliance.share === null ? '—' : `${fmtNum(f.pressureCompliance.share * 100, 2)} %`],
    [t('disclosure.complaints'), f.complaints === null ? '—' : t('disclosure.complaintLine', { total: f.complaints.total, closed: f.complaints.closed, open: f.complaints.unresolved })],
    [t('disclosure.coverage'), t('disclosure.coverageLine', {
      inflow: fmtNum(f.coverage.inflow * 100, 1), used: f.coverage.metersUsed, meters: f.coverage.meters, samples: f.coverage.pressureSamples,
    })],
  ];
  return <>
    <table class="data" data-testid="disclosure-figures"><tbody>{rows.map(([k, v]) => <tr key={k}><th>{k}</th><td>{v}</td></tr>)}</tbody></table>
    {f.notes.length > 0 && <ul class="notes">{f.notes.map((n, i) => <li key={i}>{reportNoteOf(n)}</li>)}</ul>}
  </>;
}
