import { Kafka, logLevel, type Admin, type Consumer, type EachBatchPayload, type IHeaders, type KafkaMessage, type LogEntry, type Producer } from 'kafkajs';
import type { EventTransport, IncomingMessage, OutgoingMessage, PartitionLag, SubscribeOptions, Subscription, TopicSpec, TransportHeaders } from '../event-transport';
import { describeError, handlerOf, type Handler } from '../subscription-handler';
import { sendTraced, traceHandler } from '../tracing';
import { answerWithin, backoffDelayMs, type BackoffMs } from '../transport-timing';
import { applyKafkajsIdleFix } from './kafkajs-idle-fix';

applyKafkajsIdleFix();

export interface KafkaTransportOptions {
  brokers: string[];
  clientId: string;
  /** Receives kafkajs' own warnings and errors. */
  log?: (level: 'error' | 'warn', message: string, extra: Record<string, unknown>) => void;
  connectionTimeoutMs?: number;
  /** Bound on how long a readiness ping may take. */
  pingTimeoutMs?: number;
  /**
   * How long a fetch waits on the broker when there is nothing new. A fetch
   * returns as soon as data arrives, so this bounds shutdown, not latency.
   */
  maxWaitTimeMs?: number;
  /**
   * Wait before a message (or batch) whose handler threw is delivered again:
   * doubles from `initial` per consecutive failure on a partition, up to
   * `max`, and starts over after a success. Defaults: 200 ms, 30 s.
   */
  redeliveryBackoffMs?: BackoffMs;
  /**
   * Offsets of handled batches are committed at most this often per consumer
   * (default 500 ms; 0 commits after every batch), and at once when a
   * handler fails, when the consumer stops, and when the consumer closes. A
   * quiet flow of one message per batch then costs no commit request per
   * message; a crash redelivers at most this long's messages, which
   * consumers drop by id (at-least-once, as before).
   */
  commitIntervalMs?: number;
  /**
   * How long the group coordinator waits for a silent consumer (a crashed
   * process) before giving its partitions to others. kafkajs' default is 30 s;
   * the broker accepts 6 s and up (`group.min.session.timeout.ms`).
   */
  sessionTimeoutMs?: number;
  /**
   * How long to keep retrying when a topic is not in the broker's metadata
   * yet (just created, by us or another process): waits double from
   * `initial` up to `max` per attempt, and the call fails once `total` has
   * passed. Defaults: 100 ms, 2 s, 30 s.
   */
  metadataRaceRetryMs?: { initial?: number; max?: number; total?: number };
}

/**
 * Kafka adapter of the event transport, on kafkajs 2.2.4.
 *
 * kafkajs is unmaintained; keep every import of it in this folder. Its
 * request queue re-armed a 1 ms timer forever on every connection (and, on
 * Node 24, warned `TimeoutNegativeWarning`, kafkajs issue #1751):
 * `applyKafkajsIdleFix` replaces that method when this module loads. Our
 * start scripts still pass `--disable-warning=TimeoutNegativeWarning` for
 * any other library that arms a negative timer.
 */
export class KafkaTransport implements EventTransport {
  private readonly kafka: Kafka;
  /** Probes use a client that never retries, so a dead broker answers "down" at once. */
  private readonly probeKafka: Kafka;
  private producer: Promise<Producer> | undefined;
  private admin: Promise<Admin> | undefined;
  private probe: Promise<Admin> | undefined;
  private readonly consumers = new Set<Consumer>();
  /** Commits a consumer put off (see `commitIntervalMs`), to be made before it disconnects. */
  private readonly deferredCommits = new Map<Consumer, DeferredCommits>();

