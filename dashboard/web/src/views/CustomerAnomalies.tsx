/**
 * Customer service's meter-anomaly queue (issue #14.2): every anomaly (backwards, zero, high or
 * continuous use) with its customer, since when, the case's state; one opened shows the meter's
 * readings around it as a chart, the case history and the actions: called the customer (with a
 * note), field visit requested, closed with a reason (customer service and admin; the server checks).
 */
import { useMemo, useState } from 'preact/hooks';
import { Fragment, type ComponentChildren } from 'preact';
import { api } from '../api.ts';
import { alarmTextOf, t, tCode, alarmTypeOf } from '../i18n.ts';
import { fmtDateTime, fmtNum, fmtShort } from '../format.ts';
import { useApi } from '../hooks.ts';
import { useLiveEvent, useRooms } from '../live.ts';
import { useCan } from '../session.ts';
import { customerHref } from '../router.ts';
import { SERIES_COLORS, type EChartsOption } from '../charts.ts';
import { EChart } from '../components/EChart.tsx';
import { ActionForm } from '../components/ActionForm.tsx';
import type { AlarmTransition, CaseAction, CloseReason, MeterAnomaly, MeterAnomalyDetail } from '../../../contract/index.ts';

type QueueStatus = 'to_handle' | 'closed' | 'all';
const CLOSE_REASON_CODES: CloseReason[] = ['legitimate_use', 'leak_fixed', 'meter_replaced', 'misread', 'vacant', 'other'];

export function MeterAnomalyQueue() {
  const [status, setStatus] = useState<QueueStatus>('to_handle');
  const list = useApi<MeterAnomaly[]>('/meter-anomalies', { status });
  const [selected, setSelected] = useState<string | null>(null);
  useRooms(['alarms'], list.reload);
  useLiveEvent<AlarmTransition>('alarm', ({ alarm }) => { if (alarm.type.startsWith('meter_')) list.reload(); });
  return (
    <section class="card" data-testid="anomaly-queue">
      <div class="row between">
        <h2>{t('cust.anomalies')}</h2>
        <select value={status} aria-label={t('cust.show')} onChange={(e) => setStatus((e.target as HTMLSelectElement).value as QueueStatus)}>
          {(['to_handle', 'closed', 'all'] as const).map((s) => <option key={s} value={s}>{tCode('cust.status', s)}</option>)}
        </select>
      </div>
      {list.error && <p class="error">{list.error}</p>}
      <AnomalyTable rows={list.data ?? []} selected={selected} onSelect={(id) => setSelected(selected === id ? null : id)} showCustomer
        detail={(id) => <AnomalyDetail key={id} id={id} onChanged={list.reload} onClose={() => setSelected(null)} />} />
      {list.data && !list.data.length && <p class="muted">{t('cust.noAnomalies')}</p>}
      {/* a case closed from the "to handle" list leaves it: its detail stays open below */}
      {selected && !(list.data ?? []).some((a) => a.alarm.id === selected) && <AnomalyDetail key={selected} id={selected} onChanged={list.reload} onClose={() => setSelected(null)} />}
    </section>
  );
}

