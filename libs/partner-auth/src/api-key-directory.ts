import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { describeRecordEvent, Topics, type ApiKeyRecordV1 } from '@gancho/contracts';
import { EVENT_TRANSPORT, type EventTransport, type IncomingMessage } from '@gancho/messaging';
import { CompactedTopicFollower, SERVICE_NAME, ServiceMetrics, topicRecordValidator } from '@gancho/service-kit';
import { hashApiKey, looksLikeApiKey } from './api-key';
import { ApiKeyTable, type KeyLookup } from './api-key-table';
import { KeyTableCatchUp, type PartitionEnd } from './key-table-catch-up';
import { PARTNER_AUTH_OPTIONS, type PartnerAuthOptions } from './partner-auth.options';

/** A key lookup that may have waited for the topic: `catching-up` when the table could not reach the topic's end in time. */
export type KeyAuthentication = KeyLookup | { outcome: 'catching-up' };

/**
 * Keeps this process's `ApiKeyTable` in step with `subscriptions.api-keys.v1`:
 * at start it reads the whole compacted topic with a consumer group of its
 * own (unique to the process, so every instance sees every record), then
 * follows it, so a revocation reaches every service within about a second of
 * its publication, with no call to subscriptions. A key it does not know yet
 * is decided only once the table has caught up with the topic (see
 * `KeyTableCatchUp`), so a key just issued is never refused.
 */
@Injectable()
export class ApiKeyDirectory implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly table = new ApiKeyTable();
  private readonly logger = new Logger('ApiKeyDirectory');
  private readonly catchUp: KeyTableCatchUp;
  /** Hashes of well-formed keys found unknown while the table was caught up, oldest first (a Map keeps insertion order). */
  private readonly unknownKeys = new Map<string, true>();
  private follower: CompactedTopicFollower | undefined;
  private transport: EventTransport | undefined;
  /** The service's metrics, when the app has them (a bare test module does not). */
  private metrics: ServiceMetrics | undefined;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    @Inject(PARTNER_AUTH_OPTIONS) private readonly options: PartnerAuthOptions,
    private readonly moduleRef: ModuleRef,
    @Optional() @Inject(SERVICE_NAME) private readonly service = 'service',
  ) {
    this.catchUp = new KeyTableCatchUp({ readEnds: () => this.readEnds(), maxWaitMs: options.keyCatchUp?.maxWaitMs ?? 2000 });
  }

  get topic(): string {
    return this.options.topic ?? Topics.apiKeys;
  }

  async onApplicationBootstrap(): Promise<void> {
    // Every service gets the transport from service-kit's core module; it is
    // looked up app-wide so this module needs no wiring to it.
    this.transport = this.moduleRef.get<EventTransport>(EVENT_TRANSPORT, { strict: false });
    this.metrics = optionalProvider(() => this.moduleRef.get(ServiceMetrics, { strict: false }));
    this.follower = new CompactedTopicFollower({
      transport: this.transport,
      topic: this.topic,
      contract: Topics.apiKeys,
      groupPrefix: this.options.consumerGroupPrefix ?? `gancho-${this.service}.partner-auth`,
      apply: (key, value, message) => this.apply(key, value, message),
    });
    await this.follower.start();
    // Expired portal sessions are forgotten a day later, so the table does not grow with every embed.
    this.sweeper = setInterval(() => this.table.sweepExpired(), 10 * 60 * 1000).unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.sweeper);
    await this.follower?.stop();
  }

  /**
   * Looks a presented key up. A well-formed key the table does not know
   * waits until the table holds everything published before this call, then
   * is looked up again: unknown then means unknown. A key already found
   * unknown that way is answered at once (until a record with its hash arrives).
   */
  async authenticate(presented: string): Promise<KeyAuthentication> {
    const first = this.table.lookup(presented);
    if (first.outcome !== 'unknown' || !looksLikeApiKey(presented)) return first;
    const hash = hashApiKey(presented);
    if (this.unknownKeys.has(hash)) return first;
    const outcome = await this.catchUp.waitForTopicEnd();
    const second = this.table.lookup(presented);
    if (second.outcome !== 'unknown') return second;
    if (outcome !== 'caught-up') return { outcome: 'catching-up' };
    this.rememberUnknown(hash);
    return second;
  }

  private rememberUnknown(hash: string): void {
    const limit = this.options.unknownKeyCacheSize ?? 10_000;
    this.unknownKeys.delete(hash);
    this.unknownKeys.set(hash, true);
    for (const oldest of this.unknownKeys.keys()) {
      if (this.unknownKeys.size <= limit) break;
      this.unknownKeys.delete(oldest);
    }
  }

  private async readEnds(): Promise<PartitionEnd[]> {
    const groupId = this.follower?.groupId;
    if (!this.transport?.consumerLag || groupId === undefined) throw new Error('the key topic is not followed yet');
    const partitions = await this.transport.consumerLag(groupId, [this.topic]);
    return partitions.map((p) => ({
      partition: p.partition,
      endOffset: BigInt(p.endOffset),
      committedOffset: p.committedOffset === null ? null : BigInt(p.committedOffset),
    }));
  }

  /**
   * Applies one record. A malformed one is logged and skipped: throwing would
   * hold every later record of its partition (revocations among them) forever.
   */
  private apply(keyId: string, value: Buffer | null, message: IncomingMessage): void {
    try {
      this.applyRecord(keyId, value, message);
    } finally {
      this.catchUp.recordApplied(message.partition, BigInt(message.offset));
    }
  }

  private applyRecord(keyId: string, value: Buffer | null, message: IncomingMessage): void {
    if (value === null) {
      this.table.remove(keyId);
      return;
    }
    let record: unknown;
    try {
      record = JSON.parse(value.toString('utf8'));
    } catch {
      this.refuseUnreadable(keyId, message, ['value is not JSON']);
      return;
    }
    const problems = topicRecordValidator().valueProblems(Topics.apiKeys, record);
    if ((record as { key_id?: unknown } | null)?.key_id !== keyId) problems.push('value/key_id does not equal the key');
    if (problems.length > 0) {
      this.refuseUnreadable(keyId, message, problems);
      return;
    }
    const key = record as ApiKeyRecordV1;
    this.unknownKeys.delete(key.key_hash);
    this.table.apply(key);
  }

  /**
   * Must-understand, failing closed: a record this release cannot fully read
   * (malformed, or from a newer release — it may be a revocation) makes its
   * key unusable rather than leave the key's older record in force. The
   * record stays on the compacted topic, so an upgraded service applies it.
   */
  private refuseUnreadable(keyId: string, message: IncomingMessage, problems: string[]): void {
    this.table.remove(keyId);
    this.metrics?.recordNotUnderstood(message.topic);
    this.logger.error(
      `refused key ${keyId}: a record of ${message.topic} at ${message.partition}/${message.offset}, ${describeRecordEvent(message)}, cannot be fully read by this release (${problems.slice(0, 5).join('; ')})`,
    );
  }
}

function optionalProvider<T>(get: () => T): T | undefined {
  try {
    return get();
  } catch {
    return undefined;
  }
}
