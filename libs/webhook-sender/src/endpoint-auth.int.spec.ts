import { generateTestCertificates, type TestCertificates } from '@gancho/testing';
import { ClientCredentialsTokens, type ClientCredentials } from './client-credentials-tokens';
import { startReceiver, type Receiver, type ReceiverHandler, type ReceiverOptions } from './testing/receiver';
import { WebhookSender, type SendResult, type WebhookSenderOptions } from './webhook-sender';

/*
 * Scenarios, against real servers on loopback:
 * - mutual TLS: a receiver that requires a client certificate of its CA gets it from the sender, refuses a
 *   request without one or with another CA's; a new certificate for the same endpoint is used from the next
 *   request on (connections of its own, no TLS session resumed across certificates);
 * - OAuth 2.0 client credentials: a local token endpoint checks the client's Basic credentials; the token is
 *   fetched once for many concurrent requests, reused until shortly before it expires, fetched again after,
 *   and again after the endpoint refused it or the credentials changed;
 * - a failing token endpoint (500, invalid_client, unreachable, not JSON, no token) is a TokenResult error
 *   naming why, and a token URL on a private address is refused by the same SSRF guard as a webhook URL.
 */

const receivers: Receiver[] = [];
const senders: WebhookSender[] = [];
let certificates: TestCertificates;

beforeAll(() => {
  certificates = generateTestCertificates();
});

async function receiver(handler?: ReceiverHandler, options?: ReceiverOptions): Promise<Receiver> {
  const started = await startReceiver(handler, options);
  receivers.push(started);
  return started;
}

function senderFor(targets: Receiver[], options: Partial<WebhookSenderOptions> = {}): WebhookSender {
  const created = new WebhookSender({ allowPrivateNetworks: false, allowHttp: true, timeoutMs: 2_000, allowedHosts: targets.map((t) => t.authority), ...options });
  senders.push(created);
  return created;
}

