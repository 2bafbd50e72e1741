import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { PostgresEventStore } from '@gancho/event-store';
import { generateApiKey } from '@gancho/partner-auth';
import { CLOCK, type Clock } from '../platform/clock';
import { newId } from '../platform/ids';
import { runStreamCommand, type CommandContext } from '../platform/stream-command';
import {
  decidePartner,
  evolvePartner,
  initialPartnerState,
  PartnerNotFoundError,
  type ApiKey,
  type Partner,
  type PartnerCommand,
  type PartnerEvent,
  type PartnerState,
} from './domain/partner';

export const partnerStreamId = (partnerId: string) => `partner:${partnerId}`;
const partnerAggregate = { initial: initialPartnerState, evolve: evolvePartner };

export interface PartnerView {
  id: string;
  name: string;
  created_at: string;
}

export interface ApiKeyView {
  id: string;
  partner_id: string;
  display_prefix: string;
  revoked: boolean;
  created_at: string;
  revoked_at: string | null;
}

export const partnerView = (partner: Pick<Partner, 'partnerId' | 'name' | 'createdAt'>): PartnerView => ({
  id: partner.partnerId,
  name: partner.name,
  created_at: partner.createdAt,
});

export const apiKeyView = (partnerId: string, key: Omit<ApiKey, 'keyHash'>): ApiKeyView => ({
  id: key.keyId,
  partner_id: partnerId,
  display_prefix: key.displayPrefix,
  revoked: key.revokedAt !== null,
  created_at: key.createdAt,
  revoked_at: key.revokedAt,
});

/** Partners and their API keys: commands on `partner:{id}` streams, listings from the read model. */
@Injectable()
export class PartnerService {
  private readonly store: PostgresEventStore;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.store = new PostgresEventStore(dataSource);
  }

  async create(name: string, context: CommandContext): Promise<PartnerView> {
    const now = this.clock.now();
    const partnerId = newId('ptn', now);
    const partner = await this.run(partnerId, { type: 'CreatePartner', data: { partnerId, name }, metadata: { now } }, context);
    return partnerView(partner);
  }

  /** Issues a key; the returned `key` is the only time it exists outside the partner's hands. */
  async issueKey(partnerId: string, context: CommandContext): Promise<ApiKeyView & { key: string }> {
    const now = this.clock.now();
    const keyId = newId('key', now);
    const { key, keyHash, displayPrefix } = generateApiKey();
    const partner = await this.run(partnerId, { type: 'IssueApiKey', data: { keyId, keyHash, displayPrefix }, metadata: { now } }, context);
    return { ...apiKeyView(partnerId, partner.keys[keyId] as ApiKey), key };
  }

  async revokeKey(partnerId: string, keyId: string, context: CommandContext): Promise<ApiKeyView> {
    const partner = await this.run(partnerId, { type: 'RevokeApiKey', data: { keyId }, metadata: { now: this.clock.now() } }, context);
    return apiKeyView(partnerId, partner.keys[keyId] as ApiKey);
  }

  async get(partnerId: string): Promise<PartnerView> {
    const [row] = await this.dataSource.query('SELECT partner_id, name, created_at FROM partners WHERE partner_id = $1', [partnerId]);
    if (!row) throw new PartnerNotFoundError(partnerId);
    return { id: row.partner_id, name: row.name, created_at: row.created_at.toISOString() };
  }

  async list(limit: number, after?: string): Promise<{ items: PartnerView[]; next_cursor: string | null }> {
    const rows: { partner_id: string; name: string; created_at: Date }[] = await this.dataSource.query(
      'SELECT partner_id, name, created_at FROM partners WHERE partner_id > $1 ORDER BY partner_id LIMIT $2',
      [after ?? '', limit + 1],
    );
    const page = rows.slice(0, limit);
    return {
      items: page.map((row) => ({ id: row.partner_id, name: row.name, created_at: row.created_at.toISOString() })),
      next_cursor: rows.length > limit ? (page.at(-1)?.partner_id ?? null) : null,
    };
  }

  async listKeys(partnerId: string): Promise<ApiKeyView[]> {
    await this.get(partnerId);
    const rows: { key_id: string; display_prefix: string; created_at: Date; revoked_at: Date | null }[] = await this.dataSource.query(
      'SELECT key_id, display_prefix, created_at, revoked_at FROM api_keys WHERE partner_id = $1 ORDER BY key_id',
      [partnerId],
    );
    return rows.map((row) =>
      apiKeyView(partnerId, {
        keyId: row.key_id,
        displayPrefix: row.display_prefix,
        createdAt: row.created_at.toISOString(),
        revokedAt: row.revoked_at?.toISOString() ?? null,
      }),
    );
  }

  private async run(partnerId: string, command: PartnerCommand, context: CommandContext): Promise<Partner> {
    const { after } = await runStreamCommand<PartnerState, PartnerEvent>(
      this.store,
      partnerAggregate,
      partnerStreamId(partnerId),
      (state) => {
        if (command.type !== 'CreatePartner' && !state.exists) throw new PartnerNotFoundError(partnerId);
        return decidePartner(command, state);
      },
      context,
    );
    if (!after.exists) throw new PartnerNotFoundError(partnerId);
    await projectPartner(context.manager, after);
    return after;
  }
}

/** Writes the partner's rows in the caller's transaction. */
async function projectPartner(manager: EntityManager, partner: Partner): Promise<void> {
  await manager.query(
    `INSERT INTO partners (partner_id, name, version, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (partner_id) DO UPDATE SET name = EXCLUDED.name, version = EXCLUDED.version WHERE partners.version < EXCLUDED.version`,
    [partner.partnerId, partner.name, partner.version, partner.createdAt],
  );
  for (const key of Object.values(partner.keys)) {
    await manager.query(
      `INSERT INTO api_keys (key_id, partner_id, display_prefix, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (key_id) DO UPDATE SET revoked_at = EXCLUDED.revoked_at`,
      [key.keyId, partner.partnerId, key.displayPrefix, key.createdAt, key.revokedAt],
    );
  }
}
