/**
 * Customer service: current outages and low-pressure areas (with customers, since, cause, expected
 * restoration), the meter-anomaly queue (CustomerAnomalies.tsx), planned outages (create/edit, the 24 h notice rule flagged, the generated Chinese
 * notice text, the reason shown to the public chosen from templates, pending entries with an Approve button for dispatchers (review F18),
 * the customer notice: draft, approve, send by SMS, delivery log), and a lookup of address / account / meter → the area's state
 * and the customer's page (`#/customers/<account>`, CustomerPage.tsx); the queue, the lookup and the page only for roles
 * with customers.read.
 */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { lang, t, tCode } from '../i18n.ts';
import { fmtNum, fmtShort, fromLocalInput, toLocalInput } from '../format.ts';
import { useApi, useNetworkMap } from '../hooks.ts';
import { useLiveEvent, useRooms } from '../live.ts';
import { useCan } from '../session.ts';
import { STATE_COLORS } from '../charts.ts';
import { CAUSES } from '../causes.ts';
import { CustomerNotices } from '../components/CustomerNotices.tsx';
import { customerHref, useRouteParam } from '../router.ts';
import { MeterAnomalyQueue } from './CustomerAnomalies.tsx';
import { CustomerPage } from './CustomerPage.tsx';
import { PUBLIC_REASONS, PUBLIC_REASON_TEXTS } from '../../../../core/messages/public-reasons.ts';
import type { CurrentOutage, LookupRow, PlannedOutageRow, PlannedOutageSaved } from '../../../contract/index.ts';

const NOTICE_MS = 24 * 3_600_000;

export function CustomerServiceView() {
  const account = useRouteParam();
  // customers' names, accounts and addresses only for customers.read (the viewer sees outages, review L5)
  const readsCustomers = useCan('customers.read');
  if (account) return readsCustomers ? <CustomerPage key={account} account={account} /> : <p class="notice">{t('app.forbidden')}</p>;
  return (
    <div class="customers-view">
      <CurrentOutages />
      {readsCustomers && <MeterAnomalyQueue />}
      <PlannedOutages />
      {readsCustomers && <Lookup />}
    </div>
  );
}

function CurrentOutages() {
  const r = useApi<CurrentOutage[]>('/outages/current');
  useRooms(['dmas', 'incidents']);
  useLiveEvent('dmas', () => r.reload());
  useLiveEvent('incident', () => r.reload());
  return (
    <section class="card">
      <h2>{t('cs.current')}</h2>
      {r.error && <p class="error">{r.error}</p>}
      <table class="data" data-testid="current-outages">
        <thead><tr><th>{t('cs.area')}</th><th>{t('cs.kind')}</th><th>{t('cs.customers')}</th><th>{t('cs.since')}</th><th>{t('cs.cause')}</th><th>{t('cs.restoration')}</th></tr></thead>
        <tbody>
          {(r.data ?? []).map((o) => (
            <tr key={`${o.dma}:${o.kind}`} data-dma={o.dma} data-kind={o.kind} data-customers={o.customersAffected}>
              <td>{o.name}</td>
              <td><span class="badge" style={{ borderColor: STATE_COLORS[o.kind] }}>{tCode('state', o.kind)}</span>{o.planned && <span class="badge">{t('cs.planned')}</span>}</td>
              <td class="num"><b>{fmtNum(o.customersAffected, 0)}</b></td>
              <td>{fmtShort(o.since)}</td>
              <td>{tCode('cause', o.cause)}</td>
              <td>{o.expectedRestoration ? fmtShort(o.expectedRestoration) : t('cs.unknown')}</td>
            </tr>
          ))}
          {r.data && !r.data.length && <tr><td colSpan={6} class="muted">{t('cs.noOutages')}</td></tr>}
        </tbody>
      </table>
    </section>
  );
}

