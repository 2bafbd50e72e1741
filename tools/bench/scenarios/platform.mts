// The platform the `platform` stage's scenarios run on: a fresh database on
// the shared PostgreSQL, fresh topics on the shared Kafka, the three built
// services as processes, a producer for status events and endpoint states,
// and the measuring loop every platform scenario runs through (runScenario).
import { mkdirSync, existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import pg from 'pg';
/* eslint-disable @nx/enforce-module-boundaries -- scripts of tools/, not a library */
import { freePort } from '../../infra/ports.mts';
import { repoRoot } from '../../infra/paths.mts';
import { newPlatformSecrets, serviceEnv, type PlatformOptions } from '../../platform/platform.mts';
import { startService, stopService, type RunningService, type ServiceName } from '../../platform/service-processes.mts';
/* eslint-enable @nx/enforce-module-boundaries */
import { drive, JourneySource, StatusEventSource, type DriveMode, type LoadSource } from '../load.mts';
import { pgPerDelivery, pgSnapshot } from '../pg-stats.mts';
import { GroupCpuWatch, ProcessWatch, findPids, machineBusySeconds, readProc, round, type ProcessFigures } from '../proc-stats.mts';
import { formatProfileSummary, readProfile, summarizeProfile } from '../profile-summary.mts';
import { EndpointPublisher, routesOf, type BenchPartner } from '../seed.mts';
import { pickReceiverStats, saturationBacklog, type BenchRun, type ScenarioResult } from './scenario.mts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type PlatformTopics = Record<
  'PURCHASE_STATUS_TOPIC' | 'ENDPOINTS_TOPIC' | 'API_KEYS_TOPIC' | 'DELIVERY_ATTEMPTS_TOPIC' | 'ENDPOINT_HEALTH_TOPIC' | 'STATUS_CONSUMER_GROUP' | 'ENDPOINT_HEALTH_CONSUMER_GROUP',
  string
>;

export interface BenchPlatform {
  bench: BenchRun;
  services: Record<ServiceName, RunningService>;
  secrets: ReturnType<typeof newPlatformSecrets>;
  topics: PlatformTopics;
  producer: Producer;
  publisher: EndpointPublisher;
  /** Publishes endpoints, then waits until delivery routes to one published after them all. */
  publishAndWait(partners: BenchPartner[]): Promise<void>;
  /** Drives one scenario's load, measures it, and adds its result to the run's. */
  runScenario(name: string, description: string, offered: string, source: LoadSource, mode: DriveMode, durationMs: number): Promise<ScenarioResult>;
  /** As much as the platform takes, at most `saturationBacklog` deliveries outstanding. */
  saturate: DriveMode;
  /** Status events onto the status topic for these partners (each counting its healthy endpoints). */
  statusSource(partners: BenchPartner[], healthy?: (p: BenchPartner) => number): StatusEventSource;
  /** Stops the services and reports what they logged and the profiled one's CPU profile. */
  stop(): Promise<void>;
}

export async function startPlatform(bench: BenchRun): Promise<BenchPlatform> {
  const { infraEnv, runId, fleet, cleanups, results, durations, profiledService, profileDir, say, elapsed } = bench;
  const database = `bench_${runId.replace(/[^a-z0-9]/gi, '_').toLowerCase()}`;
  const admin = new pg.Client({ connectionString: infraEnv.DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${database}"`);
  await admin.end();
  cleanups.push(async () => {
    const client = new pg.Client({ connectionString: infraEnv.DATABASE_URL });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await client.end();
  });
  const databaseUrl = Object.assign(new URL(infraEnv.DATABASE_URL), { pathname: `/${database}` }).toString();
  const topics: PlatformTopics = {
    PURCHASE_STATUS_TOPIC: `bench.${runId}.status`,
    ENDPOINTS_TOPIC: `bench.${runId}.endpoints`,
    API_KEYS_TOPIC: `bench.${runId}.api-keys`,
    DELIVERY_ATTEMPTS_TOPIC: `bench.${runId}.attempts`,
    ENDPOINT_HEALTH_TOPIC: `bench.${runId}.health`,
    STATUS_CONSUMER_GROUP: `bench.${runId}.delivery`,
    ENDPOINT_HEALTH_CONSUMER_GROUP: `bench.${runId}.subscriptions-health`,
  };
  const secrets = newPlatformSecrets();
  const options: PlatformOptions = {
    databaseUrl,
    kafkaBrokers: infraEnv.KAFKA_BROKERS,
    ports: { journey: await freePort(), subscriptions: await freePort(), delivery: await freePort() },
    secrets,
    allowedEndpointHosts: fleet.hosts,
    env: topics,
  };
  // Experiments: `--delivery-env=DATABASE_POOL_SIZE=30,DISPATCH_CONCURRENCY=128` (reported in the JSON).
  const deliveryEnv = Object.fromEntries(
    (bench.option('delivery-env') ?? '')
      .split(',')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  const logged: Record<ServiceName, number> = { journey: 0, subscriptions: 0, delivery: 0 };
  let errorsShown = 0;
  const services = {} as Record<ServiceName, RunningService>;
  const stopServices = async () => {
    for (const name of ['delivery', 'journey', 'subscriptions'] as const) if (services[name]) await stopService(services[name]);
  };
  cleanups.unshift(stopServices);
  say(`bench: starting subscriptions, journey and delivery on Kafka${profiledService ? ` (${profiledService} with --cpu-prof)` : ''}… (${elapsed()})`);
  for (const name of ['subscriptions', 'journey', 'delivery'] as const) {
    const profiling = name === profiledService;
    if (profiling) mkdirSync(profileDir, { recursive: true });
    services[name] = await startService({
      name,
      port: options.ports[name],
      env: { ...serviceEnv(name, options), ...(name === 'delivery' ? deliveryEnv : {}), ...(profiling ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } : {}) },
      onOutput: (service, line) => {
        logged[service]++;
        if (/"level":(50|60)|\bERROR\b/.test(line) && errorsShown++ < 20) say(`  ${service}: ${line.slice(0, 400)}`);
      },
    });
  }
  const pids = {
    journey: services.journey.child.pid ?? 0,
    subscriptions: services.subscriptions.child.pid ?? 0,
    delivery: services.delivery.child.pid ?? 0,
    ...bench.receiverPids,
    bench: process.pid,
  };
  const rssAtStartMb = Object.fromEntries((['journey', 'subscriptions', 'delivery'] as const).map((s) => [s, round(readProc(services[s].child.pid ?? 0)?.rssMb ?? 0, 1)]));
  say(`bench: platform ready; RSS at start: journey ${rssAtStartMb.journey} MB, subscriptions ${rssAtStartMb.subscriptions} MB, delivery ${rssAtStartMb.delivery} MB (${elapsed()})`);
  bench.platformInfo.rssAtStartMb = rssAtStartMb;

  const kafkaClient = new Kafka({ clientId: 'gancho-bench', brokers: infraEnv.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
  const producer: Producer = kafkaClient.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  cleanups.push(() => producer.disconnect());
  cleanups.push(async () => {
    const kafkaAdmin = kafkaClient.admin();
    await kafkaAdmin.connect();
    const existing = new Set(await kafkaAdmin.listTopics());
    await kafkaAdmin.deleteTopics({ topics: [...Object.values(topics), `bench.${runId}.ceiling`].filter((t) => existing.has(t)) }).catch(() => undefined);
    await kafkaAdmin.disconnect();
  });
  const publisher = new EndpointPublisher(producer, topics.ENDPOINTS_TOPIC, secrets.encryptionKey);

  const publishAndWait = async (partners: BenchPartner[]) => {
    const sentinel = publisher.partners('sentinel', 1, 1);
    await fleet.setRoutes(routesOf([...partners, ...sentinel]));
    await publisher.publish([...partners, ...sentinel], (key) => fleet.target(key).url);
    const probe = new StatusEventSource(producer, topics.PURCHASE_STATUS_TOPIC, [{ partnerId: (sentinel[0] as BenchPartner).partnerId, healthyEndpoints: 1 }]);
    const before = (await fleet.count()).healthy;
    const deadline = Date.now() + 120_000;
    while ((await fleet.count()).healthy <= before) {
      if (Date.now() > deadline) throw new Error('delivery did not route to the published endpoints within 120 s');
      await probe.start(1);
      await sleep(500);
    }
  };

  const groupWatches = {
    postgres: new GroupCpuWatch(() => findPids('postgres:', database)),
    kafka: new GroupCpuWatch(() => findPids('kafka.Kafka')),
  };
  const runScenario = async (name: string, description: string, offered: string, source: LoadSource, mode: DriveMode, durationMs: number) => {
    // Let the previous scenario's stragglers land, then count from zero.
    let last = -1;
    for (let i = 0; i < 50; i++) {
      const now = (await fleet.count()).received;
      if (now === last) break;
      last = now;
      await sleep(300);
    }
    await fleet.reset();
    const watch = new ProcessWatch(pids);
    watch.start();
    for (const w of Object.values(groupWatches)) w.start();
    const pgBefore = await pgSnapshot(databaseUrl);
    const machineBefore = { busy: machineBusySeconds(), at: performance.now() };
    const driven = await drive({ fleet, source, mode, durationMs, warmupMs: durations.warmupMs, drainTimeoutMs: durations.drainMs });
    const processes: ScenarioResult['processes'] = { ...watch.stop(), postgres: groupWatches.postgres.stop(), kafka: groupWatches.kafka.stop() };
    // What else the machine did meanwhile (other people's work): busy CPU not spent by any process of the bench.
    const machineSeconds = (performance.now() - machineBefore.at) / 1000;
    const machineBusy = machineBusySeconds() - machineBefore.busy;
    const ours = Object.values(processes).reduce((sum, p) => sum + p.cpuSeconds, 0);
    const machine = { cores: os.cpus().length, busyCores: round(machineBusy / machineSeconds, 2), benchCores: round(ours / machineSeconds, 2), otherCores: round(Math.max(0, machineBusy - ours) / machineSeconds, 2) };
    const stats = await fleet.stats();
    await fleet.release();
    await sleep(1200); // PostgreSQL flushes its statistics about once a second
    const pgAfter = await pgSnapshot(databaseUrl);
    const cpuMicrosPerDelivery = Object.fromEntries(Object.entries(processes).map(([k, v]) => [k, stats.healthyVerified > 0 ? Math.round((v.cpuSeconds * 1e6) / stats.healthyVerified) : 0]));
    cpuMicrosPerDelivery.total = Object.entries(cpuMicrosPerDelivery).reduce((sum, [, v]) => sum + v, 0);
    const deliveryCpu = (processes.delivery as ProcessFigures | undefined)?.cpuSeconds ?? 0;
    const ceiling = results.find((r) => r.name === 'ceiling-http');
    const result: ScenarioResult = {
      name,
      description,
      offered,
      deliveriesPerSecond: driven.sustainedPerSecond,
      latencyMs: stats.latency.summary(),
      processes,
      deliveryCpuMicrosPerDelivery: stats.healthyVerified > 0 ? Math.round((deliveryCpu * 1e6) / stats.healthyVerified) : 0,
      cpuMicrosPerDelivery,
      database: pgPerDelivery(pgBefore, pgAfter, stats.healthyVerified),
      machine,
      ...(ceiling ? { ratioToCeiling: round(driven.sustainedPerSecond / Math.max(1, ceiling.deliveriesPerSecond), 3) } : {}),
      receivers: pickReceiverStats(stats),
      drive: driven,
    };
    if (source instanceof JourneySource) result.extra = { commandErrors: source.errors, lastCommandError: source.lastError, commandLatencyMs: source.commandLatency.summary() };
    results.push(result);
    const l = result.latencyMs;
    say(
      `bench: ${name}: ${result.deliveriesPerSecond}/s, latency p50 ${l.p50} p95 ${l.p95} p99 ${l.p99} max ${l.max} ms; delivery ${deliveryCpu} CPU s, CPU µs/delivery: delivery ${result.deliveryCpuMicrosPerDelivery}, postgres ${cpuMicrosPerDelivery.postgres}, all ${cpuMicrosPerDelivery.total}; ${result.database?.commits} commits/delivery; cores busy ${machine.busyCores} of ${machine.cores} (others ${machine.otherCores})${
        driven.drained ? '' : `; ${driven.missing} not received after ${driven.drainSeconds} s`
      }${stats.unverified > 0 ? `; ${stats.unverified} UNVERIFIED` : ''} (${elapsed()})`,
    );
    return result;
  };

  return {
    bench,
    services,
    secrets,
    topics,
    producer,
    publisher,
    publishAndWait,
    runScenario,
    saturate: { kind: 'saturate', backlog: saturationBacklog },
    statusSource: (partners, healthy = (p) => p.endpoints.length) =>
      new StatusEventSource(
        producer,
        topics.PURCHASE_STATUS_TOPIC,
        partners.map((p) => ({ partnerId: p.partnerId, healthyEndpoints: healthy(p) })),
      ),
    async stop() {
      say(`bench: lines logged per service: journey ${logged.journey}, subscriptions ${logged.subscriptions}, delivery ${logged.delivery}`);
      await stopServices();
      if (profiledService && existsSync(profileDir)) {
        const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
        if (file) {
          bench.serviceProfile = summarizeProfile(readProfile(path.join(profileDir, file)), 30);
          say(`bench: ${profiledService} CPU profile ${path.relative(repoRoot, path.join(profileDir, file))}`);
          say(formatProfileSummary(bench.serviceProfile, 15));
        }
      }
    },
  };
}
