import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { DeliveryConfig } from './delivery.config';
import { DeliveryOutbox } from './dispatch/delivery-outbox';
import { Dispatcher } from './dispatch/dispatcher';
import { StatusEventConsumer } from './ingest/status-event.consumer';
import { ErasureConsumer } from './personal-data/erasure.consumer';
import { SubjectKeysConsumer } from './personal-data/subject-keys.consumer';
import { DeliveryRetention } from './retention/delivery-retention';
import { OperationalEventConsumer } from './operational/operational-event.consumer';
import { EndpointDirectory } from './routing/endpoint-directory';

/**
 * Starts the pipeline in the one safe order: the routing table first (status
 * events routed before it has read the endpoints would reach no endpoint),
 * then the dispatcher, then the subject keys, the status consumer, the erasures and the outbox;
 * then the retention job.
 */
@Injectable()
export class DeliveryLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Delivery');

  constructor(
    private readonly directory: EndpointDirectory,
    private readonly dispatcher: Dispatcher,
    private readonly consumer: StatusEventConsumer,
    private readonly subjectKeys: SubjectKeysConsumer,
    private readonly erasures: ErasureConsumer,
    private readonly operationalConsumer: OperationalEventConsumer,
    private readonly outbox: DeliveryOutbox,
    private readonly retention: DeliveryRetention,
    private readonly config: ConfigService<DeliveryConfig, true>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.directory.start();
    await this.directory.waitUntilCaughtUp();
    this.logger.log(`routing table loaded: ${this.directory.size} endpoints`);
    this.dispatcher.start();
    this.consumer.onMessagesStored(() => this.dispatcher.wake());
    this.consumer.handOffTo(this.dispatcher);
    this.erasures.onMessagesStored(() => this.dispatcher.wake());
    this.operationalConsumer.onMessagesStored(() => this.dispatcher.wake());
    // Side by side: each joins its consumer group (seconds on a broker), and none needs another started first
    // (an event whose key is not read yet is held, and released when it is).
    await Promise.all([this.subjectKeys.start(), this.consumer.start(), this.erasures.start(), this.operationalConsumer.start()]);
    await this.outbox.start();
    this.retention.start(this.config.get('RETENTION_SCAN_INTERVAL_MS', { infer: true }));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.retention.stop();
  }
}