/** Anomalies as a table; a row opens its detail (`detail`) under it when `onSelect` is given. */
export function AnomalyTable({ rows, selected, onSelect, showCustomer, detail }: {
  rows: MeterAnomaly[]; selected?: string | null; onSelect?: (id: string) => void; showCustomer?: boolean; detail?: (id: string) => ComponentChildren;
}) {
  if (!rows.length) return null;
  const columns = showCustomer ? 8 : 5;
  return (
    <table class="data" data-testid="anomalies">
      <thead><tr>
        <th>{t('cust.kind')}</th>{showCustomer && <><th>{t('cs.customer')}</th><th>{t('cs.address')}</th><th>{t('cs.area')}</th></>}
        <th>{t('cs.meter')}</th><th>{t('cs.since')}</th><th>{t('cust.anomalyNow')}</th><th>{t('cust.case')}</th>
      </tr></thead>
      <tbody>
        {rows.map((a) => <Fragment key={a.alarm.id}>
          <tr data-anomaly={a.alarm.id} data-state={a.state} class={`${selected === a.alarm.id ? 'selected' : ''} ${onSelect ? 'clickable' : ''}`}
            onClick={onSelect ? () => onSelect(a.alarm.id) : undefined}>
            <td>{alarmTypeOf(a.alarm.type)}</td>
            {showCustomer && <>
              <td><a href={customerHref(a.customer.account)} onClick={(e) => e.stopPropagation()} data-customer={a.customer.account}>{a.customer.account}</a></td>
              <td>{a.customer.address}</td><td>{a.customer.dmaName}</td>
            </>}
            <td>{a.customer.meter}</td>
            <td class="time">{fmtShort(a.alarm.conditionSince)}</td>
            <td>{a.alarm.clearedAt !== undefined ? t('cust.cleared', { at: fmtShort(a.alarm.clearedAt) }) : t('cust.stillActive')}</td>
            <td><span class={`badge case-${a.state}`}>{tCode('caseState', a.state)}</span>{a.case?.closeReason && <small class="muted"> {tCode('closeReason', a.case.closeReason)}</small>}</td>
          </tr>
          {detail && selected === a.alarm.id && <tr class="detail-row"><td colSpan={columns}>{detail(a.alarm.id)}</td></tr>}
        </Fragment>)}
      </tbody>
    </table>
  );
}

function AnomalyDetail({ id, onChanged, onClose }: { id: string; onChanged: () => void; onClose: () => void }) {
  const r = useApi<MeterAnomalyDetail>(`/meter-anomalies/${encodeURIComponent(id)}`);
  const canAct = useCan('customers.act');
  const [acting, setActing] = useState<CaseAction | null>(null);
  const d = r.data;
  if (r.error) return <p class="error">{r.error}</p>;
  if (!d) return <p class="muted">{t('app.loading')}</p>;
  const { anomaly: a } = d;
  const act = async (body: { action: CaseAction; note?: string; reason?: CloseReason }) => {
    const next = await api.post<MeterAnomalyDetail>(`/meter-anomalies/${encodeURIComponent(id)}/actions`, body);
    r.set(() => next);
    setActing(null);
    onChanged();
  };
  return (
    <section class="card anomaly-detail" data-testid="anomaly-detail" data-anomaly={a.alarm.id} data-state={a.state}>
      <div class="row between">
        <h3>{alarmTypeOf(a.alarm.type)} · {a.customer.meter}</h3>
        <button type="button" class="ghost small" onClick={onClose}>{t('common.close')}</button>
      </div>
      <p>{alarmTextOf(a.alarm)}</p>
      <dl class="facts">
        <dt>{t('cs.customer')}</dt><dd><a href={customerHref(a.customer.account)} data-customer={a.customer.account}>{a.customer.account}</a></dd>
        <dt>{t('cs.address')}</dt><dd>{a.customer.address || '—'}</dd>
        <dt>{t('cs.area')}</dt><dd>{a.customer.dmaName}</dd>
        <dt>{t('notice.phone')}</dt><dd>{a.customer.phone ?? t('cust.noPhone')}</dd>
        <dt>{t('cs.since')}</dt><dd>{fmtDateTime(a.alarm.conditionSince)}</dd>
        <dt>{t('cust.case')}</dt><dd><span class={`badge case-${a.state}`}>{tCode('caseState', a.state)}</span></dd>
      </dl>
      <EvidenceChart detail={d} />
      {a.case && a.case.history.length > 0 && (
        <ol class="notes" data-testid="case-history">
          {a.case.history.map((e, i) => (
            <li key={i} data-action={e.action}><small class="muted">{fmtShort(e.at)} · {e.by}</small> <b>{tCode('caseAction', e.action)}</b>
              {e.reason && <> · {tCode('closeReason', e.reason)}</>}{e.note && <> — {e.note}</>}</li>
          ))}
        </ol>
      )}
      {canAct && a.state !== 'closed' && !acting && (
        <div class="row">
          <button type="button" data-action="call" onClick={() => setActing('call')}>{t('caseAction.call')}</button>
          {a.state !== 'visit_requested' && <button type="button" data-action="field_visit" onClick={() => setActing('field_visit')}>{t('caseAction.field_visit')}</button>}
          <button type="button" class="ghost" data-action="close" onClick={() => setActing('close')}>{t('caseAction.close')}</button>
        </div>
      )}
      {acting && <CaseActionForm action={acting} onSubmit={act} onCancel={() => setActing(null)} />}
    </section>
  );
}

