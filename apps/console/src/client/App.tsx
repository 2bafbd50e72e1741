import { useCallback, useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { api, ApiError, setCredential, type Me, type Problem } from './api';
import { Link, SessionProvider, navigate, useErrorText, useI18n, useLocation, useSession, type Session } from './core';
import { EndpointDetailPage } from './EndpointDetail';
import { EndpointFormPage } from './EndpointForm';
import { EndpointsPage } from './Endpoints';
import { EventsPage } from './Events';
import { languages, type Language, type MessageKey } from './i18n';
import { MessageDetailPage } from './MessageDetail';
import { MessagesPage } from './Messages';
import { formatTime } from './format';

/** The portal token from `#portal=…`, removed from the address bar (and history) at once. */
function takePortalToken(): string | null {
  const params = new URLSearchParams(window.location.hash.slice(1));
  const token = params.get('portal');
  if (token === null) return null;
  params.delete('portal');
  const rest = params.toString();
  window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}${rest ? `#${rest}` : ''}`);
  return token;
}

type Phase = { kind: 'signed-out'; notice?: MessageKey } | { kind: 'checking-portal' } | { kind: 'portal-refused'; message: MessageKey } | { kind: 'signed-in'; me: Me; portal: boolean };

export function App() {
  const portalToken = useRef<string | null | undefined>(undefined);
  if (portalToken.current === undefined) portalToken.current = takePortalToken();
  const [phase, setPhase] = useState<Phase>(portalToken.current ? { kind: 'checking-portal' } : { kind: 'signed-out' });

  const refused = useCallback(
    (portal: boolean) => (problem: Problem) => {
      setCredential(null);
      if (portal) setPhase({ kind: 'portal-refused', message: problem.reason === 'expired' ? 'signIn.portalExpired' : 'signIn.portalEnded' });
      else setPhase({ kind: 'signed-out', notice: 'error.sessionExpired' });
    },
    [],
  );

  const begin = useCallback(
    async (token: string, portal: boolean): Promise<void> => {
      const me = await api<Me>('subscriptions', '/me', { token });
      setCredential(token, refused(portal));
      setPhase({ kind: 'signed-in', me, portal });
    },
    [refused],
  );

  useEffect(() => {
    const token = portalToken.current;
    if (!token) return;
    begin(token, true).catch((error: unknown) => {
      const expired = error instanceof ApiError && error.problem.reason === 'expired';
      setPhase({ kind: 'portal-refused', message: expired ? 'signIn.portalExpired' : 'signIn.portalInvalid' });
    });
  }, [begin]);

  if (phase.kind === 'checking-portal')
    return (
      <Centered>
        <PortalChecking />
      </Centered>
    );
  if (phase.kind === 'portal-refused')
    return (
      <Centered>
        <PortalRefused message={phase.message} />
      </Centered>
    );
  if (phase.kind === 'signed-out')
    return (
      <Centered>
        <SignIn notice={phase.notice} onSignIn={(key) => begin(key, false)} />
      </Centered>
    );

  const session: Session = {
    me: phase.me,
    portal: phase.portal,
    signOut: () => {
      setCredential(null);
      setPhase({ kind: 'signed-out' });
      navigate('/', { replace: true });
    },
  };
  return (
    <SessionProvider value={session}>
      <Shell />
    </SessionProvider>
  );
}

function LanguageSelect() {
  const { language, setLanguage, t } = useI18n();
  return (
    <label className="language">
      <span>{t('app.language')}</span>
      <select value={language} onChange={(event) => setLanguage(event.target.value as Language)}>
        {languages.map((l) => (
          <option key={l} value={l}>
            {l === 'pt-BR' ? 'Português (Brasil)' : 'English'}
          </option>
        ))}
      </select>
    </label>
  );
}

function Centered({ children }: { children: ReactNode }) {
  const { t } = useI18n();
  return (
    <div className="centered">
      <header className="centered-header">
        <span className="brand" aria-hidden="true">
          Gancho
        </span>
        <LanguageSelect />
      </header>
      <main id="main" className="card narrow" aria-label={t('app.title')}>
        {children}
      </main>
    </div>
  );
}

function PortalChecking() {
  const { t } = useI18n();
  return (
    <p role="status" className="muted">
      {t('signIn.portalChecking')}
    </p>
  );
}

function PortalRefused({ message }: { message: MessageKey }) {
  const { t } = useI18n();
  return (
    <>
      <h1>{t('app.title')}</h1>
      <div className="notice notice-error" role="alert">
        {t(message)}
      </div>
    </>
  );
}

function SignIn({ onSignIn, notice }: { onSignIn(key: string): Promise<void>; notice?: MessageKey }) {
  const { t } = useI18n();
  const errorText = useErrorText();
  const [key, setKey] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) return setProblem(t('signIn.empty'));
    if (!trimmed.startsWith('gk_live_')) return setProblem(t('signIn.shape'));
    setBusy(true);
    setProblem(null);
    try {
      await onSignIn(trimmed);
    } catch (error) {
      setProblem(error instanceof ApiError && error.problem.status === 401 ? t('signIn.invalid') : errorText(error));
      setBusy(false);
      input.current?.focus();
    }
  };

  return (
    <form onSubmit={submit} noValidate>
      <h1>{t('signIn.title')}</h1>
      <p>{t('signIn.intro')}</p>
      {notice && !problem ? (
        <div className="notice notice-error" role="alert">
          {t(notice)}
        </div>
      ) : null}
      <div className="field">
        <label htmlFor="api-key">{t('signIn.key')}</label>
        <input
          id="api-key"
          ref={input}
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={key}
          onChange={(event) => setKey(event.target.value)}
          aria-invalid={problem ? true : undefined}
          aria-describedby={problem ? 'api-key-error' : undefined}
        />
        {problem ? (
          <p id="api-key-error" className="field-error" role="alert">
            {problem}
          </p>
        ) : null}
      </div>
      <button type="submit" className="button-primary" disabled={busy}>
        {busy ? t('signIn.checking') : t('signIn.submit')}
      </button>
    </form>
  );
}

function Shell() {
  const { t, language } = useI18n();
  const session = useSession();
  const { path } = useLocation();
  const main = useRef<HTMLElement>(null);
  // After a navigation, focus moves to the new page's content (screen readers announce it).
  useEffect(() => {
    main.current?.focus();
  }, [path]);
  const section = path.startsWith('/messages') ? 'messages' : path.startsWith('/events') ? 'events' : 'endpoints';
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        {t('app.skip')}
      </a>
      <header className="topbar">
        <span className="brand">Gancho</span>
        <span className="partner" title={session.me.partner.id}>
          {session.me.partner.name}
        </span>
        <nav aria-label={t('app.nav')}>
          <Link to="/endpoints" aria-current={section === 'endpoints' ? 'page' : undefined}>
            {t('app.nav.endpoints')}
          </Link>
          <Link to="/messages" aria-current={section === 'messages' ? 'page' : undefined}>
            {t('app.nav.messages')}
          </Link>
          <Link to="/events" aria-current={section === 'events' ? 'page' : undefined}>
            {t('app.nav.events')}
          </Link>
        </nav>
        <span className="spacer" />
        {session.portal && session.me.credential.expires_at ? <span className="muted small">{t('app.portal', { time: formatTime(session.me.credential.expires_at, language) })}</span> : null}
        <LanguageSelect />
        {session.portal ? null : (
          <button type="button" onClick={session.signOut}>
            {t('app.signOut')}
          </button>
        )}
      </header>
      <main id="main" ref={main} tabIndex={-1} className="content">
        <Routes path={path} />
      </main>
    </div>
  );
}

function Routes({ path }: { path: string }) {
  const { t } = useI18n();
  let match: RegExpExecArray | null;
  if (path === '/' || path === '/endpoints') return <EndpointsPage />;
  if (path === '/endpoints/new') return <EndpointFormPage />;
  if ((match = /^\/endpoints\/([^/]+)\/edit$/.exec(path))) return <EndpointFormPage endpointId={match[1]} />;
  if ((match = /^\/endpoints\/([^/]+)$/.exec(path))) return <EndpointDetailPage endpointId={match[1] as string} />;
  if (path === '/messages') return <MessagesPage />;
  if (path === '/events') return <EventsPage />;
  if ((match = /^\/messages\/([^/]+)$/.exec(path))) return <MessageDetailPage messageId={match[1] as string} />;
  return <p>{t('app.notFound')}</p>;
}
