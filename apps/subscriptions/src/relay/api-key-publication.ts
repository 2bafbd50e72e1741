import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { SubscriptionsConfig } from '../subscriptions.config';

/** The outbox relay (and its checkpoint) that publishes API key records. */
export const apiKeysRelayName = 'subscriptions.api-keys';

/**
 * Issuing a key answers once its record is on `subscriptions.api-keys.v1`,
 * not merely stored: every service decides an unknown key only after reading
 * that topic up to its end (read-your-writes, see @gancho/partner-auth), so a
 * key the caller holds is always on the topic they read.
 */
@Injectable()
export class ApiKeyPublication {
  private readonly logger = new Logger('ApiKeyPublication');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: ConfigService<SubscriptionsConfig, true>,
  ) {}

  /**
   * Waits (bounded by API_KEY_PUBLISH_WAIT_MS) until the api-keys relay has
   * published the latest event of `streamId`, committed before this call. The
   * relay publishes in (transaction id, position) order, so its checkpoint's
   * pair at or past the event's means the event is out.
   */
  async waitUntilPublished(streamId: string): Promise<void> {
    const deadline = Date.now() + this.config.get('API_KEY_PUBLISH_WAIT_MS', { infer: true });
    for (;;) {
      const [row] = await this.dataSource.query<{ published: boolean }[]>(
        `SELECT coalesce((done.transaction_id, done.global_position) >= (mine.transaction_id, mine.global_position), false) AS published
           FROM (SELECT transaction_id, global_position FROM events WHERE stream_id = $1 ORDER BY stream_version DESC LIMIT 1) mine
           LEFT JOIN checkpoints c ON c.name = $2
           LEFT JOIN events done ON done.global_position = c.position`,
        [streamId, apiKeysRelayName],
      );
      if (!row || row.published) return;
      if (Date.now() >= deadline) {
        // The key is stored and will be published when the relay runs again; services answer 503 for it until then.
        this.logger.warn(`the api-keys relay has not published ${streamId}'s latest event yet; answering anyway`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}
