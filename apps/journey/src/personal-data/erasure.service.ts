import { randomBytes, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { Topics, type PersonalDataErasureV1 } from '@gancho/contracts';
import { PostgresEventStore } from '@gancho/event-store';
import { ProblemError } from '@gancho/service-kit';
import type { JourneyConfig } from '../journey.config';
import { subjectStreamId } from './subject-keyring';

/** Stored on the subject's stream when its key is destroyed; the relays publish the key's tombstone and the erasure record from it. */
export interface SubjectErased {
  type: 'SubjectErased';
  data: { erasureId: string; subjectId: string; purchases: PersonalDataErasureV1['purchases']; erasedAt: string; requestedBy: string };
}

/** What an erasure did, and where (the answer of POST /students/{subject_id}/erasure; no personal data). */
export interface ErasureResult {
  erasure_id: string;
  subject_id: string;
  erased_at: string;
  requested_by: string;
  purchases: PersonalDataErasureV1['purchases'];
  /** Every store of journey that held the subject's personal data, and what happened to it. */
  stores: { store: string; action: string; count?: number }[];
  /** Every topic that carried it, and what the erasure publishes there. */
  topics: { topic: string; action: string }[];
}

export function subjectNotFound(subjectId: string): ProblemError {
  return new ProblemError('SUBJECT_NOT_FOUND', `There is no data subject ${subjectId}.`, { subjectId });
}

/**
 * Erases a data subject (LGPD art. 18, VI) by destroying its key
 * (crypto-shredding): in ONE transaction the sealed key and the e-mail's
 * blind index are set to NULL, the purchases read model's sealed student is
 * redacted, the platform's stored idempotent answers that hold the student
 * are deleted, the audit row is written and SubjectErased is appended, from
 * which the outbox relays publish the key's tombstone and the erasure record
 * (a crash loses neither). Every event that sealed the student under the key
 * (the store is immutable; backups too) stops opening at once. Idempotent:
 * a second erasure of the subject answers the first one's result.
 */
@Injectable()
export class ErasureService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly store: PostgresEventStore,
    private readonly config: ConfigService<JourneyConfig, true>,
  ) {}

  async erase(subjectId: string, requestedBy: string, now: Date): Promise<{ result: ErasureResult; repeated: boolean }> {
    return this.dataSource.transaction(async (manager) => {
      const [subject]: { erased_at: Date | null }[] = await manager.query('SELECT erased_at FROM data_subjects WHERE subject_id = $1 FOR UPDATE', [subjectId]);
      if (!subject) throw subjectNotFound(subjectId);
      if (subject.erased_at !== null) {
        const [audit]: { result: ErasureResult }[] = await manager.query('SELECT result FROM personal_data_erasures WHERE subject_id = $1', [subjectId]);
        if (!audit) throw new Error(`subject ${subjectId} is erased without an audit record`);
        return { result: audit.result, repeated: true };
      }
      const purchases: { purchase_id: string; partner_id: string }[] = await manager.query('SELECT purchase_id, partner_id FROM purchases WHERE subject_id = $1 ORDER BY purchase_id FOR UPDATE', [subjectId]);
      const purchaseIds = purchases.map((p) => p.purchase_id);
      const [events]: { count: number }[] = await manager.query(`SELECT count(*)::int AS count FROM events WHERE stream_id = ANY($1)`, [purchaseIds.map((id) => `purchase:${id}`)]);
      await manager.query('UPDATE data_subjects SET sealed_key = NULL, master_key_id = NULL, email_index = NULL, erased_at = $2 WHERE subject_id = $1', [subjectId, now]);
      await manager.query(`UPDATE purchases SET student = jsonb_build_object('subject_id', subject_id, 'sealed', null) WHERE subject_id = $1`, [subjectId]);
      // The platform's replayable answers (24 h) hold the student as the API showed it.
      const idempotent: unknown[] = await manager.query(`DELETE FROM idempotency_keys WHERE scope = 'platform' AND response_body->>'purchase_id' = ANY($1) RETURNING 1`, [purchaseIds]);
      const erasureId = `era_${randomBytes(16).toString('hex')}`;
      const result: ErasureResult = {
        erasure_id: erasureId,
        subject_id: subjectId,
        erased_at: now.toISOString(),
        requested_by: requestedBy,
        purchases,
        stores: [
          { store: 'journey.data_subjects', action: 'subject key and e-mail index destroyed' },
          { store: 'journey.events', action: 'sealed under the destroyed key: unreadable, not rewritten', count: events?.count ?? 0 },
          { store: 'journey.purchases', action: 'student redacted', count: purchases.length },
          { store: 'journey.idempotency_keys', action: 'stored answers deleted', count: idempotent.length },
        ],
        topics: [
          { topic: Topics.subjectKeys, action: 'tombstone: delivery forgets the key; compaction removes the sealed key' },
          { topic: Topics.personalDataErasures, action: 'erasure record: delivery purges its copies and tells the partners' },
          { topic: Topics.purchaseStatusV2, action: 'sealed under the destroyed key: unreadable' },
          {
            topic: Topics.purchaseStatus,
            action: this.config.get('PUBLISH_STATUS_V1', { infer: true }) ? 'published in clear (PUBLISH_STATUS_V1): ages out with the topic retention' : 'not published',
          },
        ],
      };
      await manager.query('INSERT INTO personal_data_erasures (erasure_id, subject_id, requested_by, purchases, result, erased_at) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6)', [
        erasureId,
        subjectId,
        requestedBy,
        JSON.stringify(purchases),
        JSON.stringify(result),
        now,
      ]);
      const erased: SubjectErased = { type: 'SubjectErased', data: { erasureId, subjectId, purchases, erasedAt: now.toISOString(), requestedBy } };
      await this.store.appendToStream(subjectStreamId(subjectId), [{ eventId: randomUUID(), type: erased.type, data: erased.data, metadata: {} }], { expectedVersion: 'any', manager });
      return { result, repeated: false };
    });
  }

  /** The subject of a purchase (its student), if the purchase is known. */
  async subjectOfPurchase(purchaseId: string): Promise<string | undefined> {
    const rows: { subject_id: string | null }[] = await this.dataSource.query('SELECT subject_id FROM purchases WHERE purchase_id = $1', [purchaseId]);
    return rows[0]?.subject_id ?? undefined;
  }
}
