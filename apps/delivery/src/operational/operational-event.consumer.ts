import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { describeRecordEvent, operationalEventTimeField, operationalEventTypesOnTopic, readCloudEventAttributes, Topics, type OperationalEventDataOf } from '@gancho/contracts';
import { EVENT_TRANSPORT, type EventTransport, type IncomingMessage, type Subscription } from '@gancho/messaging';
import { contractTopicSpec, ServiceMetrics, topicRecordValidator } from '@gancho/service-kit';
import type { DeliveryConfig } from '../delivery.config';
import { EndpointDirectory } from '../routing/endpoint-directory';
import { OperationalMessages, type OperationalNotice } from './operational-messages';

const hourMs = 60 * 60 * 1000;

/**
 * The operational event a record of `subscriptions.operational-events.v1` is,
 * or the rules it breaks (must-understand: a record this release cannot fully
 * read sends nothing). A rotation's notice is due `hours_remaining` before
 * the previous secret expires.
 */
export function readOperationalRecord(record: IncomingMessage): { notice?: OperationalNotice; problems: string[] } {
  const problems = topicRecordValidator().recordProblems(Topics.operationalEvents, record);
  if (problems.length > 0) return { problems };
  const { id, type } = readCloudEventAttributes(record);
  const data = JSON.parse(record.value.toString('utf8')) as Record<string, unknown>;
  const known = operationalEventTypesOnTopic.find((t) => t === type);
  // The branches are closed and differ in their time field: the value must be the branch of ce_type.
  if (!known || !(operationalEventTimeField[known] in data)) return { problems: [`value is not the data of ${type}`] };
  if (known === 'endpoint.secret_rotation_ending') {
    const rotation = data as unknown as OperationalEventDataOf['endpoint.secret_rotation_ending'];
    const dueAt = new Date(Date.parse(rotation.previous_secret_expires_at) - rotation.hours_remaining * hourMs);
    return { notice: { eventId: id, type: known, data: rotation, dueAt }, problems: [] };
  }
  return { notice: { eventId: id, type: known, data: data as never }, problems: [] };
}

/**
 * Consumes `subscriptions.operational-events.v1` in a consumer group of
 * delivery's and stores each event as messages to the partner's operational
 * endpoints (never the endpoint it is about). Offsets are committed after
 * the insert, and message ids come from (event id, endpoint id), so a crash
 * loses nothing and a record read twice is sent once.
 */
@Injectable()
export class OperationalEventConsumer implements OnApplicationShutdown {
  private readonly logger = new Logger('OperationalEventConsumer');
  private subscription: Subscription | undefined;
  private readonly operational: OperationalMessages;
  private readonly listeners = new Set<() => void>();

  constructor(
    @Inject(EVENT_TRANSPORT) private readonly transport: EventTransport,
    directory: EndpointDirectory,
    private readonly config: ConfigService<DeliveryConfig, true>,
    private readonly metrics: ServiceMetrics,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {
    this.operational = new OperationalMessages(directory);
  }

  /** Called when new messages were stored (the dispatcher wakes up). */
  onMessagesStored(listener: () => void): void {
    this.listeners.add(listener);
  }

  async start(): Promise<void> {
    const topic = this.config.get('OPERATIONAL_EVENTS_TOPIC', { infer: true });
    await this.transport.ensureTopics([contractTopicSpec(Topics.operationalEvents, { topic })]);
    this.subscription = await this.transport.subscribe({
      groupId: this.config.get('OPERATIONAL_CONSUMER_GROUP', { infer: true }),
      topics: [topic],
      fromBeginning: true,
      handleBatch: async (records) => {
        await this.ingest(records);
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.stop();
  }

  /** Stores the messages of a batch of records; returns how many were new. */
  async ingest(records: readonly IncomingMessage[]): Promise<number> {
    const notices: OperationalNotice[] = [];
    for (const record of records) {
      const { notice, problems } = readOperationalRecord(record);
      if (notice) {
        notices.push(notice);
        continue;
      }
      // Nothing the partner must act on is lost by skipping: the endpoint's state (on its own topic) is what delivery acts on.
      this.metrics.recordNotUnderstood(record.topic);
      this.logger.error(`skipped an operational event this release cannot fully read at ${record.topic}/${record.partition}/${record.offset} (${describeRecordEvent(record)}): ${problems.slice(0, 5).join('; ')}`);
    }
    const inserted = await this.operational.store(notices, this.dataSource);
    if (inserted.length > 0) for (const listener of this.listeners) listener();
    return inserted.length;
  }
}
