import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { openEndpointAuth, type RoutedAuth } from './endpoint-auth';
import { ConfigService } from '@nestjs/config';
import {
  describeRecordEvent,
  destinationOf,
  endpointDestinationSecretContext,
  endpointDestinationTypes,
  endpointEventKeySecretContext,
  endpointSecretContext,
  matchesOperationalEventType,
  openEndpointHeaders,
  Topics,
  type ActiveCampaignMappingV1,
  type EndpointDestinationType,
  type EndpointStateV1,
  type WebhookEventType,
  type OperationalEventType,
} from '@gancho/contracts';
import { compilePayloadFilter, parsePayloadFilter, receivesEvent, receivesEventType, type PayloadPredicate } from '@gancho/delivery-domain';
import { EVENT_TRANSPORT, type EventTransport, type IncomingMessage } from '@gancho/messaging';
import { SecretBox } from '@gancho/secret-box';
import { CompactedTopicFollower, topicRecordValidator } from '@gancho/service-kit';
import type { DeliveryConfig } from '../delivery.config';

export interface RoutedEndpoint {
  /** The state as published, but with `headers` the extra request headers in the clear (opened from `sealed_headers`; never logged). */
  state: EndpointStateV1;
  /** Opened signing secrets with their windows (never logged). */
  secrets: { secret: string; validFrom: number; validUntil: number | null }[];
  /** Set when the endpoint delivers to ActiveCampaign rather than by webhook: the opened API token (never logged). */
  activeCampaign?: {
    apiUrl: string;
    apiToken: string;
    mapping: ActiveCampaignMappingV1;
    /** Event tracking, with the opened event key (never logged); null when off. */
    eventTracking: { actid: string; eventKey: string } | null;
  };
  /** The payload filter compiled once per state; absent when the endpoint has none (then nothing is evaluated). */
  matches?: PayloadPredicate;
  /** Set when the endpoint has authentication besides the signature: its credential opened (never logged). */
  auth?: RoutedAuth;
}

/** An endpoint held back: its partner when the record names one, and what this release could not read. */
export interface HeldBackEndpoint {
  partnerId: string | null;
  problems: string[];
}

/** What in a record of the endpoints topic this release cannot honour (empty when it can act on it). */
export function endpointStateProblems(endpointId: string, value: unknown): string[] {
  let problems = topicRecordValidator().valueProblems(Topics.endpoints, value);
  const destinationType = (value as { destination?: { type?: unknown } } | null)?.destination?.type;
  if (destinationType !== undefined && !endpointDestinationTypes.includes(destinationType as EndpointDestinationType)) {
    // Said plainly instead of the schema's oneOf details; a type name is no secret, but only a plausible one is echoed.
    const name = typeof destinationType === 'string' && /^[a-z0-9_.-]{1,40}$/.test(destinationType) ? destinationType : '?';
    problems = [`value/destination/type ${name} is not a destination this release knows`, ...problems.filter((p) => !p.startsWith('value/destination'))];
  }
  if ((value as { endpoint_id?: unknown } | null)?.endpoint_id !== endpointId) problems.push('value/endpoint_id does not equal the key');
  // A filter this release cannot evaluate (an operator of a newer one) must not turn into "deliver everything".
  const filter = (value as { payload_filter?: unknown } | null)?.payload_filter;
  if (filter !== undefined && problems.length === 0) problems.push(...parsePayloadFilter(filter).problems.map((p) => `value/payload_filter${p.at === '' ? '' : `/${p.at}`} ${p.reason}`));
  return problems;
}

/**
 * The routing table: every endpoint's latest state from the compacted
 * `subscriptions.endpoints.v1`, indexed by partner. Rebuilt at start by
 * reading the whole topic, then kept current; an older version of an endpoint
 * never replaces a newer one. Takes both shapes of custom headers: sealed
 * (`sealed_headers`) and, from states published before they were sealed, plain.
 */
@Injectable()
export class EndpointDirectory implements OnApplicationShutdown {
  private readonly logger = new Logger('EndpointDirectory');
  private readonly endpoints = new Map<string, RoutedEndpoint>();
  private readonly byPartner = new Map<string, Set<string>>();
  private readonly heldBack = new Map<string, HeldBackEndpoint>();
  private readonly box: SecretBox;
  private readonly follower: CompactedTopicFollower;

