import type { AttemptErrorClass } from '@gancho/delivery-domain';

/** Our own deadline, given to the AbortController as its reason. */
export class DeadlineExceededError extends Error {
  readonly code = 'GANCHO_DEADLINE_EXCEEDED';

  constructor(timeoutMs: number) {
    super(`No complete response within ${timeoutMs} ms.`);
    this.name = 'DeadlineExceededError';
  }
}

const codeClasses: ReadonlyArray<readonly [AttemptErrorClass, ReadonlySet<string>]> = [
  ['ssrf_blocked', new Set(['GANCHO_SSRF_BLOCKED'])],
  ['timeout', new Set(['GANCHO_DEADLINE_EXCEEDED', 'GANCHO_CONNECTION_LIMIT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_ABORTED', 'ABORT_ERR', 'ETIMEDOUT'])],
  ['dns', new Set(['GANCHO_DNS', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA', 'ENODATA'])],
  // Unreachable hosts and networks are "no connection could be made" as much as a refusal is.
  ['connect_refused', new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL'])],
  ['reset', new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH'])],
  // The response could not be read within our limits (undici's header size limit).
  ['body_too_large', new Set(['UND_ERR_RES_EXCEEDED_MAX_SIZE', 'UND_ERR_HEADERS_OVERFLOW'])],
];

/** Node's TLS errors, and OpenSSL's certificate verification codes (self-signed, expired, wrong name, unknown issuer…). */
const tlsCode = /^ERR_(TLS|SSL)_|CERT|SELF_SIGNED|^UNABLE_TO_|HOSTNAME_MISMATCH|^INVALID_CA$|^INVALID_PURPOSE$|^PATH_LENGTH_EXCEEDED$/;

/** The error and everything it wraps (`cause`, `AggregateError.errors`), outermost first. */
function chainOf(error: unknown): unknown[] {
  const chain: unknown[] = [];
  const queue = [error];
  while (queue.length > 0 && chain.length < 16) {
    const next = queue.shift();
    if (next === undefined || next === null || chain.includes(next)) continue;
    chain.push(next);
    if (next instanceof AggregateError) queue.push(...(next.errors as unknown[]));
    if (next instanceof Error && next.cause !== undefined) queue.push(next.cause);
  }
  return chain;
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function classOf(error: unknown): AttemptErrorClass | undefined {
  const code = codeOf(error);
  if (code !== undefined) {
    for (const [errorClass, codes] of codeClasses) if (codes.has(code)) return errorClass;
    if (tlsCode.test(code)) return 'tls';
  }
  // DOMExceptions (AbortSignal.timeout()) are told apart by name, and are not always `instanceof Error`.
  const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
  if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
  if (typeof message === 'string' && /socket hang up|other side closed/i.test(message)) return 'reset';
  return undefined;
}

/**
 * What kind of network failure `error` is, looking through wrapped causes
 * (undici wraps socket errors). The outermost recognised error wins, so our
 * own SSRF refusal and deadline are never reported as what they caused.
 */
export function classifySendError(error: unknown): { errorClass: AttemptErrorClass; message: string } {
  const chain = chainOf(error);
  let errorClass: AttemptErrorClass = 'other';
  for (const link of chain) {
    const found = classOf(link);
    if (found !== undefined) {
      errorClass = found;
      break;
    }
  }
  return { errorClass, message: describe(chain) };
}

function describe(chain: readonly unknown[]): string {
  return chain
    .map((link) => {
      if (!(link instanceof Error)) return String(link);
      const code = codeOf(link);
      return code === undefined || link.message.includes(code) ? link.message : `${code}: ${link.message}`;
    })
    .filter((text, index, all) => text !== '' && all.indexOf(text) === index)
    .join(' <- ');
}