  constructor(private readonly options: KafkaTransportOptions) {
    const log = options.log;
    const common = {
      clientId: options.clientId,
      brokers: options.brokers,
      connectionTimeout: options.connectionTimeoutMs ?? 3000,
      logCreator:
        () =>
        ({ level, log: entry }: LogEntry) => {
          if (!log) return;
          const { message, ...extra } = entry;
          log(level === logLevel.ERROR ? 'error' : 'warn', `kafkajs: ${message}`, extra);
        },
    };
    this.kafka = new Kafka({ ...common, logLevel: logLevel.WARN });
    this.probeKafka = new Kafka({ ...common, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  }

  async ensureTopics(topics: TopicSpec[]): Promise<void> {
    const admin = await this.connectedAdmin();
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length === 0) return;
    const names = missing.map((t) => t.topic);
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({
          topic: t.topic,
          numPartitions: t.partitions ?? -1,
          replicationFactor: -1,
          configEntries: Object.entries({ ...(t.compacted ? { 'cleanup.policy': 'compact' } : {}), ...t.config }).map(([name, value]) => ({ name, value })),
        })),
      });
    } catch (error) {
      // kafkajs waits for leaders but gives up when the broker does not list
      // the new topic yet; the topic exists, so wait for it below instead.
      if (!isMetadataRace(error)) throw error;
    }
    // Another process may have created them a moment ago (createTopics then
    // returns without waiting): return only when every partition has a leader.
    await this.retryingMetadataRace('ensure topics', names, () => admin.fetchTopicMetadata({ topics: names }));
  }

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await sendTraced('kafka', topic, messages, (traced) => this.retryingMetadataRace('publish', [topic], () => this.send(topic, traced)));
  }

  private async send(topic: string, messages: OutgoingMessage[]): Promise<void> {
    const producer = await this.connectedProducer();
    try {
      await producer.send({
        topic,
        acks: -1,
        messages: messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers ?? {} })),
      });
    } catch (error) {
      // After a broker restart kafkajs' idempotent producer can keep
      // sequence numbers the broker no longer accepts
      // (OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID) and fails every
      // send from then on. Any failed send drops the producer, so the
      // caller's retry gets a new producer id; the batch may then be
      // published twice, which at-least-once consumers absorb.
      await this.discardProducer(producer);
      throw error;
    }
  }

  /**
   * Runs a call again while it fails because a topic is not in the broker's
   * metadata yet: right after a topic is created, the broker answers
   * UNKNOWN_TOPIC_OR_PARTITION (or LEADER_NOT_AVAILABLE) for a moment, and
   * kafkajs treats the former as final. Bounded: the last failure is thrown
   * once `metadataRaceRetryMs.total` has passed.
   */
  private async retryingMetadataRace<T>(what: string, topics: string[], run: () => Promise<T>): Promise<T> {
    const { initial = 100, max = 2_000, total = 30_000 } = this.options.metadataRaceRetryMs ?? {};
    const deadline = Date.now() + total;
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (error) {
        const delayMs = backoffDelayMs(attempt, { initial, max });
        if (!isMetadataRace(error) || Date.now() + delayMs > deadline) throw error;
        this.options.log?.('warn', `${what}: the broker does not know the topic yet; retrying`, { topics, attempt, retryInMs: delayMs, error: describeError(error) });
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  private async discardProducer(producer: Producer): Promise<void> {
    const current = await this.producer?.catch(() => undefined);
    if (current === producer) this.producer = undefined;
    await producer.disconnect().catch(() => undefined);
  }

  /** Committed offsets of the group against each partition's high watermark, from the admin API. */
  async consumerLag(groupId: string, topics: string[]): Promise<PartitionLag[]> {
    const admin = await this.connectedAdmin();
    const committed = await admin.fetchOffsets({ groupId, topics });
    const lags: PartitionLag[] = [];
    for (const topic of topics) {
      const ends = await this.retryingMetadataRace('consumer lag', [topic], () => admin.fetchTopicOffsets(topic));
      const byPartition = new Map(committed.find((c) => c.topic === topic)?.partitions.map((p) => [p.partition, p.offset]) ?? []);
      for (const end of ends) {
        const offset = byPartition.get(end.partition);
        const hasCommitted = offset !== undefined && BigInt(offset) >= 0n;
        const from = hasCommitted ? BigInt(offset) : BigInt(end.low);
        const lag = BigInt(end.high) - from;
        lags.push({ topic, partition: end.partition, lag: Number(lag > 0n ? lag : 0n), committedOffset: hasCommitted ? offset : null, endOffset: end.high });
      }
    }
    return lags;
  }

  /**
   * Consumes with kafkajs `eachBatch`, no auto-resolve and no auto-commit: an
   * offset is resolved and committed (as `offset + 1`, the next to read) only
   * after its handler resolved. When a handler throws, what succeeded before it
   * is committed, the consumer waits (bounded backoff, heartbeating) and seeks
   * back to the failed message, so it and every later message of its partition
   * come again in order.
   */
  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const handler = traceHandler('kafka', options.groupId, handlerOf(options));
    const consumer = this.kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: this.options.maxWaitTimeMs ?? 1000,
      ...(this.options.sessionTimeoutMs === undefined ? {} : { sessionTimeout: this.options.sessionTimeoutMs, heartbeatInterval: Math.min(3000, Math.floor(this.options.sessionTimeoutMs / 3)) }),
    });
    this.consumers.add(consumer);
    try {
      await consumer.connect();
      await this.retryingMetadataRace('subscribe', options.topics, () => consumer.subscribe({ topics: options.topics, fromBeginning: options.fromBeginning ?? false }));
    } catch (error) {
      this.consumers.delete(consumer);
      await consumer.disconnect().catch(() => undefined);
      throw error;
    }
    const failures = new Map<string, number>();
    const deferred = new DeferredCommits(consumer, this.options.commitIntervalMs ?? 500, (error) =>
      this.options.log?.('warn', 'a deferred offset commit failed; those messages may come again', { groupId: options.groupId, error: describeError(error) }),
    );
    this.deferredCommits.set(consumer, deferred);
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.consumeBatch(consumer, handler, payload, failures, deferred),
    });
    return {
      stop: async () => {
        await this.disconnect(consumer);
      },
    };
  }

  /** Makes the commits a consumer put off, then disconnects it (waiting for the batch in hand, which stops at the next message boundary and commits what it handled). */
  private async disconnect(consumer: Consumer): Promise<void> {
    await this.deferredCommits.get(consumer)?.flush();
    this.deferredCommits.delete(consumer);
    await consumer.disconnect();
    this.consumers.delete(consumer);
  }

  private async consumeBatch(consumer: Consumer, handler: Handler, payload: EachBatchPayload, failures: Map<string, number>, deferred: DeferredCommits): Promise<void> {
    const { batch, isRunning, isStale } = payload;
    const { topic, partition } = batch;
    const partitionKey = `${topic}|${partition}`;
    let handledUpTo: string | undefined;

    // The payload's commit goes straight to the group coordinator. We do not
    // use consumer.commitOffsets: it silently skips the commit once stop() has
    // begun, which would redeliver what the last in-flight handler finished.
    const commitHandled = async (): Promise<void> => {
      const upTo = handledUpTo;
      if (upTo === undefined) return;
      const offset = (BigInt(upTo) + 1n).toString();
      deferred.committing(topic, partition);
      await payload.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset }] }] });
      if (handledUpTo === upTo) handledUpTo = undefined;
    };
    /** After a batch that went well: commit now if the interval is up or the consumer is stopping, else put it off. */
    const commitHandledSoon = async (): Promise<void> => {
      const upTo = handledUpTo;
      if (upTo === undefined) return;
      if (!isRunning() || deferred.due()) return commitHandled();
      deferred.defer(topic, partition, (BigInt(upTo) + 1n).toString());
      handledUpTo = undefined;
    };
    const handled = (offset: string): void => {
      payload.resolveOffset(offset);
      handledUpTo = offset;
      failures.delete(partitionKey);
    };
    // A heartbeat fails when the group rebalances; commit first (the broker
    // still accepts it from this generation), then let kafkajs rejoin.
    const heartbeat = async (): Promise<void> => {
      try {
        await payload.heartbeat();
      } catch (error) {
        await commitHandled().catch(() => undefined);
        throw error;
      }
    };
    const failed = async (message: IncomingMessage, error: unknown): Promise<void> => {
      await commitHandled();
      const attempt = (failures.get(partitionKey) ?? 0) + 1;
      failures.set(partitionKey, attempt);
      const delayMs = this.redeliveryDelayMs(attempt);
      this.options.log?.('error', 'event handler failed; the message will be delivered again', {
        topic,
        partition,
        offset: message.offset,
        attempt,
        retryInMs: delayMs,
        error: describeError(error),
      });
      // We seek instead of throwing into kafkajs: its retrier counts every
      // throw over the consumer's life and then restarts the whole consumer
      // (a group rebalance), and a TypeError or RangeError counts as fatal and
      // stops consuming for good.
      await waitWhileRunning(delayMs, isRunning, heartbeat);
      if (isRunning()) consumer.seek({ topic, partition, offset: message.offset });
    };

    if (handler.kind === 'batch') {
      if (!isRunning() || isStale()) return;
      const messages = batch.messages.map((m) => toIncoming(topic, partition, m));
      const last = messages.at(-1);
      if (!last) return;
      try {
        await keepingAlive(payload.heartbeat, () => handler.handleBatch(messages));
      } catch (error) {
        return failed(messages[0] ?? last, error);
      }
      handled(last.offset);
    } else {
      for (const raw of batch.messages) {
        if (!isRunning() || isStale()) break;
        const message = toIncoming(topic, partition, raw);
        try {
          await keepingAlive(payload.heartbeat, () => handler.handle(message));
        } catch (error) {
          return failed(message, error);
        }
        handled(message.offset);
        await heartbeat();
      }
    }
    await commitHandledSoon();
  }

  private redeliveryDelayMs(attempt: number): number {
    return backoffDelayMs(attempt, this.options.redeliveryBackoffMs);
  }

  async ping(): Promise<void> {
    try {
      await answerWithin(
        'Kafka',
        this.options.pingTimeoutMs ?? 3000,
        this.connectedProbe().then((admin) => admin.describeCluster()),
      );
    } catch (error) {
      // Start afresh next time, and let go of a connection that may still be trying.
      const stale = this.probe;
      this.probe = undefined;
      void stale?.then((admin) => admin.disconnect()).catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => this.disconnect(c)));
    this.consumers.clear();
    const [producer, admin, probe] = [this.producer, this.admin, this.probe];
    this.producer = undefined;
    this.admin = undefined;
    this.probe = undefined;
    await Promise.all([producer?.then((p) => p.disconnect()).catch(() => undefined), admin?.then((a) => a.disconnect()).catch(() => undefined), probe?.then((a) => a.disconnect()).catch(() => undefined)]);
  }

  private connectedProducer(): Promise<Producer> {
    this.producer ??= (async () => {
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await producer.connect();
      return producer;
    })().catch((error: unknown) => {
      this.producer = undefined;
      throw error;
    });
    return this.producer;
  }

  private connectedAdmin(): Promise<Admin> {
    this.admin ??= connect(this.kafka.admin()).catch((error: unknown) => {
      this.admin = undefined;
      throw error;
    });
    return this.admin;
  }

  private connectedProbe(): Promise<Admin> {
    this.probe ??= connect(this.probeKafka.admin({ retry: { retries: 0 } }));
    return this.probe;
  }
}

