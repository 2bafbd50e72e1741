import { isOperationalFilterEntry, validateEventTypeFilter } from '@gancho/contracts';

/** At most this many custom headers per endpoint. */
export const maxCustomHeaders = 20;
export const maxHeaderValueBytes = 1024;
export const maxUrlLength = 2048;

// RFC 7230 token.
const headerName = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}$/;
// Visible ASCII, space and tab: no CR, LF or NUL, nothing a client library would re-encode.
const headerValue = /^[\t\x20-\x7e]*$/;

/**
 * Header names a partner may not set: hop-by-hop headers (RFC 9110 §7.6.1),
 * those that describe the body or the connection (Host, Content-Length,
 * Content-Type, Content-Encoding, Transfer-Encoding, Expect) — the body is the
 * signed JSON Gancho sends, and a receiver must be able to parse and verify
 * it — and every `webhook-*` header, which Standard Webhooks reserves for
 * the signature.
 */
const reservedHeaderNames = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'content-type',
  'content-encoding',
  'expect',
]);

/** What is wrong with the number of custom headers an endpoint would have. */
export function customHeaderCountProblems(count: number): string[] {
  return count > maxCustomHeaders ? [`at most ${maxCustomHeaders} headers, not ${count}`] : [];
}

/** What is wrong with the names of custom headers, one message per problem, naming the header. */
export function customHeaderNameProblems(names: readonly string[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    const lower = name.toLowerCase();
    if (!headerName.test(name)) problems.push(`${JSON.stringify(name)} is not a valid header name (RFC 7230 token)`);
    else if (reservedHeaderNames.has(lower) || lower.startsWith('webhook-')) problems.push(`${name} is set by Gancho and cannot be customised`);
    if (seen.has(lower)) problems.push(`${name} is given twice (header names are case-insensitive)`);
    seen.add(lower);
  }
  return problems;
}

/** What is wrong with one custom header value (checked in the clear, before it is sealed). */
export function customHeaderValueProblems(name: string, value: unknown): string[] {
  if (typeof value !== 'string' || !headerValue.test(value)) return [`${name}: the value must be printable ASCII, without line breaks`];
  // ASCII only, so characters are bytes.
  if (value.length > maxHeaderValueBytes) return [`${name}: the value is longer than ${maxHeaderValueBytes} bytes`];
  return [];
}

/** What is wrong with a set of custom headers in the clear, one message per problem, naming the header. */
export function customHeaderProblems(headers: Readonly<Record<string, string>>): string[] {
  const problems = [...customHeaderCountProblems(Object.keys(headers).length), ...customHeaderNameProblems(Object.keys(headers))];
  for (const [name, value] of Object.entries(headers)) problems.push(...customHeaderValueProblems(name, value));
  return problems;
}

/** What is wrong with an event-type filter: empty, or entries that are not a known type (purchase or operational), prefix or `*`. */
export function eventTypeFilterProblems(filter: readonly string[]): string[] {
  if (filter.length === 0) return ['subscribe to at least one event type (or "*")'];
  return validateEventTypeFilter(filter.filter((entry) => !isOperationalFilterEntry(entry))).map((entry) => `${JSON.stringify(entry)} is not a known event type, a known prefix like "purchase.*" or "endpoint.*", or "*"`);
}
