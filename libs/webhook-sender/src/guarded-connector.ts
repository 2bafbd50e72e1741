import { lookup } from 'node:dns/promises';
import { isIP, type Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { buildConnector } from 'undici';
import { classifyAddress, type AddressRefusalReason, type ResolveHost } from '@gancho/url-safety';

/** The connection was refused by us: the host is, or resolves to, an address Gancho never connects to. */
export class SsrfBlockedError extends Error {
  readonly code = 'GANCHO_SSRF_BLOCKED';

  constructor(
    readonly hostname: string,
    readonly address: string,
    readonly reason: AddressRefusalReason,
  ) {
    const what = hostname === address ? address : `${hostname} resolves to ${address}, which`;
    super(`${what} is not a public address (${reason.replace(/_/g, ' ')}); no connection was made.`);
    this.name = 'SsrfBlockedError';
  }
}

/** The host name could not be resolved (whatever the resolver's own error code). */
export class HostResolutionError extends Error {
  readonly code = 'GANCHO_DNS';

  constructor(hostname: string, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(`${hostname} could not be resolved: ${detail}`, { cause });
    this.name = 'HostResolutionError';
  }
}

/** Every address of a name, in the resolver's order, asked afresh on every connection (no cache of ours). */
export const resolveWithSystemDns: ResolveHost = async (hostname) => (await lookup(hostname, { all: true, order: 'verbatim' })).map((answer) => answer.address);

export interface AddressPolicy {
  /** Loopback, private, link-local… addresses are connected to only when true. Cloud metadata never is. */
  allowPrivateNetworks: boolean;
  /** `host:port` (exactly that port) or `host` (any port) connected to whatever they resolve to. For tests. */
  allowedHosts: readonly string[];
}

export interface GuardedConnectorOptions {
  policy: AddressPolicy;
  resolve: ResolveHost;
  /** Bounds the DNS answer, and then each TCP (+TLS) connection attempt. */
  connectTimeoutMs: number;
  /** Extra trusted certificate authorities (a private PKI, or tests); the system's are used otherwise. */
  ca?: ConnectionOptions['ca'];
  /** Presented on every TLS connection (mutual TLS); its own connector, so no TLS session is ever resumed across certificates. */
  clientCertificate?: { cert: string; key: string };
}

/** Errors after which the next resolved address is worth a try (it may be another family or host). */
const tryNextAddressOn = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

/**
 * An undici connector that resolves the host itself, refuses the connection
 * when any address is not public, and then connects to a vetted IP address
 * (never the name), so the address checked is the address connected to: a
 * name that resolves elsewhere between our check and the connect (DNS
 * rebinding) cannot slip through. IP-literal hosts take the same path without
 * DNS. TLS still verifies the certificate for the URL's name (SNI and
 * `servername`), not for the IP.
 */
export function buildGuardedConnector({ policy, resolve, connectTimeoutMs, ca, clientCertificate }: GuardedConnectorOptions): buildConnector.connector {
  const connectToAddress = buildConnector({
    timeout: connectTimeoutMs,
    allowH2: false,
    ...(ca === undefined ? {} : { ca }),
    ...(clientCertificate === undefined ? {} : { cert: clientCertificate.cert, key: clientCertificate.key }),
  });
  const allowed = allowListOf(policy.allowedHosts);

  return (options, callback) => {
    vettedAddresses(options, policy, allowed, resolve, connectTimeoutMs).then(
      (addresses) => connectToFirstReachable(addresses, options, connectToAddress, callback),
      (error: Error) => callback(error, null),
    );
  };
}

/** The allow-list as `isAllowListed` reads it: trimmed, lower-case entries. */
export function allowListOf(entries: readonly string[]): ReadonlySet<string> {
  return new Set(entries.map((entry) => entry.trim().toLowerCase()).filter((entry) => entry !== ''));
}

/** Whether `host` (with or without IPv6 brackets) on `port` (empty: the scheme's) is exempt from the address check. */
export function isAllowListed(allowed: ReadonlySet<string>, host: string, port: string, protocol: string): boolean {
  if (allowed.size === 0) return false;
  const bare = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  const hostInUrl = isIP(bare) === 6 ? `[${bare}]` : bare;
  const portOrDefault = port || (protocol === 'https:' ? '443' : '80');
  return allowed.has(hostInUrl) || allowed.has(`${hostInUrl}:${portOrDefault}`);
}

async function vettedAddresses(options: buildConnector.Options, policy: AddressPolicy, allowed: ReadonlySet<string>, resolve: ResolveHost, timeoutMs: number): Promise<string[]> {
  // undici hands over IPv6 literals without brackets.
  const hostname = options.hostname;
  const addresses = isIP(hostname) ? [hostname] : await resolveWithin(hostname, resolve, timeoutMs);
  if (isAllowListed(allowed, hostname, options.port, options.protocol)) return addresses;
  // Every answer must pass: a resolver can alternate or mix answers, and which one the OS would pick is not ours to guess.
  for (const address of addresses) {
    const kind = classifyAddress(address);
    if (kind === 'public') continue;
    if (policy.allowPrivateNetworks && kind !== 'cloud_metadata' && kind !== 'invalid') continue;
    throw new SsrfBlockedError(hostname, address, kind);
  }
  return addresses;
}

async function resolveWithin(hostname: string, resolve: ResolveHost, timeoutMs: number): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEOUT' })), timeoutMs);
  });
  let addresses: string[];
  try {
    addresses = await Promise.race([resolve(hostname), timeout]);
  } catch (error) {
    throw new HostResolutionError(hostname, error);
  } finally {
    clearTimeout(timer);
  }
  if (addresses.length === 0) throw new HostResolutionError(hostname, Object.assign(new Error('no addresses'), { code: 'ENOTFOUND' }));
  return addresses;
}

function connectToFirstReachable(addresses: readonly string[], options: buildConnector.Options, connectToAddress: buildConnector.connector, callback: buildConnector.Callback): void {
  const attempt = (index: number): void => {
    const address = addresses[index];
    if (address === undefined) return;
    // `host` stays the URL's host, so undici derives the TLS servername (SNI, certificate check) from the name.
    connectToAddress({ ...options, hostname: address }, (error, socket) => {
      if (error === null) return callback(null, socket as Socket);
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (index + 1 < addresses.length && tryNextAddressOn.has(code)) return attempt(index + 1);
      callback(error, null);
    });
  };
  attempt(0);
}
