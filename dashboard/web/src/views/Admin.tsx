/** Administration (admin only): users, PDA device tokens (a new token's secret is shown once), the audit log. */
import { useState } from 'preact/hooks';
import { api, ApiError } from '../api.ts';
import { t, tCode } from '../i18n.ts';
import { fmtShort } from '../format.ts';
import { useApi } from '../hooks.ts';
import { useCan } from '../session.ts';
import { AuditLogSection } from './AuditLog.tsx';
import type { DeviceToken, DeviceTokenCreated, Role, UserRow } from '../../../contract/index.ts';

const ROLES: Role[] = ['admin', 'dispatcher', 'maintenance', 'customer_service', 'viewer'];

/** A refusal by a named rule (a password rule) in the user's language; otherwise the server's message. */
const refusalText = (e: unknown) => (e instanceof ApiError && e.rule ? tCode('passwordRule', e.rule) : (e as Error).message);

export function AdminView() {
  return <div class="admin-view">{useCan('users.manage') && <Users />}{useCan('tokens.manage') && <DeviceTokens />}{useCan('audit.read') && <AuditLogSection />}</div>;
}

function Users() {
  const r = useApi<UserRow[]>('/users');
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const act = async (fn: () => Promise<unknown>) => { setError(null); try { await fn(); r.reload(); } catch (e) { setError(refusalText(e)); } };
  return (
    <section class="card">
      <h2>{t('admin.users')}</h2>
      <table class="data" data-testid="users-table">
        <thead><tr><th>{t('signin.username')}</th><th>{t('admin.displayName')}</th><th>{t('signin.role')}</th><th>{t('admin.created')}</th><th>{t('admin.status')}</th><th></th></tr></thead>
        <tbody>
          {(r.data ?? []).map((u) => (
            <tr key={u.username} data-user={u.username}>
              <td><code>{u.username}</code></td><td>{u.displayName}</td>
              <td><select value={u.role} onChange={(e) => void act(() => api.patch(`/users/${encodeURIComponent(u.username)}`, { role: (e.target as HTMLSelectElement).value }))}>
                {ROLES.map((x) => <option key={x} value={x}>{tCode('role', x)}</option>)}</select></td>
              <td>{fmtShort(u.createdAt)}</td>
              <td>{u.disabled ? t('admin.disabled') : t('admin.enabled')}</td>
              <td><button type="button" class="small ghost" onClick={() => void act(() => api.patch(`/users/${encodeURIComponent(u.username)}`, { disabled: !u.disabled }))}>
                {u.disabled ? t('admin.enable') : t('admin.disable')}</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      <form class="row wrap" onSubmit={(e) => { e.preventDefault(); void act(async () => { await api.post('/users', { username, displayName: displayName || undefined, role, password }); setUsername(''); setPassword(''); setDisplayName(''); }); }}>
        <label>{t('signin.username')}<input value={username} onInput={(e) => setUsername((e.target as HTMLInputElement).value)} required /></label>
        <label>{t('admin.displayName')}<input value={displayName} onInput={(e) => setDisplayName((e.target as HTMLInputElement).value)} /></label>
        <label>{t('signin.role')}<select value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value as Role)}>{ROLES.map((x) => <option key={x} value={x}>{tCode('role', x)}</option>)}</select></label>
        <label>{t('signin.password')}<input type="password" minLength={12} value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} required autocomplete="new-password" /></label>
        <button type="submit">{t('admin.addUser')}</button>
      </form>
      {error && <p class="error">{error}</p>}
    </section>
  );
}

function DeviceTokens() {
  const r = useApi<DeviceToken[]>('/device-tokens');
  const [device, setDevice] = useState('');
  const [created, setCreated] = useState<DeviceTokenCreated | null>(null);
  const [error, setError] = useState<string | null>(null);
  const act = async (fn: () => Promise<void>) => { setError(null); try { await fn(); r.reload(); } catch (e) { setError((e as Error).message); } };
  return (
    <section class="card">
      <h2>{t('admin.tokens')}</h2>
      <table class="data" data-testid="tokens-table">
        <thead><tr><th>{t('admin.device')}</th><th>{t('admin.note')}</th><th>{t('admin.created')}</th><th></th></tr></thead>
        <tbody>
          {(r.data ?? []).map((d) => (
            <tr key={d.deviceId}><td><code>{d.deviceId}</code></td><td>{d.note ?? ''}</td><td>{fmtShort(d.createdAt)}</td>
              <td><button type="button" class="small ghost" onClick={() => void act(async () => { await api.del(`/device-tokens/${encodeURIComponent(d.deviceId)}`); })}>{t('admin.revoke')}</button></td></tr>
          ))}
        </tbody>
      </table>
      <form class="row" onSubmit={(e) => { e.preventDefault(); void act(async () => { setCreated(await api.post<DeviceTokenCreated>('/device-tokens', { device })); setDevice(''); }); }}>
        <label>{t('admin.device')}<input value={device} onInput={(e) => setDevice((e.target as HTMLInputElement).value)} required pattern="[A-Za-z0-9_.:\-]{1,128}" /></label>
        <button type="submit">{t('admin.createToken')}</button>
      </form>
      {created && <p class="notice">{t('admin.tokenOnce')} <code class="secret">{created.token}</code></p>}
      {error && <p class="error">{error}</p>}
    </section>
  );
}
