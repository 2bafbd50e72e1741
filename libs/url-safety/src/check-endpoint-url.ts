import { classifyAddress, parseAddress, type AddressRefusalReason } from './classify-address';

/** Every IPv4 and IPv6 address a host name resolves to (all A and AAAA answers); empty when it has none. */
export type ResolveHost = (hostname: string) => Promise<string[]>;

export interface EndpointUrlPolicy {
  /** Plain http:// is accepted only when true (local development, tests). */
  allowHttp: boolean;
  /** Loopback, private and other non-public addresses are accepted only when true. */
  allowPrivate: boolean;
  /**
   * `host:port` (that port only) or `host` (any port) exempt from the address
   * check, as delivery's sender exempts them at connect time (both read
   * ALLOWED_ENDPOINT_HOSTS): a demo receiver, a test receiver.
   */
  allowedHosts?: readonly string[];
  resolve: ResolveHost;
}

export type UrlRefusalReason = AddressRefusalReason | 'malformed_url' | 'scheme_not_allowed' | 'userinfo_not_allowed' | 'private_hostname' | 'unresolvable';

export type EndpointUrlCheck = { allowed: true; /** The URL as WHATWG parsing normalises it (IPv4 literals in dotted form). */ url: string } | { allowed: false; reason: UrlRefusalReason; detail: string };

/** Names that never reach the public internet (RFC 6761, RFC 6762, RFC 8375 and the private-use `.internal`). */
const privateNameSuffixes = ['localhost', 'local', 'localdomain', 'internal', 'home.arpa'];
/** Metadata services reached by name; refused even when private networks are allowed. */
const metadataHostnames = new Set(['metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data']);

type Refusal = Extract<EndpointUrlCheck, { allowed: false }>;
const refuse = (reason: UrlRefusalReason, detail: string): Refusal => ({ allowed: false, reason, detail });

/**
 * Whether Gancho may deliver to `url`: https (http only if allowed), no
 * user:password@, and a host that is not, and does not resolve to, a
 * non-public address. Every answer of the resolver must be public: one
 * private answer among public ones is enough to refuse (DNS can be made to
 * alternate). Cloud metadata is refused whatever the policy.
 *
 * This is the save-time check. A name can resolve elsewhere later (DNS
 * rebinding), so whoever connects must check the address it connects to
 * again, with `classifyAddress`.
 */
export async function checkEndpointUrl(url: string, policy: EndpointUrlPolicy): Promise<EndpointUrlCheck> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return refuse('malformed_url', 'The URL cannot be parsed.');
  }
  const schemes = policy.allowHttp ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(parsed.protocol)) {
    return refuse('scheme_not_allowed', `Only ${schemes.map((s) => s.slice(0, -1)).join(' or ')} URLs are accepted, not ${parsed.protocol.slice(0, -1)}.`);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return refuse('userinfo_not_allowed', 'Credentials in the URL (user:password@) are not accepted; send them in a custom header.');
  }
  // WHATWG parsing already turned 2130706433, 0177.0.0.1, 0x7f.1 and 127.1 into 127.0.0.1.
  const host = parsed.hostname.replace(/\.+$/, '').toLowerCase();
  if (host === '') return refuse('malformed_url', 'The URL has no host.');
  if (isAllowListedHost(policy.allowedHosts ?? [], parsed)) return { allowed: true, url: parsed.toString() };

  const precheck = checkHostWithoutLookup(host, policy.allowPrivate);
  if (precheck.verdict === 'refused') return refuse(precheck.reason, precheck.detail);
  if (precheck.verdict === 'address' || policy.allowPrivate) return { allowed: true, url: parsed.toString() };

  const addresses = await policy.resolve(host);
  if (addresses.length === 0) return refuse('unresolvable', `${host} does not resolve to any address.`);
  for (const address of addresses) {
    const verdict = judge(address, policy, host);
    if (verdict) return verdict;
  }
  return { allowed: true, url: parsed.toString() };
}

/**
 * Whether the URL's host (IPv6 in brackets, as URLs write it) or host:port
 * (the scheme's default port when the URL names none) is on the list.
 */
export function isAllowListedHost(allowedHosts: readonly string[], url: URL): boolean {
  const entries = new Set(allowedHosts.map((entry) => entry.trim().toLowerCase()).filter((entry) => entry !== ''));
  if (entries.size === 0) return false;
  const host = url.hostname.toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return entries.has(host) || entries.has(`${host}:${port}`);
}

export type HostCheck =
  | { verdict: 'refused'; reason: UrlRefusalReason; detail: string }
  /** An IP literal the policy accepts: there is nothing to resolve. */
  | { verdict: 'address' }
  /** A name that is not refused as such: its addresses decide. */
  | { verdict: 'resolve' };

/**
 * Everything that can be said of a URL's host without the network: an IP
 * literal is judged as an address, a cloud metadata name is refused, and so
 * is a local or private name (`localhost`, `.internal`…) unless private
 * networks are allowed. Callers run it before any DNS lookup, so a host that
 * is refused anyway never causes a query.
 */
export function checkHostWithoutLookup(hostname: string, allowPrivate: boolean): HostCheck {
  const host = hostname.replace(/\.+$/, '').toLowerCase();
  if (parseAddress(host)) {
    const refusal = judge(host, { allowPrivate });
    return refusal ? { verdict: 'refused', reason: refusal.reason, detail: refusal.detail } : { verdict: 'address' };
  }
  if (metadataHostnames.has(host)) return { verdict: 'refused', reason: 'cloud_metadata', detail: `${host} is a cloud metadata service.` };
  if (!allowPrivate && privateNameSuffixes.some((suffix) => host === suffix || host.endsWith(`.${suffix}`))) {
    return { verdict: 'refused', reason: 'private_hostname', detail: `${host} is a name for a local or private network.` };
  }
  return { verdict: 'resolve' };
}

function judge(address: string, policy: Pick<EndpointUrlPolicy, 'allowPrivate'>, hostname?: string): Refusal | undefined {
  const kind = classifyAddress(address);
  if (kind === 'public') return undefined;
  if (policy.allowPrivate && kind !== 'cloud_metadata' && kind !== 'invalid') return undefined;
  const what = hostname ? `${hostname} resolves to ${address}, which` : `${address}`;
  return refuse(kind, `${what} is not a public address (${kind.replace(/_/g, ' ')}).`);
}
