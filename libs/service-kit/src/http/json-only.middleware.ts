import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { ProblemError } from './problem';

const withBody = new Set(['POST', 'PUT', 'PATCH']);

/**
 * The one media type of request bodies. No route declares another (not
 * application/merge-patch+json, not other +json types): PATCH bodies are plain
 * JSON objects of the fields to change.
 */
export const requestMediaType = 'application/json';

/** Requests with a body must send JSON; anything else is refused (415) before it is parsed. */
export function requireJsonBodies(request: Request, _response: Response, next: NextFunction): void {
  const length = Number(request.headers['content-length'] ?? 0);
  const chunked = request.headers['transfer-encoding'] !== undefined;
  if (withBody.has(request.method) && (length > 0 || chunked) && !request.is(requestMediaType)) {
    next(new ProblemError('UNSUPPORTED_MEDIA_TYPE', `Send the request body as ${requestMediaType}.`));
    return;
  }
  next();
}

/**
 * The body parser's check of the raw bytes, for every method alike: JSON
 * travels as UTF-8 (RFC 8259, section 8.1), so another charset is 415, and a
 * byte order mark or bytes that are not UTF-8 are 400 MALFORMED_JSON, rather
 * than decoded leniently (a BOM dropped, bad bytes stored as U+FFFD).
 */
export function verifyJsonBytes(_request: IncomingMessage, _response: ServerResponse, body: Buffer, charset: string | null): void {
  if (charset !== null && charset !== 'utf-8') {
    throw new ProblemError('UNSUPPORTED_MEDIA_TYPE', `Send JSON as UTF-8; charset=${charset} is not accepted.`);
  }
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) {
    throw new ProblemError('MALFORMED_JSON', 'The request body starts with a byte order mark; send UTF-8 JSON without one.');
  }
  if (!isUtf8(body)) throw new ProblemError('MALFORMED_JSON', 'The request body is not valid UTF-8.');
}

/** How every service parses request bodies (with `app.useBodyParser('json', …)`). */
export function jsonBodyParserOptions(limit: string): { limit: string; type: string; verify: typeof verifyJsonBytes } {
  return { limit, type: requestMediaType, verify: verifyJsonBytes };
}
