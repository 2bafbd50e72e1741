import { createContext, useCallback, useContext, useEffect, useState, type AnchorHTMLAttributes, type ReactNode } from 'react';
import { ApiError, type Me } from './api';
import { isLanguage, translate, type Language, type MessageKey } from './i18n';
import { problemText } from './problem-text';

// ---- language -------------------------------------------------------------

const languageStorageKey = 'gancho.console.language';

/** ?lang= or #…lang= (the embedding dashboard chooses), else the remembered choice, else Portuguese. */
export function initialLanguage(): Language {
  const fromUrl = new URLSearchParams(window.location.search).get('lang') ?? new URLSearchParams(window.location.hash.slice(1)).get('lang');
  if (isLanguage(fromUrl)) return fromUrl;
  try {
    const stored = window.localStorage.getItem(languageStorageKey);
    if (isLanguage(stored)) return stored;
  } catch {
    // storage may be blocked in a third-party iframe
  }
  return 'pt-BR';
}

interface LanguageContextValue {
  language: Language;
  setLanguage(language: Language): void;
  t(key: MessageKey, vars?: Record<string, string | number>): string;
}

const LanguageContext = createContext<LanguageContextValue | null>(null);

export function LanguageProvider({ children }: { children: ReactNode }) {
  const [language, setLanguageState] = useState<Language>(initialLanguage);
  useEffect(() => {
    document.documentElement.lang = language;
    document.title = translate(language, 'app.title');
  }, [language]);
  const setLanguage = useCallback((next: Language) => {
    setLanguageState(next);
    try {
      // The language is no secret; keys never go here.
      window.localStorage.setItem(languageStorageKey, next);
    } catch {
      // ignore
    }
  }, []);
  const t = useCallback((key: MessageKey, vars?: Record<string, string | number>) => translate(language, key, vars), [language]);
  return <LanguageContext.Provider value={{ language, setLanguage, t }}>{children}</LanguageContext.Provider>;
}

export function useI18n(): LanguageContextValue {
  const value = useContext(LanguageContext);
  if (!value) throw new Error('useI18n outside LanguageProvider');
  return value;
}

export function useErrorText(): (error: unknown) => string {
  const { t, language } = useI18n();
  return (error: unknown) => {
    if (error instanceof ApiError) return problemText(error.problem, language);
    return t('error.generic', { detail: error instanceof Error ? error.message : String(error) });
  };
}

// ---- session --------------------------------------------------------------

export interface Session {
  me: Me;
  portal: boolean;
  signOut(): void;
}

const SessionContext = createContext<Session | null>(null);
export const SessionProvider = SessionContext.Provider;

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a session');
  return session;
}

// ---- routing (History API; the server answers every page path with the app) ----

const listeners = new Set<() => void>();

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  listeners.forEach((listener) => listener());
}

export function useLocation(): { path: string; search: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const update = () => setTick((n) => n + 1);
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return { path: window.location.pathname, search: new URLSearchParams(window.location.search) };
}

export function Link({ to, children, ...rest }: { to: string; children: ReactNode } & Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'>) {
  return (
    <a
      {...rest}
      href={to}
      onClick={(event) => {
        rest.onClick?.(event);
        if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

// ---- data loading ---------------------------------------------------------

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload(): void;
}

/** Runs `load` when `deps` change (and on reload); keeps the last data while reloading. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => current && setState({ data, error: undefined, loading: false }),
      (error: unknown) => current && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => {
      current = false;
    };
    // The caller lists what `load` depends on.
  }, [...deps, tick]);
  return { ...state, reload: useCallback(() => setTick((n) => n + 1), []) };
}

/** Calls `tick` every `ms` while `active`, and not while the tab is hidden. */
export function useInterval(tick: () => void, ms: number, active: boolean): void {
  useEffect(() => {
    if (!active) return;
    const id = window.setInterval(() => {
      if (document.visibilityState === 'visible') tick();
    }, ms);
    return () => window.clearInterval(id);
  }, [tick, ms, active]);
}
