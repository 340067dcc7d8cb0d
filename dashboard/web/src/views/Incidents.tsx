/**
 * Incidents (issue #14.1): outages and low-pressure periods, detected or entered by hand. Dispatchers
 * and customer service correct the cause, record the part of the area affected (meters picked, or a
 * polygon drawn on the map around them: the customer count follows), the expected and actual restoration and
 * notes; enter an outage phoned in; merge and split; record the emergency supply of an outage of 24 h
 * or more. Every change is in the incident's history with who and when. Viewers read.
 */
import { useMemo, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { t, tCode, incidentNoteOf } from '../i18n.ts';
import { fmtNum, fmtShort, fromLocalInput, toLocalInput } from '../format.ts';
import { useApi, useNetworkMap } from '../hooks.ts';
import { useLiveEvent, useRooms } from '../live.ts';
import { useCan } from '../session.ts';
import { CustomerNotices } from '../components/CustomerNotices.tsx';
import { PolygonMap } from '../components/AreaMap.tsx';
import { insidePolygon } from '../../../../core/topology/polygon.ts';
import { CAUSES } from '../causes.ts';
import { CustomerLinks } from './CustomerLinks.tsx';
import type { AffectedPart, EmergencySupply, IncidentDetail, IncidentKind, IncidentRecord, NetworkMap } from '../../../contract/index.ts';

const DAY = 86_400_000;

export function IncidentsView() {
  const [kind, setKind] = useState<IncidentKind | ''>('');
  const [from] = useState(() => Date.now() - 30 * DAY);
  const list = useApi<IncidentRecord[]>('/incidents/records', { from, kind: kind || undefined });
  useRooms(['incidents']);
  useLiveEvent('incident', () => list.reload());
  const canEdit = useCan('outages.edit');
  const [selected, setSelected] = useState<string | null>(null);
  const [entering, setEntering] = useState(false);
  const rows = (list.data ?? []).filter((i) => !i.mergedInto);

  return (
    <div class="incidents-view">
      <section class="card">
        <div class="row between">
          <h2>{t('inc.title')}</h2>
          <div class="row">
            <select value={kind} aria-label={t('inc.kind')} onChange={(e) => setKind((e.target as HTMLSelectElement).value as IncidentKind | '')}>
              <option value="">{t('inc.allKinds')}</option>
              <option value="outage">{tCode('incKind', 'outage')}</option>
              <option value="low_pressure">{tCode('incKind', 'low_pressure')}</option>
            </select>
            {canEdit && <button type="button" data-action="new-incident" onClick={() => setEntering(true)}>{t('inc.new')}</button>}
          </div>
        </div>
        {entering && <ManualIncidentForm onCancel={() => setEntering(false)} onSaved={(d) => { setEntering(false); list.reload(); setSelected(d.incident.id); }} />}
        {list.error && <p class="error">{list.error}</p>}
        <table class="data" data-testid="incidents">
          <thead><tr>
            <th>{t('cs.area')}</th><th>{t('inc.kind')}</th><th>{t('cs.start')}</th><th>{t('cs.end')}</th>
            <th>{t('cs.customers')}</th><th>{t('cs.cause')}</th><th>{t('cs.restoration')}</th><th>{t('inc.origin')}</th>
          </tr></thead>
          <tbody>
            {rows.map((i) => (
              <tr key={i.id} data-incident={i.id} data-dma={i.dma} data-customers={i.customersAffected} data-cause={i.cause}
                class={`clickable ${selected === i.id ? 'selected' : ''}`} onClick={() => setSelected(i.id)}>
                <td>{i.dma}</td>
                <td>{tCode('incKind', i.kind)}{i.merged.length > 0 && <span class="badge">{t('inc.mergedCount', { n: i.merged.length })}</span>}</td>
                <td>{fmtShort(i.start)}</td>
                <td>{i.end !== undefined ? fmtShort(i.end) : <span class="badge warn">{t('inc.ongoing')}</span>}</td>
                <td class="num"><b>{fmtNum(i.customersAffected, 0)}</b>{i.affectedPart && <small class="muted"> {t('inc.partial')}</small>}</td>
                <td>{tCode('cause', i.cause)}{i.cause !== i.detected.cause && <small class="muted"> ({t('inc.corrected')})</small>}</td>
                <td>{i.expectedRestoration !== undefined ? fmtShort(i.expectedRestoration) : '—'}</td>
                <td>{tCode('incOrigin', i.origin)}</td>
              </tr>
            ))}
            {list.data && !rows.length && <tr><td colSpan={8} class="muted">{t('inc.none')}</td></tr>}
          </tbody>
        </table>
      </section>
      {selected && <IncidentPanel key={selected} id={selected} all={rows} canEdit={canEdit} onChanged={() => list.reload()} onSelect={setSelected} />}
    </div>
  );
}

function IncidentPanel(props: { id: string; all: IncidentRecord[]; canEdit: boolean; onChanged: () => void; onSelect: (id: string) => void }) {
  const r = useApi<IncidentDetail>(`/incidents/${encodeURIComponent(props.id)}`);
  const d = r.data;
  if (r.error) return <section class="card"><p class="error">{r.error}</p></section>;
  if (!d) return <section class="card"><p class="muted">{t('app.loading')}</p></section>;
  const done = (next: IncidentDetail) => { r.set(() => next); props.onChanged(); };
  const i = d.incident;
  return (
    <section class="card incident-panel" data-testid="incident-panel" data-incident={i.id} data-customers={i.customersAffected} data-cause={i.cause}>
      <h2>{t('inc.detail', { area: i.dma })} · {tCode('incKind', i.kind)}</h2>
      <p class="muted">{fmtShort(i.start)} – {i.end !== undefined ? fmtShort(i.end) : t('inc.ongoing')} · {t('inc.detected', { cause: tCode('cause', i.detected.cause), n: fmtNum(i.detected.customersAffected, 0) })}</p>
      <p><b data-testid="incident-customers">{fmtNum(i.customersAffected, 0)}</b> {t('cs.customers')}</p>
      <p class="affected-customers">{t('cust.affectedAccounts')}: <CustomerLinks meters={i.affectedPart?.meters ? d.meters.filter((m) => i.affectedPart!.meters!.includes(m.id)) : d.meters} /></p>
      {i.mergedInto ? <p class="notice">{t('inc.mergedInto', { id: i.mergedInto })}</p> : props.canEdit && <>
        <EditForm detail={d} onSaved={done} />
        <MergeSplit detail={d} all={props.all} onMerged={done} onSplit={(second) => { props.onChanged(); props.onSelect(second); }} />
      </>}
      {i.kind === 'outage' && i.end === undefined && !i.mergedInto && <CustomerNotices subject={{ incidentId: i.id }} />}
      {d.emergencySupply && <EmergencySupplyPanel supply={d.emergencySupply} canEdit={props.canEdit} onSaved={() => r.reload()} />}
      <h3>{t('inc.history')}</h3>
      <ul class="history" data-testid="incident-history">
        {d.history.map((c, n) => (
          <li key={n}>{fmtShort(c.at)} · <b>{c.by}</b> · {tCode('incAction', c.action)}
            {Object.entries(c.changes).map(([f, [a, b]]) => <span key={f}> · {tCode('incField', f)}: {showChange(f, a)} → {showChange(f, b)}</span>)}
            {c.note && <span class="muted"> · {incidentNoteOf(c.note)}</span>}</li>
        ))}
      </ul>
    </section>
  );
}

/** A changed field's value in the history, in the reader's language. */
function showChange(field: string, v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (field === 'cause') return tCode('cause', String(v));
  if (field === 'affectedPart') {
    const part = v as AffectedPart;
    return 'polygon' in part
      ? t('inc.partPolygonValue', { corners: part.polygon.length, n: part.meters?.length ?? '—' })
      : t('inc.partMetersValue', { n: part.meters.length, meters: part.meters.join(', ') });
  }
  if (typeof v === 'number' && v > 1e11) return fmtShort(v);
  if (Array.isArray(v)) return v.join(', ');
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function EditForm({ detail, onSaved }: { detail: IncidentDetail; onSaved: (d: IncidentDetail) => void }) {
  const i = detail.incident;
  const [cause, setCause] = useState<string>(i.cause);
  const [partKind, setPartKind] = useState<'all' | 'meters' | 'polygon'>(i.affectedPart ? ('polygon' in i.affectedPart ? 'polygon' : 'meters') : 'all');
  // a drawn part's meters (the server's selection) start the list of picks too
  const [meters, setMeters] = useState<string[]>(i.affectedPart?.meters ?? []);
  const [polygon, setPolygon] = useState<[number, number][]>(i.affectedPart && 'polygon' in i.affectedPart ? i.affectedPart.polygon : []);
  const [closed, setClosed] = useState(polygon.length >= 3);
  const [expected, setExpected] = useState(i.expectedRestoration !== undefined ? toLocalInput(i.expectedRestoration) : '');
  const [actual, setActual] = useState(i.actualRestoration !== undefined ? toLocalInput(i.actualRestoration) : '');
  const [notes, setNotes] = useState(i.notes);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null); setSaved(false);
    if (partKind === 'polygon' && !(closed && polygon.length >= 3)) return setError(t('inc.polygonOpen'));
    const affected = partKind === 'all' ? null : partKind === 'meters' ? { meters } : { polygon };
    const body = {
      cause, affected, notes,
      expectedRestoration: expected ? fromLocalInput(expected) ?? null : null,
      actualRestoration: actual ? fromLocalInput(actual) ?? null : null,
    };
    try { onSaved(await api.patch<IncidentDetail>(`/incidents/${encodeURIComponent(i.id)}`, body)); setSaved(true); } catch (err) { setError((err as Error).message); }
  };

  return (
    <form class="incident-form" data-testid="incident-form" onSubmit={submit}>
      <div class="row wrap">
        <label>{t('cs.cause')}<select name="cause" value={cause} onChange={(e) => setCause((e.target as HTMLSelectElement).value)}>
          {CAUSES.map((c) => <option key={c} value={c}>{tCode('cause', c)}</option>)}</select></label>
        <label>{t('cs.restoration')}<input type="datetime-local" name="expectedRestoration" value={expected} onInput={(e) => setExpected((e.target as HTMLInputElement).value)} /></label>
        <label>{t('inc.actual')}<input type="datetime-local" name="actualRestoration" value={actual} onInput={(e) => setActual((e.target as HTMLInputElement).value)} /></label>
      </div>
      <fieldset><legend>{t('inc.part')}</legend>
        <label class="check"><input type="radio" name="part" value="all" checked={partKind === 'all'} onChange={() => setPartKind('all')} />{t('inc.partAll')}</label>
        <label class="check"><input type="radio" name="part" value="meters" checked={partKind === 'meters'} onChange={() => setPartKind('meters')} />{t('inc.partMeters')}</label>
        <label class="check"><input type="radio" name="part" value="polygon" checked={partKind === 'polygon'} onChange={() => setPartKind('polygon')} />{t('inc.partPolygon')}</label>
        {partKind === 'meters' && (
          <div class="meter-picks" data-testid="meter-picks">
            {detail.meters.map((m) => (
              <label key={m.id} class="check"><input type="checkbox" value={m.id} checked={meters.includes(m.id)}
                onChange={(e) => setMeters((prev) => (e.target as HTMLInputElement).checked ? [...prev, m.id] : prev.filter((x) => x !== m.id))} />
                {m.id} <small class="muted">{m.customer} {m.address}</small></label>
            ))}
            {!detail.meters.length && <p class="muted">{t('inc.noMeters')}</p>}
          </div>
        )}
        {partKind === 'polygon' && <PolygonEditor detail={detail} polygon={polygon} closed={closed}
          onChange={(next, isClosed) => { setPolygon(next); setClosed(isClosed); }} />}
      </fieldset>
      <label>{t('inc.notes')}<textarea name="notes" value={notes} onInput={(e) => setNotes((e.target as HTMLTextAreaElement).value)} /></label>
      {error && <p class="error" role="alert">{error}</p>}
      {saved && <p class="ok" role="status">{t('cs.saved')}</p>}
      <div class="row"><button type="submit" data-action="save-incident">{t('common.save')}</button></div>
    </form>
  );
}

