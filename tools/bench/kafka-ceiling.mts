// The Kafka ceiling: raw kafkajs, a producer process and a consumer process,
// status-event-sized CloudEvents messages on a fresh topic with as many
// partitions as the status topic. No platform in between. The consumer
// prints one JSON line: messages per second from first produce to last
// consume, and produce→consume latency.
//
//   node tools/bench/kafka-ceiling.mts consume|produce '{"brokers":"127.0.0.1:19092","topic":"…","messages":50000}'
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { eventTypeOf, examplePayload, toCloudEventsKafkaMessage } from '@gancho/contracts';
import { Histogram } from './histogram.mts';

export interface KafkaCeilingInput {
  brokers: string;
  topic: string;
  messages: number;
  partitions?: number;
  batch?: number;
}

export interface KafkaCeilingResult {
  messages: number;
  seconds: number;
  perSecond: number;
  latency: ReturnType<Histogram['summary']>;
  producerCpuSeconds?: number;
  consumerCpuSeconds: number;
}

function kafkaOf(input: KafkaCeilingInput, clientId: string): Kafka {
  return new Kafka({ clientId, brokers: input.brokers.split(','), logLevel: logLevel.NOTHING });
}

export function statusMessage(partnerId: string, purchaseId: string, now: Date): { key: string; value: string; headers: Record<string, string> } {
  const type = eventTypeOf('waiting_payment');
  const data = { ...examplePayload(type).data, partner_id: partnerId, purchase_id: purchaseId, occurred_at: now.toISOString() };
  return toCloudEventsKafkaMessage({ eventId: randomUUID(), type, time: now, purchaseId, data });
}

async function produce(input: KafkaCeilingInput): Promise<void> {
  const producer = kafkaOf(input, 'bench-ceiling-producer').producer();
  await producer.connect();
  const cpuAtStart = process.cpuUsage();
  const batch = input.batch ?? 500;
  const inFlight: Promise<unknown>[] = [];
  for (let sent = 0; sent < input.messages; sent += batch) {
    const now = new Date();
    const messages = Array.from({ length: Math.min(batch, input.messages - sent) }, (_, i) => statusMessage('ptn_bench_ceiling', `pur_kc_${sent + i}`, now));
    inFlight.push(producer.send({ topic: input.topic, messages }));
    if (inFlight.length >= 8) await inFlight.shift();
  }
  await Promise.all(inFlight);
  const cpu = process.cpuUsage(cpuAtStart);
  process.stdout.write(`${JSON.stringify({ producerCpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`);
  await producer.disconnect();
}

async function consume(input: KafkaCeilingInput): Promise<void> {
  const kafka = kafkaOf(input, 'bench-ceiling-consumer');
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: input.topic, numPartitions: input.partitions ?? 6 }], waitForLeaders: true });
  await admin.disconnect();
  const consumer = kafka.consumer({ groupId: `${input.topic}.group`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [input.topic], fromBeginning: true });
  const latency = new Histogram();
  let consumed = 0;
  let firstProducedAt = Number.POSITIVE_INFINITY;
  const cpuAtStart = process.cpuUsage();
  const done = new Promise<number>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        const now = Date.now();
        for (const message of batch.messages) {
          const time = Date.parse(message.headers?.ce_time?.toString() ?? '');
          if (time < firstProducedAt) firstProducedAt = time;
          latency.record(now - time);
          consumed++;
        }
        if (consumed >= input.messages) resolve(now);
      },
    });
  });
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  const lastAt = await done;
  const cpu = process.cpuUsage(cpuAtStart);
  const seconds = (lastAt - firstProducedAt) / 1000;
  const result: KafkaCeilingResult = {
    messages: consumed,
    seconds: Math.round(seconds * 100) / 100,
    perSecond: Math.round(consumed / seconds),
    latency: latency.summary(),
    consumerCpuSeconds: Math.round(((cpu.user + cpu.system) / 1e6) * 100) / 100,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  await consumer.disconnect();
}

if (import.meta.main) {
  const role = process.argv[2];
  const input = JSON.parse(process.argv[3] ?? '{}') as KafkaCeilingInput;
  if (role === 'produce') await produce(input);
  else if (role === 'consume') await consume(input);
  else throw new Error('usage: kafka-ceiling.mts produce|consume <json>');
}
