import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Topics } from '@gancho/contracts';
import { EVENT_TRANSPORT, type EventTransport, type IncomingMessage, type Subscription } from '@gancho/messaging';
import { contractTopicSpec, ServiceMetrics } from '@gancho/service-kit';
import type { DeliveryConfig } from '../delivery.config';
import { StatusEventConsumer } from '../ingest/status-event.consumer';
import { readSubjectKeyRecord } from './subject-keys';

/**
 * Consumes `journey.subject-keys.v1` (compacted) in a group all replicas
 * share, into `subject_keys`: a key is stored re-sealed under delivery's
 * SECRETS_ENCRYPTION_KEY, a tombstone deletes it and records the erasure.
 * Then the status events held for those subjects are ingested (with the
 * student opened, or shown erased). The offset is committed after both, so a
 * crash in between applies the batch again (each step is idempotent).
 */
@Injectable()
export class SubjectKeysConsumer implements OnApplicationShutdown {
  private readonly logger = new Logger('SubjectKeysConsumer');
  private subscription: Subscription | undefined;

  constructor(
    @Inject(EVENT_TRANSPORT) private readonly transport: EventTransport,
    private readonly statusEvents: StatusEventConsumer,
    private readonly config: ConfigService<DeliveryConfig, true>,
    private readonly metrics: ServiceMetrics,
  ) {}

  async start(): Promise<void> {
    const topic = this.config.get('SUBJECT_KEYS_TOPIC', { infer: true });
    await this.transport.ensureTopics([contractTopicSpec(Topics.subjectKeys, { topic })]);
    this.subscription = await this.transport.subscribe({
      groupId: this.config.get('SUBJECT_KEYS_CONSUMER_GROUP', { infer: true }),
      topics: [topic],
      fromBeginning: true,
      handleBatch: (records) => this.apply(records),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.stop();
  }

  /** Applies a batch of key records in order, then releases what was held for their subjects. */
  async apply(records: readonly IncomingMessage[]): Promise<void> {
    const subjects = new Set<string>();
    for (const record of records) {
      const change = readSubjectKeyRecord(record);
      if (change.kind === 'unreadable') {
        // No key from it: that subject's events stay held (fail closed). The problems name rules, never key material.
        this.metrics.recordNotUnderstood(record.topic);
        this.logger.error(`a subject key record this release cannot read at ${record.topic}/${record.partition}/${record.offset}: ${change.problems.slice(0, 5).join('; ')}`);
        continue;
      }
      if (change.kind === 'erased') {
        await this.statusEvents.subjectKeys.erase(change.subjectId);
        subjects.add(change.subjectId);
        continue;
      }
      try {
        await this.statusEvents.subjectKeys.storeKey(change.record);
        subjects.add(change.record.subject_id);
      } catch (error) {
        this.metrics.recordNotUnderstood(record.topic);
        this.logger.error(`the subject key at ${record.topic}/${record.partition}/${record.offset} does not open under SECRETS_ENCRYPTION_KEY: ${error instanceof Error ? error.name : 'error'}`);
      }
    }
    if (subjects.size > 0) await this.statusEvents.releaseAwaiting([...subjects]);
  }
}