  constructor(@Inject(EVENT_TRANSPORT) transport: EventTransport, config: ConfigService<DeliveryConfig, true>) {
    this.box = SecretBox.fromConfig(config.get('SECRETS_ENCRYPTION_KEY', { infer: true }));
    this.follower = new CompactedTopicFollower({
      transport,
      topic: config.get('ENDPOINTS_TOPIC', { infer: true }),
      contract: Topics.endpoints,
      groupPrefix: 'gancho-delivery.endpoints',
      maxWarmupMs: config.get('ENDPOINTS_WARMUP_MS', { infer: true }),
      apply: (key, value, message) => this.apply(key, value, message),
    });
  }

  start(): Promise<void> {
    return this.follower.start();
  }

  waitUntilCaughtUp(): Promise<void> {
    return this.follower.waitUntilCaughtUp();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.follower.stop();
  }

  get(endpointId: string): RoutedEndpoint | undefined {
    return this.endpoints.get(endpointId);
  }

  /**
   * The enabled endpoints of a partner whose event-type filter takes this type
   * and whose payload filter (if any) matches `data`. Without `data` (the
   * erasure notice, which a partner must get whatever its filter says) payload
   * filters are not applied.
   */
  route(partnerId: string, type: WebhookEventType, data?: unknown): RoutedEndpoint[] {
    const ids = this.byPartner.get(partnerId);
    if (!ids) return [];
    const routed: RoutedEndpoint[] = [];
    for (const id of ids) {
      const endpoint = this.endpoints.get(id);
      if (endpoint && (data === undefined ? receivesEventType(endpoint, type) : receivesEvent(endpoint, type, data))) routed.push(endpoint);
    }
    return routed;
  }

  /** The enabled ActiveCampaign endpoints of a partner configured to delete a contact on its student's erasure (whatever their filter). */
  erasingActiveCampaigns(partnerId: string): RoutedEndpoint[] {
    return [...(this.byPartner.get(partnerId) ?? [])].flatMap((id) => {
      const endpoint = this.endpoints.get(id);
      const destination = endpoint && destinationOf(endpoint.state);
      return endpoint?.state.enabled && endpoint.activeCampaign && destination?.type === 'activecampaign' && destination.on_erasure === 'delete' ? [endpoint] : [];
    });
  }

  /**
   * The enabled webhook endpoints of a partner whose filter names this
   * operational event type, but `aboutEndpointId`: an endpoint is never told
   * about its own trouble (it may be the trouble).
   */
  routeOperational(partnerId: string, type: OperationalEventType, aboutEndpointId: string): RoutedEndpoint[] {
    const routed: RoutedEndpoint[] = [];
    for (const id of this.byPartner.get(partnerId) ?? []) {
      const endpoint = this.endpoints.get(id);
      if (id !== aboutEndpointId && endpoint?.state.enabled && !endpoint.activeCampaign && matchesOperationalEventType(endpoint.state.event_types, type)) routed.push(endpoint);
    }
    return routed;
  }

  /** The secrets to sign with at `now`: the current one, and the previous one during a rotation. */
  signingSecrets(endpoint: RoutedEndpoint, now: Date): string[] {
    const t = now.getTime();
    return endpoint.secrets.filter((s) => s.validFrom <= t && (s.validUntil === null || t < s.validUntil)).map((s) => s.secret);
  }

  get size(): number {
    return this.endpoints.size;
  }

  /** How many endpoints are enabled, and how many are disabled for each reason (for metrics). */
  countsByState(): { enabled: boolean; reason: string | null; count: number }[] {
    const counts = new Map<string, { enabled: boolean; reason: string | null; count: number }>();
    for (const { state } of this.endpoints.values()) {
      const reason = state.enabled ? null : (state.disabled_reason ?? 'unknown');
      const key = `${state.enabled}:${reason}`;
      const entry = counts.get(key) ?? { enabled: state.enabled, reason, count: 0 };
      entry.count += 1;
      counts.set(key, entry);
    }
    return [...counts.values()];
  }

