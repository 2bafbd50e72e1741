import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { PurchaseStatusEventV1 } from '@gancho/contracts';
import { PostgresEventStore } from '@gancho/event-store';
import type { PurchaseEvent } from '@gancho/purchase-domain';
import { sealedStatusEvent } from '../purchases/purchase-command.handler';
import { sealStudent } from './student-codec';
import { SubjectKeyring } from './subject-keyring';

/** The checkpoint of the sealing scan: every event at or before it has been looked at. */
export const sealingCheckpoint = 'journey.personal-data-sealing';

/** An event stored before the LGPD release: the student in clear in its data (PurchaseOpened) or its status event. */
const plaintextCondition = `(data->'student' ? 'email' OR metadata->'statusEvent'->'student' ? 'email')`;

interface EventRow {
  global_position: string;
  type: string;
  data: { student?: unknown; occurredAt?: string };
  metadata: { statusEvent?: PurchaseStatusEventV1 };
}

/**
 * Seals, once, the personal fields journey stored in clear before the LGPD
 * release: in the events (PurchaseOpened's student and every event's status
 * event) and in the purchases read model, under the subject of the
 * purchase's e-mail (registered if new). The only rewrite of stored events
 * there is, and it changes no fact: the same fields, sealed. Runs at start
 * before the relays publish (JourneyOutbox), and the relays' source runs it
 * on any page that still holds clear text (events a replica of the older
 * release appended during a rolling upgrade).
 *
 * PostgreSQL keeps the old row versions until VACUUM reclaims them; after an
 * upgrade the operator runs `VACUUM FULL events, purchases` in the journey
 * schema so no clear text stays in the table files (docs/personal-data.md).
 */
@Injectable()
export class PersonalDataSealing {
  private readonly logger = new Logger('PersonalDataSealing');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly store: PostgresEventStore,
    private readonly keyring: SubjectKeyring,
  ) {}

  /** Seals every plaintext event past the scan's checkpoint; returns how many purchases it sealed. */
  async sealAll(batchSize = 200): Promise<number> {
    let sealed = 0;
    let after = (await this.store.readCheckpoint(sealingCheckpoint)) ?? 0n;
    for (;;) {
      const rows: { stream_id: string; last: string }[] = await this.dataSource.query(
        `SELECT stream_id, max(global_position)::text AS last FROM events
          WHERE global_position > $1 AND stream_id LIKE 'purchase:%' AND ${plaintextCondition}
          GROUP BY stream_id ORDER BY min(global_position) LIMIT $2`,
        [after.toString(), batchSize],
      );
      await this.sealStreams(rows.map((row) => row.stream_id));
      sealed += rows.length;
      if (rows.length < batchSize) break;
      after = rows.reduce((max, row) => (BigInt(row.last) > max ? BigInt(row.last) : max), after);
    }
    const [head] = (await this.dataSource.query('SELECT coalesce(max(global_position), 0)::text AS head FROM events')) as { head: string }[];
    await this.store.storeCheckpoint(sealingCheckpoint, BigInt(head?.head ?? '0'));
    if (sealed > 0) this.logger.log(`sealed the personal data of ${sealed} purchases stored before the LGPD release`);
    return sealed;
  }

  /** Seals the clear-text personal fields of these purchase streams (events and read model), each in one transaction with its stream locked. */
  async sealStreams(streamIds: readonly string[]): Promise<void> {
    for (const streamId of new Set(streamIds)) {
      const rows: EventRow[] = await this.dataSource.query(`SELECT global_position::text, type, data, metadata FROM events WHERE stream_id = $1 ORDER BY stream_version`, [streamId]);
      const opened = rows.find((row) => row.type === 'PurchaseOpened')?.data as Extract<PurchaseEvent, { type: 'PurchaseOpened' }>['data'] | undefined;
      const email =
        opened?.student && typeof opened.student === 'object' && 'email' in opened.student ? opened.student.email : rows.find((r) => r.metadata.statusEvent?.student?.email)?.metadata.statusEvent?.student.email;
      if (!email) continue;
      const subject = await this.keyring.ensureSubject(email, new Date(opened?.occurredAt ?? Date.now()));
      await this.dataSource.transaction(async (manager) => {
        // Appends lock the stream's row too: no event of this stream is written while it is sealed.
        await manager.query('SELECT version FROM streams WHERE stream_id = $1 FOR UPDATE', [streamId]);
        const current: EventRow[] = await manager.query(`SELECT global_position::text, type, data, metadata FROM events WHERE stream_id = $1 AND ${plaintextCondition}`, [streamId]);
        for (const row of current) {
          const data =
            row.data.student && typeof row.data.student === 'object' && 'email' in row.data.student ? { ...row.data, student: sealStudent(subject, row.data.student as { name: string; email: string }) } : row.data;
          const statusEvent = row.metadata.statusEvent;
          const metadata = statusEvent && 'email' in statusEvent.student ? { ...row.metadata, statusEvent: sealedStatusEvent(statusEvent, subject) } : row.metadata;
          await manager.query('UPDATE events SET data = $2::jsonb, metadata = $3::jsonb WHERE global_position = $1', [row.global_position, JSON.stringify(data), JSON.stringify(metadata)]);
        }
        const purchaseId = streamId.slice('purchase:'.length);
        const [purchase]: { student: { name: string; email: string } }[] = await manager.query(`SELECT student FROM purchases WHERE purchase_id = $1 AND student ? 'email' FOR UPDATE`, [purchaseId]);
        if (purchase) {
          await manager.query('UPDATE purchases SET student = $2::jsonb, subject_id = $3 WHERE purchase_id = $1', [purchaseId, JSON.stringify(sealStudent(subject, purchase.student)), subject.subjectId]);
        }
      });
    }
  }
}
