/**
 * The complaint ledger (投诉台账, issue #14.2): complaints from the hotline 12345, the utility's own
 * line and the site's other channels; recorded, linked to an area and an incident, assigned and
 * followed to closure (open → in progress → closed with a resolution; reopened with a reason), with
 * their history. The counts of the current quarter per channel and category are on top (the
 * quarterly disclosure shows them). Customer service and admins record and act; others read.
 */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { t, tCode } from '../i18n.ts';
import { fmtShort, fromLocalInput, toLocalInput } from '../format.ts';
import { useApi, useNetworkMap } from '../hooks.ts';
import { useCan } from '../session.ts';
import type { Complaint, ComplaintCategory, ComplaintCounts, ComplaintDetail, ComplaintStatus, IncidentRecord } from '../../../contract/index.ts';

type Channel = { id: string; name?: string };
const DAY = 86_400_000;
/** The ledger's categories in the order people pick them (server/state/complaints.ts COMPLAINT_CATEGORIES). */
const CATEGORIES: readonly ComplaintCategory[] = ['no_water', 'low_pressure', 'water_quality', 'meter_billing', 'service', 'other'];

/** A channel's name: the config's for the site's own, the user's language for the built-in ones. */
export const channelName = (channels: readonly Channel[] | undefined, id: string) => channels?.find((c) => c.id === id)?.name ?? tCode('complaints.channel', id);

export function ComplaintsView() {
  const [status, setStatus] = useState<ComplaintStatus | ''>('');
  const list = useApi<Complaint[]>('/complaints', { status: status || undefined });
  const channels = useApi<Channel[]>('/complaints/channels').data;
  const counts = useApi<ComplaintCounts>('/complaints/counts');
  const canEdit = useCan('complaints.edit');
  const [selected, setSelected] = useState<string | null>(null);
  const [entering, setEntering] = useState(false);
  const changed = () => { list.reload(); counts.reload(); };

  return (
    <div class="complaints-view">
      {counts.data && <CountsCard counts={counts.data} channels={channels} />}
      <section class="card">
        <div class="row between">
          <h2>{t('complaints.title')}</h2>
          <div class="row">
            <select value={status} aria-label={t('complaints.status')} onChange={(e) => setStatus((e.target as HTMLSelectElement).value as ComplaintStatus | '')}>
              <option value="">{t('complaints.allStatuses')}</option>
              {(['open', 'in_progress', 'closed'] as const).map((s) => <option key={s} value={s}>{tCode('complaints.state', s)}</option>)}
            </select>
            {canEdit && <button type="button" data-action="new-complaint" onClick={() => setEntering(true)}>{t('complaints.new')}</button>}
          </div>
        </div>
        {entering && channels && <ComplaintForm channels={channels} onCancel={() => setEntering(false)}
          onSaved={(d) => { setEntering(false); changed(); setSelected(d.complaint.id); }} />}
        {list.error && <p class="error">{list.error}</p>}
        <table class="data" data-testid="complaints">
          <thead><tr>
            <th>{t('complaints.id')}</th><th>{t('complaints.received')}</th><th>{t('complaints.channel')}</th><th>{t('complaints.category')}</th>
            <th>{t('complaints.customer')}</th><th>{t('cs.area')}</th><th>{t('complaints.incident')}</th><th>{t('complaints.assignee')}</th><th>{t('complaints.status')}</th>
          </tr></thead>
          <tbody>
            {(list.data ?? []).map((c) => (
              <tr key={c.id} data-complaint={c.id} data-status={c.status} class={`clickable ${selected === c.id ? 'selected' : ''}`} onClick={() => setSelected(c.id)}>
                <td>{c.id}</td><td>{fmtShort(c.receivedAt)}</td><td>{channelName(channels, c.channel)}</td><td>{tCode('complaints.cat', c.category)}</td>
                <td>{c.customer ?? ''}{c.customer && c.address ? ' · ' : ''}{c.address ?? ''}</td><td>{c.dma ?? '—'}</td><td>{c.incidentId ?? '—'}</td>
                <td>{c.assignee ?? '—'}</td><td><span class={`badge ${c.status === 'closed' ? '' : 'warn'}`}>{tCode('complaints.state', c.status)}</span></td>
              </tr>
            ))}
            {list.data && !list.data.length && <tr><td colSpan={9} class="muted">{t('complaints.none')}</td></tr>}
          </tbody>
        </table>
      </section>
      {selected && <ComplaintPanel key={selected} id={selected} channels={channels} canEdit={canEdit} onChanged={changed} />}
    </div>
  );
}