  /** Applies one record of the topic (exported for tests of the table itself). */
  apply(endpointId: string, value: Buffer | null, message?: IncomingMessage): void {
    if (value === null) {
      this.remove(endpointId);
      this.heldBack.delete(endpointId);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(value.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    const known = this.endpoints.get(endpointId);
    const version = (parsed as { version?: unknown } | undefined)?.version;
    if (known && typeof version === 'number' && known.state.version > version) return;
    const problems = parsed === undefined ? ['value is not JSON'] : endpointStateProblems(endpointId, parsed);
    if (problems.length > 0) {
      this.holdBack(endpointId, parsed, problems, message);
      return;
    }
    const state = parsed as EndpointStateV1;
    this.heldBack.delete(endpointId);
    let secrets: RoutedEndpoint['secrets'];
    let activeCampaign: RoutedEndpoint['activeCampaign'];
    let headers: Record<string, string>;
    let auth: RoutedAuth | undefined;
    try {
      auth = openEndpointAuth(state, (sealed, context) => this.box.open(sealed, context));
      headers = openEndpointHeaders(state, (sealed, context) => this.box.open(sealed, context));
      secrets = state.signing_secrets.map((s) => ({
        secret: this.box.open(s.sealed, endpointSecretContext(endpointId)),
        validFrom: Date.parse(s.valid_from),
        validUntil: s.valid_until === null ? null : Date.parse(s.valid_until),
      }));
      const destination = destinationOf(state);
      if (destination.type === 'activecampaign') {
        const apiToken = this.box.open(destination.api_token_sealed, endpointDestinationSecretContext(endpointId));
        const tracking = destination.event_tracking ?? null;
        const eventTracking = tracking === null ? null : { actid: tracking.actid, eventKey: this.box.open(tracking.event_key_sealed, endpointEventKeySecretContext(endpointId)) };
        activeCampaign = { apiUrl: destination.api_url, apiToken, mapping: destination.mapping, eventTracking };
      }
    } catch (error) {
      this.logger.error(`endpoint ${endpointId}: a sealed secret of it does not open with the configured keys (${error instanceof Error ? error.message : 'error'}); not routing to it`);
      this.remove(endpointId);
      return;
    }
    if (known && known.state.partner_id !== state.partner_id) this.byPartner.get(known.state.partner_id)?.delete(endpointId);
    const filter = state.payload_filter === undefined ? undefined : parsePayloadFilter(state.payload_filter).filter;
    const matches = filter && compilePayloadFilter(filter);
    // `matches` is always a property (undefined without a filter), so every endpoint has the same shape where routing reads it.
    this.endpoints.set(endpointId, { state: { ...state, headers }, secrets, matches, ...(activeCampaign ? { activeCampaign } : {}), ...(auth ? { auth } : {}) });
    let ofPartner = this.byPartner.get(state.partner_id);
    if (!ofPartner) this.byPartner.set(state.partner_id, (ofPartner = new Set()));
    ofPartner.add(endpointId);
  }

  /** An endpoint whose latest state this release cannot fully read: it receives nothing (see `holdBack`). */
  heldBackState(endpointId: string): HeldBackEndpoint | undefined {
    return this.heldBack.get(endpointId);
  }

  /** How many endpoints are held back (for metrics). */
  get heldBackCount(): number {
    return this.heldBack.size;
  }

  /**
   * Must-understand: an endpoint whose latest state this release cannot fully
   * read (an unknown destination type or field, a newer version) gets
   * nothing, never a fallback to what it reads of it, nor its older state.
   * The record stays on the compacted topic, so a delivery that reads it acts
   * on it; its pending messages wait (see the dispatcher). The log names the
   * rules broken, never the values (they hold sealed secrets and URLs).
   */
  private holdBack(endpointId: string, value: unknown, problems: string[], message?: IncomingMessage): void {
    const partnerId = (value as { partner_id?: unknown } | undefined)?.partner_id;
    const known = this.endpoints.get(endpointId);
    this.remove(endpointId);
    this.heldBack.set(endpointId, { partnerId: typeof partnerId === 'string' ? partnerId : (known?.state.partner_id ?? null), problems });
    this.logger.warn(
      `endpoint ${endpointId}${message ? ` (${describeRecordEvent(message)})` : ''}: this release cannot fully read its state (${problems.slice(0, 5).join('; ')}); sending nothing to it until a delivery that reads it runs`,
    );
  }

  private remove(endpointId: string): void {
    const known = this.endpoints.get(endpointId);
    if (!known) return;
    this.endpoints.delete(endpointId);
    this.byPartner.get(known.state.partner_id)?.delete(endpointId);
  }
}
