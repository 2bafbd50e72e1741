import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import type { ConnectionOptions } from 'node:tls';
import type { AttemptErrorClass } from '@gancho/delivery-domain';
import { checkHostWithoutLookup, type ResolveHost } from '@gancho/url-safety';
import { classifySendError, DeadlineExceededError } from './classify-send-error';
import { EndpointPools } from './endpoint-pools';
import { allowListOf, buildGuardedConnector, isAllowListed, resolveWithSystemDns, type GuardedConnectorOptions } from './guarded-connector';

export interface WebhookSenderOptions {
  /** One deadline for connecting, the response headers and reading the kept part of the body. Default 15 000. */
  timeoutMs?: number;
  /** Bounds the DNS answer and each TCP+TLS connection attempt. Default 5 000. */
  connectTimeoutMs?: number;
  /** How much of the response body is kept; the rest is never read. Default 4 096. */
  maxResponseBytes?: number;
  /** Connect to loopback, private, link-local… addresses (never to cloud metadata). Tests and local development only. */
  allowPrivateNetworks: boolean;
  /** Accept http:// URLs; otherwise https only. */
  allowHttp: boolean;
  /** `host:port` (that port only) or `host` (any port) exempt from the address check, e.g. `127.0.0.1:43127` in tests. */
  allowedHosts?: readonly string[];
  /** Default `Gancho-Webhooks/1.0 (+https://gancho.dev)`. */
  userAgent?: string;
  /**
   * Keep-alive connections one endpoint may hold (requests that name no
   * endpoint share one pool per origin). Match it to the endpoint's
   * concurrency, so an endpoint never waits for its own sockets. Default 8.
   */
  connectionsPerEndpoint?: number;
  /** Open connections across all endpoints, idle ones included. Default 256. */
  maxConnections?: number;
  /** The connections of an endpoint that sent nothing for this long are closed and its pool forgotten. Default 60 000. */
  idlePoolTimeoutMs?: number;
  /** How long an idle connection is kept (a server's Keep-Alive hint may shorten it). Default 4 000. */
  keepAliveTimeoutMs?: number;
  /** Resolves a host name to all its addresses on every new connection. Default `dns.lookup` with `all: true`. */
  lookup?: ResolveHost;
  /** Extra trusted certificate authorities (tests, a private PKI). */
  ca?: ConnectionOptions['ca'];
}

export interface WebhookRequest {
  url: string;
  /**
   * Whose connections to use: each endpoint has a pool of its own, so
   * endpoints on one host never wait for each other's sockets. Without it the
   * request shares a pool with every other such request to its origin.
   */
  endpointId?: string;
  headers: Readonly<Record<string, string>>;
  /** Sent as is, as `application/json` (or `contentType`); ignored for a GET. */
  body: string;
  /** Default `application/json`; an API client may send a form (`application/x-www-form-urlencoded`). */
  contentType?: 'application/json' | 'application/x-www-form-urlencoded';
  /** Default POST. API clients built on the sender (ActiveCampaign) also read with GET. */
  method?: 'POST' | 'GET' | 'DELETE';
  /** How much of this response to keep, instead of the sender's `maxResponseBytes` (an API client reads whole JSON answers). */
  maxResponseBytes?: number;
  /**
   * Presented on every TLS connection (mutual TLS). `id` names it (its
   * fingerprint): a request with another certificate gets connections of its
   * own, so a rotated certificate is used from the next request on.
   */
  clientCertificate?: ClientCertificate;
  /** A shorter deadline for this request than the sender's `timeoutMs` (a longer one is cut to it). */
  timeoutMs?: number;
}

export interface ClientCertificate {
  id: string;
  /** PEM, with its chain. */
  cert: string;
  /** PEM (never logged). */
  key: string;
}

export type SendResult =
  | {
      kind: 'response';
      /** Any status, 3xx included: redirects are never followed. */
      status: number;
      /** Lower-case names; repeated headers joined with `, `. */
      headers: Record<string, string>;
      /** At most `maxResponseBytes` of the body as UTF-8 (a character cut by the limit is left out). */
      bodySnippet: string;
      /** The body was longer than `maxResponseBytes`; the rest was not read. */
      truncated: boolean;
      elapsedMs: number;
    }
  | { kind: 'error'; errorClass: AttemptErrorClass; message: string; elapsedMs: number };

