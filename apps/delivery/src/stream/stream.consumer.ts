import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
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
 * live streams on every instance (live only, so no history is read).
 */
@Injectable()
export class StreamConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private subscriptions: Subscription[] = [];

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
    this.subscriptions.push(
      await transport.subscribe({
        groupId: `${groupId}.tests`,
        topics: [attemptsTopic],
        fromBeginning: false,
        handleBatch: async (messages) => void this.hub.offerTestSends(messages),
      }),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.hub.closeAll();
    const subscriptions = this.subscriptions.splice(0);
    await Promise.all(subscriptions.map((subscription) => subscription.stop()));
  }
}
