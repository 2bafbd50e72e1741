import { classifyAttempt, planNextAttempt, type DeliveryPlan, type RetrySchedule } from '@gancho/delivery-domain';
import { contextFromTraceparent, injectTraceContext, recordError, SpanKind, SpanStatusCode, withSpan } from '@gancho/telemetry';
import { signWebhook } from '@gancho/webhook-signing';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { ClientCredentialsTokens, type ClientCertificate, type SendResult } from '@gancho/webhook-sender';
import type { WebhookSenderPort } from '../../dispatch/sender';
import type { LeasedMessage } from '../../dispatch/message-store';
import type { EndpointDirectory, RoutedEndpoint } from '../../routing/endpoint-directory';
import type { Destination, DestinationOutcome } from '../destination';

/** The most a token request adds to an attempt (the dispatcher's lease counts it). */
export const tokenRequestTimeoutMs = 5_000;

/**
 * A partner's webhook URL: signs the stored body with the endpoint's current
 * secrets (two during a rotation), POSTs it with the endpoint's headers in an
 * HTTP client span, and plans what follows from the response (retry, give up,
 * disable on 410) with the retry schedule.
 */
export class WebhookDestination implements Destination {
  /** Bearer tokens of the endpoints with OAuth 2.0 client credentials, fetched through the same sender (SSRF policy, timeouts). */
  private readonly tokens: ClientCredentialsTokens;

  constructor(
    private readonly sender: WebhookSenderPort,
    private readonly directory: EndpointDirectory,
    private readonly schedule: RetrySchedule,
  ) {
    this.tokens = new ClientCredentialsTokens(sender, { requestTimeoutMs: tokenRequestTimeoutMs });
  }

  async deliver(message: LeasedMessage, endpoint: RoutedEndpoint): Promise<DestinationOutcome> {
    const startedAt = new Date();
    const secrets = this.directory.signingSecrets(endpoint, startedAt);
    const headers: Record<string, string> = { ...endpoint.state.headers, ...signWebhook({ id: message.messageId, timestamp: startedAt, body: message.payload, secrets }) };
    // Endpoints without auth skip this: one property read.
    const credential = endpoint.auth === undefined ? {} : await this.credential(message.endpointId, endpoint);
    if ('tokenError' in credential) return this.outcome(credential.tokenError, message, startedAt);
    if (credential.authorization !== undefined) headers['authorization'] = credential.authorization;
    const result = await this.send(message, endpoint, headers, credential.clientCertificate);
    // A token the endpoint refuses (revoked, or its keys rotated) is not used again: the retry fetches a new one.
    if (credential.bearer !== undefined && result.kind === 'response' && result.status === 401) this.tokens.reject(message.endpointId, credential.bearer);
    return this.outcome(result, message, startedAt);
  }

  /**
   * What the endpoint's auth adds to the request: the Authorization header
   * (Basic, or a Bearer token), or the client certificate. A token endpoint
   * that gives no token ends the attempt before the webhook is sent, as its
   * own error class, `auth_token`.
   */
  private async credential(
    endpointId: string,
    endpoint: RoutedEndpoint,
  ): Promise<{ authorization?: string; bearer?: string; clientCertificate?: ClientCertificate } | { tokenError: Extract<SendResult, { kind: 'error' }> }> {
    const auth = endpoint.auth;
    switch (auth?.type) {
      case undefined:
        return {};
      case 'basic':
        return { authorization: auth.authorization };
      case 'mtls':
        return { clientCertificate: auth.certificate };
      case 'oauth2_client_credentials': {
        const token = await this.tokens.token(endpointId, auth.credentials);
        if (token.kind === 'error') return { tokenError: { kind: 'error', errorClass: 'auth_token', message: token.message, elapsedMs: token.elapsedMs } };
        return { authorization: `Bearer ${token.accessToken}`, bearer: token.accessToken };
      }
      default: {
        const _: never = auth;
        return _;
      }
    }
  }

  private outcome(result: SendResult, message: LeasedMessage, startedAt: Date): DestinationOutcome {
    const finishedAt = new Date();
    return {
      kind: 'attempted',
      startedAt,
      finishedAt,
      latencyMs: result.elapsedMs,
      statusCode: result.kind === 'response' ? result.status : null,
      errorClass: result.kind === 'error' ? result.errorClass : null,
      errorMessage: result.kind === 'error' ? result.message.slice(0, 500) : null,
      responseSnippet: result.kind === 'response' ? result.bodySnippet : null,
      plan: this.plan(result, message.attempts, finishedAt),
    };
  }

  close(): Promise<void> {
    return this.sender.close();
  }

  /**
   * The POST, in an HTTP client span that continues the status change's trace
   * (stored with the message at ingest) and whose context the partner gets as
   * `traceparent`. A partner's 4xx/5xx marks the span as an error: it is the
   * partner's answer, not a failure of ours.
   */
  private send(message: LeasedMessage, endpoint: RoutedEndpoint, headers: Record<string, string>, clientCertificate?: ClientCertificate): Promise<SendResult> {
    const url = new URL(endpoint.state.url);
    return withSpan(
      'POST',
      {
        'http.request.method': 'POST',
        'server.address': url.hostname,
        'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
        'url.scheme': url.protocol.replace(':', ''),
        'gancho.message.id': message.messageId,
        'gancho.endpoint.id': message.endpointId,
        'http.request.resend_count': message.attempts - 1,
      },
      async (span) => {
        // Keyed by endpoint: its own connections, so a hanging neighbour on the same host holds none of them.
        const result = await this.sender.send({
          endpointId: message.endpointId,
          url: endpoint.state.url,
          headers: injectTraceContext({ ...headers }),
          body: message.payload,
          ...(clientCertificate === undefined ? {} : { clientCertificate }),
        });
        if (result.kind === 'response') {
          span.setAttribute('http.response.status_code', result.status);
          if (result.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
        } else {
          recordError(span, new Error(result.errorClass));
          span.setAttribute('error.type', result.errorClass);
        }
        return result;
      },
      { kind: SpanKind.CLIENT, parent: contextFromTraceparent(message.traceContext, ROOT_CONTEXT) },
    );
  }

  private plan(result: SendResult, attemptsMade: number, now: Date): DeliveryPlan {
    const decision = classifyAttempt(result, { now });
    return planNextAttempt({ decision, attemptsMade, schedule: this.schedule, now, random: Math.random });
  }
}
