import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  describeRecordEvent,
  destinationOf,
  endpointDestinationSecretContext,
  endpointEventKeySecretContext,
  endpointSecretContext,
  matchesEventTypeFilter,
  openEndpointHeaders,
  Topics,
  type ActiveCampaignMappingV1,
  type EndpointStateV1,
  type EventType,
} from '@gancho/contracts';
import { EVENT_TRANSPORT, type EventTransport, type IncomingMessage } from '@gancho/messaging';
import { SecretBox } from '@gancho/secret-box';
import { CompactedTopicFollower } from '@gancho/service-kit';
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

  /** The enabled endpoints of a partner whose filter takes this event type. */
  route(partnerId: string, type: EventType): RoutedEndpoint[] {
    const ids = this.byPartner.get(partnerId);
    if (!ids) return [];
    const routed: RoutedEndpoint[] = [];
    for (const id of ids) {
      const endpoint = this.endpoints.get(id);
      if (endpoint?.state.enabled && matchesEventTypeFilter(endpoint.state.event_types, type)) routed.push(endpoint);
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
      return;
    }
    let state: EndpointStateV1;
    try {
      state = JSON.parse(value.toString('utf8')) as EndpointStateV1;
      if (state.endpoint_id !== endpointId || typeof state.partner_id !== 'string' || !Array.isArray(state.signing_secrets)) throw new Error('not an endpoint state');
      if (typeof (state.sealed_headers ?? state.headers) !== 'object' || (state.sealed_headers ?? state.headers) === null) throw new Error('its headers are not a record');
    } catch (error) {
      // A bad record must not hold later ones (a disablement among them): log and skip.
      this.logger.error(`skipped endpoint record ${endpointId}${message ? `, ${describeRecordEvent(message)}` : ''}: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    const known = this.endpoints.get(endpointId);
    if (known && known.state.version > state.version) return;
    let secrets: RoutedEndpoint['secrets'];
    let activeCampaign: RoutedEndpoint['activeCampaign'];
    let headers: Record<string, string>;
    try {
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
    this.endpoints.set(endpointId, { state: { ...state, headers }, secrets, ...(activeCampaign ? { activeCampaign } : {}) });
    let ofPartner = this.byPartner.get(state.partner_id);
    if (!ofPartner) this.byPartner.set(state.partner_id, (ofPartner = new Set()));
    ofPartner.add(endpointId);
  }

  private remove(endpointId: string): void {
    const known = this.endpoints.get(endpointId);
    if (!known) return;
    this.endpoints.delete(endpointId);
    this.byPartner.get(known.state.partner_id)?.delete(endpointId);
  }
}
