import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { handleStreamCommand, PostgresEventStore, type StreamModel } from '@gancho/event-store';
import { generateApiKey } from '@gancho/partner-auth';
import { PartnerService } from '../partners/partner-service';
import { actorOf, type Caller } from '../platform/caller';
import { CLOCK, type Clock } from '../platform/clock';
import { newId } from '../platform/ids';
import type { SubscriptionsConfig } from '../subscriptions.config';
import { portalSessionExpiry, portalSessionStreamId, type PortalSessionIssued } from './portal-session';

export interface PortalSessionView {
  /** The credential: shown once, never stored; send it as `Authorization: Bearer` or open `url`. */
  token: string;
  key_id: string;
  partner_id: string;
  display_prefix: string;
  created_at: string;
  expires_at: string;
  /** The console with the token in its fragment (never sent to a server), when CONSOLE_URL is configured. */
  url: string | null;
}

/** A session's stream holds its one event: nothing to fold. */
const sessionStream: StreamModel<null, PortalSessionIssued> = { initialState: null, evolve: () => null };

@Injectable()
export class PortalSessionService {
  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly partners: PartnerService,
    private readonly config: ConfigService<SubscriptionsConfig, true>,
    private readonly store: PostgresEventStore,
  ) {}

  async issue(partnerId: string, ttlSeconds: number | undefined, caller: Caller): Promise<PortalSessionView> {
    await this.partners.get(partnerId);
    const now = this.clock.now();
    const expiresAt = portalSessionExpiry(now, ttlSeconds, this.config.get('PORTAL_SESSION_TTL_MS', { infer: true }), this.config.get('PORTAL_SESSION_MAX_TTL_MS', { infer: true })).toISOString();
    const keyId = newId('key', now);
    const { key, keyHash, displayPrefix } = generateApiKey();
    const event: PortalSessionIssued = { type: 'PortalSessionIssued', data: { partnerId, keyId, keyHash, displayPrefix, expiresAt, occurredAt: now.toISOString() } };
    await handleStreamCommand(this.store, sessionStream, { streamId: portalSessionStreamId(keyId), type: 'IssuePortalSession', decide: () => [event] }, caller.context, {
      metadataOf: actorOf(caller),
    });
    const consoleUrl = this.config.get('CONSOLE_URL', { infer: true });
    return {
      token: key,
      key_id: keyId,
      partner_id: partnerId,
      display_prefix: displayPrefix,
      created_at: now.toISOString(),
      expires_at: expiresAt,
      url: consoleUrl ? `${consoleUrl.replace(/\/+$/, '')}/#portal=${encodeURIComponent(key)}` : null,
    };
  }
}
