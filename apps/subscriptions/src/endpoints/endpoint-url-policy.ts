import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ProblemError } from '@gancho/service-kit';
import { checkEndpointUrl, type ResolveHost } from '@gancho/url-safety';
import { RESOLVE_HOST } from '../platform/dns';
import type { SubscriptionsConfig } from '../subscriptions.config';

/**
 * The save-time URL check of `@gancho/url-safety`, with this deployment's
 * policy: ALLOW_HTTP_ENDPOINTS, ALLOW_PRIVATE_NETWORK_ENDPOINTS and
 * ALLOWED_ENDPOINT_HOSTS, the same three variables delivery's sender reads,
 * so a URL saved here is one delivery sends to and a URL delivery would
 * refuse is refused here, at save time, as 422 ENDPOINT_URL_NOT_ALLOWED with
 * a `reason` (tests/cross-service/src/endpoint-network-policy.int.spec.ts).
 */
@Injectable()
export class EndpointUrlPolicy {
  constructor(
    private readonly config: ConfigService<SubscriptionsConfig, true>,
    @Inject(RESOLVE_HOST) private readonly resolve: ResolveHost,
  ) {}

  /** The normalised URL, or 422 ENDPOINT_URL_NOT_ALLOWED naming the reason (503 when DNS cannot answer now). */
  async accept(url: string): Promise<string> {
    let check;
    try {
      check = await checkEndpointUrl(url, {
        allowHttp: this.config.get('ALLOW_HTTP_ENDPOINTS', { infer: true }),
        allowPrivate: this.config.get('ALLOW_PRIVATE_NETWORK_ENDPOINTS', { infer: true }),
        allowedHosts: this.config.get('ALLOWED_ENDPOINT_HOSTS', { infer: true }),
        resolve: this.resolve,
      });
    } catch {
      throw new ProblemError('SERVICE_UNAVAILABLE', 'The endpoint’s host name could not be resolved right now; try again.');
    }
    if (!check.allowed) throw new ProblemError('ENDPOINT_URL_NOT_ALLOWED', `Gancho cannot deliver to this URL: ${check.detail}`, { reason: check.reason });
    return check.url;
  }

  /**
   * An ActiveCampaign API URL: the same policy (https, public address), and
   * only an origin such as https://<account>.api-us1.com (a trailing /api/3 is
   * dropped) — Gancho appends the /api/3/… paths itself. Answers the origin,
   * without a trailing slash.
   */
  async acceptApiBase(url: string, path = 'destination.api_url'): Promise<string> {
    const accepted = new URL(await this.accept(url));
    // Partners often paste the versioned base (…/api/3) that AC's examples use: Gancho adds it itself.
    const basePath = accepted.pathname.replace(/\/api\/3\/?$/, '/');
    if ((basePath !== '/' && basePath !== '') || accepted.search !== '' || accepted.hash !== '') {
      throw new ProblemError('VALIDATION_FAILED', 'The request body is invalid.', {
        errors: [{ path, message: "the account's API URL only, like https://<account>.api-us1.com (no path or query)" }],
      });
    }
    return accepted.origin;
  }
}
