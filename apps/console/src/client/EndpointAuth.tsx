import type { Endpoint, UpdateEndpointBody } from './api';
import { useI18n } from './core';
import { formatTime } from './format';

export type AuthType = 'none' | 'basic' | 'oauth2_client_credentials' | 'mtls';
export const authTypes: readonly AuthType[] = ['none', 'basic', 'oauth2_client_credentials', 'mtls'];

type EndpointAuthView = NonNullable<Endpoint['auth']>;
type AuthBody = NonNullable<UpdateEndpointBody['auth']>;

/** The auth part of the endpoint form. Secrets are typed, sent once, and never shown back. */
export interface AuthForm {
  type: AuthType;
  username: string;
  password: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope: string;
  audience: string;
  certificate: string;
  privateKey: string;
}

export const emptyAuthForm: AuthForm = { type: 'none', username: '', password: '', tokenUrl: '', clientId: '', clientSecret: '', scope: '', audience: '', certificate: '', privateKey: '' };

/** The form of a saved auth: its visible parts filled in, every secret empty. */
export function authFormOf(auth: Endpoint['auth']): AuthForm {
  if (!auth) return emptyAuthForm;
  switch (auth.type) {
    case 'basic':
      return { ...emptyAuthForm, type: 'basic', username: auth.username };
    case 'oauth2_client_credentials':
      return { ...emptyAuthForm, type: auth.type, tokenUrl: auth.token_url, clientId: auth.client_id, scope: auth.scope ?? '', audience: auth.audience ?? '' };
    case 'mtls':
      return { ...emptyAuthForm, type: 'mtls' };
  }
}

const orNull = (text: string): string | null => (text.trim() === '' ? null : text.trim());

/**
 * What to send as `auth`: undefined to keep the saved one (nothing typed on
 * edit), null to remove it, or the whole new auth. The API replaces an auth
 * whole, so changing a saved one means typing its secret again: 'secret_needed'.
 */
export function authBody(form: AuthForm, saved: Endpoint['auth'] | undefined): AuthBody | null | undefined | 'secret_needed' {
  if (form.type === 'none') return saved ? null : undefined;
  const unchanged = saved !== undefined && saved !== null && saved.type === form.type && sameVisibleParts(authFormOf(saved), form);
  const typedSecret = form.type === 'basic' ? form.password !== '' : form.type === 'mtls' ? form.certificate !== '' || form.privateKey !== '' : form.clientSecret !== '';
  if (!typedSecret) return unchanged ? undefined : 'secret_needed';
  switch (form.type) {
    case 'basic':
      return { type: 'basic', username: form.username.trim(), password: form.password };
    case 'oauth2_client_credentials':
      return { type: 'oauth2_client_credentials', token_url: form.tokenUrl.trim(), client_id: form.clientId.trim(), client_secret: form.clientSecret, scope: orNull(form.scope), audience: orNull(form.audience) };
    case 'mtls':
      return { type: 'mtls', certificate: form.certificate.trim(), private_key: form.privateKey.trim() };
  }
}

function sameVisibleParts(a: AuthForm, b: AuthForm): boolean {
  return a.username === b.username.trim() && a.tokenUrl === b.tokenUrl.trim() && a.clientId === b.clientId.trim() && a.scope === b.scope.trim() && a.audience === b.audience.trim();
}

