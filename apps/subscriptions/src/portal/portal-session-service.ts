import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { PostgresEventStore } from '@gancho/event-store';
import { generateApiKey } from '@gancho/partner-auth';
import { PartnerService } from '../partners/partner-service';
import { CLOCK, type Clock } from '../platform/clock';
import { newId } from '../platform/ids';
import { runStreamCommand, type CommandContext } from '../platform/stream-command';
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

type SessionState = { version: number };
const sessionAggregate = { initial: { version: 0 } as SessionState, evolve: (state: SessionState): SessionState => ({ version: state.version + 1 }) };

@Injectable()
export class PortalSessionService {
  private readonly store: PostgresEventStore;

  constructor(
    @InjectDataSource() dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly partners: PartnerService,
    private readonly config: ConfigService<SubscriptionsConfig, true>,
  ) {
    this.store = new PostgresEventStore(dataSource);
  }

  async issue(partnerId: string, ttlSeconds: number | undefined, context: CommandContext): Promise<PortalSessionView> {
    await this.partners.get(partnerId);
    const now = this.clock.now();
    const expiresAt = portalSessionExpiry(
      now,
      ttlSeconds,
      this.config.get('PORTAL_SESSION_TTL_MS', { infer: true }),
      this.config.get('PORTAL_SESSION_MAX_TTL_MS', { infer: true }),
    ).toISOString();
    const keyId = newId('key', now);
    const { key, keyHash, displayPrefix } = generateApiKey();
    const event: PortalSessionIssued = { type: 'PortalSessionIssued', data: { partnerId, keyId, keyHash, displayPrefix, expiresAt, occurredAt: now.toISOString() } };
    await runStreamCommand(this.store, sessionAggregate, portalSessionStreamId(keyId), () => [event], context);
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
