import type { WebhookSender } from './webhook-sender';

/** An endpoint's OAuth 2.0 client credentials (RFC 6749 §4.4); the secret in the clear, never logged. */
export interface ClientCredentials {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope: string | null;
  audience: string | null;
}

export type TokenResult = { kind: 'token'; accessToken: string } | { kind: 'error'; message: string; elapsedMs: number };

export interface ClientCredentialsTokensOptions {
  /** A token is fetched again this long before it expires, so none is sent just as it runs out. Default 30 000. */
  refreshMarginMs?: number;
  /** How long a token whose answer gives no `expires_in` is used. Default 300 000. */
  defaultLifetimeMs?: number;
  /** The deadline of a token request, if shorter than the sender's own. */
  requestTimeoutMs?: number;
  /** Milliseconds since the epoch; tests move it. Default `Date.now`. */
  now?: () => number;
}

interface CachedToken {
  credentials: ClientCredentials;
  accessToken: string;
  expiresAt: number;
}

const sameCredentials = (a: ClientCredentials, b: ClientCredentials): boolean =>
  a.tokenUrl === b.tokenUrl && a.clientId === b.clientId && a.clientSecret === b.clientSecret && a.scope === b.scope && a.audience === b.audience;

/** RFC 6749 §2.3.1: the client id and secret are form-encoded before they are joined for HTTP Basic. */
const formEncoded = (value: string): string => encodeURIComponent(value).replace(/%20/g, '+');

/**
 * Bearer tokens of endpoints with OAuth 2.0 client credentials: fetched from
 * the endpoint's token URL through the webhook sender (so under the same
 * SSRF policy and timeouts as the webhooks themselves), cached per endpoint
 * until shortly before they expire, and fetched once however many webhooks
 * wait for one. New credentials (a rotation) are never answered with a token
 * of the old ones. A failure is returned, never thrown, and not cached: the
 * next attempt asks again.
 */
export class ClientCredentialsTokens {
  private readonly cached = new Map<string, CachedToken>();
  private readonly inFlight = new Map<string, { credentials: ClientCredentials; result: Promise<TokenResult> }>();
  private readonly refreshMarginMs: number;
  private readonly defaultLifetimeMs: number;
  private readonly now: () => number;
  private readonly requestTimeoutMs: number | undefined;

  constructor(
    private readonly sender: Pick<WebhookSender, 'send'>,
    options: ClientCredentialsTokensOptions = {},
  ) {
    this.refreshMarginMs = options.refreshMarginMs ?? 30_000;
    this.defaultLifetimeMs = options.defaultLifetimeMs ?? 300_000;
    this.now = options.now ?? Date.now;
    this.requestTimeoutMs = options.requestTimeoutMs;
  }

  /** A token for `endpointId`'s credentials: the cached one while it is valid, else a new one. */
  token(endpointId: string, credentials: ClientCredentials): Promise<TokenResult> {
    const cached = this.cached.get(endpointId);
    if (cached && sameCredentials(cached.credentials, credentials) && this.now() < cached.expiresAt) return Promise.resolve({ kind: 'token', accessToken: cached.accessToken });
    const pending = this.inFlight.get(endpointId);
    if (pending && sameCredentials(pending.credentials, credentials)) return pending.result;
    const result = this.fetch(endpointId, credentials).finally(() => {
      if (this.inFlight.get(endpointId)?.result === result) this.inFlight.delete(endpointId);
    });
    this.inFlight.set(endpointId, { credentials, result });
    return result;
  }

  /** The endpoint refused `accessToken` (401): forget it, so the next attempt fetches a new one. */
  reject(endpointId: string, accessToken: string): void {
    if (this.cached.get(endpointId)?.accessToken === accessToken) this.cached.delete(endpointId);
  }

  /** Forgets the token of an endpoint that no longer uses OAuth, or is gone. */
  forget(endpointId: string): void {
    this.cached.delete(endpointId);
  }

  private async fetch(endpointId: string, credentials: ClientCredentials): Promise<TokenResult> {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (credentials.scope !== null) form.set('scope', credentials.scope);
    if (credentials.audience !== null) form.set('audience', credentials.audience);
    const basic = Buffer.from(`${formEncoded(credentials.clientId)}:${formEncoded(credentials.clientSecret)}`).toString('base64');
    const requestedAt = this.now();
    const response = await this.sender.send({
      url: credentials.tokenUrl,
      endpointId: `${endpointId} token`,
      headers: { authorization: `Basic ${basic}`, accept: 'application/json' },
      body: form.toString(),
      contentType: 'application/x-www-form-urlencoded',
      maxResponseBytes: 16_384,
      ...(this.requestTimeoutMs === undefined ? {} : { timeoutMs: this.requestTimeoutMs }),
    });
    if (response.kind === 'error') return { kind: 'error', message: `The token endpoint could not be reached (${response.errorClass}): ${response.message}`, elapsedMs: response.elapsedMs };
    const fail = (what: string): TokenResult => ({ kind: 'error', message: `The token endpoint ${what}.`, elapsedMs: response.elapsedMs });
    let answer: { access_token?: unknown; token_type?: unknown; expires_in?: unknown; error?: unknown } | undefined;
    try {
      answer = JSON.parse(response.bodySnippet) as typeof answer;
    } catch {
      answer = undefined;
    }
    // RFC 6749 §5.2: the `error` code says why (invalid_client, invalid_scope…); the rest of the body is not repeated.
    const errorCode = typeof answer?.error === 'string' && /^[\x20-\x7e]{1,64}$/.test(answer.error) ? ` (${answer.error})` : '';
    if (response.status < 200 || response.status > 299) return fail(`answered ${response.status}${errorCode}`);
    if (answer === undefined || typeof answer !== 'object' || answer === null) return fail(`answered ${response.status} without a JSON body${response.truncated ? ' (too large)' : ''}`);
    if (typeof answer.access_token !== 'string' || answer.access_token === '') return fail('answered without an access_token');
    if (typeof answer.token_type !== 'string' || answer.token_type.toLowerCase() !== 'bearer')
      return fail(`answered a token of type ${typeof answer.token_type === 'string' ? answer.token_type.slice(0, 20) : 'none'}, not Bearer`);
    const lifetimeMs = typeof answer.expires_in === 'number' && answer.expires_in > 0 ? answer.expires_in * 1_000 : this.defaultLifetimeMs;
    // A token shorter-lived than the margin is still used once, for the request that asked for it.
    this.cached.set(endpointId, { credentials, accessToken: answer.access_token, expiresAt: requestedAt + Math.max(0, lifetimeMs - this.refreshMarginMs) });
    return { kind: 'token', accessToken: answer.access_token };
  }
}
