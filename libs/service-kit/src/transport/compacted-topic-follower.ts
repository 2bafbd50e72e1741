import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { TopicName } from '@gancho/contracts';
import type { EventTransport, IncomingMessage, Subscription } from '@gancho/messaging';
import { contractTopicSpec } from '../contracts/contract-topic-spec';

export interface CompactedTopicFollowerOptions {
  transport: EventTransport;
  topic: string;
  /** The registry topic `topic` is an instance of: the topic is created as its contract says (compacted). */
  contract: TopicName;
  /** Start of the consumer group name; a suffix unique to this process is added. */
  groupPrefix: string;
  /** Applies one record; `value` is null for a tombstone. Must not throw for bad records (log and skip). */
  apply(key: string, value: Buffer | null, message: IncomingMessage): void;
  /**
   * Caught up once every record published before `start` is applied (the
   * topic's end, read once at start), or at the latest `maxWarmupMs` after
   * subscribing. A transport that cannot tell its ends (no `consumerLag`, or
   * the read failed) is caught up once `quietMs` passed without a record (after the first).
   */
  quietMs?: number;
  maxWarmupMs?: number;
}

/**
 * Keeps an in-memory table in step with a compacted topic: every process
 * reads the whole topic from the beginning with a consumer group of its own
 * (so each instance sees every key), then follows it.
 */
export class CompactedTopicFollower {
  private subscription: Subscription | undefined;
  private subscribedAt: number | undefined;
  private lastRecordAt: number | undefined;
  private caughtUp = false;
  private group: string | undefined;
  /** Per partition, the offset after the last record handled. */
  private readonly applied = new Map<number, bigint>();
  /** Per partition that held records at start, where it ended then: undefined until read, null when the transport cannot tell. */
  private startEnds: Map<number, bigint> | null | undefined;

  constructor(private readonly options: CompactedTopicFollowerOptions) {}

  async start(): Promise<void> {
    const { transport, topic, groupPrefix, contract } = this.options;
    await transport.ensureTopics([contractTopicSpec(contract, { topic })]);
    const groupId = `${groupPrefix}.${hostname()}.${process.pid}.${randomBytes(4).toString('hex')}`;
    this.group = groupId;
    // Read beside the subscribe, and not awaited: a follower nobody waits on (the API-key tables) does not hold its service's start for it.
    void this.readEnds(groupId).then((ends) => (this.startEnds = ends));
    this.subscription = await transport.subscribe({
      groupId,
      topics: [topic],
      fromBeginning: true,
      handle: async (message) => {
        this.lastRecordAt = Date.now();
        try {
          if (message.key !== null) this.options.apply(message.key, message.value.length === 0 ? null : message.value, message);
        } finally {
          const next = BigInt(message.offset) + 1n;
          if ((this.applied.get(message.partition) ?? 0n) < next) this.applied.set(message.partition, next);
        }
      },
    });
    this.subscribedAt = Date.now();
  }

  /** Where each partition ends now; the group is new, so its lag counts every record there is to read (none: nothing to wait for). */
  private async readEnds(groupId: string): Promise<Map<number, bigint> | null> {
    const { transport, topic } = this.options;
    if (!transport.consumerLag) return null;
    // A broker still electing the group's coordinator refuses the read for a moment: ask again until the warm-up's end.
    const giveUpAt = Date.now() + (this.options.maxWarmupMs ?? 10_000);
    for (;;) {
      try {
        const partitions = await transport.consumerLag(groupId, [topic]);
        return new Map(partitions.filter((p) => p.lag > 0).map((p) => [p.partition, BigInt(p.endOffset)]));
      } catch {
        if (Date.now() >= giveUpAt || this.group !== groupId) return null;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  /** This process's consumer group (after `start`), e.g. to ask the transport how far it is behind. */
  get groupId(): string | undefined {
    return this.group;
  }

  async stop(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.stop();
  }

  /** Whether the table likely holds every record published before this process started. */
  isCaughtUp(now: number = Date.now()): boolean {
    if (this.caughtUp) return true;
    const quietMs = this.options.quietMs ?? 500;
    const maxMs = this.options.maxWarmupMs ?? 10_000;
    if (this.startEnds) {
      if ([...this.startEnds].every(([partition, end]) => (this.applied.get(partition) ?? 0n) >= end)) this.caughtUp = true;
    } else if (this.startEnds === null && this.lastRecordAt !== undefined && now - this.lastRecordAt >= quietMs) this.caughtUp = true;
    if (this.subscribedAt !== undefined && now - this.subscribedAt >= maxMs) this.caughtUp = true;
    return this.caughtUp;
  }

  async waitUntilCaughtUp(pollMs = 20): Promise<void> {
    while (!this.isCaughtUp()) await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
