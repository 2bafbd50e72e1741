import type { ConfigService } from '@nestjs/config';
import type { DataSource } from 'typeorm';
import { activeCampaignEventForm, activeCampaignUpdate, parseRetrySchedule, planNextAttempt, unauthorizedDetail, type ActiveCampaignStatusEvent, type RetrySchedule } from '@gancho/delivery-domain';
import { destinationOf, personalDataErasedEventType, type PersonalDataErasedPayload } from '@gancho/contracts';
import { WebhookSender } from '@gancho/webhook-sender';
import type { DeliveryConfig } from '../../delivery.config';
import type { LeasedMessage } from '../../dispatch/message-store';
import type { Destination, DestinationOutcome } from '../destination';
import type { RoutedEndpoint } from '../../routing/endpoint-directory';
import { ActiveCampaignClient, type ActiveCampaignCall, type ApplyBudget, type ApplyOutcome } from './activecampaign-client';
import { ActiveCampaignContacts } from './activecampaign-contacts';
import { ActiveCampaignRateLimiter } from './activecampaign-rate-limiter';

const maxSnippet = 4096;

function describeCall(call: ActiveCampaignCall): string {
  const answer = call.status === null ? (call.errorClass ?? 'no response') : String(call.status);
  return `${call.method} ${call.path} → ${answer} (${call.elapsedMs} ms)${call.errorText ? `: ${call.errorText}` : ''}`;
}

/**
 * The ActiveCampaign destination: turns a status event into AC data with the
 * endpoint's mapping and applies it through the account's API, over an
 * SSRF-guarded sender of its own (same address policy as webhooks; whole JSON
 * answers read), within the account's shared rate limit. See docs/activecampaign.md.
 * Owned by the dispatcher, which closes it.
 */
export class ActiveCampaignDestination implements Destination {
  private readonly sender: WebhookSender;
  private readonly client: ActiveCampaignClient;
  private readonly schedule: RetrySchedule;
  private readonly requestTimeoutMs: number;
  private readonly callTimeoutMs: number;
  private readonly eventsUrl: string;
  private readonly contacts: ActiveCampaignContacts;

  constructor(dataSource: DataSource, config: ConfigService<DeliveryConfig, true>) {
    this.requestTimeoutMs = config.get('REQUEST_TIMEOUT_MS', { infer: true });
    // A whole attempt (several calls) must end within the message's lease (the dispatcher's request timeout + 10 s):
    // each call gets half the timeout, and no call starts later than one call's time (and 1 s to record it) before the lease ends.
    this.callTimeoutMs = Math.max(1000, Math.floor(this.requestTimeoutMs / 2));
    this.sender = new WebhookSender({
      timeoutMs: this.callTimeoutMs,
      maxResponseBytes: 1_048_576,
      allowHttp: config.get('ALLOW_HTTP_ENDPOINTS', { infer: true }),
      allowPrivateNetworks: config.get('ALLOW_PRIVATE_NETWORK_ENDPOINTS', { infer: true }),
      allowedHosts: config.get('ALLOWED_ENDPOINT_HOSTS', { infer: true }),
      // AC calls name no endpoint: one pool of 4 per account's API origin.
      connectionsPerEndpoint: 4,
    });
    this.client = new ActiveCampaignClient(this.sender, new ActiveCampaignRateLimiter(dataSource));
    this.schedule = parseRetrySchedule(config.get('RETRY_SCHEDULE', { infer: true }));
    this.eventsUrl = config.get('ACTIVECAMPAIGN_EVENTS_URL', { infer: true });
    this.contacts = new ActiveCampaignContacts(dataSource);
  }

  /** Closes its connections (after the attempts in flight). */
  async close(): Promise<void> {
    await this.sender.close();
  }

