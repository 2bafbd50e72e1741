import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { PostgresEventStore } from '@gancho/event-store';
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
    private readonly store: PostgresEventStore,
    private readonly config: ConfigService<SubscriptionsConfig, true>,
  ) {}

  /**
   * Waits (bounded by API_KEY_PUBLISH_WAIT_MS) until the api-keys relay has
   * published the latest event of `streamId`, committed before this call. The
   * relay publishes in (transaction id, position) order, so its checkpoint
   * at or past the event means the event is out.
   */
  async waitUntilPublished(streamId: string): Promise<void> {
    const deadline = Date.now() + this.config.get('API_KEY_PUBLISH_WAIT_MS', { infer: true });
    for (;;) {
      if (await this.store.checkpointHasPassed(apiKeysRelayName, streamId)) return;
      if (Date.now() >= deadline) {
        // The key is stored and will be published when the relay runs again; services answer 503 for it until then.
        this.logger.warn(`the api-keys relay has not published ${streamId}'s latest event yet; answering anyway`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}