/**
 * Draw the part affected on the map: click corners, close with a double-click or the button, clear.
 * The corners are also a text field (map coordinates), to type or paste them. The meters inside and
 * the customers shown are a preview by the same point-in-polygon as the server's, which selects the
 * meters and counts the customers again when the incident is saved.
 */
function PolygonEditor({ detail, polygon, closed, onChange }: {
  detail: IncidentDetail; polygon: [number, number][]; closed: boolean; onChange: (polygon: [number, number][], closed: boolean) => void;
}) {
  const map = useNetworkMap();
  const i = detail.incident;
  const placed = useMemo(() => detail.meters.flatMap((m) => (m.x !== undefined && m.y !== undefined ? [{ id: m.id, x: m.x, y: m.y }] : [])), [detail.meters]);
  const inside = useMemo(() => new Set(closed ? placed.filter((m) => insidePolygon(m.x, m.y, polygon)).map((m) => m.id) : []), [placed, polygon, closed]);
  const areaCustomers = map?.dmas.find((d) => d.id === i.dma)?.customers;
  const [text, setText] = useState<string | null>(null);
  const cornersText = text ?? polygon.map(([x, y]) => `${x},${y}`).join('; ');
  const typed = (value: string) => {
    setText(value);
    const corners = value.split(';').map((p) => p.split(',').map((v) => Number(v.trim()))).filter((p) => p.length === 2 && p.every(Number.isFinite)) as [number, number][];
    onChange(corners, corners.length >= 3);
  };
  return (
    <div class="polygon-editor" data-testid="polygon-editor" data-corners={polygon.length} data-closed={closed ? 'yes' : 'no'} data-inside={[...inside].join(' ')}>
      <p class="muted">{t('inc.drawHelp')}</p>
      {map && <PolygonMap map={map} dma={i.dma} meters={placed} inside={inside} polygon={polygon} closed={closed}
        onAdd={(p) => { setText(null); onChange([...polygon, [roundTo(p[0], map), roundTo(p[1], map)]], false); }}
        onClose={() => { if (polygon.length >= 3) onChange(polygon, true); }} />}
      <div class="row wrap">
        <button type="button" class="small" data-action="close-polygon" disabled={closed || polygon.length < 3} onClick={() => onChange(polygon, true)}>{t('inc.closePolygon')}</button>
        <button type="button" class="small ghost" data-action="clear-polygon" disabled={!polygon.length} onClick={() => { setText(null); onChange([], false); }}>{t('inc.clearPolygon')}</button>
        {closed && placed.length > 0 && (
          <span data-testid="polygon-inside">{t('inc.polygonInside', {
            n: inside.size, of: detail.meters.length,
            customers: areaCustomers !== undefined ? fmtNum(Math.round((areaCustomers * inside.size) / detail.meters.length), 0) : '—',
          })}</span>
        )}
      </div>
      {!placed.length && <p class="muted">{t('inc.polygonByPipes')}</p>}
      {placed.length > 0 && placed.length < detail.meters.length && <p class="muted">{t('inc.metersUnplaced', { n: detail.meters.length - placed.length })}</p>}
      <label>{t('inc.polygonHelp')}<input name="polygon" value={cornersText} placeholder="x,y; x,y; x,y" onInput={(e) => typed((e.target as HTMLInputElement).value)} /></label>
    </div>
  );
}