function CountsCard({ counts, channels }: { counts: ComplaintCounts; channels: Channel[] | undefined }) {
  return (
    <section class="card" data-testid="complaint-counts" data-total={counts.total}>
      <h2>{t('complaints.counts')} · {fmtShort(counts.from)} – {fmtShort(counts.to)}</h2>
      <p>{t('complaints.countsLine', { total: counts.total, closed: counts.closed, unresolved: counts.unresolved })}</p>
      <div class="row wrap">
        <table class="data compact"><thead><tr><th>{t('complaints.channel')}</th><th>{t('complaints.count')}</th></tr></thead>
          <tbody>{Object.entries(counts.byChannel).map(([id, n]) => <tr key={id}><td>{channelName(channels, id)}</td><td class="num">{n}</td></tr>)}</tbody></table>
        <table class="data compact"><thead><tr><th>{t('complaints.category')}</th><th>{t('complaints.count')}</th></tr></thead>
          <tbody>{Object.entries(counts.byCategory).map(([c, n]) => <tr key={c}><td>{tCode('complaints.cat', c)}</td><td class="num">{n}</td></tr>)}</tbody></table>
      </div>
    </section>
  );
}

const text = (e: Event) => (e.target as HTMLInputElement).value;

/** The fields a complaint is recorded with, for a new one or a correction. */
function ComplaintFields(props: { value: Partial<Complaint>; channels: Channel[]; onChange: (v: Partial<Complaint>) => void }) {
  const v = props.value;
  const set = (patch: Partial<Complaint>) => props.onChange({ ...v, ...patch });
  const map = useNetworkMap();
  const [since] = useState(() => Date.now() - 30 * DAY);
  const incidents = useApi<IncidentRecord[]>('/incidents/records', { from: since }).data?.filter((i) => !i.mergedInto);
  return (
    <div class="row wrap">
      <label>{t('complaints.channel')}<select name="channel" value={v.channel} onChange={(e) => set({ channel: text(e) })}>
        {props.channels.map((c) => <option key={c.id} value={c.id}>{channelName(props.channels, c.id)}</option>)}</select></label>
      <label>{t('complaints.received')}<input type="datetime-local" name="receivedAt" value={v.receivedAt !== undefined ? toLocalInput(v.receivedAt) : ''}
        onInput={(e) => set({ receivedAt: fromLocalInput(text(e)) })} /></label>
      <label>{t('complaints.category')}<select name="category" value={v.category} onChange={(e) => set({ category: text(e) as Complaint['category'] })}>
        {CATEGORIES.map((c) => <option key={c} value={c}>{tCode('complaints.cat', c)}</option>)}</select></label>
      <label>{t('complaints.customer')}<input name="customer" value={v.customer ?? ''} onInput={(e) => set({ customer: text(e) })} /></label>
      <label>{t('complaints.address')}<input name="address" value={v.address ?? ''} onInput={(e) => set({ address: text(e) })} /></label>
      <label>{t('complaints.contact')}<input name="contact" value={v.contact ?? ''} onInput={(e) => set({ contact: text(e) })} /></label>
      <label>{t('cs.area')}<select name="dma" value={v.dma ?? ''} onChange={(e) => set({ dma: text(e) || undefined })}>
        <option value="">{t('complaints.noArea')}</option>
        {(map?.dmas ?? []).map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}</select></label>
      <label>{t('complaints.incident')}<select name="incidentId" value={v.incidentId ?? ''} onChange={(e) => set({ incidentId: text(e) || undefined })}>
        <option value="">{t('complaints.noIncident')}</option>
        {(incidents ?? []).map((i) => <option key={i.id} value={i.id}>{i.dma} · {tCode('incKind', i.kind)} · {fmtShort(i.start)} · {tCode('cause', i.cause)}</option>)}</select></label>
      <label>{t('complaints.assignee')}<input name="assignee" value={v.assignee ?? ''} onInput={(e) => set({ assignee: text(e) })} /></label>
      <label class="wide">{t('complaints.text')}<textarea name="text" rows={3} value={v.text ?? ''} onInput={(e) => set({ text: (e.target as HTMLTextAreaElement).value })} /></label>
    </div>
  );
}

/** The optional fields as the API takes them: empty ones left out of a new complaint, cleared (null) on a correction. */
function body(v: Partial<Complaint>, clear: boolean) {
  const opt = (x: string | undefined) => (x?.trim() ? x.trim() : clear ? null : undefined);
  return {
    channel: v.channel, receivedAt: v.receivedAt, category: v.category, text: v.text,
    customer: opt(v.customer), address: opt(v.address), contact: opt(v.contact), dma: opt(v.dma), incidentId: opt(v.incidentId), assignee: opt(v.assignee),
  };
}