function PlannedOutages() {
  const from = useState(() => Date.now() - 86_400_000)[0];
  const list = useApi<PlannedOutageRow[]>('/planned-outages', { from });
  const canEdit = useCan('outages.edit');
  const canApprove = useCan('outages.approve');
  const [editing, setEditing] = useState<PlannedOutageRow | 'new' | null>(null);
  const [saved, setSaved] = useState<PlannedOutageSaved | null>(null);
  const [noticeOf, setNoticeOf] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const remove = async (id: string) => { await api.del(`/planned-outages/${encodeURIComponent(id)}`); list.reload(); };
  // the window and areas shown are what the dispatcher approves (changed meanwhile: refused, the list reloads)
  const approve = async ({ id, dmas, start, end }: PlannedOutageRow) => {
    setError(null);
    try { await api.post(`/planned-outages/${encodeURIComponent(id)}/approve`, { dmas, start, end }); } catch (err) { setError((err as Error).message); }
    list.reload();
  };
  return (
    <section class="card">
      <div class="row between">
        <h2>{t('cs.plannedTitle')}</h2>
        {canEdit && <button type="button" data-action="new-planned" onClick={() => { setSaved(null); setEditing('new'); }}>{t('cs.newPlanned')}</button>}
      </div>
      {editing && <PlannedOutageForm initial={editing === 'new' ? undefined : editing}
        onCancel={() => setEditing(null)} onSaved={(s) => { setSaved(s); setEditing(null); list.reload(); }} />}
      {saved && <SavedNotice saved={saved} />}
      {error && <p class="error" role="alert">{error}</p>}
      <table class="data" data-testid="planned-outages">
        <thead><tr><th>{t('cs.areas')}</th><th>{t('cs.start')}</th><th>{t('cs.end')}</th><th>{t('cs.notified')}</th><th>{t('cs.cause')}</th><th>{t('cs.reason')}</th><th>{t('cs.status')}</th><th></th></tr></thead>
        <tbody>
          {(list.data ?? []).map((p) => (
            <tr key={p.id} data-planned={p.id} data-short-notice={p.shortNotice ? 'yes' : 'no'} data-status={p.status}>
              <td>{p.dmas.join(', ')}</td><td>{fmtShort(p.start)}</td><td>{fmtShort(p.end)}</td>
              <td>{fmtShort(p.notifiedAt)}{p.shortNotice && <span class="badge warn" title={t('cs.shortNoticeHelp')}>{t('cs.shortNotice')}</span>}</td>
              <td>{tCode('cause', p.cause)}</td><td>{p.reason}<br /><small class="muted">{PUBLIC_REASON_TEXTS[p.publicReason][lang()]}</small></td>
              <td>{p.status === 'pending'
                ? <><span class="badge warn" title={t('cs.pendingHelp')}>{t('cs.pending')}</span>
                  {canApprove && <button type="button" class="small" data-action="approve-planned" onClick={() => void approve(p)}>{t('cs.approve')}</button>}</>
                : <small class="muted">{p.approvedBy ? t('cs.approvedBy', { user: p.approvedBy }) : '✓'}</small>}</td>
              <td class="actions"><button type="button" class="small ghost" data-action="notice" onClick={() => setNoticeOf(noticeOf === p.id ? null : p.id)}>{t('notice.title')}</button>{canEdit && <>
                <button type="button" class="small ghost" onClick={() => { setSaved(null); setEditing(p); }}>{t('common.edit')}</button>
                <button type="button" class="small ghost" onClick={() => void remove(p.id)}>{t('common.delete')}</button>
              </>}</td>
            </tr>
          ))}
          {list.data && !list.data.length && <tr><td colSpan={8} class="muted">{t('cs.noPlanned')}</td></tr>}
        </tbody>
      </table>
      {noticeOf && <CustomerNotices key={noticeOf} subject={{ plannedOutageId: noticeOf }} />}
    </section>
  );
}

