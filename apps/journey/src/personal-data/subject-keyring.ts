import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { PostgresEventStore } from '@gancho/event-store';
import { SecretBox } from '@gancho/secret-box';
import type { JourneyConfig } from '../journey.config';
import type { SubjectKey } from './student-codec';

export const subjectStreamId = (subjectId: string) => `subject:${subjectId}`;
const subjectKeyContext = (subjectId: string) => `subject-key-at-rest:${subjectId}`;

/** Stored on the subject's stream when journey first sees the e-mail: no key, no personal data (the event store is immutable). */
export interface SubjectRegistered {
  type: 'SubjectRegistered';
  data: { subjectId: string; keyId: string; occurredAt: string };
}

interface SubjectRow {
  subject_id: string;
  key_id: string;
  sealed_key: string | null;
  erased_at: Date | null;
}

export function normalisedEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * Journey's data subjects and their keys (journey.data_subjects). A subject
 * is found by the blind index of its e-mail (HMAC-SHA256 under
 * PERSONAL_DATA_INDEX_KEY); its 32-byte key is stored only sealed under the
 * current master key (PERSONAL_DATA_MASTER_KEYS, first one seals, each opens).
 */
@Injectable()
export class SubjectKeyring {
  private readonly logger = new Logger('SubjectKeyring');
  private readonly master: SecretBox;
  private readonly indexKey: Buffer;

  constructor(
    config: ConfigService<JourneyConfig, true>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly store: PostgresEventStore,
  ) {
    this.master = SecretBox.fromConfig(config.get('PERSONAL_DATA_MASTER_KEYS', { infer: true }));
    this.indexKey = Buffer.from(String(config.get('PERSONAL_DATA_INDEX_KEY', { infer: true })), 'base64');
  }

  emailIndex(email: string): string {
    return createHmac('sha256', this.indexKey).update(normalisedEmail(email), 'utf8').digest('hex');
  }

  /**
   * The live subject of an e-mail, registered (key made, sealed, stored, and
   * SubjectRegistered appended) in one transaction if journey has not seen
   * the e-mail, or only erased subjects had it.
   */
  async ensureSubject(email: string, now: Date): Promise<SubjectKey> {
    const index = this.emailIndex(email);
    return this.dataSource.transaction(async (manager) => {
      const subjectId = `sub_${randomBytes(16).toString('hex')}`;
      const keyId = `sk_${randomBytes(8).toString('hex')}`;
      const key = randomBytes(32);
      const inserted: { subject_id: string }[] = await manager.query(
        `INSERT INTO data_subjects (subject_id, email_index, key_id, sealed_key, master_key_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (email_index) WHERE email_index IS NOT NULL DO NOTHING
         RETURNING subject_id`,
        [subjectId, index, keyId, this.master.seal(key.toString('base64'), subjectKeyContext(subjectId)), this.master.currentKeyId, now],
      );
      if (inserted.length === 0) {
        const [row]: SubjectRow[] = await manager.query('SELECT subject_id, key_id, sealed_key, erased_at FROM data_subjects WHERE email_index = $1', [index]);
        if (!row) throw new Error('a data subject of this e-mail vanished while it was being registered');
        return this.keyOf(row);
      }
      const registered: SubjectRegistered = { type: 'SubjectRegistered', data: { subjectId, keyId, occurredAt: now.toISOString() } };
      await this.store.appendToStream(subjectStreamId(subjectId), [{ eventId: randomUUID(), type: registered.type, data: registered.data, metadata: {} }], {
        expectedVersion: 'no_stream',
        manager,
      });
      return { subjectId, keyId, key, erasedAt: null };
    });
  }

  /** The live subject of an e-mail, if any (erased subjects forget their e-mail's index). */
  async findByEmail(email: string): Promise<string | undefined> {
    const rows: { subject_id: string }[] = await this.dataSource.query('SELECT subject_id FROM data_subjects WHERE email_index = $1', [this.emailIndex(email)]);
    return rows[0]?.subject_id;
  }

  /** The keys of these subjects (opened), erased ones with a null key; subjects journey does not know are left out. */
  async keysOf(subjectIds: Iterable<string>, manager: EntityManager = this.dataSource.manager): Promise<Map<string, SubjectKey>> {
    const ids = [...new Set(subjectIds)];
    const keys = new Map<string, SubjectKey>();
    if (ids.length === 0) return keys;
    const rows: SubjectRow[] = await manager.query('SELECT subject_id, key_id, sealed_key, erased_at FROM data_subjects WHERE subject_id = ANY($1)', [ids]);
    for (const row of rows) keys.set(row.subject_id, this.keyOf(row));
    return keys;
  }

  /** The key of a purchase's subject, through the read model (undefined for a purchase journey does not have, or one from before the LGPD release). */
  async keyOfPurchase(purchaseId: string, manager: EntityManager = this.dataSource.manager): Promise<SubjectKey | undefined> {
    const rows: SubjectRow[] = await manager.query('SELECT d.subject_id, d.key_id, d.sealed_key, d.erased_at FROM purchases p JOIN data_subjects d ON d.subject_id = p.subject_id WHERE p.purchase_id = $1', [purchaseId]);
    return rows[0] ? this.keyOf(rows[0]) : undefined;
  }

  private keyOf(row: SubjectRow): SubjectKey {
    const key = row.sealed_key === null ? null : Buffer.from(this.master.open(row.sealed_key, subjectKeyContext(row.subject_id)), 'base64');
    return { subjectId: row.subject_id, keyId: row.key_id, key, erasedAt: row.erased_at };
  }

  /**
   * Moves every subject key sealed under an older master key to the current
   * one (after a rotation: put the new master key first in
   * PERSONAL_DATA_MASTER_KEYS, restart, and once this has run the old key may
   * be dropped). Batches of `batchSize`, each row locked and skipped by a
   * concurrent re-seal; returns how many keys it moved.
   */
  async resealKeys(batchSize = 500): Promise<number> {
    let moved = 0;
    for (;;) {
      const count = await this.dataSource.transaction(async (manager) => {
        const rows: (SubjectRow & { sealed_key: string })[] = await manager.query(
          `SELECT subject_id, key_id, sealed_key, erased_at FROM data_subjects
            WHERE master_key_id IS NOT NULL AND master_key_id <> $1 ORDER BY subject_id LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [this.master.currentKeyId, batchSize],
        );
        for (const row of rows) {
          const context = subjectKeyContext(row.subject_id);
          await manager.query('UPDATE data_subjects SET sealed_key = $2, master_key_id = $3 WHERE subject_id = $1', [
            row.subject_id,
            this.master.seal(this.master.open(row.sealed_key, context), context),
            this.master.currentKeyId,
          ]);
        }
        return rows.length;
      });
      moved += count;
      if (count < batchSize) break;
    }
    if (moved > 0) this.logger.log(`re-sealed ${moved} subject keys under master key ${this.master.currentKeyId}`);
    return moved;
  }
}
