import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { apiKeyRecordProblems, Topics, type ApiKeyRecordV1 } from '@gancho/contracts';
import { EVENT_TRANSPORT, type EventTransport, type IncomingMessage, type Subscription } from '@gancho/messaging';
import { SERVICE_NAME } from '@gancho/service-kit';
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
  private subscription: Subscription | undefined;
  private subscribedAt: number | undefined;
  private lastRecordAt: number | undefined;
  private caughtUp = false;

  constructor(
    @Inject(PARTNER_AUTH_OPTIONS) private readonly options: PartnerAuthOptions,
    private readonly moduleRef: ModuleRef,
    @Optional() @Inject(SERVICE_NAME) private readonly service = 'service',
  ) {}

  get topic(): string {
    return this.options.topic ?? Topics.apiKeys;
  }

  async onApplicationBootstrap(): Promise<void> {
    // Every service gets the transport from service-kit's core module; it is
    // looked up app-wide so this module needs no wiring to it.
    const transport = this.moduleRef.get<EventTransport>(EVENT_TRANSPORT, { strict: false });
    await transport.ensureTopics([{ topic: this.topic, compacted: true }]);
    const prefix = this.options.consumerGroupPrefix ?? `gancho-${this.service}.partner-auth`;
    const groupId = `${prefix}.${hostname()}.${process.pid}.${randomBytes(4).toString('hex')}`;
    this.subscription = await transport.subscribe({ groupId, topics: [this.topic], fromBeginning: true, handle: async (message) => this.apply(message) });
    this.subscribedAt = Date.now();
  }

  async onApplicationShutdown(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.stop();
  }

  /** Whether the table holds every record published before this process started (see PartnerAuthOptions.warmup). */
  isCaughtUp(now: number = Date.now()): boolean {
    if (this.caughtUp) return true;
    const { quietMs = 500, maxMs = 10_000 } = this.options.warmup ?? {};
    if (this.lastRecordAt !== undefined && now - this.lastRecordAt >= quietMs) this.caughtUp = true;
    if (this.subscribedAt !== undefined && now - this.subscribedAt >= maxMs) this.caughtUp = true;
    return this.caughtUp;
  }

  /**
   * Applies one record. A malformed one is logged and skipped: throwing would
   * hold every later record of its partition (revocations among them) forever.
   */
  private apply(message: IncomingMessage): void {
    this.lastRecordAt = Date.now();
    if (message.value.length === 0) {
      if (message.key) this.table.remove(message.key);
      return;
    }
    let record: unknown;
    try {
      record = JSON.parse(message.value.toString('utf8'));
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