/** Whether kafkajs failed because the broker's metadata does not list a topic (or its leaders) yet; kafkajs wraps the protocol error in `cause`. */
function isMetadataRace(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const type = (current as { type?: unknown }).type;
    if (type === 'UNKNOWN_TOPIC_OR_PARTITION' || type === 'LEADER_NOT_AVAILABLE') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

async function connect(admin: Admin): Promise<Admin> {
  await admin.connect();
  return admin;
}

function toIncoming(topic: string, partition: number, message: KafkaMessage): IncomingMessage {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key?.toString() ?? null,
    value: message.value ?? Buffer.alloc(0),
    headers: decodeHeaders(message.headers),
    timestamp: Number(message.timestamp),
  };
}

/**
 * Runs a handler while heartbeating, so a slow handler does not cost the
 * consumer its group membership (kafkajs sends one only when its interval has
 * passed, so calling often is cheap). Failures are ignored here: the
 * heartbeat after the handler reports a rebalance.
 */
async function keepingAlive(heartbeat: () => Promise<void>, run: () => Promise<void>): Promise<void> {
  const timer = setInterval(() => void heartbeat().catch(() => undefined), 1000);
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
}

/** Waits `ms`, heartbeating, and returns early when the consumer stops. */
async function waitWhileRunning(ms: number, isRunning: () => boolean, heartbeat: () => Promise<void>): Promise<void> {
  const until = Date.now() + ms;
  while (isRunning() && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(250, until - Date.now())));
    await heartbeat();
  }
}

