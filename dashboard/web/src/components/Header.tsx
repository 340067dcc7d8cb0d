/** Site name, navigation (views the role may open), live status, language, wall mode, sign-out. */
import { t, tCode, type Lang } from '../i18n.ts';
import { useSession } from '../session.ts';
import { ROUTES, href, type Route } from '../router.ts';
import { useLiveConnected } from '../live.ts';
import { LanguageSwitch } from './LanguageSwitch.tsx';
import { Clock } from './Clock.tsx';

export function Header(props: { route: Route; lang: Lang; onLang: (l: Lang) => void; wall: boolean; onWall: (w: boolean) => void }) {
  const { user, site, signOut } = useSession();
  const live = useLiveConnected();
  const routes = ROUTES.filter((r) => !r.needs || user.permissions.includes(r.needs));
  return (
    <header class="topbar">
      <div class="brand">
        <strong>{site.name}</strong>
        <span class="muted">{t('app.title')}</span>
        {site.mode === 'demo' && <span class="badge demo">{t('app.demo')}</span>}
        {site.mode === 'demo' && <a class="badge demo" href="/demo-phone" target="_blank" rel="noopener" data-testid="demo-phone-link">{t('app.demoPhone')}</a>}
      </div>
      <nav class="nav">
        {routes.map((r) => (
          <a key={r.id} href={href(r.id)} class={r.id === props.route ? 'active' : ''} data-route={r.id}>{t(r.label)}</a>
        ))}
      </nav>
      <div class="tools">
        <Clock />
        <span class={`live-dot ${live ? 'up' : 'down'}`} title={live ? t('live.connected') : t('live.disconnected')}>
          {live ? t('live.connected') : t('live.disconnected')}
        </span>
        <button type="button" class="ghost" onClick={() => props.onWall(!props.wall)} aria-pressed={props.wall}>
          {props.wall ? t('header.laptop') : t('header.wall')}
        </button>
        <LanguageSwitch lang={props.lang} onLang={props.onLang} />
        <span class="user" data-role={user.role}>{user.displayName || user.username} · {tCode('role', user.role)}</span>
        <button type="button" class="ghost" onClick={signOut} data-action="sign-out">{t('header.signOut')}</button>
      </div>
    </header>
  );
}
