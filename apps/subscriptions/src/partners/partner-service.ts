import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { handleStreamCommand, PostgresEventStore, WHEN_APPENDED, type SqlPart, type StreamModel } from '@gancho/event-store';
import { generateApiKey } from '@gancho/partner-auth';
import { actorOf, type Caller } from '../platform/caller';
import { CLOCK, type Clock } from '../platform/clock';
import { newId } from '../platform/ids';
import { decidePartner, evolvePartner, initialPartnerState, PartnerNotFoundError, type ApiKey, type Partner, type PartnerCommand, type PartnerEvent, type PartnerState } from '@gancho/subscriptions-domain';

export const partnerStreamId = (partnerId: string) => `partner:${partnerId}`;
const partnerStream: StreamModel<PartnerState, PartnerEvent> = { initialState: initialPartnerState, evolve: evolvePartner };

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
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly store: PostgresEventStore,
  ) {}

  /** Undefined when `claim` (an idempotency key's, with the answer) found the key taken: nothing was written. */
  async create(name: string, caller: Caller, claim?: (answer: PartnerView) => SqlPart): Promise<PartnerView | undefined> {
    const now = this.clock.now();
    const partnerId = newId('ptn', now);
    const partner = await this.run(partnerId, { type: 'CreatePartner', data: { partnerId, name }, metadata: { now } }, caller, claim && ((after) => claim(partnerView(after))));
    return partner && partnerView(partner);
  }

  /** Issues a key; the returned `key` is the only time it exists outside the partner's hands. */
  async issueKey(partnerId: string, caller: Caller): Promise<ApiKeyView & { key: string }> {
    const now = this.clock.now();
    const keyId = newId('key', now);
    const { key, keyHash, displayPrefix } = generateApiKey();
    const partner = await this.mustRun(partnerId, { type: 'IssueApiKey', data: { keyId, keyHash, displayPrefix }, metadata: { now } }, caller);
    return { ...apiKeyView(partnerId, partner.keys[keyId] as ApiKey), key };
  }

  async revokeKey(partnerId: string, keyId: string, caller: Caller): Promise<ApiKeyView> {
    const partner = await this.mustRun(partnerId, { type: 'RevokeApiKey', data: { keyId }, metadata: { now: this.clock.now() } }, caller);
    return apiKeyView(partnerId, partner.keys[keyId] as ApiKey);
  }

  async get(partnerId: string): Promise<PartnerView> {
    const [row] = await this.dataSource.query('SELECT partner_id, name, created_at FROM partners WHERE partner_id = $1', [partnerId]);
    if (!row) throw new PartnerNotFoundError(partnerId);
    return { id: row.partner_id, name: row.name, created_at: row.created_at.toISOString() };
  }

  async list(limit: number, after?: string): Promise<{ items: PartnerView[]; next_cursor: string | null }> {
    const rows: { partner_id: string; name: string; created_at: Date }[] = await this.dataSource.query('SELECT partner_id, name, created_at FROM partners WHERE partner_id > $1 ORDER BY partner_id LIMIT $2', [
      after ?? '',
      limit + 1,
    ]);
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

  /** The partner after the command, its rows written in the append's statement; undefined when the gate was closed. */
  private async run(partnerId: string, command: PartnerCommand, caller: Caller, gateFor?: (after: Partner) => SqlPart): Promise<Partner | undefined> {
    const decide = (state: PartnerState) => {
      if (command.type !== 'CreatePartner' && !state.exists) throw new PartnerNotFoundError(partnerId);
      return decidePartner(command, state);
    };
    const result = await handleStreamCommand(this.store, partnerStream, { streamId: partnerStreamId(partnerId), type: command.type, decide }, caller.context, {
      metadataOf: actorOf(caller),
      alongside: (after) => (after.exists ? partnerRows(after) : []),
      ...(gateFor ? { gate: (after: PartnerState) => gateFor(after as Partner) } : {}),
    });
    if (!result.after.exists) throw new PartnerNotFoundError(partnerId);
    return result.outcome === 'gate_closed' ? undefined : result.after;
  }

  private async mustRun(partnerId: string, command: PartnerCommand, caller: Caller): Promise<Partner> {
    const partner = await this.run(partnerId, command, caller);
    if (!partner) throw new Error('unreachable: a command without a gate is never stopped by one');
    return partner;
  }
}

/** The partner's rows, written in the append's statement. */
function partnerRows(partner: Partner): SqlPart[] {
  const keys = Object.values(partner.keys).map((key) => ({ key_id: key.keyId, display_prefix: key.displayPrefix, created_at: key.createdAt, revoked_at: key.revokedAt }));
  return [
    {
      sql: `INSERT INTO partners (partner_id, name, version, created_at) SELECT $1, $2, $3::int, $4::timestamptz WHERE ${WHEN_APPENDED}
       ON CONFLICT (partner_id) DO UPDATE SET name = EXCLUDED.name, version = EXCLUDED.version WHERE partners.version < EXCLUDED.version`,
      parameters: [partner.partnerId, partner.name, partner.version, partner.createdAt],
    },
    {
      sql: `INSERT INTO api_keys (key_id, partner_id, display_prefix, created_at, revoked_at)
       SELECT k.key_id, $1, k.display_prefix, k.created_at, k.revoked_at
         FROM jsonb_to_recordset($2::jsonb) AS k(key_id text, display_prefix text, created_at timestamptz, revoked_at timestamptz)
        WHERE ${WHEN_APPENDED}
       ON CONFLICT (key_id) DO UPDATE SET revoked_at = EXCLUDED.revoked_at`,
      parameters: [partner.partnerId, JSON.stringify(keys)],
    },
  ];
}