function PlannedOutageForm({ initial, onSaved, onCancel }: { initial?: PlannedOutageRow; onSaved: (s: PlannedOutageSaved) => void; onCancel: () => void }) {
  const map = useNetworkMap();
  const now = Date.now();
  const [dmas, setDmas] = useState<string[]>(initial?.dmas ?? []);
  const [start, setStart] = useState(toLocalInput(initial?.start ?? now + 2 * 86_400_000));
  const [end, setEnd] = useState(toLocalInput(initial?.end ?? now + 2 * 86_400_000 + 4 * 3_600_000));
  // empty: not told yet; the customer notice sent from this view sets it (the 24 h rule counts from the sending)
  const [notified, setNotified] = useState(initial && initial.notifiedAt < initial.start ? toLocalInput(initial.notifiedAt) : '');
  const [cause, setCause] = useState<string>(initial?.cause ?? 'maintenance');
  const [reason, setReason] = useState(initial?.reason ?? '');
  const [publicReason, setPublicReason] = useState<string>(initial?.publicReason ?? 'planned_works');
  const [error, setError] = useState<string | null>(null);
  const startMs = fromLocalInput(start), endMs = fromLocalInput(end), notifiedMs = fromLocalInput(notified);
  // not told yet: short already when even a notice sent now would come less than 24 h ahead
  const toldAt = notified === '' ? now : notifiedMs;
  const shortNotice = startMs !== undefined && toldAt !== undefined && startMs - toldAt < NOTICE_MS;

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (!dmas.length) return setError(t('cs.needArea'));
    if (startMs === undefined || endMs === undefined || endMs <= startMs) return setError(t('cs.badWindow'));
    const body = { dmas, start: startMs, end: endMs, ...(notified !== '' && notifiedMs !== undefined ? { notifiedAt: notifiedMs } : {}), cause, reason, publicReason };
    try {
      onSaved(initial ? await api.put<PlannedOutageSaved>(`/planned-outages/${encodeURIComponent(initial.id)}`, body)
        : await api.post<PlannedOutageSaved>('/planned-outages', body));
    } catch (err) { setError((err as Error).message); }
  };

  return (
    <form class="planned-form card" data-testid="planned-form" onSubmit={submit}>
      <h3>{initial ? t('cs.editPlanned') : t('cs.newPlanned')}</h3>
      <fieldset class="dma-picks"><legend>{t('cs.areas')}</legend>
        {(map?.dmas ?? []).map((d) => (
          <label key={d.id} class="check"><input type="checkbox" value={d.id} checked={dmas.includes(d.id)}
            onChange={(e) => setDmas((prev) => (e.target as HTMLInputElement).checked ? [...prev, d.id] : prev.filter((x) => x !== d.id))} />
            {d.name} <small class="muted">({fmtNum(d.customers, 0)})</small></label>
        ))}
      </fieldset>
      <div class="row wrap">
        <label>{t('cs.start')}<input type="datetime-local" name="start" value={start} onInput={(e) => setStart((e.target as HTMLInputElement).value)} required /></label>
        <label>{t('cs.end')}<input type="datetime-local" name="end" value={end} onInput={(e) => setEnd((e.target as HTMLInputElement).value)} required /></label>
        <label>{t('cs.notifiedOther')}<input type="datetime-local" name="notifiedAt" value={notified} onInput={(e) => setNotified((e.target as HTMLInputElement).value)} /></label>
        <label>{t('cs.cause')}<select name="cause" value={cause} onChange={(e) => setCause((e.target as HTMLSelectElement).value)}>
          {CAUSES.map((c) => <option key={c} value={c}>{tCode('cause', c)}</option>)}</select></label>
      </div>
      <label>{t('cs.reasonInternal')}<input name="reason" value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} required /></label>
      <label>{t('cs.publicReason')}<select name="publicReason" value={publicReason} onChange={(e) => setPublicReason((e.target as HTMLSelectElement).value)}>
        {PUBLIC_REASONS.map((r) => <option key={r} value={r}>{PUBLIC_REASON_TEXTS[r][lang()]}</option>)}</select></label>
      {shortNotice && <p class="warn" data-testid="short-notice-preview">{t('cs.shortNoticeHelp')}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      <div class="row"><button type="submit">{t('common.save')}</button><button type="button" class="ghost" onClick={onCancel}>{t('common.cancel')}</button></div>
    </form>
  );
}

function SavedNotice({ saved }: { saved: PlannedOutageSaved }) {
  return (
    <section class={`saved-notice ${saved.shortNotice ? 'short' : ''}`} data-testid="saved-notice" data-short-notice={saved.shortNotice ? 'yes' : 'no'}>
      <p><b>{t('cs.saved')}</b> {saved.shortNotice && <span class="badge warn">{t('cs.shortNotice')}</span>}
        {saved.outage.status === 'pending' && <span class="badge warn" data-testid="saved-pending">{t('cs.pending')}</span>}</p>
      {saved.outage.status === 'pending' && <p class="warn">{t('cs.pendingHelp')}</p>}
      {saved.shortNotice && <p class="warn">{t('cs.shortNoticeHelp')}</p>}
      <h4>{t('cs.smsText')}</h4>
      <pre class="notice-text" lang="zh-CN" data-testid="notice-sms">{saved.notice.sms}</pre>
      <h4>{t('cs.webText')}</h4>
      <pre class="notice-text" lang="zh-CN" data-testid="notice-web">{saved.notice.web}</pre>
    </section>
  );
}

function Lookup() {
  const [q, setQ] = useState('');
  const [rows, setRows] = useState<LookupRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const search = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (q.trim().length < 2) return setError(t('cs.lookupShort'));
    try { setRows(await api.get<LookupRow[]>('/lookup', { q: q.trim() })); } catch (err) { setError((err as Error).message); }
  };
  return (
    <section class="card">
      <h2>{t('cs.lookup')}</h2>
      <form class="row" onSubmit={search}>
        <input type="search" value={q} placeholder={t('cs.lookupPlaceholder')} onInput={(e) => setQ((e.target as HTMLInputElement).value)} aria-label={t('cs.lookup')} />
        <button type="submit">{t('cs.search')}</button>
      </form>
      {error && <p class="error">{error}</p>}
      {rows && (
        <table class="data" data-testid="lookup-results">
          <thead><tr><th>{t('cs.meter')}</th><th>{t('cs.customer')}</th><th>{t('cs.address')}</th><th>{t('cs.area')}</th><th>{t('cs.state')}</th></tr></thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.meter}><td>{r.meter}</td><td><a href={customerHref(r.customer)} data-customer={r.customer}>{r.customer}</a></td><td>{r.address}</td><td>{r.dmaName}</td>
                <td><span class="swatch" style={{ background: STATE_COLORS[r.dmaState] }} /> {tCode('state', r.dmaState)}</td></tr>
            ))}
            {!rows.length && <tr><td colSpan={5} class="muted">{t('cs.noMatch')}</td></tr>}
          </tbody>
        </table>
      )}
    </section>
  );
}
