import { Inject, Injectable, createParamDecorator, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request, Response } from 'express';
import { bearerTokenOf, ProblemError } from '@gancho/service-kit';
import { ApiKeyDirectory } from './api-key-directory';
import { PARTNER_RATE_LIMITER } from './partner-auth.options';
import type { TokenBucketLimiter } from './token-bucket-limiter';

/** A request the guard admitted: whose key it was. */
export interface PartnerRequest extends Request {
  partnerId: string;
  apiKeyId: string;
  /** When the credential stops working (a portal session), or null. */
  apiKeyExpiresAt: string | null;
}

/**
 * Admits requests with `Authorization: Bearer <partner API key>` whose key is
 * known, not revoked and not expired, and records the partner on the request
 * (`@PartnerId()`); every other request gets 401 UNAUTHORIZED (an expired
 * portal session says so, with `reason: "expired"`), once the key table has
 * caught up with the key topic (503 SERVICE_UNAVAILABLE with Retry-After if
 * it cannot in time). When a rate
 * limit is configured, each key gets a token bucket, shared by every partner
 * route of the process: past it, 429 RATE_LIMITED with Retry-After.
 */
@Injectable()
export class PartnerAuthGuard implements CanActivate {
  constructor(
    private readonly directory: ApiKeyDirectory,
    @Inject(PARTNER_RATE_LIMITER) private readonly limiter: TokenBucketLimiter | null,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<PartnerRequest>();
    const response = http.getResponse<Response>();
    const presented = bearerTokenOf(request);
    if (!presented) throw new ProblemError('UNAUTHORIZED', 'Send your API key as Authorization: Bearer gk_live_….');
    const lookup = await this.directory.authenticate(presented);
    if (lookup.outcome !== 'valid') {
      if (lookup.outcome === 'catching-up') {
        // The key may have been issued a moment ago: not known yet is not invalid.
        response.setHeader('Retry-After', '1');
        throw new ProblemError('SERVICE_UNAVAILABLE', 'API keys are still catching up with the latest issued; retry in a second.');
      }
      // Expiry is no secret of anyone's (the holder was told when it ends); unknown and revoked keys get one answer.
      if (lookup.outcome === 'expired') {
        throw new ProblemError('UNAUTHORIZED', `This portal session expired at ${lookup.key.expiresAt}; open the console again from your dashboard.`, {
          reason: 'expired',
          expired_at: lookup.key.expiresAt,
        });
      }
      throw new ProblemError('UNAUTHORIZED', 'The API key is not valid: unknown or revoked.');
    }
    request.partnerId = lookup.key.partnerId;
    request.apiKeyId = lookup.key.keyId;
    request.apiKeyExpiresAt = lookup.key.expiresAt;
    const taken = this.limiter?.take(lookup.key.keyId);
    if (taken && !taken.ok) {
      const seconds = Math.max(1, Math.ceil(taken.retryInMs / 1000));
      response.setHeader('Retry-After', String(seconds));
      throw new ProblemError('RATE_LIMITED', `Too many requests with this API key; retry in ${seconds} s.`, { retry_after_seconds: seconds });
    }
    return true;
  }
}

/** The id of the partner whose API key the request carried (after PartnerAuthGuard). */
export const PartnerId = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const partnerId = context.switchToHttp().getRequest<Partial<PartnerRequest>>().partnerId;
  if (!partnerId) throw new Error('PartnerId used on a route without PartnerAuthGuard');
  return partnerId;
});
