/**
 * The app shell: finds out whether a session exists (GET /auth/me), shows the sign-in page or the
 * signed-in app, and re-renders everything when the language changes.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, setCsrfToken, setUnauthorizedHandler } from './api.ts';
import { lang, setLang, type Lang } from './i18n.ts';
import { setTimeZone } from './format.ts';
import { connectLive, disconnectLive } from './live.ts';
import { prefetchNetworkMap } from './hooks.ts';
import { Session, type SessionContext } from './session.ts';
import { useRoute, ROUTES } from './router.ts';
import { Header } from './components/Header.tsx';
import { AnalysisStatus } from './components/AnalysisStatus.tsx';
import { SignIn } from './views/SignIn.tsx';
import { ControlRoom } from './views/ControlRoom.tsx';
import { LazyView } from './components/LazyView.tsx';
import { t } from './i18n.ts';
import type { AuthInfo, Session as SessionData, Site } from '../../contract/index.ts';

type Phase = { kind: 'loading' } | { kind: 'signed-out'; info?: AuthInfo } | { kind: 'signed-in'; session: SessionData; site: Site };

export function App() {
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });
  const [language, setLanguage] = useState<Lang>(lang());
  const [wall, setWall] = useState(() => new URLSearchParams(location.search).has('wall'));

  const signedOut = async () => {
    disconnectLive();
    setCsrfToken('');
    const info = await api.get<AuthInfo>('/auth/info').catch(() => undefined);
    if (info) setTimeZone(info.site.timezone);
    setPhase({ kind: 'signed-out', info });
  };

  const signedIn = async (session: SessionData, knownSite?: Site) => {
    setCsrfToken(session.csrfToken);
    const site = knownSite ?? await api.get<Site>('/site');
    setTimeZone(site.timezone);
    connectLive();
    setPhase({ kind: 'signed-in', session, site });
  };

  useEffect(() => {
    setUnauthorizedHandler(() => { void signedOut(); });
    // first load: ask for the session, the site and the map at once (one round trip, not three)
    const site = api.get<Site>('/site', undefined, { quiet401: true }).catch(() => undefined);
    const me = api.get<SessionData>('/auth/me', undefined, { quiet401: true });
    prefetchNetworkMap();
    me.then(async (s) => signedIn(s, await site), () => signedOut());
  }, []);

  const switchLang = (l: Lang) => { setLang(l); setLanguage(l); };

  if (phase.kind === 'loading') return <div class="splash">{t('app.loading')}</div>;
  if (phase.kind === 'signed-out') {
    return <SignIn key={language} info={phase.info} lang={language} onLang={switchLang} onSignedIn={(s) => void signedIn(s)} />;
  }
  const ctx: SessionContext = {
    user: phase.session.user, site: phase.site,
    signOut: () => { void api.post('/auth/logout').finally(() => void signedOut()); },
  };
  return (
    <Session.Provider value={ctx}>
      <SignedInApp key={language} lang={language} onLang={switchLang} wall={wall} onWall={setWall} />
    </Session.Provider>
  );
}

function SignedInApp(props: { lang: Lang; onLang: (l: Lang) => void; wall: boolean; onWall: (w: boolean) => void }) {
  const route = useRoute();
  const info = ROUTES.find((r) => r.id === route)!;
  return (
    <div class={`shell ${props.wall ? 'wall' : ''}`} data-view={route}>
      <Header route={route} lang={props.lang} onLang={props.onLang} wall={props.wall} onWall={props.onWall} />
      <AnalysisStatus />
      <main class="view" aria-label={t(info.label)}>
        {route === 'control' ? <ControlRoom wall={props.wall} /> : <LazyView route={route} />}
      </main>
    </div>
  );
}