afterEach(async () => {
  await Promise.all(senders.splice(0).map((s) => s.close()));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

const statusOf = (result: SendResult): number | string => (result.kind === 'response' ? result.status : result.errorClass);

describe('mutual TLS', () => {
  const mtlsReceiver = () => receiver(undefined, { tls: { ...certificates.valid, clientCa: certificates.ca } });

  it('presents the endpoint’s client certificate, which a receiver requiring one accepts', async () => {
    const target = await mtlsReceiver();
    const sender = senderFor([target], { ca: certificates.ca });
    const result = await sender.send({ url: target.url('/hooks'), endpointId: 'ep_1', headers: {}, body: '{}', clientCertificate: { id: 'c1', ...certificates.client } });
    expect(statusOf(result)).toBe(200);
    expect(target.requests.map((r) => r.clientCertificateCn)).toEqual(['gancho-client']);
  });

  it('is refused by that receiver without a certificate, or with one of another CA', async () => {
    const target = await mtlsReceiver();
    const sender = senderFor([target], { ca: certificates.ca });
    const without = await sender.send({ url: target.url('/hooks'), endpointId: 'ep_1', headers: {}, body: '{}' });
    const foreign = await sender.send({ url: target.url('/hooks'), endpointId: 'ep_2', headers: {}, body: '{}', clientCertificate: { id: 'c2', ...certificates.foreignClient } });
    // TLS 1.3 reports the refused client certificate after the handshake, as an alert on the first read.
    expect(['tls', 'reset']).toContain(statusOf(without));
    expect(['tls', 'reset']).toContain(statusOf(foreign));
    expect(target.requests).toHaveLength(0);
  });

  it('uses a rotated certificate from the next request on, on connections of its own', async () => {
    const target = await mtlsReceiver();
    const sender = senderFor([target], { ca: certificates.ca });
    const send = (id: string, pair: { cert: string; key: string }) => sender.send({ url: target.url('/hooks'), endpointId: 'ep_1', headers: {}, body: '{}', clientCertificate: { id, ...pair } });
    expect(statusOf(await send('old', certificates.client))).toBe(200);
    // The "new" certificate is another CA's: were the old connection (or its TLS session) reused, it would pass.
    expect(['tls', 'reset']).toContain(statusOf(await send('new', certificates.foreignClient)));
    expect(target.requests).toHaveLength(1);
  });
});

describe('OAuth 2.0 client credentials', () => {
  const credentialsFor = (tokenServer: Receiver, overrides: Partial<ClientCredentials> = {}): ClientCredentials => ({
    tokenUrl: tokenServer.url('/oauth/token'),
    clientId: 'gancho client',
    clientSecret: 's3cret:with/odd+chars',
    scope: 'webhooks:write',
    audience: 'https://api.escola.example',
    ...overrides,
  });

  /** A token endpoint that checks the client's Basic credentials (RFC 6749 §2.3.1) and issues tok-1, tok-2… */
  async function tokenEndpoint(expiresIn: number | null = 3600) {
    let issued = 0;
    const server = await receiver((req, res, body) => {
      const expected = `Basic ${Buffer.from(`${encodeURIComponent('gancho client').replace(/%20/g, '+')}:${encodeURIComponent('s3cret:with/odd+chars')}`).toString('base64')}`;
      const form = new URLSearchParams(body.toString());
      if (req.headers.authorization !== expected || form.get('grant_type') !== 'client_credentials') {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client","error_description":"echoes nothing"}');
        return;
      }
      issued += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: `tok-${issued}`, token_type: 'Bearer', ...(expiresIn === null ? {} : { expires_in: expiresIn }) }));
    });
    return { server, issued: () => issued };
  }

  it('fetches one token for many concurrent requests, with scope and audience, and reuses it until shortly before it expires', async () => {
    const { server, issued } = await tokenEndpoint(120);
    let now = 1_000_000;
    const tokens = new ClientCredentialsTokens(senderFor([server]), { now: () => now, refreshMarginMs: 30_000 });
    const credentials = credentialsFor(server);
    const first = await Promise.all(Array.from({ length: 10 }, () => tokens.token('ep_1', credentials)));
    expect(new Set(first.map((r) => (r.kind === 'token' ? r.accessToken : r.message)))).toEqual(new Set(['tok-1']));
    expect(issued()).toBe(1);
    const form = new URLSearchParams(server.requests[0]?.body.toString());
    expect(Object.fromEntries(form)).toEqual({ grant_type: 'client_credentials', scope: 'webhooks:write', audience: 'https://api.escola.example' });
    expect(server.requests[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded');

    now += 89_000; // 120 s token, refreshed 30 s early: still valid at +89 s
    expect(await tokens.token('ep_1', credentials)).toEqual({ kind: 'token', accessToken: 'tok-1' });
    now += 2_000;
    expect(await tokens.token('ep_1', credentials)).toEqual({ kind: 'token', accessToken: 'tok-2' });
    expect(issued()).toBe(2);
  });

  it('fetches a new token after the endpoint refused the cached one, and for new credentials', async () => {
    const { server } = await tokenEndpoint();
    const tokens = new ClientCredentialsTokens(senderFor([server]));
    const credentials = credentialsFor(server);
    expect(await tokens.token('ep_1', credentials)).toEqual({ kind: 'token', accessToken: 'tok-1' });
    tokens.reject('ep_1', 'tok-1');
    expect(await tokens.token('ep_1', credentials)).toEqual({ kind: 'token', accessToken: 'tok-2' });
    expect(await tokens.token('ep_1', { ...credentials, scope: 'other' })).toEqual({ kind: 'token', accessToken: 'tok-3' });
    // Per endpoint: another endpoint with the same credentials has its own token.
    expect(await tokens.token('ep_2', credentials)).toEqual({ kind: 'token', accessToken: 'tok-4' });
  });

  it('uses a token without expires_in for the default lifetime', async () => {
    const { server } = await tokenEndpoint(null);
    let now = 0;
    const tokens = new ClientCredentialsTokens(senderFor([server]), { now: () => now, defaultLifetimeMs: 60_000, refreshMarginMs: 10_000 });
    expect(await tokens.token('ep_1', credentialsFor(server))).toEqual({ kind: 'token', accessToken: 'tok-1' });
    now = 49_999;
    expect(await tokens.token('ep_1', credentialsFor(server))).toEqual({ kind: 'token', accessToken: 'tok-1' });
    now = 50_000;
    expect(await tokens.token('ep_1', credentialsFor(server))).toEqual({ kind: 'token', accessToken: 'tok-2' });
  });

  it('reports a failing token endpoint as an error naming why, and caches no failure', async () => {
    const { server } = await tokenEndpoint();
    const answers: [number, string][] = [
      [500, 'oops'],
      [200, 'not json'],
      [200, '{"token_type":"Bearer"}'],
      [200, '{"access_token":"x","token_type":"mac"}'],
    ];
    const broken = await receiver((_req, res) => {
      const [status, body] = answers.shift() ?? [200, '{"access_token":"late","token_type":"bearer"}'];
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
    const tokens = new ClientCredentialsTokens(senderFor([server, broken]));
    const messageOf = async (credentials: ClientCredentials) => {
      const result = await tokens.token('ep_1', credentials);
      return result.kind === 'error' ? result.message : `token ${result.accessToken}`;
    };
    expect(await messageOf(credentialsFor(server, { clientSecret: 'wrong' }))).toBe('The token endpoint answered 401 (invalid_client).');
    expect(await messageOf(credentialsFor(broken))).toBe('The token endpoint answered 500.');
    expect(await messageOf(credentialsFor(broken))).toBe('The token endpoint answered 200 without a JSON body.');
    expect(await messageOf(credentialsFor(broken))).toBe('The token endpoint answered without an access_token.');
    expect(await messageOf(credentialsFor(broken))).toBe('The token endpoint answered a token of type mac, not Bearer.');
    expect(await messageOf(credentialsFor(broken))).toBe('token late');
    const closed = await receiver();
    const closedUrl = closed.url('/oauth/token');
    await closed.close();
    const unreachable = new ClientCredentialsTokens(senderFor([closed]));
    const down = await unreachable.token('ep_1', credentialsFor(server, { tokenUrl: closedUrl }));
    expect(down).toMatchObject({ kind: 'error', message: expect.stringContaining('could not be reached (connect_refused)') });
  });

  it('asks no token of a token URL the SSRF guard refuses', async () => {
    const { server, issued } = await tokenEndpoint();
    // The sender may reach nothing private: the token endpoint on loopback is refused before any connection.
    const tokens = new ClientCredentialsTokens(senderFor([]));
    const result = await tokens.token('ep_1', credentialsFor(server));
    expect(result).toMatchObject({ kind: 'error', message: expect.stringContaining('(ssrf_blocked)') });
    expect(issued()).toBe(0);
    expect(server.connections).toBe(0);
  });
});
