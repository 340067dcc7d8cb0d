/** The audit log (admins, issue #14.5): every change people made, newest first, filtered, exported as CSV. */
import { useState } from 'preact/hooks';
import { apiUrl } from '../api.ts';
import { codesOf, t, tCode } from '../i18n.ts';
import { fmtDateTime } from '../format.ts';
import { useApi } from '../hooks.ts';
import type { AuditEntry } from '../../../contract/index.ts';

export function AuditLogSection() {
  const [username, setUsername] = useState('');
  const [action, setAction] = useState('');
  const query = { username: username || undefined, action: action || undefined, limit: 500 };
  const r = useApi<AuditEntry[]>('/audit', query);
  return (
    <section class="card" data-testid="audit-log">
      <div class="row between">
        <h2>{t('audit.title')}</h2>
        <a class="button" href={apiUrl('/audit.csv', { username: username || undefined, action: action || undefined })} download>{t('reports.csv')}</a>
      </div>
      <div class="row wrap">
        <input type="search" placeholder={t('audit.user')} value={username} onChange={(e) => setUsername((e.target as HTMLInputElement).value)} />
        <select value={action} aria-label={t('audit.action')} onChange={(e) => setAction((e.target as HTMLSelectElement).value)}>
          <option value="">{t('audit.allActions')}</option>
          {codesOf('auditAction').map((a) => <option key={a} value={a}>{tCode('auditAction', a)}</option>)}
        </select>
      </div>
      {r.error && <p class="error">{r.error}</p>}
      <table class="data">
        <thead><tr><th>{t('audit.at')}</th><th>{t('audit.user')}</th><th>{t('audit.action')}</th><th>{t('audit.target')}</th><th>{t('audit.details')}</th></tr></thead>
        <tbody>
          {(r.data ?? []).map((e) => (
            <tr key={e.seq} data-action={e.action}>
              <td>{fmtDateTime(e.at)}</td><td>{e.username} <small class="muted">{tCode('role', e.role)}</small></td><td>{tCode('auditAction', e.action)}</td>
              <td>{e.target ?? ''}</td><td><small class="muted">{JSON.stringify(e.details)}</small></td>
            </tr>
          ))}
          {r.data && !r.data.length && <tr><td colSpan={5} class="muted">{t('audit.none')}</td></tr>}
        </tbody>
      </table>
    </section>
  );
}
