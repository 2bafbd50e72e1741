// Apache Kafka in KRaft mode (one combined broker+controller) from the jars
// that Maven Central serves, pinned by tools/kafka/pom.xml. No Docker needed.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, openSync, readdirSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import kafkajs from 'kafkajs';
import { kafka as testBroker, kafkaBrokers, type KafkaServer } from './paths.mts';
import { isAlive, readPid, run, stopPid, waitFor } from './process.mts';

const { Kafka, logLevel } = kafkajs;

function serverProperties(kafka: KafkaServer): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${kafka.controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${kafka.port},CONTROLLER://127.0.0.1:${kafka.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${kafka.port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${kafka.dataDir}`,
    'num.partitions=3',
    // One broker: internal topics cannot be replicated, and fewer offset
    // partitions make the first consumer-group join fast.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=6',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=true',
    'delete.topic.enable=true',
    'log.retention.hours=24',
    '',
  ].join('\n');
}

const log4jProperties = [
  'log4j.rootLogger=WARN, stdout',
  'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
  'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
  'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
  'log4j.logger.kafka.server.KafkaServer=INFO',
  'log4j.logger.kafka.server.KafkaRaftServer=INFO',
  '',
].join('\n');

async function fetchJars(kafka: KafkaServer): Promise<void> {
  if (existsSync(kafka.libsDir) && readdirSync(kafka.libsDir).some((f) => f.startsWith('kafka_2.13-'))) return;
  await mkdir(kafka.libsDir, { recursive: true });
  await run('mvn', ['-q', '-B', '-f', kafka.pom, 'dependency:copy-dependencies', `-DoutputDirectory=${kafka.libsDir}`, '-DincludeScope=runtime']);
}

function java(kafka: KafkaServer, args: string[]): string[] {
  return [`-Xms128m`, `-Xmx${kafka.heap}`, '-XX:+UseG1GC', `-Dlog4j.configuration=file:${kafka.log4jFile}`, '-cp', `${kafka.libsDir}/*`, ...args];
}

async function formatStorage(kafka: KafkaServer): Promise<void> {
  if (existsSync(`${kafka.dataDir}/meta.properties`)) return;
  // A Kafka cluster id is 16 random bytes in URL-safe base64.
  const clusterId = randomBytes(16).toString('base64url');
  // `--cluster-id=…` in one argument: an id starting with '-' (1 in 64) would otherwise be read as an option.
  await run('java', java(kafka, ['kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, '--config', kafka.configFile]));
}

/** Proves the broker serves: a message produced to a topic is consumed back by a new group. */
export async function roundTrip(brokers: string, timeoutMs = 60_000): Promise<void> {
  const client = new Kafka({ clientId: 'gancho-readiness', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const topic = '__gancho_readiness';
  const marker = randomUUID();
  await waitFor(
    'Kafka',
    async () => {
      const admin = client.admin();
      await admin.connect();
      try {
        await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      } finally {
        await admin.disconnect();
      }
      const producer = client.producer();
      await producer.connect();
      await producer.send({ topic, messages: [{ value: marker }] });
      await producer.disconnect();
    },
    { timeoutMs, intervalMs: 1000 },
  );

  const consumer = client.consumer({ groupId: `gancho-readiness-${marker}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('Kafka readiness: marker not consumed in time')), timeoutMs);
      void consumer.run({
        eachMessage: async ({ message }) => {
          if (message.value?.toString() === marker) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
}

/** Starts the broker unless it runs already; says whether this call started it. */
export async function startKafka(kafka: KafkaServer = testBroker): Promise<{ brokers: string; started: boolean }> {
  const brokers = kafkaBrokers(kafka);
  const pid = await readPid(kafka.pidFile);
  if (pid && isAlive(pid)) {
    await roundTrip(brokers);
    return { brokers, started: false };
  }
  await mkdir(kafka.dir, { recursive: true });
  await fetchJars(kafka);
  await writeFile(kafka.configFile, serverProperties(kafka));
  await writeFile(kafka.log4jFile, log4jProperties);
  await formatStorage(kafka);
  const out = openSync(kafka.logFile, 'a');
  const child = spawn('java', java(kafka, ['kafka.Kafka', kafka.configFile]), { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  await writeFile(kafka.pidFile, `${child.pid}\n`);
  await roundTrip(brokers, 90_000);
  return { brokers, started: true };
}

export async function stopKafka({ wipe = false }: { wipe?: boolean } = {}, kafka: KafkaServer = testBroker): Promise<void> {
  const pid = await readPid(kafka.pidFile);
  if (pid) await stopPid(pid, { graceMs: 20_000 });
  await rm(kafka.pidFile, { force: true });
  if (wipe) await rm(kafka.dataDir, { recursive: true, force: true });
}

/** SIGKILLs the broker's JVM (a crash, not a shutdown); its data stays for the next start. */
export async function killKafka(kafka: KafkaServer): Promise<void> {
  const pid = await readPid(kafka.pidFile);
  if (pid && isAlive(pid)) {
    process.kill(pid, 'SIGKILL');
    while (isAlive(pid)) await new Promise((r) => setTimeout(r, 50));
  }
  await rm(kafka.pidFile, { force: true });
}
