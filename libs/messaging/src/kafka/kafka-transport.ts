import {
  Kafka,
  logLevel,
  type Admin,
  type Consumer,
  type IHeaders,
  type LogEntry,
  type Producer,
} from 'kafkajs';
import type {
  EventTransport,
  IncomingMessage,
  OutgoingMessage,
  SubscribeOptions,
  Subscription,
  TopicSpec,
  TransportHeaders,
} from '../event-transport';

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
}

/**
 * Kafka adapter of the event transport, on kafkajs 2.2.4.
 *
 * kafkajs is unmaintained; keep every import of it in this folder. On Node 24
 * it triggers one `TimeoutNegativeWarning` per process (kafkajs issue #1751):
 * its request queue arms `setTimeout(check, throttledUntil - now)` while
 * `throttledUntil` is still -1, and Node, as before, fires such a timer after
 * 1 ms. The timer only re-checks an empty queue, so the warning is noise and
 * our start scripts pass `--disable-warning=TimeoutNegativeWarning`.
 */
export class KafkaTransport implements EventTransport {
  private readonly kafka: Kafka;
  /** Probes use a client that never retries, so a dead broker answers "down" at once. */
  private readonly probeKafka: Kafka;
  private producer: Promise<Producer> | undefined;
  private admin: Promise<Admin> | undefined;
  private probe: Promise<Admin> | undefined;
  private readonly consumers = new Set<Consumer>();

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
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((t) => ({
        topic: t.topic,
        numPartitions: t.partitions ?? -1,
        replicationFactor: -1,
        configEntries: t.compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
      })),
    });
  }

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const producer = await this.connectedProducer();
    await producer.send({
      topic,
      acks: -1,
      messages: messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers ?? {} })),
    });
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const consumer = this.kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: this.options.maxWaitTimeMs ?? 1000,
    });
    this.consumers.add(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics: options.topics, fromBeginning: options.fromBeginning ?? false });
    // kafkajs resolves a message's offset when eachMessage returns and commits
    // resolved offsets after each batch and on disconnect; a handler that
    // throws makes it seek back, so the message is delivered again.
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const incoming: IncomingMessage = {
          topic,
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          value: message.value ?? Buffer.alloc(0),
          headers: decodeHeaders(message.headers),
          timestamp: Number(message.timestamp),
        };
        await options.handle(incoming);
      },
    });
    return {
      stop: async () => {
        await consumer.disconnect();
        this.consumers.delete(consumer);
      },
    };
  }

  async ping(): Promise<void> {
    const timeoutMs = this.options.pingTimeoutMs ?? 3000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Kafka did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.connectedProbe().then((admin) => admin.describeCluster()), timeout]);
    } catch (error) {
      // Start afresh next time, and let go of a connection that may still be trying.
      const stale = this.probe;
      this.probe = undefined;
      void stale?.then((admin) => admin.disconnect()).catch(() => undefined);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.disconnect()));
    this.consumers.clear();
    const [producer, admin, probe] = [this.producer, this.admin, this.probe];
    this.producer = undefined;
    this.admin = undefined;
    this.probe = undefined;
    await Promise.all([
      producer?.then((p) => p.disconnect()).catch(() => undefined),
      admin?.then((a) => a.disconnect()).catch(() => undefined),
      probe?.then((a) => a.disconnect()).catch(() => undefined),
    ]);
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

async function connect(admin: Admin): Promise<Admin> {
  await admin.connect();
  return admin;
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
