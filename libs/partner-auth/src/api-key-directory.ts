import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { apiKeyRecordProblems, Topics, type ApiKeyRecordV1 } from '@gancho/contracts';
import { EVENT_TRANSPORT, type EventTransport, type IncomingMessage } from '@gancho/messaging';
import { CompactedTopicFollower, SERVICE_NAME } from '@gancho/service-kit';
import { ApiKeyTable } from './api-key-table';
import { PARTNER_AUTH_OPTIONS, type PartnerAuthOptions } from './partner-auth.options';

/**
 * Keeps this process's `ApiKeyTable` in step with `subscriptions.api-keys.v1`:
 * at start it reads the whole compacted topic with a consumer group of its
 * own (unique to the process, so every instance sees every record), then
 * follows it, so a revocation reaches every service within about a second of
 * its publication, with no call to subscriptions.
 */
@Injectable()
export class ApiKeyDirectory implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly table = new ApiKeyTable();
  private readonly logger = new Logger('ApiKeyDirectory');
  private follower: CompactedTopicFollower | undefined;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    @Inject(PARTNER_AUTH_OPTIONS) private readonly options: PartnerAuthOptions,
    private readonly moduleRef: ModuleRef,
    @Optional() @Inject(SERVICE_NAME) private readonly service = 'service',
  ) {}

  get topic(): string {
    return this.options.topic ?? Topics.apiKeys;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.follower = new CompactedTopicFollower({
      // Every service gets the transport from service-kit's core module; it is
      // looked up app-wide so this module needs no wiring to it.
      transport: this.moduleRef.get<EventTransport>(EVENT_TRANSPORT, { strict: false }),
      topic: this.topic,
      groupPrefix: this.options.consumerGroupPrefix ?? `gancho-${this.service}.partner-auth`,
      apply: (key, value, message) => this.apply(key, value, message),
      ...(this.options.warmup?.quietMs === undefined ? {} : { quietMs: this.options.warmup.quietMs }),
      ...(this.options.warmup?.maxMs === undefined ? {} : { maxWarmupMs: this.options.warmup.maxMs }),
    });
    await this.follower.start();
    // Expired portal sessions are forgotten a day later, so the table does not grow with every embed.
    this.sweeper = setInterval(() => this.table.sweepExpired(), 10 * 60 * 1000).unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.sweeper);
    await this.follower?.stop();
  }

  /** Whether the table holds every record published before this process started (see PartnerAuthOptions.warmup). */
  isCaughtUp(): boolean {
    return this.follower?.isCaughtUp() ?? false;
  }

  /**
   * Applies one record. A malformed one is logged and skipped: throwing would
   * hold every later record of its partition (revocations among them) forever.
   */
  private apply(keyId: string, value: Buffer | null, message: IncomingMessage): void {
    if (value === null) {
      this.table.remove(keyId);
      return;
    }
    let record: unknown;
    try {
      record = JSON.parse(value.toString('utf8'));
    } catch {
      this.logger.error(`skipped a record of ${message.topic} at ${message.partition}/${message.offset}: not JSON`);
      return;
    }
    const problems = apiKeyRecordProblems(record);
    if (problems.length > 0) {
      this.logger.error(`skipped a record of ${message.topic} at ${message.partition}/${message.offset}: ${problems.join('; ')}`);
      return;
    }
    this.table.apply(record as ApiKeyRecordV1);
  }
}
