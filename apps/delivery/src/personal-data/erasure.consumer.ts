import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { personalDataErasedBody, personalDataErasedEventType, personalDataErasureProblems, Topics, type PersonalDataErasureV1 } from '@gancho/contracts';
import { erasureNoticeEventId, messageIdFor } from '@gancho/delivery-domain';
import { EVENT_TRANSPORT, type EventTransport, type IncomingMessage, type Subscription } from '@gancho/messaging';
import { contractTopicSpec, ServiceMetrics } from '@gancho/service-kit';
import type { DeliveryConfig } from '../delivery.config';
import { MessageStore, type NewMessage } from '../dispatch/message-store';
import { StatusEventConsumer } from '../ingest/status-event.consumer';
import { EndpointDirectory } from '../routing/endpoint-directory';
import { purgeErasedStudent } from './message-log-purge';

/** An erasure record as delivery reads it, or why it cannot. */
export function readErasureRecord(record: IncomingMessage): { erasure?: PersonalDataErasureV1; problems: string[] } {
  let value: unknown;
  try {
    value = JSON.parse(record.value.toString('utf8'));
  } catch {
    return { problems: ['value is not JSON'] };
  }
  const problems = personalDataErasureProblems(value);
  return problems.length > 0 ? { problems } : { erasure: value as PersonalDataErasureV1, problems };
}

/**
 * Consumes `journey.personal-data-erasures.v1` (a group all replicas share)
 * and carries each erasure through delivery: the subject's key copy is
 * destroyed (as its tombstone would), events held for it are sent erased,
 * stored bodies of its purchases are redacted and their snippets deleted, and
 * each purchase's partner is told with `purchase.personal_data_erased` on the
 * endpoints that subscribe to it; ActiveCampaign endpoints configured to
 * (`on_erasure: delete`) get the same message, which deletes the contact
 * delivery synced for the student. Every step is idempotent and the offset is
 * committed after them all, so a redelivered record changes nothing more.
 */
@Injectable()
export class ErasureConsumer implements OnApplicationShutdown {
  private readonly logger = new Logger('ErasureConsumer');
  private subscription: Subscription | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(
    @Inject(EVENT_TRANSPORT) private readonly transport: EventTransport,
    private readonly statusEvents: StatusEventConsumer,
    private readonly messages: MessageStore,
    private readonly directory: EndpointDirectory,
    private readonly config: ConfigService<DeliveryConfig, true>,
    private readonly metrics: ServiceMetrics,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /** Called when notices were stored (the dispatcher wakes up). */
  onMessagesStored(listener: () => void): void {
    this.listeners.add(listener);
  }

  async start(): Promise<void> {
    const topic = this.config.get('PERSONAL_DATA_ERASURES_TOPIC', { infer: true });
    await this.transport.ensureTopics([contractTopicSpec(Topics.personalDataErasures, { topic })]);
    this.subscription = await this.transport.subscribe({
      groupId: this.config.get('ERASURE_CONSUMER_GROUP', { infer: true }),
      topics: [topic],
      fromBeginning: true,
      handleBatch: async (records) => {
        for (const record of records) await this.apply(record);
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.stop();
  }

  async apply(record: IncomingMessage): Promise<void> {
    const { erasure, problems } = readErasureRecord(record);
    if (!erasure) {
      // Nothing is purged on a partial reading; the problems name rules, never data.
      this.metrics.recordNotUnderstood(record.topic);
      this.logger.error(`an erasure record this release cannot read at ${record.topic}/${record.partition}/${record.offset}: ${problems.slice(0, 5).join('; ')}`);
      return;
    }
    await this.statusEvents.subjectKeys.erase(erasure.subject_id);
    await this.statusEvents.releaseAwaiting([erasure.subject_id]);
    const purged = await purgeErasedStudent(this.dataSource, erasure.purchases);
    const notices = this.notices(erasure);
    const stored = await this.messages.insert(notices);
    if (stored.length > 0) for (const listener of this.listeners) listener();
    this.logger.log(`erasure ${erasure.erasure_id}: ${purged.bodies} stored bodies redacted, ${purged.attempts} snippets deleted, ${stored.length} notices stored`);
  }

  /** One `purchase.personal_data_erased` message per purchase and subscribed endpoint of its partner. */
  private notices(erasure: PersonalDataErasureV1): NewMessage[] {
    return erasure.purchases.flatMap((purchase) => {
      const eventId = erasureNoticeEventId(erasure.erasure_id, purchase.purchase_id);
      const payload = personalDataErasedBody({ purchase_id: purchase.purchase_id, partner_id: purchase.partner_id, student: { id: erasure.subject_id }, erased_at: erasure.erased_at });
      // ActiveCampaign endpoints take no notice: their erasure is the contact's deletion, where configured.
      const webhooks = this.directory.route(purchase.partner_id, personalDataErasedEventType).filter((endpoint) => !endpoint.activeCampaign);
      return [...webhooks, ...this.directory.erasingActiveCampaigns(purchase.partner_id)].map((endpoint) => ({
        messageId: messageIdFor(eventId, endpoint.state.endpoint_id),
        eventId,
        endpointId: endpoint.state.endpoint_id,
        partnerId: purchase.partner_id,
        eventType: personalDataErasedEventType,
        purchaseId: purchase.purchase_id,
        payload,
        eventRecordedAt: erasure.erased_at,
        sequence: 0,
        ordered: false,
      }));
    });
  }
}