/** The "Authentication" fieldset of the endpoint form. */
export function AuthEditor({ form, saved, onChange }: { form: AuthForm; saved: Endpoint['auth'] | undefined; onChange(next: AuthForm): void }) {
  const { t } = useI18n();
  const set = (part: Partial<AuthForm>) => onChange({ ...form, ...part });
  const keepHint = saved && saved.type === form.type ? t('auth.keepSecret') : null;
  const text = (id: string, label: string, value: string, change: (value: string) => void, options: { secret?: boolean; hint?: string | null; type?: string; placeholder?: string } = {}) => (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type={options.secret ? 'password' : (options.type ?? 'text')}
        autoComplete="off"
        spellCheck={false}
        value={value}
        placeholder={options.placeholder}
        onChange={(e) => change(e.target.value)}
        {...(options.hint ? { 'aria-describedby': `${id}-hint` } : {})}
      />
      {options.hint ? (
        <p id={`${id}-hint`} className="hint">
          {options.hint}
        </p>
      ) : null}
    </div>
  );
  const pem = (id: string, label: string, value: string, change: (value: string) => void, hint: string) => (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea id={id} rows={5} autoComplete="off" spellCheck={false} className="mono" value={value} placeholder="-----BEGIN …-----" onChange={(e) => change(e.target.value)} aria-describedby={`${id}-hint`} />
      <p id={`${id}-hint`} className="hint">
        {hint}
      </p>
    </div>
  );

  return (
    <fieldset className="auth">
      <legend>{t('auth.title')}</legend>
      <p className="hint">{t('auth.hint')}</p>
      {authTypes.map((type) => (
        <div key={type} className="field field-inline">
          <input id={`auth-${type}`} type="radio" name="auth-type" checked={form.type === type} onChange={() => set({ type })} />
          <label htmlFor={`auth-${type}`}>{t(`auth.type.${type}`)}</label>
        </div>
      ))}
      {form.type === 'basic' ? (
        <>
          {text('auth-username', t('auth.username'), form.username, (username) => set({ username }))}
          {text('auth-password', t('auth.password'), form.password, (password) => set({ password }), {
            secret: true,
            hint: keepHint && saved?.type === 'basic' ? `${keepHint} ${maskedLast4(saved.password_last4)}` : t('auth.secretStored'),
          })}
        </>
      ) : null}
      {form.type === 'oauth2_client_credentials' ? (
        <>
          {text('auth-token-url', t('auth.tokenUrl'), form.tokenUrl, (tokenUrl) => set({ tokenUrl }), { type: 'url', hint: t('auth.tokenUrl.hint'), placeholder: 'https://auth.escola.example/oauth/token' })}
          {text('auth-client-id', t('auth.clientId'), form.clientId, (clientId) => set({ clientId }))}
          {text('auth-client-secret', t('auth.clientSecret'), form.clientSecret, (clientSecret) => set({ clientSecret }), {
            secret: true,
            hint: keepHint && saved?.type === 'oauth2_client_credentials' ? `${keepHint} ${maskedLast4(saved.client_secret_last4)}` : t('auth.secretStored'),
          })}
          {text('auth-scope', t('auth.scope'), form.scope, (scope) => set({ scope }), { hint: t('auth.optional') })}
          {text('auth-audience', t('auth.audience'), form.audience, (audience) => set({ audience }), { hint: t('auth.optional') })}
        </>
      ) : null}
      {form.type === 'mtls' ? (
        <>
          {pem(
            'auth-certificate',
            t('auth.certificate'),
            form.certificate,
            (certificate) => set({ certificate }),
            saved?.type === 'mtls' ? `${t('auth.certificate.current', { subject: saved.certificate.subject })} ${t('auth.keepSecret')}` : t('auth.certificate.hint'),
          )}
          {pem('auth-private-key', t('auth.privateKey'), form.privateKey, (privateKey) => set({ privateKey }), t('auth.privateKey.hint'))}
        </>
      ) : null}
    </fieldset>
  );
}

const maskedLast4 = (last4: string | null): string => (last4 === null ? '••••••••' : `••••••••${last4}`);

/** The saved auth on the endpoint page: what it is, never a secret. */
export function AuthFacts({ auth }: { auth: EndpointAuthView | null | undefined }) {
  const { t, language } = useI18n();
  if (!auth) return <dd>{t('auth.type.none')}</dd>;
  switch (auth.type) {
    case 'basic':
      return (
        <dd>
          {t('auth.type.basic')}: <code>{auth.username}</code> · <code>{maskedLast4(auth.password_last4)}</code>
        </dd>
      );
    case 'oauth2_client_credentials':
      return (
        <dd>
          {t('auth.type.oauth2_client_credentials')}: <span className="break">{auth.token_url}</span> · <code>{auth.client_id}</code> · <code>{maskedLast4(auth.client_secret_last4)}</code>
          {auth.scope ? ` · ${t('auth.scope')}: ${auth.scope}` : ''}
          {auth.audience ? ` · ${t('auth.audience')}: ${auth.audience}` : ''}
        </dd>
      );
    case 'mtls':
      return (
        <dd>
          {t('auth.type.mtls')}: <code>{auth.certificate.subject}</code> · {t('auth.certificate.issuer', { issuer: auth.certificate.issuer })} ·{' '}
          {t('auth.certificate.validTo', { time: formatTime(auth.certificate.valid_to, language) })}
        </dd>
      );
  }
}