/** A clicked map coordinate to a ten-thousandth of the map's extent: finer than a click, whether the map is in metres or degrees. */
function roundTo(v: number, map: NetworkMap): number {
  const b = map.bounds;
  const step = 10 ** Math.floor(Math.log10(Math.max(b.maxX - b.minX, b.maxY - b.minY, 1e-9) / 10_000));
  return Number((Math.round(v / step) * step).toFixed(Math.max(0, -Math.log10(step))));
}

function MergeSplit({ detail, all, onMerged, onSplit }: { detail: IncidentDetail; all: IncidentRecord[]; onMerged: (d: IncidentDetail) => void; onSplit: (secondId: string) => void }) {
  const i = detail.incident;
  const candidates = all.filter((x) => x.id !== i.id && x.dma === i.dma && x.kind === i.kind && !x.merged.length);
  const [picked, setPicked] = useState<string[]>([]);
  const [at, setAt] = useState('');
  const [after, setAfter] = useState('');
  const [error, setError] = useState<string | null>(null);
  const run = async (fn: () => Promise<void>) => { setError(null); try { await fn(); } catch (e) { setError((e as Error).message); } };
  return (
    <div class="row wrap merge-split">
      {candidates.length > 0 && (
        <fieldset><legend>{t('inc.merge')}</legend>
          {candidates.map((c) => (
            <label key={c.id} class="check"><input type="checkbox" checked={picked.includes(c.id)}
              onChange={(e) => setPicked((p) => (e.target as HTMLInputElement).checked ? [...p, c.id] : p.filter((x) => x !== c.id))} />
              {fmtShort(c.start)} – {c.end !== undefined ? fmtShort(c.end) : t('inc.ongoing')}</label>
          ))}
          <button type="button" class="small" disabled={!picked.length} onClick={() => void run(async () => onMerged(await api.post<IncidentDetail>(`/incidents/${encodeURIComponent(i.id)}/merge`, { incidents: picked })))}>{t('inc.mergeButton')}</button>
        </fieldset>
      )}
      <fieldset><legend>{t('inc.split')}</legend>
        <label>{t('inc.splitAt')}<input type="datetime-local" value={at} onInput={(e) => setAt((e.target as HTMLInputElement).value)} /></label>
        <label>{t('inc.customersAfter')}<input type="number" min="0" value={after} onInput={(e) => setAfter((e.target as HTMLInputElement).value)} /></label>
        <button type="button" class="small" disabled={!at} onClick={() => void run(async () => {
          const r = await api.post<{ first: IncidentRecord; second: IncidentRecord }>(`/incidents/${encodeURIComponent(i.id)}/split`, { at: fromLocalInput(at), ...(after ? { customersAfter: Number(after) } : {}) });
          onSplit(r.second.id);
        })}>{t('inc.splitButton')}</button>
      </fieldset>
      {error && <p class="error" role="alert">{error}</p>}
    </div>
  );
}

