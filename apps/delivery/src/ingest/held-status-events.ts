import type { DataSource } from 'typeorm';
import type { IncomingMessage } from '@gancho/messaging';
import { queryRows } from '@gancho/persistence';

interface HeldRow {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  headers: Record<string, string>;
  value: Buffer;
  held_at: Date;
}

/**
 * Status events this release could not fully read, kept as they came
 * (`held_status_events`): stored before their offsets are committed, and
 * handed back at start, so a delivery that reads them acts on them.
 */
export class HeldStatusEvents {
  constructor(private readonly dataSource: DataSource) {}

  /** Holds records; `awaitingSubjectId` names the subject whose key a readable record waits for (LGPD). */
  async hold(held: readonly { record: IncomingMessage; problems: readonly string[]; awaitingSubjectId?: string }[]): Promise<void> {
    if (held.length === 0) return;
    await this.dataSource.query(
      `INSERT INTO held_status_events (topic, "partition", "offset", key, headers, value, problems, awaiting_subject_id)
       SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::text[], $5::jsonb[], $6::bytea[], $7::text[], $8::text[])
       ON CONFLICT (topic, "partition", "offset") DO UPDATE SET problems = EXCLUDED.problems, awaiting_subject_id = EXCLUDED.awaiting_subject_id`,
      [
        held.map((h) => h.record.topic),
        held.map((h) => h.record.partition),
        held.map((h) => h.record.offset),
        held.map((h) => h.record.key),
        held.map((h) => JSON.stringify(h.record.headers)),
        held.map((h) => h.record.value),
        held.map((h) => h.problems.join('; ')),
        held.map((h) => h.awaitingSubjectId ?? null),
      ],
    );
  }

  /** Every held event, oldest first, as the transport handed it over. */
  async all(): Promise<IncomingMessage[]> {
    const rows = await queryRows<HeldRow>(this.dataSource, `SELECT topic, "partition", "offset"::text AS "offset", key, headers, value, held_at FROM held_status_events ORDER BY held_at, "partition", "offset"`);
    return rows.map((row) => ({ topic: row.topic, partition: row.partition, offset: row.offset, key: row.key, headers: row.headers, value: row.value, timestamp: row.held_at.getTime() }));
  }

  /** The records held for these subjects' keys, oldest first. */
  async awaiting(subjectIds: readonly string[]): Promise<IncomingMessage[]> {
    if (subjectIds.length === 0) return [];
    const rows = await queryRows<HeldRow>(
      this.dataSource,
      `SELECT topic, "partition", "offset"::text AS "offset", key, headers, value, held_at FROM held_status_events
        WHERE awaiting_subject_id = ANY($1::text[]) ORDER BY held_at, "partition", "offset"`,
      [subjectIds],
    );
    return rows.map((row) => ({ topic: row.topic, partition: row.partition, offset: row.offset, key: row.key, headers: row.headers, value: row.value, timestamp: row.held_at.getTime() }));
  }

  async release(records: readonly IncomingMessage[]): Promise<void> {
    if (records.length === 0) return;
    await this.dataSource.query(
      `DELETE FROM held_status_events h USING unnest($1::text[], $2::int[], $3::bigint[]) AS r(topic, "partition", "offset")
        WHERE h.topic = r.topic AND h."partition" = r."partition" AND h."offset" = r."offset"`,
      [records.map((r) => r.topic), records.map((r) => r.partition), records.map((r) => r.offset)],
    );
  }
}