function CaseActionForm({ action, onSubmit, onCancel }: { action: CaseAction; onSubmit: (b: { action: CaseAction; note?: string; reason?: CloseReason }) => Promise<void>; onCancel: () => void }) {
  const [note, setNote] = useState('');
  const [reason, setReason] = useState<CloseReason>('legitimate_use');
  return (
    <ActionForm testId={`case-${action}`} title={tCode('caseAction', action)} submitLabel={t('common.save')} onCancel={onCancel}
      onSubmit={() => onSubmit({ action, ...(note.trim() ? { note: note.trim() } : {}), ...(action === 'close' ? { reason } : {}) })}>
      {action === 'close' && (
        <label>{t('cust.reason')}<select name="reason" value={reason} onChange={(e) => setReason((e.target as HTMLSelectElement).value as CloseReason)}>
          {CLOSE_REASON_CODES.map((c) => <option key={c} value={c}>{tCode('closeReason', c)}</option>)}</select></label>
      )}
      <label>{action === 'call' ? t('cust.callNote') : t('cust.note')}
        <textarea name="note" rows={2} value={note} required={action === 'call' || (action === 'close' && reason === 'other')}
          onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)} /></label>
    </ActionForm>
  );
}

/** The meter's register around the anomaly, with the anomaly's start (and end) marked. */
function EvidenceChart({ detail }: { detail: MeterAnomalyDetail }) {
  const { anomaly: a, readings } = detail;
  const option = useMemo<EChartsOption>(() => ({
    animation: false,
    backgroundColor: 'transparent',
    grid: { left: 64, right: 24, top: 24, bottom: 28 },
    tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => `${fmtNum(v as number, 3)} m³` },
    xAxis: { type: 'time', axisLabel: { color: '#8b949e', hideOverlap: true } },
    yAxis: { type: 'value', scale: true, name: 'm³', nameTextStyle: { color: '#8b949e' }, axisLabel: { color: '#8b949e' }, splitLine: { lineStyle: { color: '#30363d' } } },
    series: [{
      type: 'line', name: a.customer.meter, data: readings, showSymbol: readings.length < 60, color: SERIES_COLORS[0],
      markLine: {
        symbol: 'none', label: { color: '#c9d1d9', formatter: '{b}' }, lineStyle: { color: '#d29922', type: 'dashed' },
        data: [{ name: t('cs.since'), xAxis: a.alarm.conditionSince }, ...(a.alarm.clearedAt !== undefined ? [{ name: t('cust.clearedMark'), xAxis: a.alarm.clearedAt }] : [])],
      },
    }],
  }), [detail]);
  return (
    <div class="evidence" data-testid="evidence" data-points={readings.length}>
      <h4>{t('cust.evidence', { from: fmtShort(detail.window.from), to: fmtShort(detail.window.to) })}</h4>
      {readings.length ? <EChart option={option} class="evidence-chart" notMerge label={t('cust.evidence', { from: fmtShort(detail.window.from), to: fmtShort(detail.window.to) })} />
        : <p class="muted">{t('cust.noReadings')}</p>}
    </div>
  );
}
