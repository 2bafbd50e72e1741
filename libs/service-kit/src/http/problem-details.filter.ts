import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { isDatabaseUnavailable } from './database-unavailable';
import { httpStatusByErrorCode } from './error-statuses';
import { ProblemError, problemDetails, type ProblemDetails } from './problem';

const statusCodes: Record<number, string> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'ROUTE_NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
};

/** What a 503 or 429 tells the client to wait when the error did not say (the Retry-After header, in seconds). */
export const defaultRetryAfterSeconds = 1;

/** A database outage is usually a restart or a failover: seconds, not minutes. */
export const databaseRetryAfterSeconds = 2;

/**
 * Turns any error into RFC 9457 problem+json; a database that cannot be
 * reached becomes 503 DATABASE_UNAVAILABLE, and other unknown errors a 500
 * that reveals nothing.
 */
export function toProblem(error: unknown): ProblemDetails {
  if (error instanceof ProblemError) {
    return problemDetails(error.code, error.message, error.extensions);
  }
  const coded = error as { code?: unknown; message?: unknown; type?: unknown; status?: unknown } | null;
  // Errors of the domain and of our libraries carry a stable code from the table.
  if (coded && typeof coded.code === 'string' && coded.code in httpStatusByErrorCode) {
    const { code, message, stack: _stack, name: _name, ...rest } = coded as Error & { code: string } & Record<string, unknown>;
    return problemDetails(code, typeof message === 'string' ? message : undefined, jsonSafe(rest));
  }
  // body-parser marks its own failures with `type`.
  if (coded?.type === 'entity.parse.failed') return problemDetails('MALFORMED_JSON', 'The request body is not valid JSON.');
  if (coded?.type === 'entity.too.large') return problemDetails('PAYLOAD_TOO_LARGE', 'The request body is larger than this API accepts.');
  if (coded?.type === 'encoding.unsupported' || coded?.type === 'charset.unsupported') {
    return problemDetails('UNSUPPORTED_MEDIA_TYPE', 'The request body encoding is not supported.');
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const code = statusCodes[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : 'VALIDATION_FAILED');
    return { ...problemDetails(code, error.message), status };
  }
  if (isDatabaseUnavailable(error)) {
    return problemDetails('DATABASE_UNAVAILABLE', 'The database cannot be reached right now; retry shortly.', { retry_after_seconds: databaseRetryAfterSeconds });
  }
  return problemDetails('INTERNAL_ERROR', 'An unexpected error occurred; it has been logged.');
}

function jsonSafe(fields: Record<string, unknown>): Record<string, unknown> {
  const safe: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || typeof value === 'function') continue;
    safe[key] = value;
  }
  return safe;
}

@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(error: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw error;
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const problem: ProblemDetails = { ...toProblem(error), instance: request.originalUrl };
    // Our own failures are logged; a 503 that asks the caller to retry (warming up, overloaded) is not one.
    if (problem.code === 'INTERNAL_ERROR') {
      this.logger.error(`${request.method} ${request.path} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    } else if (problem.code === 'DATABASE_UNAVAILABLE') {
      this.logger.warn(`${request.method} ${request.path}: database unavailable (${error instanceof Error ? error.message : String(error)})`);
    }
    if (response.headersSent) return;
    // Every "come back later" says when; a guard may have set it already.
    if ((problem.status === 503 || problem.status === 429) && !response.hasHeader('retry-after')) {
      const seconds = problem.retry_after_seconds;
      response.setHeader('Retry-After', String(typeof seconds === 'number' && seconds >= 1 ? Math.ceil(seconds) : defaultRetryAfterSeconds));
    }
    response.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
  }
}
