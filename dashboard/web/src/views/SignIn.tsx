/** Sign-in; in demo mode it lists the demo users (GET /auth/info) and signs in with one click. */
import { useState } from 'preact/hooks';
import { api, ApiError } from '../api.ts';
import { t, tCode, type Lang } from '../i18n.ts';
import { LanguageSwitch } from '../components/LanguageSwitch.tsx';
import type { AuthInfo, Session } from '../../../contract/index.ts';

export function SignIn(props: { info?: AuthInfo; lang: Lang; onLang: (l: Lang) => void; onSignedIn: (s: Session) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const signIn = async (u: string, p: string) => {
    setBusy(true);
    setError(null);
    try {
      props.onSignedIn(await api.post<Session>('/auth/login', { username: u, password: p }, { quiet401: true }));
    } catch (e) {
      const status = e instanceof ApiError ? e.status : 0;
      setError(status === 401 ? t('signin.bad') : status === 429 ? t('signin.rateLimited') : (e as Error).message);
    } finally { setBusy(false); }
  };

  return (
    <div class="signin-page">
      <form class="signin card" onSubmit={(e) => { e.preventDefault(); void signIn(username, password); }}>
        <div class="signin-head">
          <h1>{props.info?.site.name ?? 'aquawatch'}</h1>
          <LanguageSwitch lang={props.lang} onLang={props.onLang} />
        </div>
        <p class="muted">{t('signin.subtitle')}</p>
        <label>{t('signin.username')}
          <input name="username" autocomplete="username" value={username} onInput={(e) => setUsername((e.target as HTMLInputElement).value)} required />
        </label>
        <label>{t('signin.password')}
          <input name="password" type="password" autocomplete="current-password" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} required />
        </label>
        {error && <p class="error" role="alert">{error}</p>}
        <button type="submit" disabled={busy}>{t('signin.submit')}</button>
        {props.info?.mode === 'demo' && props.info.demoUsers && (
          <section class="demo-users">
            <p class="notice">{t('signin.demoMode')}</p>
            <table>
              <thead><tr><th>{t('signin.username')}</th><th>{t('signin.password')}</th><th>{t('signin.role')}</th><th></th></tr></thead>
              <tbody>
                {props.info.demoUsers.map((d) => (
                  <tr key={d.username}>
                    <td><code>{d.username}</code></td><td><code>{d.password}</code></td><td>{tCode('role', d.role)}</td>
                    <td><button type="button" class="small" data-demo-user={d.username} disabled={busy} onClick={() => void signIn(d.username, d.password)}>{t('signin.as')}</button></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        )}
      </form>
    </div>
  );
}