function EmergencySupplyPanel({ supply, canEdit, onSaved }: { supply: EmergencySupply; canEdit: boolean; onSaved: () => void }) {
  const [kind, setKind] = useState<'water_truck' | 'supply_point'>('water_truck');
  const [place, setPlace] = useState('');
  const [detail, setDetail] = useState('');
  const [from, setFrom] = useState(toLocalInput(Date.now()));
  const [error, setError] = useState<string | null>(null);
  const add = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const measure = { kind, place, detail, from: fromLocalInput(from) ?? Date.now() };
    try { await api.patch(`/emergency-supplies/${encodeURIComponent(supply.id)}`, { measures: [...supply.measures, measure] }); onSaved(); } catch (err) { setError((err as Error).message); }
  };
  return (
    <div class="emergency-supply" data-testid="emergency-supply" data-open={supply.closedAt === undefined ? 'yes' : 'no'}>
      <h3>{t('inc.emergency')} <span class={`badge ${supply.closedAt === undefined ? 'warn' : ''}`}>{supply.closedAt === undefined ? t('inc.emergencyOpen') : t('inc.emergencyClosed', { at: fmtShort(supply.closedAt) })}</span></h3>
      <ul>{supply.measures.map((m, n) => <li key={n}>{tCode('measure', m.kind)} · {m.place} · {m.detail} · {fmtShort(m.from)}{m.to !== undefined ? ` – ${fmtShort(m.to)}` : ''}</li>)}</ul>
      {canEdit && supply.closedAt === undefined && (
        <form class="row wrap" onSubmit={add}>
          <select value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value as 'water_truck' | 'supply_point')}>
            <option value="water_truck">{tCode('measure', 'water_truck')}</option><option value="supply_point">{tCode('measure', 'supply_point')}</option>
          </select>
          <input placeholder={t('inc.place')} value={place} required onInput={(e) => setPlace((e.target as HTMLInputElement).value)} />
          <input placeholder={t('inc.measureDetail')} value={detail} onInput={(e) => setDetail((e.target as HTMLInputElement).value)} />
          <input type="datetime-local" value={from} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} />
          <button type="submit" class="small">{t('inc.addMeasure')}</button>
        </form>
      )}
      {error && <p class="error" role="alert">{error}</p>}
    </div>
  );
}