function ComplaintForm(props: { channels: Channel[]; onCancel: () => void; onSaved: (d: ComplaintDetail) => void }) {
  const [value, setValue] = useState<Partial<Complaint>>({ channel: props.channels[0]?.id, receivedAt: Date.now(), category: 'no_water' });
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try { props.onSaved(await api.post<ComplaintDetail>('/complaints', body(value, false))); } catch (err) { setError((err as Error).message); }
  };
  return (
    <form class="incident-form" data-testid="complaint-form" onSubmit={submit}>
      <h3>{t('complaints.new')}</h3>
      <ComplaintFields value={value} channels={props.channels} onChange={setValue} />
      {error && <p class="error">{error}</p>}
      <div class="row"><button type="submit" data-action="save-complaint">{t('complaints.save')}</button>
        <button type="button" class="ghost" onClick={props.onCancel}>{t('complaints.cancel')}</button></div>
    </form>
  );
}

function ComplaintPanel(props: { id: string; channels: Channel[] | undefined; canEdit: boolean; onChanged: () => void }) {
  const r = useApi<ComplaintDetail>(`/complaints/${encodeURIComponent(props.id)}`);
  const [editing, setEditing] = useState<Partial<Complaint> | null>(null);
  const [resolution, setResolution] = useState('');
  const [note, setNote] = useState('');
  const [error, setError] = useState<string | null>(null);
  const d = r.data;
  if (r.error) return <section class="card"><p class="error">{r.error}</p></section>;
  if (!d) return <section class="card"><p class="muted">{t('app.loading')}</p></section>;
  const c = d.complaint;
  const act = async (call: () => Promise<ComplaintDetail>) => {
    setError(null);
    try { const next = await call(); r.set(() => next); setEditing(null); setResolution(''); setNote(''); props.onChanged(); } catch (err) { setError((err as Error).message); }
  };
  const move = (status: ComplaintStatus) => act(() => api.post<ComplaintDetail>(`/complaints/${encodeURIComponent(c.id)}/status`,
    { status, ...(resolution.trim() ? { resolution } : {}), ...(note.trim() ? { note } : {}) }));

  return (
    <section class="card" data-testid="complaint-panel" data-complaint={c.id} data-status={c.status}>
      <h2>{c.id} · {tCode('complaints.cat', c.category)} · {tCode('complaints.state', c.status)}</h2>
      <p class="muted">{fmtShort(c.receivedAt)} · {channelName(props.channels, c.channel)} · {c.customer ?? ''} {c.address ?? ''} {c.contact ? `· ${c.contact}` : ''}</p>
      <p>{c.text}</p>
      <p>{t('cs.area')}: {c.dma ?? '—'} · {t('complaints.incident')}: {c.incidentId ?? '—'} · {t('complaints.assignee')}: {c.assignee ?? '—'}</p>
      {c.resolution && <p data-testid="complaint-resolution"><b>{t('complaints.resolution')}:</b> {c.resolution}</p>}
      {props.canEdit && (editing ? (
        <form class="incident-form" onSubmit={(e) => { e.preventDefault(); void act(() => api.patch<ComplaintDetail>(`/complaints/${encodeURIComponent(c.id)}`, body(editing, true))); }}>
          <ComplaintFields value={editing} channels={props.channels ?? []} onChange={setEditing} />
          <div class="row"><button type="submit" data-action="save-complaint-edit">{t('complaints.save')}</button>
            <button type="button" class="ghost" onClick={() => setEditing(null)}>{t('complaints.cancel')}</button></div>
        </form>
      ) : (
        <div class="row wrap" data-testid="complaint-actions">
          <button type="button" class="ghost small" data-action="edit-complaint" onClick={() => setEditing(c)}>{t('complaints.edit')}</button>
          {c.status === 'open' && <button type="button" class="small" data-action="start-complaint" onClick={() => void move('in_progress')}>{t('complaints.start')}</button>}
          {c.status !== 'closed' && <>
            <label>{t('complaints.resolution')}<input name="resolution" value={resolution} onInput={(e) => setResolution(text(e))} /></label>
            <button type="button" class="small" data-action="close-complaint" disabled={!resolution.trim()} onClick={() => void move('closed')}>{t('complaints.close')}</button>
          </>}
          {c.status === 'closed' && <>
            <label>{t('complaints.reopenReason')}<input name="note" value={note} onInput={(e) => setNote(text(e))} /></label>
            <button type="button" class="small" data-action="reopen-complaint" disabled={!note.trim()} onClick={() => void move('open')}>{t('complaints.reopen')}</button>
          </>}
        </div>
      ))}
      {error && <p class="error">{error}</p>}
      <h3>{t('inc.history')}</h3>
      <ul class="history" data-testid="complaint-history">
        {d.history.map((h, n) => (
          <li key={n} data-action={h.action}>{fmtShort(h.at)} · <b>{h.by}</b> · {tCode('complaints.action', h.action)}
            {Object.entries(h.changes).map(([f, [a, b]]) => <span key={f}> · {f}: {a === null ? '—' : String(a)} → {b === null ? '—' : String(b)}</span>)}
            {h.note && <span class="muted"> · {h.note}</span>}</li>
        ))}
      </ul>
    </section>
  );
}
