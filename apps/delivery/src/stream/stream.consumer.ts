import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ModuleRef } from '@nestjs/core';
import { Topics } from '@gancho/contracts';
import { EVENT_TRANSPORT, type EventTransport, type Subscription } from '@gancho/messaging';
import { contractTopicSpec } from '@gancho/service-kit';
import type { DeliveryConfig } from '../delivery.config';
import { StreamHub } from './stream-hub';
import { STREAM_CONFIG, type StreamConfig } from './stream.config';

/**
 * Reads the status topic for the live stream, in a consumer group of this
 * instance's own, so every instance sees every event (the delivery consumer
 * group shares them out instead). It starts from the beginning of the topic
 * and keeps only what is younger than the resume window, so a restarted
 * instance can resume clients within the window too; the price is one read
 * of the topic's retention at start.
 *
 * It also follows the attempts topic, from its end, for test sends: a test
 * send's first attempt, made by whichever instance, reaches the partner's
 * live streams on every instance (live only, so no history is read) — only
 * while this instance has a live stream open, since every attempt passes
 * through that topic.
 */
@Injectable()
export class StreamConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private subscriptions: Subscription[] = [];
  private readonly logger = new Logger(StreamConsumer.name);
  private testSendSubscription: Subscription | undefined;
  private testSends: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(
    private readonly hub: StreamHub,
    private readonly moduleRef: ModuleRef,
    private readonly config: ConfigService<DeliveryConfig, true>,
    @Inject(STREAM_CONFIG) private readonly streamConfig: StreamConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // The app's one transport, from the service core (not imported here, so the stream registers with one line).
    const transport = this.moduleRef.get<EventTransport>(EVENT_TRANSPORT, { strict: false });
    const topic = this.config.get('PURCHASE_STATUS_TOPIC', { infer: true });
    const windowMs = this.streamConfig.STREAM_BUFFER_WINDOW_MS;
    const attemptsTopic = this.config.get('DELIVERY_ATTEMPTS_TOPIC', { infer: true });
    await transport.ensureTopics([contractTopicSpec(Topics.purchaseStatus, { topic }), contractTopicSpec(Topics.deliveryAttempts, { topic: attemptsTopic })]);
    const groupId = `${this.streamConfig.STREAM_CONSUMER_GROUP_PREFIX}.${hostname()}.${process.pid}.${randomBytes(4).toString('hex')}`;
    const statusSubscription = await transport.subscribe({
      groupId,
      topics: [topic],
      fromBeginning: true,
      handleBatch: async (messages) => {
        const since = Date.now() - windowMs;
        this.hub.ingest(messages.filter((m) => m.timestamp >= since));
      },
    });
    this.subscriptions.push(statusSubscription);
    // Every attempt of every instance passes through that topic: it is read only while this instance has a live stream to offer test sends to.
    this.hub.onConnectionsChanged((total) => {
      this.testSends = this.testSends
        .then(async () => {
          if (this.stopping) return;
          if (total > 0 && !this.testSendSubscription) {
            this.testSendSubscription = await transport.subscribe({
              groupId: `${groupId}.tests`,
              topics: [attemptsTopic],
              fromBeginning: false,
              handleBatch: async (messages) => void this.hub.offerTestSends(messages),
            });
          } else if (total === 0 && this.testSendSubscription) {
            const subscription = this.testSendSubscription;
            this.testSendSubscription = undefined;
            await subscription.stop();
          }
        })
        .catch((error: unknown) => this.logger.warn(`following test sends: ${error instanceof Error ? error.message : String(error)}`));
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.hub.closeAll();
    await this.testSends;
    const subscriptions = this.subscriptions.splice(0);
    if (this.testSendSubscription) subscriptions.push(this.testSendSubscription);
    this.testSendSubscription = undefined;
    await Promise.all(subscriptions.map((subscription) => subscription.stop()));
  }
}