function ManualIncidentForm({ onSaved, onCancel }: { onSaved: (d: IncidentDetail) => void; onCancel: () => void }) {
  const map = useNetworkMap();
  const [dma, setDma] = useState('');
  const [kind, setKind] = useState<IncidentKind>('outage');
  const [start, setStart] = useState(toLocalInput(Date.now()));
  const [cause, setCause] = useState('unknown');
  const [customers, setCustomers] = useState('');
  const [expected, setExpected] = useState('');
  const [notes, setNotes] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (!dma) return setError(t('cs.needArea'));
    const body = {
      dma, kind, start: fromLocalInput(start), cause, notes,
      ...(customers ? { customersAffected: Number(customers) } : {}),
      ...(expected ? { expectedRestoration: fromLocalInput(expected) } : {}),
    };
    try { onSaved(await api.post<IncidentDetail>('/incidents', body)); } catch (err) { setError((err as Error).message); }
  };
  return (
    <form class="card" data-testid="manual-incident-form" onSubmit={submit}>
      <h3>{t('inc.new')}</h3>
      <div class="row wrap">
        <label>{t('cs.area')}<select name="dma" value={dma} onChange={(e) => setDma((e.target as HTMLSelectElement).value)} required>
          <option value="">—</option>
          {(map?.dmas ?? []).map((d) => <option key={d.id} value={d.id}>{d.name} ({fmtNum(d.customers, 0)})</option>)}</select></label>
        <label>{t('inc.kind')}<select name="kind" value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value as IncidentKind)}>
          <option value="outage">{tCode('incKind', 'outage')}</option><option value="low_pressure">{tCode('incKind', 'low_pressure')}</option></select></label>
        <label>{t('cs.start')}<input type="datetime-local" name="start" value={start} onInput={(e) => setStart((e.target as HTMLInputElement).value)} required /></label>
        <label>{t('cs.cause')}<select name="cause" value={cause} onChange={(e) => setCause((e.target as HTMLSelectElement).value)}>
          {CAUSES.map((c) => <option key={c} value={c}>{tCode('cause', c)}</option>)}</select></label>
        <label>{t('cs.customers')}<input type="number" min="0" name="customers" value={customers} placeholder={t('inc.allCustomers')} onInput={(e) => setCustomers((e.target as HTMLInputElement).value)} /></label>
        <label>{t('cs.restoration')}<input type="datetime-local" name="expectedRestoration" value={expected} onInput={(e) => setExpected((e.target as HTMLInputElement).value)} /></label>
      </div>
      <label>{t('inc.notes')}<textarea name="notes" value={notes} placeholder={t('inc.callNotes')} onInput={(e) => setNotes((e.target as HTMLTextAreaElement).value)} /></label>
      {error && <p class="error" role="alert">{error}</p>}
      <div class="row"><button type="submit" data-action="save-manual">{t('common.save')}</button><button type="button" class="ghost" onClick={onCancel}>{t('common.cancel')}</button></div>
    </form>
  );
}
