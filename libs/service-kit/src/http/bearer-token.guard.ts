import { timingSafeEqual, createHash } from 'node:crypto';
import { type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { ProblemError } from './problem';

/** Compares in constant time: hashing first makes both sides the same length. */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function bearerTokenOf(request: Request): string | undefined {
  const header = request.headers.authorization;
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}

/**
 * Admits requests whose `Authorization: Bearer <token>` equals one of the
 * tokens the getter returns (a list, so a token can be rotated without downtime).
 */
export class BearerTokenGuard implements CanActivate {
  constructor(
    private readonly expectedTokens: () => string[],
    private readonly realm: string,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    const token = bearerTokenOf(request);
    if (!token) throw new ProblemError('UNAUTHORIZED', `Send Authorization: Bearer <token> for the ${this.realm} API.`);
    if (!this.expectedTokens().some((expected) => tokensEqual(token, expected))) {
      throw new ProblemError('UNAUTHORIZED', `The bearer token is not valid for the ${this.realm} API.`);
    }
    return true;
  }
}