function decodeHeaders(headers: IHeaders | undefined): TransportHeaders {
  const decoded: TransportHeaders = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) decoded[name] = first.toString();
  }
  return decoded;
}

/**
 * Offset commits a consumer puts off: the latest handled offset per
 * partition, committed together when the interval is up (a timer) or before
 * the consumer disconnects. A commit made at once for a partition (a failed
 * handler, a stopping consumer, the interval up) supersedes what was put off
 * for it.
 */
class DeferredCommits {
  private readonly pending = new Map<string, { topic: string; partition: number; offset: string }>();
  private timer: NodeJS.Timeout | undefined;
  private lastCommitAt = 0;

  constructor(
    private readonly consumer: Consumer,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** The interval since the last commit is up: commit now. */
  due(): boolean {
    return Date.now() - this.lastCommitAt >= this.intervalMs;
  }

  /** A commit for this partition is being made at once. */
  committing(topic: string, partition: number): void {
    this.pending.delete(`${topic}|${partition}`);
    this.lastCommitAt = Date.now();
  }

  defer(topic: string, partition: number, offset: string): void {
    this.pending.set(`${topic}|${partition}`, { topic, partition, offset });
    this.timer ??= setTimeout(
      () => {
        this.timer = undefined;
        void this.flush();
      },
      Math.max(1, this.lastCommitAt + this.intervalMs - Date.now()),
    );
  }

  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const offsets = [...this.pending.values()];
    this.pending.clear();
    if (offsets.length === 0) return;
    this.lastCommitAt = Date.now();
    try {
      await this.consumer.commitOffsets(offsets);
    } catch (error) {
      this.onError(error);
    }
  }
}