export const defaultUserAgent = 'Gancho-Webhooks/1.0 (+https://gancho.dev)';

/** Headers the sender owns; a caller's value for them is dropped (undici also rejects several of them outright). */
const senderOwnedHeaders = new Set(['host', 'content-length', 'content-type', 'user-agent', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'expect', 'te', 'trailer', 'proxy-connection']);

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer, not ${value}.`);
  return value;
}

/**
 * POSTs signed webhooks to partner endpoints over keep-alive connection
 * pools, one per endpoint (see `EndpointPools`). Never throws for a network
 * failure: every outcome is a `SendResult`, classified for the retry policy.
 * Redirects are returned, not followed. A host refused as such (scheme, a
 * non-public IP literal, a private or metadata name) is refused before any
 * DNS query; every new connection goes through the SSRF guard on the
 * address it connects to (see `buildGuardedConnector`).
 */
export class WebhookSender {
  private readonly pools: EndpointPools;
  private readonly allowPrivateNetworks: boolean;
  private readonly allowedHosts: ReadonlySet<string>;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly schemes: readonly string[];
  private readonly userAgent: string;
  private readonly connectorOptions: GuardedConnectorOptions;

  constructor(options: WebhookSenderOptions) {
    this.timeoutMs = positiveInteger('timeoutMs', options.timeoutMs ?? 15_000);
    this.maxResponseBytes = positiveInteger('maxResponseBytes', options.maxResponseBytes ?? 4_096);
    this.schemes = options.allowHttp ? ['https:', 'http:'] : ['https:'];
    this.userAgent = options.userAgent ?? defaultUserAgent;
    this.allowPrivateNetworks = options.allowPrivateNetworks;
    this.allowedHosts = allowListOf(options.allowedHosts ?? []);
    const connectTimeoutMs = positiveInteger('connectTimeoutMs', options.connectTimeoutMs ?? 5_000);
    this.connectorOptions = {
      policy: { allowPrivateNetworks: options.allowPrivateNetworks, allowedHosts: [...this.allowedHosts] },
      resolve: options.lookup ?? resolveWithSystemDns,
      connectTimeoutMs,
      ...(options.ca === undefined ? {} : { ca: options.ca }),
    };
    this.pools = new EndpointPools({
      connectionsPerPool: positiveInteger('connectionsPerEndpoint', options.connectionsPerEndpoint ?? 8),
      maxConnections: positiveInteger('maxConnections', options.maxConnections ?? 256),
      idlePoolTimeoutMs: positiveInteger('idlePoolTimeoutMs', options.idlePoolTimeoutMs ?? 60_000),
      keepAliveTimeoutMs: positiveInteger('keepAliveTimeoutMs', options.keepAliveTimeoutMs ?? 4_000),
      // Our own deadline covers these; undici's are a second line at the same bound.
      headersTimeoutMs: this.timeoutMs,
      bodyTimeoutMs: this.timeoutMs,
      connectTimeoutMs,
      connect: buildGuardedConnector(this.connectorOptions),
    });
  }

  /** POSTs `body` to `url` and reports what came back, or why nothing did, within `timeoutMs`. */
  async send(request: WebhookRequest): Promise<SendResult> {
    const started = performance.now();
    const elapsedMs = () => Math.round(performance.now() - started);

    const target = this.parseUrl(request.url);
    if (typeof target === 'string') return { kind: 'error', errorClass: 'invalid_url', message: target, elapsedMs: elapsedMs() };
    const refusal = this.refusalWithoutLookup(target);
    if (refusal !== undefined) return { kind: 'error', errorClass: 'ssrf_blocked', message: refusal, elapsedMs: elapsedMs() };

    const poolKey = request.endpointId === undefined ? target.origin : `${request.endpointId} ${target.origin}`;
    const certificate = request.clientCertificate;
    const lease =
      certificate === undefined
        ? this.pools.acquire(poolKey, target.origin)
        : this.pools.acquire(`${poolKey} ${certificate.id}`, target.origin, () => buildGuardedConnector({ ...this.connectorOptions, clientCertificate: certificate }));
    const deadline = new AbortController();
    const timeoutMs = request.timeoutMs === undefined ? this.timeoutMs : Math.min(this.timeoutMs, positiveInteger('timeoutMs', request.timeoutMs));
    const timer = setTimeout(() => deadline.abort(new DeadlineExceededError(timeoutMs)), timeoutMs);
    try {
      const response = await lease.pool.request({
        path: `${target.pathname}${target.search}`,
        method: request.method ?? 'POST',
        // GET and DELETE (ActiveCampaign's contact deletion) carry no body.
        headers: this.headersFor(request.headers, request.method === 'GET' || request.method === 'DELETE' ? null : (request.contentType ?? 'application/json')),
        ...(request.method === 'GET' || request.method === 'DELETE' ? {} : { body: request.body }),
        signal: deadline.signal,
      });
      const limit = request.maxResponseBytes === undefined ? this.maxResponseBytes : positiveInteger('maxResponseBytes', request.maxResponseBytes);
      const { snippet, truncated } = await this.readSnippet(response.body, limit);
      return { kind: 'response', status: response.statusCode, headers: flatten(response.headers), bodySnippet: snippet, truncated, elapsedMs: elapsedMs() };
    } catch (error) {
      // Once our deadline fired, whatever undici reports (an abort, a destroyed body) is that timeout.
      const { errorClass, message } = classifySendError(deadline.signal.aborted ? deadline.signal.reason : error);
      return { kind: 'error', errorClass, message, elapsedMs: elapsedMs() };
    } finally {
      clearTimeout(timer);
      this.pools.release(lease);
    }
  }

  /** Endpoint pools held and connections open now. */
  connectionStats(): { pools: number; connections: number } {
    return this.pools.stats();
  }

  /** Closes idle connections and waits for requests in flight. */
  async close(): Promise<void> {
    await this.pools.close();
  }

  /**
   * Why the URL's host is refused without asking DNS (a non-public IP literal,
   * a private or metadata name), or undefined when only its addresses can
   * tell. Allow-listed hosts are exempt, as they are at connect time.
   */
  private refusalWithoutLookup(target: URL): string | undefined {
    if (isAllowListed(this.allowedHosts, target.hostname, target.port, target.protocol)) return undefined;
    const host = checkHostWithoutLookup(target.hostname, this.allowPrivateNetworks);
    return host.verdict === 'refused' ? `${host.detail.replace(/\.$/, '')}; no connection was made.` : undefined;
  }

  /** The URL, or why it is refused without connecting. */
  private parseUrl(url: string): URL | string {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return 'The URL cannot be parsed.';
    }
    if (!this.schemes.includes(parsed.protocol)) {
      return `Only ${this.schemes.map((scheme) => scheme.slice(0, -1)).join(' or ')} URLs are sent to, not ${parsed.protocol.slice(0, -1)}.`;
    }
    if (parsed.username !== '' || parsed.password !== '') return 'Credentials in the URL (user:password@) are not sent.';
    if (parsed.hostname === '') return 'The URL has no host.';
    return parsed;
  }

  private headersFor(callerHeaders: Readonly<Record<string, string>>, contentType: string | null): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(callerHeaders)) {
      const key = name.toLowerCase();
      if (!senderOwnedHeaders.has(key)) headers[key] = value;
    }
    if (contentType !== null) headers['content-type'] = contentType;
    headers['user-agent'] = this.userAgent;
    return headers;
  }

  /**
   * Reads at most `maxResponseBytes`, then stops: leaving the loop destroys
   * the body stream and its connection, so a huge or endless body is neither
   * downloaded nor buffered.
   */
  private async readSnippet(body: AsyncIterable<Buffer>, maxBytes: number): Promise<{ snippet: string; truncated: boolean }> {
    const chunks: Buffer[] = [];
    let kept = 0;
    let truncated = false;
    for await (const chunk of body) {
      const room = maxBytes - kept;
      if (chunk.length > room) {
        chunks.push(chunk.subarray(0, room));
        kept += room;
        truncated = true;
        break;
      }
      chunks.push(chunk);
      kept += chunk.length;
    }
    // write() without end() holds back an incomplete trailing character instead of emitting U+FFFD.
    return { snippet: new StringDecoder('utf8').write(Buffer.concat(chunks, kept)), truncated };
  }
}

function flatten(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
