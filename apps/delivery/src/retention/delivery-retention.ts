import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { PostgresEventStore } from '@gancho/event-store';
import { queryRows } from '@gancho/persistence';
import { deleteInBatches, RetentionSweeper, ServiceMetrics, type RetainedStore } from '@gancho/service-kit';
import type { DeliveryConfig } from '../delivery.config';

const settled = "status IN ('succeeded', 'failed', 'exhausted')";
/** Attempts still holding a partner's words: the response snippet, or an error text quoting the destination (ActiveCampaign's answers may name the contact). */
const partnersText = '(response_snippet IS NOT NULL OR error_message IS NOT NULL)';

/**
 * Delivery's stores and how long each keeps a row (docs/personal-data.md):
 * settled messages with their webhook bodies and attempts, the partners'
 * response snippets of attempts, held unreadable status events, and the
 * published events of the outbox. Messages still being delivered are never
 * purged; the retry schedule bounds how long they stay unsettled.
 */
@Injectable()
export class DeliveryRetention extends RetentionSweeper {
  constructor(@InjectDataSource() dataSource: DataSource, store: PostgresEventStore, config: ConfigService<DeliveryConfig, true>, metrics: ServiceMetrics) {
    const oldestOf = async (sql: string): Promise<Date | null> => (await queryRows<{ oldest: Date | null }>(dataSource, sql))[0]?.oldest ?? null;
    const countOf = async (sql: string, parameters: unknown[]): Promise<number> => (await queryRows<{ n: number }>(dataSource, sql, parameters))[0]?.n ?? 0;
    const stores: RetainedStore[] = [
      {
        name: 'delivery.messages',
        retentionMs: config.get('RETENTION_MS', { infer: true }),
        // Attempts go with their message (ON DELETE CASCADE).
        purge: (before) =>
          deleteInBatches(
            (cutoff, limit) =>
              countOf(
                `WITH gone AS (DELETE FROM messages WHERE message_id IN (SELECT message_id FROM messages WHERE created_at < $1 AND ${settled} ORDER BY created_at LIMIT $2) RETURNING 1)
                 SELECT count(*)::int AS n FROM gone`,
                [cutoff, limit],
              ),
            before,
          ),
        oldest: () => oldestOf(`SELECT min(created_at) AS oldest FROM messages WHERE ${settled}`),
      },
      {
        name: 'delivery.response_snippets',
        retentionMs: config.get('RESPONSE_SNIPPET_RETENTION_MS', { infer: true }),
        purge: (before) =>
          deleteInBatches(
            (cutoff, limit) =>
              countOf(
                `WITH blanked AS (
                   UPDATE attempts SET response_snippet = NULL, error_message = NULL
                    WHERE (message_id, attempt_number) IN (SELECT message_id, attempt_number FROM attempts WHERE ${partnersText} AND finished_at < $1 LIMIT $2)
                   RETURNING 1)
                 SELECT count(*)::int AS n FROM blanked`,
                [cutoff, limit],
              ),
            before,
          ),
        oldest: () => oldestOf(`SELECT min(finished_at) AS oldest FROM attempts WHERE ${partnersText}`),
      },
      {
        name: 'delivery.held_status_events',
        retentionMs: config.get('HELD_STATUS_EVENT_RETENTION_MS', { infer: true }),
        purge: (before) =>
          deleteInBatches(
            (cutoff, limit) =>
              countOf(
                `WITH gone AS (DELETE FROM held_status_events WHERE (topic, "partition", "offset") IN (SELECT topic, "partition", "offset" FROM held_status_events WHERE held_at < $1 LIMIT $2) RETURNING 1)
                 SELECT count(*)::int AS n FROM gone`,
                [cutoff, limit],
              ),
            before,
          ),
        oldest: () => oldestOf('SELECT min(held_at) AS oldest FROM held_status_events'),
      },
      {
        // The events API's log of every status event (docs/events.md): webhook bodies, so personal data.
        name: 'delivery.status_events',
        retentionMs: config.get('EVENTS_RETENTION_MS', { infer: true }),
        purge: (before) =>
          deleteInBatches(
            (cutoff, limit) =>
              countOf(
                `WITH gone AS (DELETE FROM status_events WHERE event_id IN (SELECT event_id FROM status_events WHERE ingested_at < $1 LIMIT $2) RETURNING 1)
                 SELECT count(*)::int AS n FROM gone`,
                [cutoff, limit],
              ),
            before,
          ),
        oldest: () => oldestOf('SELECT min(ingested_at) AS oldest FROM status_events'),
      },
      {
        // Health reports waiting for the relay: no personal data, kept as long as the message log.
        name: 'delivery.outbox_events',
        retentionMs: config.get('RETENTION_MS', { infer: true }),
        purge: (before) => store.deleteEventsRecordedBefore(before),
        oldest: () => oldestOf('SELECT min(recorded_at) AS oldest FROM events'),
      },
    ];
    super(stores, metrics.registry);
  }
}
