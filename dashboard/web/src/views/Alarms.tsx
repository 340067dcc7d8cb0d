/**
 * Alarms: filter, sort, acknowledge with a comment, shelve for some minutes, bulk acknowledge, and
 * each alarm's history. A raised slow or abrupt leak can be accepted as a real change of use, with a
 * reason (issue #12.4); a cleared leak's detail says the decision, or the repair the night flow
 * confirmed with the work order opened from the alarm (or that none was), and its row says
 * "repaired: work order …, night flow −X m³/h". A pressure-model alarm's detail lists its ranked
 * loggers and links to them on the map (issue #12.6). Live: every transition in room `alarms`
 * updates the list; a leak alarm's clear brings its repair.
 */
import { useMemo, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { alarmTextOf, t, tCode, alarmTypeOf } from '../i18n.ts';
import { isAcceptableLeakType } from '../../../../core/messages/alarm-texts.ts';
import { fmtDateTime, fmtNum, fmtShort } from '../format.ts';
import { useApi, useNetworkMap, isOpenAlarm } from '../hooks.ts';
import { placeRanked } from '../ranked-loggers.ts';
import { useLiveEvent, useRooms } from '../live.ts';
import { useCan, useSession } from '../session.ts';
import { inQueues, queuesOf } from '../alarm-queue.ts';
import { href } from '../router.ts';
import { ActionForm } from '../components/ActionForm.tsx';
import { repairedBadge, repairFigure } from '../leak-repair.ts';
import type { AckManyResult, AlarmDetail, AlarmRecord, DeliveryRecord, LeakDecision, LeakRepair, AlarmTransition as LiveAlarmTransition } from '../../../contract/index.ts';

type SortKey = 'raisedAt' | 'priority' | 'dma' | 'type';
const PRIORITY_RANK: Record<string, number> = { critical: 4, high: 3, medium: 2, low: 1 };
type Pending = { kind: 'ack'; ids: string[] } | { kind: 'shelve'; id: string } | { kind: 'unshelve'; id: string } | { kind: 'accept'; id: string } | null;

export function AlarmsView() {
  const [scope, setScope] = useState<'open' | 'recent'>('open');
  const since = useMemo(() => Date.now() - 7 * 86_400_000, [scope]);
  const list = useApi<AlarmRecord[]>('/alarms', scope === 'open' ? { open: true, limit: 1000 } : { open: false, from: since, limit: 1000 });
  // a leak alarm's clear comes with the repair the night flow confirmed and its work order
  const repairs = useApi<LeakRepair[]>('/leak-repairs');
  // what changed between the first reads and the subscription is read again once it is taken
  useRooms(['alarms'], () => { list.reload(); repairs.reload(); });
  useLiveEvent<LiveAlarmTransition>('alarm', ({ alarm, repair }) => {
    list.set((prev) => {
      const rest = (prev ?? []).filter((a) => a.id !== alarm.id);
      return scope === 'open' && !isOpenAlarm(alarm) ? rest : [alarm, ...rest];
    });
    if (repair) repairs.set((prev) => [repair, ...(prev ?? []).filter((x) => x.alarmId !== repair.alarmId)]);
  });
  const repairOf = new Map((repairs.data ?? []).map((x) => [x.alarmId, x]));

  const [priority, setPriority] = useState('');
  const [type, setType] = useState('');
  const [dma, setDma] = useState('');
  const [text, setText] = useState('');
  const [sort, setSort] = useState<SortKey>('raisedAt');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [detail, setDetail] = useState<string | null>(null);
  const [pending, setPending] = useState<Pending>(null);
  const canAck = useCan('alarms.ack');
  const canShelve = useCan('alarms.shelve');
  const canAccept = useCan('leaks.accept');
  // an accepted leak stays raised until the detector's next step clears it: marked, no second accept
  const decisions = useApi<LeakDecision[]>('/leak-decisions');
  const accepted = new Set((decisions.data ?? []).map((d) => d.alarmId));
  const myQueues = queuesOf(useSession().user.role);
  const [allQueues, setAllQueues] = useState(false);
  const inMyQueue = inQueues(allQueues ? undefined : myQueues);

  const all = (list.data ?? []).filter(inMyQueue);
  const types = [...new Set(all.map((a) => a.type))].sort();
  const dmas = [...new Set(all.map((a) => a.dma).filter((d): d is string => !!d))].sort();
  const rows = all
    .filter((a) => (!priority || a.priority === priority) && (!type || a.type === type) && (!dma || a.dma === dma)
      && (!text || `${alarmTextOf(a)} ${a.message} ${a.sensor ?? ''} ${a.id}`.toLowerCase().includes(text.toLowerCase())))
    .sort((a, b) => sort === 'priority' ? (PRIORITY_RANK[b.priority] - PRIORITY_RANK[a.priority]) || (b.raisedAt - a.raisedAt)
      : sort === 'raisedAt' ? b.raisedAt - a.raisedAt : String(a[sort] ?? '').localeCompare(String(b[sort] ?? '')) || (b.raisedAt - a.raisedAt));
  const ackable = (a: AlarmRecord) => !a.ackedAt && (a.state === 'active-unacknowledged' || a.state === 'cleared-unacknowledged');
  const toggle = (id: string) => setSelected((s) => { const n = new Set(s); if (n.has(id)) n.delete(id); else n.add(id); return n; });
  const replace = (a: AlarmRecord) => list.set((prev) => (prev ?? []).map((x) => (x.id === a.id ? a : x)));

  return (
    <div class="alarms-view">
      <div class="toolbar">
        <select value={scope} onChange={(e) => setScope((e.target as HTMLSelectElement).value as 'open' | 'recent')} aria-label={t('alarms.scope')}>
          <option value="open">{t('alarms.scopeOpen')}</option>
          <option value="recent">{t('alarms.scopeRecent')}</option>
        </select>
        <select value={priority} onChange={(e) => setPriority((e.target as HTMLSelectElement).value)} aria-label={t('alarms.priority')}>
          <option value="">{t('alarms.anyPriority')}</option>
          {(['critical', 'high', 'medium', 'low'] as const).map((p) => <option key={p} value={p}>{t(`priority.${p}`)}</option>)}
        </select>
        <select value={type} onChange={(e) => setType((e.target as HTMLSelectElement).value)} aria-label={t('alarms.type')}>
          <option value="">{t('alarms.anyType')}</option>
          {types.map((x) => <option key={x} value={x}>{alarmTypeOf(x)}</option>)}
        </select>
        <select value={dma} onChange={(e) => setDma((e.target as HTMLSelectElement).value)} aria-label={t('alarms.area')}>
          <option value="">{t('alarms.anyArea')}</option>
          {dmas.map((x) => <option key={x} value={x}>{x}</option>)}
        </select>
        {myQueues && (
          <label><input type="checkbox" checked={allQueues} data-action="all-queues" onChange={(e) => setAllQueues((e.target as HTMLInputElement).checked)} /> {t('alarms.allQueues')}</label>
        )}
        <input type="search" placeholder={t('alarms.search')} value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        <label>{t('alarms.sortBy')}{' '}
          <select value={sort} onChange={(e) => setSort((e.target as HTMLSelectElement).value as SortKey)}>
            <option value="raisedAt">{t('alarms.raisedAt')}</option>
            <option value="priority">{t('alarms.priority')}</option>
            <option value="dma">{t('alarms.area')}</option>
            <option value="type">{t('alarms.type')}</option>
          </select>
        </label>
        {canAck && (
          <button type="button" data-action="bulk-ack" disabled={![...selected].some((id) => { const a = all.find((x) => x.id === id); return a && ackable(a); })}
            onClick={() => setPending({ kind: 'ack', ids: [...selected].filter((id) => { const a = all.find((x) => x.id === id); return a && ackable(a); }) })}>
            {t('alarms.bulkAck', { n: selected.size })}
          </button>
        )}
      </div>
      {pending && <PendingAction pending={pending} onDone={(updated) => { updated.forEach(replace); setPending(null); setSelected(new Set()); list.reload(); decisions.reload(); }} onCancel={() => setPending(null)} />}
      {list.error && <p class="error">{list.error}</p>}
      <table class="data alarms-table" data-testid="alarms-table">
        <thead><tr>
          <th>{canAck && <input type="checkbox" aria-label={t('alarms.selectAll')} checked={rows.length > 0 && rows.every((r) => selected.has(r.id))}
            onChange={(e) => setSelected((e.target as HTMLInputElement).checked ? new Set(rows.map((r) => r.id)) : new Set())} />}</th>
          <th>{t('alarms.priority')}</th><th>{t('alarms.type')}</th><th>{t('alarms.area')}</th><th>{t('alarms.message')}</th>
          <th>{t('alarms.raisedAt')}</th><th>{t('alarms.state')}</th><th>{t('common.actions')}</th>
        </tr></thead>
        <tbody>
          {rows.map((a) => (
            <tr key={a.id} data-alarm-id={a.id} data-type={a.type} data-state={a.state} class={`prio-row-${a.priority} ${detail === a.id ? 'selected' : ''}`}>
              <td>{canAck && <input type="checkbox" checked={selected.has(a.id)} onChange={() => toggle(a.id)} aria-label={a.id} />}</td>
              <td><span class={`badge prio-${a.priority}`}>{t(`priority.${a.priority}`)}</span></td>
              <td>{alarmTypeOf(a.type)}</td>
              <td>{a.dma ?? '—'}</td>
              <td class="message">{alarmTextOf(a)}{a.shelved && <span class="badge">{t('alarms.shelvedUntil', { time: fmtShort(a.shelved.until) })}</span>}
                {accepted.has(a.id) && <span class="badge" data-testid="accepted-badge">{t('alarms.acceptedBadge')}</span>}
                {repairOf.has(a.id) && <span class="badge repaired" data-testid="repaired-badge" data-work-order={repairOf.get(a.id)!.workOrderId ?? ''}>{repairedBadge(repairOf.get(a.id)!)}</span>}</td>
              <td class="time">{fmtShort(a.raisedAt)}</td>
              <td class="state">{tCode('alarmState', a.state)}{a.ackedBy && <small class="muted"> · {a.ackedBy}</small>}</td>
              <td class="actions">
                <button type="button" class="small ghost" data-action="history" onClick={() => setDetail(detail === a.id ? null : a.id)}>{t('alarms.history')}</button>
                {canAck && ackable(a) && <button type="button" class="small" data-action="ack" onClick={() => setPending({ kind: 'ack', ids: [a.id] })}>{t('alarms.ack')}</button>}
                {canShelve && isOpenAlarm(a) && !a.shelved && <button type="button" class="small ghost" data-action="shelve" onClick={() => setPending({ kind: 'shelve', id: a.id })}>{t('alarms.shelve')}</button>}
                {canAccept && a.clearedAt === undefined && !accepted.has(a.id) && isAcceptableLeakType(a.type) && (
                  <button type="button" class="small ghost" data-action="accept-change" onClick={() => setPending({ kind: 'accept', id: a.id })}>{t('alarms.acceptChange')}</button>
                )}
                {canShelve && a.shelved && <button type="button" class="small ghost" data-action="unshelve" onClick={() => setPending({ kind: 'unshelve', id: a.id })}>{t('alarms.unshelve')}</button>}
              </td>
            </tr>
          ))}
          {!rows.length && <tr><td colSpan={8} class="muted">{list.loading ? t('app.loading') : t('alarms.none')}</td></tr>}
        </tbody>
      </table>
      {detail && <AlarmDetail id={detail} key={detail + (all.find((a) => a.id === detail)?.updatedAt ?? '')} onClose={() => setDetail(null)} />}
    </div>
  );
}

function PendingAction({ pending, onDone, onCancel }: { pending: NonNullable<Pending>; onDone: (updated: AlarmRecord[]) => void; onCancel: () => void }) {
  const [comment, setComment] = useState('');
  const [minutes, setMinutes] = useState(60);
  if (pending.kind === 'ack') {
    return (
      <ActionForm testId="ack-form" title={t('alarms.ackTitle', { n: pending.ids.length })} submitLabel={t('alarms.ack')} onCancel={onCancel} onSubmit={async () => {
        const body = comment ? { comment } : {};
        if (pending.ids.length === 1) onDone([await api.post<AlarmRecord>(`/alarms/${encodeURIComponent(pending.ids[0])}/ack`, body)]);
        else {
          const r = await api.post<AckManyResult>('/alarms/ack', { ids: pending.ids, ...body });
          if (r.failed.length) throw new Error(r.failed.map((f) => `${f.id}: ${f.message}`).join('; '));
          onDone([]);
        }
      }}>
        <label>{t('alarms.comment')}<input name="comment" value={comment} onInput={(e) => setComment((e.target as HTMLInputElement).value)} /></label>
      </ActionForm>
    );
  }
  if (pending.kind === 'shelve') {
    return (
      <ActionForm testId="shelve-form" title={t('alarms.shelveTitle')} submitLabel={t('alarms.shelve')} onCancel={onCancel} onSubmit={async () => {
        onDone([await api.post<AlarmRecord>(`/alarms/${encodeURIComponent(pending.id)}/shelve`, { minutes, reason: comment })]);
      }}>
        <label>{t('alarms.minutes')}<input type="number" min={1} max={1440} value={minutes} onInput={(e) => setMinutes(Number((e.target as HTMLInputElement).value))} required /></label>
        <label>{t('alarms.reason')}<input value={comment} onInput={(e) => setComment((e.target as HTMLInputElement).value)} required /></label>
      </ActionForm>
    );
  }
  if (pending.kind === 'accept') {
    return (
      <ActionForm testId="accept-change-form" title={t('alarms.acceptChangeTitle')} submitLabel={t('alarms.acceptChange')} onCancel={onCancel} onSubmit={async () => {
        await api.post<LeakDecision>(`/alarms/${encodeURIComponent(pending.id)}/accept-change`, { reason: comment });
        onDone([]);
      }}>
        <label>{t('alarms.acceptChangeReason')}<input name="reason" value={comment} onInput={(e) => setComment((e.target as HTMLInputElement).value)} required /></label>
      </ActionForm>
    );
  }
  return (
    <ActionForm title={t('alarms.unshelve')} submitLabel={t('alarms.unshelve')} onCancel={onCancel} onSubmit={async () => {
      onDone([await api.post<AlarmRecord>(`/alarms/${encodeURIComponent(pending.id)}/unshelve`, comment ? { comment } : {})]);
    }}>
      <label>{t('alarms.comment')}<input value={comment} onInput={(e) => setComment((e.target as HTMLInputElement).value)} /></label>
    </ActionForm>
  );
}

function AlarmDetail({ id, onClose }: { id: string; onClose: () => void }) {
  const r = useApi<AlarmDetail>(`/alarms/${encodeURIComponent(id)}`);
  const deliveries = useApi<DeliveryRecord[]>(`/alarms/${encodeURIComponent(id)}/deliveries`);
  const leak = r.data !== undefined && isAcceptableLeakType(r.data.alarm.type);
  const decisions = useApi<LeakDecision[]>(leak ? '/leak-decisions' : null, { alarmId: id });
  const map = useNetworkMap();
  const ranked = r.data && map ? placeRanked(r.data.alarm, map.sensors) : [];
  const evidence = r.data?.alarm.evidence;
  return (
    <section class="card alarm-detail" data-testid="alarm-detail">
      <div class="row between"><h3>{r.data ? alarmTextOf(r.data.alarm) : id}</h3><button type="button" class="ghost small" onClick={onClose}>{t('common.close')}</button></div>
      {r.error && <p class="error">{r.error}</p>}
      {r.data && (
        <>
          <p class="muted">{id} · {tCode('alarmState', r.data.alarm.state)}{r.data.alarm.ackComment && <> · “{r.data.alarm.ackComment}”</>}</p>
          {decisions.data?.map((d) => (
            <p key={d.id} data-testid="leak-decision">{t('alarms.acceptedChange', { user: d.decidedBy, time: fmtDateTime(d.effectiveTs), reason: d.reason })}</p>
          ))}
          {r.data.repair && (
            <p data-testid="leak-repair" data-drop-source={r.data.repair.dropSource}>
              {t(r.data.repair.workOrderId ? 'alarms.repairConfirmed' : 'alarms.repairConfirmedNoOrder', { figure: repairFigure(r.data.repair), wo: r.data.repair.workOrderId ?? '' })}
            </p>
          )}
          {ranked.length > 0 && (
            <div class="ranked-detail">
              <div class="row between">
                <h4>{t('pmodel.detailTitle')}</h4>
                <a class="small" href={`${href('control')}/${encodeURIComponent(id)}`} data-action="show-on-map">{t('pmodel.showOnMap')}</a>
              </div>
              <table class="data" data-testid="ranked-loggers-detail">
                <thead><tr><th>{t('pmodel.rank')}</th><th>{t('pmodel.logger')}</th><th class="num">{t('pmodel.residual')}</th><th class="num">{t('pmodel.z')}</th></tr></thead>
                <tbody>
                  {ranked.map((l) => (
                    <tr key={l.sensor} data-sensor={l.sensor} data-rank={l.rank}>
                      <td>{l.rank}</td><td>{l.name}{l.name !== l.sensor && <small class="muted"> {l.sensor}</small>}</td>
                      <td class="num">{fmtNum(l.residualKpa, 2)}</td><td class="num">{fmtNum(l.z, 1)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {typeof evidence?.persistHours === 'number' && typeof evidence.k === 'number' && (
                <p class="muted small">{t('pmodel.note', { hours: fmtNum(evidence.persistHours, 1), k: fmtNum(evidence.k, 1) })}</p>
              )}
            </div>
          )}
          <table class="data">
            <thead><tr><th>{t('alarms.when')}</th><th>{t('alarms.event')}</th><th>{t('alarms.state')}</th><th>{t('alarms.user')}</th><th>{t('alarms.comment')}</th></tr></thead>
            <tbody>
              {r.data.history.map((h) => (
                <tr key={h.seq}><td>{fmtDateTime(h.eventTs)}</td><td>{tCode('alarmEvent', h.kind)}</td><td>{tCode('alarmState', h.toState)}</td><td>{h.user}</td><td>{h.comment ?? ''}</td></tr>
              ))}
            </tbody>
          </table>
          {deliveries.data && deliveries.data.length > 0 && (
            <>
              <h4>{t('alarms.deliveries')}</h4>
              <table class="data" data-testid="alarm-deliveries">
                <thead><tr><th>{t('alarms.when')}</th><th>{t('alarms.recipient')}</th><th>{t('alarms.channel')}</th><th>{t('alarms.state')}</th><th>{t('alarms.attempts')}</th><th>{t('alarms.answer')}</th></tr></thead>
                <tbody>
                  {deliveries.data.map((d) => (
                    <tr key={d.id} data-delivery-state={d.state}><td>{fmtDateTime(d.updatedAt)}</td><td>{d.recipientId}</td><td>{d.channel}</td><td>{tCode('deliveryState', d.state)}</td><td>{d.attempts}</td><td class="muted">{d.answer ?? ''}</td></tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </>
      )}
    </section>
  );
}
