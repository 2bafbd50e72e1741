/**
 * Whether an error means the database cannot be reached at all (refused or
 * dropped connections, a server shutting down or starting up, a pool that
 * cannot get a connection), as opposed to a query the database refused
 * (a constraint, a syntax error), which stays a 500: only the first kind is
 * worth retrying as it is.
 *
 * pg raises socket errors (`ECONNREFUSED`…) and its own messages for a
 * connection lost mid-query; TypeORM wraps what happened during a query in a
 * QueryFailedError whose `driverError` is pg's error, and passes pool errors
 * on as they are; Node's connect to a name with several addresses throws an
 * AggregateError of them. So the error, its `driverError`, its `cause` and an
 * AggregateError's `errors` are all looked at.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  return someError(error, 4, (candidate) => {
    const code = typeof candidate.code === 'string' ? candidate.code : undefined;
    if (code !== undefined && (socketErrorCodes.has(code) || isUnavailableSqlState(code))) return true;
    return typeof candidate.message === 'string' && lostConnectionMessages.some((pattern) => pattern.test(candidate.message as string));
  });
}

/** Socket-level failures of a connection to the database server. */
const socketErrorCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * SQLSTATEs of a server that cannot serve right now: class 08 (connection
 * exception), 57P01–57P03 (terminated by an administrator or a crash, cannot
 * connect now: starting up or shutting down), 53300 (too many connections).
 */
function isUnavailableSqlState(code: string): boolean {
  return /^08[0-9A-Z]{3}$/.test(code) || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300';
}

/** pg and pg-pool's own errors for a connection that is gone or could not be had. */
const lostConnectionMessages = [/^Connection terminated( unexpectedly| due to connection timeout)?$/, /^Client has encountered a connection error and is not queryable$/, /^timeout exceeded when trying to connect$/];

type ErrorLike = { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown; errors?: unknown };

function someError(error: unknown, depth: number, test: (candidate: ErrorLike) => boolean): boolean {
  if (depth < 0 || error === null || typeof error !== 'object') return false;
  const candidate = error as ErrorLike;
  if (test(candidate)) return true;
  const nested = [candidate.driverError, candidate.cause, ...(Array.isArray(candidate.errors) ? candidate.errors : [])];
  return nested.some((inner) => inner !== error && someError(inner, depth - 1, test));
}
