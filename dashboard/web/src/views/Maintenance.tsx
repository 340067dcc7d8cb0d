/**
 * Work orders from bursts and leaks: assign a crew, move through new → assigned → in progress →
 * resolved, with notes and the water lost so far (the server's estimate, extrapolated at the burst's
 * or leak's flow between refreshes), and for a leak alarm's work order the repair the night flow confirmed (issue
 * #12.4), or that the nights after a reported repair did not confirm it (the repair check's
 * `repair_unconfirmed` alarm). A burst alarm's raise reloads the list.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { t, tCode } from '../i18n.ts';
import { fmtNum, fmtShort } from '../format.ts';
import { useApi, useNow } from '../hooks.ts';
import { useLiveEvent, useRooms } from '../live.ts';
import { useCan } from '../session.ts';
import { repairFigure } from '../leak-repair.ts';
import { isAcceptableLeakType } from '../../../../core/messages/alarm-texts.ts';
import type { AlarmRecord, LeakRepair, WorkOrder, WorkOrderStatus } from '../../../contract/index.ts';

const NEXT: Record<WorkOrderStatus, WorkOrderStatus | null> = { new: 'assigned', assigned: 'in_progress', in_progress: 'resolved', resolved: null };

export function MaintenanceView() {
  const [status, setStatus] = useState('');
  const list = useApi<WorkOrder[]>('/work-orders', { status: status || undefined });
  const repairs = useApi<LeakRepair[]>('/leak-repairs');
  // the repair check's alarms: a reported leak repair the nights after it did not confirm
  const unconfirmed = useApi<AlarmRecord[]>('/alarms', { type: 'repair_unconfirmed' });
  const fetchedAt = useRef(Date.now());
  useEffect(() => { fetchedAt.current = Date.now(); }, [list.data]);
  useRooms(['alarms'], () => { list.reload(); repairs.reload(); unconfirmed.reload(); });
  useLiveEvent<{ kind: string; alarm: AlarmRecord }>('alarm', ({ kind, alarm }) => {
    if (kind === 'raise' || alarm.type === 'burst') list.reload();
    if (kind === 'clear') repairs.reload();
    if (alarm.type === 'repair_unconfirmed') unconfirmed.reload();
  });
  useEffect(() => { const id = setInterval(list.reload, 30_000); return () => clearInterval(id); }, []);
  const now = useNow(5000);
  const canEdit = useCan('workorders.edit');
  const replace = (w: WorkOrder) => list.set((prev) => (prev ?? []).map((x) => (x.id === w.id ? w : x)));

  return (
    <div class="maintenance-view">
      <div class="toolbar">
        <select value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)} aria-label={t('wo.status')}>
          <option value="">{t('wo.anyStatus')}</option>
          {(['new', 'assigned', 'in_progress', 'resolved'] as const).map((s) => <option key={s} value={s}>{tCode('woStatus', s)}</option>)}
        </select>
      </div>
      {list.error && <p class="error">{list.error}</p>}
      <div class="cards">
        {(list.data ?? []).map((w) => (
          <WorkOrderCard key={w.id} wo={w} canEdit={canEdit} onSaved={replace} repair={repairs.data?.find((x) => x.workOrderId === w.id)}
            unconfirmed={unconfirmed.data?.find((a) => a.evidence?.workOrderId === w.id && a.state.startsWith('active'))}
            lossM3={w.status !== 'resolved' && w.burstFlowM3h ? w.estimatedLossM3 + (w.burstFlowM3h * (now - fetchedAt.current)) / 3_600_000 : w.estimatedLossM3} />
        ))}
        {list.data && !list.data.length && <p class="muted">{t('wo.none')}</p>}
      </div>
    </div>
  );
}

function WorkOrderCard({ wo, canEdit, onSaved, lossM3, repair, unconfirmed }: {
  wo: WorkOrder; canEdit: boolean; onSaved: (w: WorkOrder) => void; lossM3: number; repair?: LeakRepair; unconfirmed?: AlarmRecord;
}) {
  const [crew, setCrew] = useState(wo.crew ?? '');
  const [note, setNote] = useState('');
  const [error, setError] = useState<string | null>(null);
  const save = async (body: { status?: WorkOrderStatus; crew?: string; note?: string }) => {
    setError(null);
    try { onSaved(await api.patch<WorkOrder>(`/work-orders/${encodeURIComponent(wo.id)}`, body)); setNote(''); } catch (e) { setError((e as Error).message); }
  };
  const next = NEXT[wo.status];
  return (
    <article class={`card work-order status-${wo.status}`} data-wo={wo.id} data-status={wo.status}>
      <header class="row between">
        <h3>{t('wo.title', { dma: wo.dma })}</h3>
        <span class={`badge wo-${wo.status}`}>{tCode('woStatus', wo.status)}</span>
      </header>
      <dl class="facts">
        <dt>{t('wo.location')}</dt><dd>{wo.locationHint ?? '—'}</dd>
        <dt>{t('wo.alarm')}</dt><dd><a href="#/alarms"><code>{wo.alarmId}</code></a></dd>
        <dt>{t('wo.created')}</dt><dd>{fmtShort(wo.createdAt)}</dd>
        <dt>{t(isAcceptableLeakType(wo.alarmId.split(':')[0]) ? 'wo.leakFlow' : 'wo.burstFlow')}</dt><dd>{wo.burstFlowM3h != null ? `${fmtNum(wo.burstFlowM3h, 1)} m³/h` : '—'}</dd>
        <dt>{t('wo.loss')}</dt><dd class="loss"><b>{fmtNum(lossM3, 0)}</b> m³</dd>
        <dt>{t('wo.crew')}</dt><dd>{wo.crew ?? '—'}</dd>
        {wo.resolvedAt && <><dt>{t('wo.resolved')}</dt><dd>{fmtShort(wo.resolvedAt)}</dd></>}
      </dl>
      {repair && <p class="repair-confirmed" data-testid="wo-repair-confirmed" data-drop-source={repair.dropSource}>{t('wo.repairConfirmed', { figure: repairFigure(repair) })}</p>}
      {!repair && unconfirmed && (
        <p class="repair-unconfirmed" data-testid="wo-repair-unconfirmed">{t('wo.repairUnconfirmed', { nights: String(unconfirmed.evidence?.nights ?? '') })}</p>
      )}
      {wo.notes.length > 0 && <ul class="notes">{wo.notes.map((n, i) => <li key={i}><small class="muted">{fmtShort(n.at)} · {n.by}</small> {n.text}</li>)}</ul>}
      {canEdit && wo.status !== 'resolved' && (
        <div class="wo-actions">
          <label>{t('wo.crew')}<input value={crew} onInput={(e) => setCrew((e.target as HTMLInputElement).value)} placeholder={t('wo.crewPlaceholder')} /></label>
          <button type="button" class="small" disabled={!crew.trim() || crew === wo.crew} data-action="assign"
            onClick={() => void save({ crew: crew.trim(), ...(wo.status === 'new' ? { status: 'assigned' as const } : {}) })}>{t('wo.assign')}</button>
          {next && next !== 'assigned' && <button type="button" class="small" data-action="advance" onClick={() => void save({ status: next })}>{t('wo.moveTo', { status: tCode('woStatus', next) })}</button>}
          <label>{t('wo.note')}<input value={note} onInput={(e) => setNote((e.target as HTMLInputElement).value)} /></label>
          <button type="button" class="small ghost" disabled={!note.trim()} onClick={() => void save({ note: note.trim() })}>{t('wo.addNote')}</button>
        </div>
      )}
      {error && <p class="error">{error}</p>}
    </article>
  );
}
