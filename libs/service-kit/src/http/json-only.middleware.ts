import type { NextFunction, Request, Response } from 'express';
import { ProblemError } from './problem';

const withBody = new Set(['POST', 'PUT', 'PATCH']);

/** Requests with a body must send JSON; anything else is refused (415) before it is parsed. */
export function requireJsonBodies(request: Request, _response: Response, next: NextFunction): void {
  const length = Number(request.headers['content-length'] ?? 0);
  const chunked = request.headers['transfer-encoding'] !== undefined;
  if (withBody.has(request.method) && (length > 0 || chunked) && !request.is(['application/json', 'application/*+json'])) {
    next(new ProblemError('UNSUPPORTED_MEDIA_TYPE', 'Send the request body as application/json.'));
    return;
  }
  next();
}