  /**
   * One attempt: a status event's AC calls (the contact synced by e-mail,
   * its id remembered for the subject), or, for `purchase.personal_data_erased`,
   * the deletion of the subject's contacts.
   */
  async deliver(message: LeasedMessage, endpoint: RoutedEndpoint): Promise<DestinationOutcome> {
    const activeCampaign = endpoint.activeCampaign;
    if (!activeCampaign) throw new Error(`endpoint ${endpoint.state.endpoint_id} has no ActiveCampaign destination`);
    const account = { apiUrl: activeCampaign.apiUrl, apiToken: activeCampaign.apiToken };
    if (message.eventType === personalDataErasedEventType) return this.eraseContacts(message, endpoint, account);
    const event = (JSON.parse(message.payload) as { data: ActiveCampaignStatusEvent & { student: { id?: string } } }).data;
    // A body redacted after the student's erasure (a retry, a resend): no contact to find, nothing to sync.
    if (typeof event.student.email !== 'string') return nothingToSync(message, this.schedule);
    const update = activeCampaignUpdate(event, activeCampaign.mapping);
    const startedAt = new Date();
    const tracking = activeCampaign.eventTracking;
    const outcome: ApplyOutcome = await this.client.apply(
      account,
      update,
      this.budget(startedAt),
      tracking ? { url: this.eventsUrl, form: activeCampaignEventForm(event, tracking), eventKey: tracking.eventKey } : undefined,
    );
    // The contact's id (not personal data) per subject, so the student's erasure can delete it.
    if (outcome.kind === 'applied' && outcome.contactId && event.student.id) {
      await this.contacts.remember(endpoint.state.endpoint_id, event.student.id, outcome.contactId);
      // The student's erasure was processed while this sync was in flight: its deletion found no contact id to delete,
      // so this sync deletes what it just made (the erasure is recorded before its notices are stored, so one of the two sees the other).
      const destination = destinationOf(endpoint.state);
      if (destination.type === 'activecampaign' && destination.on_erasure === 'delete' && (await this.contacts.isErased(event.student.id))) {
        const erased = await this.client.deleteContacts(account, [outcome.contactId], this.budget(new Date()));
        if (erased.kind === 'applied') await this.contacts.forget(endpoint.state.endpoint_id, event.student.id);
      }
    }
    return this.outcomeOf(outcome, message, startedAt, activeCampaign.apiUrl);
  }

  /** The erasure of a student at an account configured to delete: every contact synced for the subject, deleted by id. */
  private async eraseContacts(message: LeasedMessage, endpoint: RoutedEndpoint, account: { apiUrl: string; apiToken: string }): Promise<DestinationOutcome> {
    const subjectId = (JSON.parse(message.payload) as PersonalDataErasedPayload).data.student.id;
    const endpointId = endpoint.state.endpoint_id;
    const contactIds = await this.contacts.of(endpointId, subjectId);
    const startedAt = new Date();
    const outcome = await this.client.deleteContacts(account, contactIds, this.budget(startedAt));
    if (outcome.kind === 'applied') await this.contacts.forget(endpointId, subjectId);
    return this.outcomeOf(outcome, message, startedAt, account.apiUrl);
  }

  private budget(startedAt: Date): ApplyBudget {
    return { startCallsBy: startedAt.getTime() + this.requestTimeoutMs + 4_000 - this.callTimeoutMs, maxFirstWaitMs: 2_000 };
  }

  /**
   * One attempt's record: the sequence of AC calls is one attempt, with the
   * status of the failing (or last) call, AC's error text, and a snippet
   * listing every call; or nothing sent yet when the account's rate limit is
   * booked up.
   */
  private outcomeOf(outcome: ApplyOutcome, message: LeasedMessage, startedAt: Date, apiUrl: string): DestinationOutcome {
    if (outcome.kind === 'postpone') return { kind: 'postpone', delayMs: outcome.delayMs };
    const finishedAt = new Date();
    const decision = outcome.kind === 'applied' ? ({ outcome: 'succeeded' } as const) : outcome.decision;
    const plan = planNextAttempt({ decision, attemptsMade: message.attempts, schedule: this.schedule, now: finishedAt, random: Math.random });
    const failed = outcome.kind === 'failed' ? outcome.failedCall : null;
    const last = failed ?? outcome.calls.at(-1) ?? null;
    let snippet = outcome.calls.map(describeCall).join('\n');
    if (outcome.kind === 'failed' && failed === null) snippet += `${snippet ? '\n' : ''}(stopped: the account's rate limit had no free slot in time)`;
    if (snippet.length > maxSnippet) snippet = `${snippet.slice(0, maxSnippet - 1)}…`;
    return {
      kind: 'attempted',
      startedAt,
      finishedAt,
      latencyMs: finishedAt.getTime() - startedAt.getTime(),
      statusCode: last?.status ?? null,
      errorClass: failed?.errorClass ?? (outcome.kind === 'failed' && failed === null ? 'rate_limited' : null),
      errorMessage: failed?.errorText?.slice(0, 500) ?? null,
      responseSnippet: snippet,
      plan,
      // For the partner, when the plan disables the endpoint (a refused token).
      ...(plan.state === 'endpoint_disabled' && failed ? { disableDetail: unauthorizedDetail(failed.status ?? 0, apiUrl, failed.errorText ?? '') } : {}),
    };
  }
}

function nothingToSync(message: LeasedMessage, schedule: RetrySchedule): DestinationOutcome {
  const at = new Date();
  const plan = planNextAttempt({ decision: { outcome: 'succeeded' }, attemptsMade: message.attempts, schedule, now: at, random: Math.random });
  return { kind: 'attempted', startedAt: at, finishedAt: at, latencyMs: 0, statusCode: null, errorClass: null, errorMessage: null, responseSnippet: '(the student was erased: nothing to sync)', plan };
}
