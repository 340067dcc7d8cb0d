/**
 * Customer notices (停水通知) of a planned outage or of a sudden outage under repair: draft (customer
 * service), approve and send (dispatcher; the server checks the role), and the delivery log per
 * customer, refreshed while SMS are still queued.
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { t, tCode } from '../i18n.ts';
import { fmtShort } from '../format.ts';
import { useApi } from '../hooks.ts';
import { useCan } from '../session.ts';
import type { CustomerNotice } from '../../../contract/index.ts';

export function CustomerNotices({ subject }: { subject: { plannedOutageId: string } | { incidentId: string } }) {
  const list = useApi<CustomerNotice[]>('/notices', subject);
  const canDraft = useCan('outages.edit');
  const canApprove = useCan('notices.approve');
  const [error, setError] = useState<string | null>(null);
  const queued = (list.data ?? []).some((n) => n.deliveries.some((d) => d.state === 'queued'));
  useEffect(() => {
    if (!queued) return;
    const timer = setInterval(() => list.reload(), 1500);
    return () => clearInterval(timer);
  }, [queued]);
  const act = async (path: string, body: unknown = {}) => {
    setError(null);
    try { await api.post(path, body); list.reload(); } catch (err) { setError((err as Error).message); }
  };
  const id = (n: CustomerNotice) => encodeURIComponent(n.id);
  return (
    <div class="customer-notices" data-testid="customer-notices">
      <div class="row between">
        <h4>{t('notice.title')}</h4>
        {canDraft && <button type="button" class="small" data-action="draft-notice" onClick={() => void act('/notices', subject)}>{t('notice.draft')}</button>}
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {(list.data ?? []).map((n) => (
        <article key={n.id} class="notice-item" data-notice={n.id} data-approved={n.approvedAt ? 'yes' : 'no'} data-sent={n.sentAt ? 'yes' : 'no'}>
          <p class="muted">
            {t('notice.drafted', { by: n.createdBy, at: fmtShort(n.createdAt) })}
            {n.approvedAt !== undefined && <> · {t('notice.approvedBy', { by: n.approvedBy ?? '', at: fmtShort(n.approvedAt) })}</>}
            {n.sentAt !== undefined && <> · <b>{t('notice.sentAt', { at: fmtShort(n.sentAt) })}</b></>}
          </p>
          <pre class="notice-text" lang="zh-CN">{n.texts['zh-CN'].sms}</pre>
          <pre class="notice-text" lang="en">{n.texts.en.sms}</pre>
          {canApprove && <div class="row">
            {n.approvedAt === undefined && <button type="button" class="small" data-action="approve-notice" onClick={() => void act(`/notices/${id(n)}/approve`)}>{t('notice.approve')}</button>}
            {n.approvedAt !== undefined && n.deliveries.every((d) => d.state !== 'queued') && (!n.deliveries.length || n.deliveries.some((d) => d.state === 'failed')) &&
              <button type="button" class="small" data-action="send-notice" onClick={() => void act(`/notices/${id(n)}/send`)}>{n.deliveries.length ? t('notice.resend') : t('notice.send')}</button>}
          </div>}
          {n.withoutPhone > 0 && <p class="muted">{t('notice.withoutPhone', { n: n.withoutPhone })}</p>}
          {n.deliveries.length > 0 && <table class="data" data-testid="notice-deliveries">
            <thead><tr><th>{t('cs.meter')}</th><th>{t('cs.customer')}</th><th>{t('notice.phone')}</th><th>{t('notice.state')}</th><th>{t('notice.at')}</th><th>{t('notice.answer')}</th></tr></thead>
            <tbody>{n.deliveries.map((d) => (
              <tr key={d.meter} data-meter={d.meter} data-state={d.state}>
                <td>{d.meter}</td><td>{d.customer}</td><td>{d.phone}</td><td>{tCode('noticeState', d.state)}</td><td>{fmtShort(d.updatedAt)}</td>
                <td class="muted"><small>{d.answer ?? ''}</small></td>
              </tr>
            ))}</tbody>
          </table>}
        </article>
      ))}
    </div>
  );
}
