// `npm run bench`: the end-to-end delivery benchmark, with the machine's
// ceiling measured beside it in the same run.
//
// Builds the services for production, starts PostgreSQL and Kafka (if not
// running), the three services as separate processes, receivers on loopback
// in processes of their own (each verifying every signature), seeds partners
// and endpoints, runs the scenarios, stops everything it started, prints a
// table and — last — one line of key=value pairs, and writes the figures as
// JSON under tools/bench/results/.
//
//   npm run bench                      quick profile
//   npm run bench -- --long            longer windows
//   npm run bench -- --api --baseline=0644c4b   the API path only, on that commit's build and on the working tree
//   npm run bench -- --only=api-50-f1,api-idle   some API-path scenarios (tools/bench/api/api-path.mts names them)
//   npm run bench -- --only=delivery-fanout-1,e2e-max --profile-delivery
//   npm run bench -- --only=e2e-max --profile=journey            a V8 CPU profile of another service
//   npm run bench -- --compare-node=22 also the HTTP ceiling under Node 22 (from the npm registry)
//   npm run bench -- --delivery-env=DATABASE_POOL_SIZE=30   an experiment on delivery's configuration
//   npm run bench -- --only=ceiling-http --ceiling-node-options='--max-semi-space-size=16'
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import pg from 'pg';
// The bench reuses the start scripts of tools/ (infra, platform) rather than
// copies of them; they are scripts, not a library, so the boundary rule does
// not know them.
/* eslint-disable @nx/enforce-module-boundaries */
import { infraDown } from '../infra/down.mts';
import { freePort } from '../infra/ports.mts';
import { repoRoot } from '../infra/paths.mts';
import { infraUp } from '../infra/up.mts';
import { newPlatformSecrets, serviceEnv, type PlatformOptions } from '../platform/platform.mts';
import { startService, stopService, type RunningService, type ServiceName } from '../platform/service-processes.mts';
/* eslint-enable @nx/enforce-module-boundaries */
import { apiScenarios, runApiPath, type ApiDurations, type ApiResult } from './api/api-path.mts';
import { apiSummary, apiTable, baselineSummary, baselineTargets, comparisonTable } from './api/api-report.mts';
import { prepareBaseline, type BaselineBuild } from './api/baseline.mts';
import { startBenchInfra } from './api/bench-infra.mts';
import { httpCeiling, kafkaCeiling } from './ceilings.mts';
import type { HttpCeilingResult } from './http-ceiling.mts';
import type { KafkaCeilingResult } from './kafka-ceiling.mts';
import { drive, JourneySource, StatusEventSource, type DriveMode, type DriveResult, type LoadSource } from './load.mts';
import { GroupCpuWatch, ProcessWatch, findPids, machineBusySeconds, readProc, round, type ProcessFigures } from './proc-stats.mts';
import { formatProfileSummary, readProfile, summarizeProfile, type ProfileSummary } from './profile-summary.mts';
import { ReceiverFleet } from './receivers.mts';
import type { LatencySummary } from './histogram.mts';
import { pgPerDelivery, pgSnapshot } from './pg-stats.mts';
import { EndpointPublisher, routesOf, seedThroughApis, type BenchPartner } from './seed.mts';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
/** The service run with --cpu-prof, if any (`--profile=journey`, or `--profile-delivery`). */
const profiledService = option('profile') ?? (args.includes('--profile-delivery') ? 'delivery' : undefined);
const profileName = args.includes('--smoke') ? 'smoke' : args.includes('--long') ? 'long' : 'quick';

interface Durations {
  httpCeilingMs: number;
  kafkaMessages: number;
  saturateMs: number;
  warmupMs: number;
  rateMs: number;
  drainMs: number;
}
const profiles: Record<string, Durations> = {
  smoke: { httpCeilingMs: 1000, kafkaMessages: 2000, saturateMs: 3000, warmupMs: 1000, rateMs: 3000, drainMs: 30_000 },
  quick: { httpCeilingMs: 5000, kafkaMessages: 50_000, saturateMs: 12_000, warmupMs: 3000, rateMs: 10_000, drainMs: 30_000 },
  long: { httpCeilingMs: 30_000, kafkaMessages: 300_000, saturateMs: 60_000, warmupMs: 10_000, rateMs: 60_000, drainMs: 120_000 },
};
const durations = profiles[profileName] as Durations;
/** The API path's windows: fixed rates count every delivery of the window; the idle platform is watched for 30 s. */
const apiProfiles: Record<string, ApiDurations> = {
  smoke: { warmupMs: 1000, idleMs: 2000, rateMs: 3000, saturateMs: 3000, saturateWarmupMs: 1000, drainMs: 30_000 },
  quick: { warmupMs: 3000, idleMs: 30_000, rateMs: 10_000, saturateMs: 10_000, saturateWarmupMs: 3000, drainMs: 60_000 },
  long: { warmupMs: 10_000, idleMs: 30_000, rateMs: 30_000, saturateMs: 30_000, saturateWarmupMs: 10_000, drainMs: 120_000 },
};
const apiDurations = apiProfiles[profileName] as ApiDurations;
const baselineCommit = option('baseline');

const allScenarios = [
  'ceiling-http',
  'ceiling-kafka',
  'delivery-fanout-1',
  'delivery-fanout-10',
  'delivery-fanout-100',
  'delivery-table-10k',
  'delivery-ordered-10',
  'e2e-max',
  'e2e-500',
  'degraded-clean',
  'degraded',
] as const;
type ScenarioName = (typeof allScenarios)[number];
const apiNames = apiScenarios.map((s) => s.name);
const smokeScenarios: string[] = ['ceiling-http', 'delivery-fanout-1', 'api-idle', 'api-50-f1'];
const selected = new Set<string>(
  option('only')?.split(',') ?? (args.includes('--api') ? apiNames : profileName === 'smoke' ? smokeScenarios : [...allScenarios, ...apiNames]),
);
for (const name of selected) if (!(allScenarios as readonly string[]).includes(name) && !apiNames.includes(name)) throw new Error(`unknown scenario ${name} (known: ${[...allScenarios, ...apiNames].join(', ')})`);
const wants = (name: ScenarioName) => selected.has(name);
const selectedApi = apiScenarios.filter((s) => selected.has(s.name));
if (baselineCommit && selectedApi.length === 0) throw new Error('--baseline compares the API-path scenarios: select some (--api, or --only=api-…)');

/** Delivery's own caps, which the ceiling's client mirrors. */
const dispatchConcurrency = 64;
/** Deliveries owed but not yet received, when offering as much as the platform takes. */
const saturationBacklog = 1000;
const e2eOfferedDeliveriesPerSecond = 500;
const degradedOfferedDeliveriesPerSecond = 500;
const receiverCount = Number(option('receivers') ?? 2);
const runId = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(3).toString('hex')}`;
const began = Date.now();

const say = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const elapsed = () => `${((Date.now() - began) / 1000).toFixed(0)} s`;

interface ScenarioResult {
  name: ScenarioName | string;
  description: string;
  offered: string;
  deliveriesPerSecond: number;
  latencyMs: LatencySummary;
  processes: Record<string, ProcessFigures | { cpuSeconds: number; cores: number; processes: number }>;
  /** CPU microseconds the delivery process spent per healthy delivery. */
  deliveryCpuMicrosPerDelivery?: number;
  /** CPU microseconds per healthy delivery, by process (and all of them together). */
  cpuMicrosPerDelivery?: Record<string, number>;
  /** Cores busy during the scenario: all, the bench's processes, everything else (other work on the machine). */
  machine?: { cores: number; busyCores: number; benchCores: number; otherCores: number };
  /** Transactions committed and rows written per healthy delivery, by table. */
  database?: { commits: number; rowsWritten: Record<string, number> };
  ratioToCeiling?: number;
  receivers?: { received: number; verified: number; unverified: number; duplicates: number; failed: number; hung: number };
  drive?: DriveResult;
  extra?: Record<string, unknown>;
}

function build(): void {
  say(`bench: building journey, subscriptions and delivery for production…`);
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'node_modules/nx/dist/bin/nx.js'), 'run-many', '-t', 'build', '-p', '@gancho/journey', '@gancho/subscriptions', '@gancho/delivery', '--output-style=static'], {
    cwd: repoRoot,
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (result.status !== 0) throw new Error('the build failed (see above)');
}

/** A Node binary of another major version, from the npm registry's `node` package (npm exec caches it). */
function nodeBinary(major: string): string {
  const output = execFileSync('npm', ['exec', '--yes', `--package=node@${major}`, '--', 'node', '-p', 'process.execPath'], { cwd: os.tmpdir(), encoding: 'utf8' });
  return output.trim().split('\n').pop() as string;
}

function machine() {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: round(os.totalmem() / 2 ** 30, 1),
    kernel: os.release(),
    node: process.version,
  };
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg().map((l) => round(l, 2));
  say(`bench: ${profileName} profile, run ${runId}; load average before: ${loadBefore.join(' ')} on ${os.cpus().length} cores`);
  if (!args.includes('--no-build')) build();
  const baseline: BaselineBuild | undefined = baselineCommit ? await prepareBaseline(baselineCommit, say) : undefined;
  // The API path runs on infrastructure of its own (tools/bench/api/bench-infra.mts); the other scenarios on the shared one.
  const needsSharedInfra = [...selected].some((name) => !apiNames.includes(name) && name !== 'ceiling-http');
  const infra = needsSharedInfra ? await infraUp() : { env: { DATABASE_URL: '', KAFKA_BROKERS: '' }, started: { postgres: false, kafka: false } };
  if (needsSharedInfra) say(`bench: PostgreSQL ${infra.started.postgres ? 'started' : 'already running'}, Kafka ${infra.started.kafka ? 'started' : 'already running'} (${elapsed()})`);
  const cleanups: (() => Promise<unknown>)[] = [];
  const results: ScenarioResult[] = [];
  const apiResults: ApiResult[] = [];
  let deliveryProfile: ProfileSummary | undefined;
  const platformInfo: Record<string, unknown> = {};
  let failure: unknown;
  const profileDir = path.join(here, 'profiles', runId);
  try {
    // Experiments on the runtime: flags for the ceiling's client and the receivers, e.g. --ceiling-node-options=--max-semi-space-size=16
    const ceilingNodeArgs = (option('ceiling-node-options') ?? '').split(' ').filter(Boolean);
    const fleet = await ReceiverFleet.start(receiverCount, process.execPath, ceilingNodeArgs);
    cleanups.push(() => fleet.close());
    const receiverPids = Object.fromEntries(fleet.pids.map((pid, i) => [`receiver-${i}`, pid]));

    // ---- the ceiling: no platform in between --------------------------------
    let ceiling: HttpCeilingResult | undefined;
    const ceilingEndpoints = Array.from({ length: 16 }, (_, i) => ({ key: `ceiling-${i}`, secret: `whsec_${randomBytes(32).toString('base64')}` }));
    await fleet.setRoutes(ceilingEndpoints.map((e) => ({ key: e.key, secrets: [e.secret] })));
    const runHttpCeiling = async (name: string, nodePath: string, receivers: ReceiverFleet, pids: Record<string, number>) => {
      await receivers.reset();
      const watch = new ProcessWatch(pids);
      watch.start();
      const result = await httpCeiling(nodePath, {
        targets: ceilingEndpoints.map((e) => ({ url: receivers.target(e.key).url, secret: e.secret })),
        durationMs: durations.httpCeilingMs,
        concurrency: dispatchConcurrency,
      }, ceilingNodeArgs);
      const processes = watch.stop();
      const stats = await receivers.stats();
      results.push({
        name,
        description: `raw undici keep-alive POSTs (${dispatchConcurrency} in flight), signed webhook bodies, to the same verifying receivers; client on Node ${result.node}`,
        offered: 'as fast as it goes',
        deliveriesPerSecond: Math.round(stats.healthyVerified / result.seconds),
        latencyMs: stats.latency.summary(),
        processes: { ...processes, 'ceiling-client': { cpuSeconds: result.cpuSeconds, cores: round(result.cpuSeconds / result.seconds, 2), peakRssMb: 0 } },
        receivers: pickReceiverStats(stats),
        extra: { client: result, cpuMicrosPerRequest: { client: round((result.cpuSeconds * 1e6) / Math.max(1, stats.healthyVerified), 1), receivers: round((Object.entries(processes).filter(([k]) => k.startsWith('receiver-')).reduce((sum, [, p]) => sum + p.cpuSeconds, 0) * 1e6) / Math.max(1, stats.healthyVerified), 1) }, nodeArgs: ceilingNodeArgs },
      });
      const perRequest = results[results.length - 1]?.extra?.cpuMicrosPerRequest as { client: number; receivers: number };
      say(`bench: ${name}: ${Math.round(stats.healthyVerified / result.seconds)} verified POSTs/s (client saw ${result.perSecond}/s, ${result.errors} errors); CPU per request: client ${perRequest.client} µs, receivers ${perRequest.receivers} µs (${elapsed()})`);
      return result;
    };
    if (wants('ceiling-http')) {
      ceiling = await runHttpCeiling('ceiling-http', process.execPath, fleet, receiverPids);
      const compare = option('compare-node');
      if (compare) {
        const other = nodeBinary(compare);
        const otherFleet = await ReceiverFleet.start(receiverCount, other, ceilingNodeArgs);
        cleanups.push(() => otherFleet.close());
        await otherFleet.setRoutes(ceilingEndpoints.map((e) => ({ key: e.key, secrets: [e.secret] })));
        await runHttpCeiling(`ceiling-http-node${compare}`, other, otherFleet, Object.fromEntries(otherFleet.pids.map((pid, i) => [`receiver-${i}`, pid])));
        await otherFleet.close();
      }
    }
    let kafka: (KafkaCeilingResult & { producerCpuSeconds: number }) | undefined;
    if (wants('ceiling-kafka')) {
      const kafkaGroup = new GroupCpuWatch(() => findPids('kafka.Kafka'));
      kafkaGroup.start();
      kafka = await kafkaCeiling(process.execPath, { brokers: infra.env.KAFKA_BROKERS, topic: `bench.${runId}.ceiling`, messages: durations.kafkaMessages, partitions: 6 });
      results.push({
        name: 'ceiling-kafka',
        description: 'raw kafkajs produce→consume of status-event CloudEvents, producer and consumer in separate processes, 6 partitions',
        offered: `${durations.kafkaMessages} messages, batches of 500`,
        deliveriesPerSecond: kafka.perSecond,
        latencyMs: kafka.latency,
        processes: { kafka: kafkaGroup.stop(), producer: { cpuSeconds: kafka.producerCpuSeconds, cores: 0, peakRssMb: 0 }, consumer: { cpuSeconds: kafka.consumerCpuSeconds, cores: 0, peakRssMb: 0 } },
        extra: { kafka },
      });
      say(`bench: ceiling-kafka: ${kafka.perSecond} messages/s produce→consume, p99 ${kafka.latency.p99} ms (${elapsed()})`);
    }

    const platformScenarios = allScenarios.filter((s) => !s.startsWith('ceiling') && wants(s));
    if (platformScenarios.length > 0) {
      // ---- the platform ------------------------------------------------------
      const database = `bench_${runId.replace(/[^a-z0-9]/gi, '_').toLowerCase()}`;
      const admin = new pg.Client({ connectionString: infra.env.DATABASE_URL });
      await admin.connect();
      await admin.query(`CREATE DATABASE "${database}"`);
      await admin.end();
      cleanups.push(async () => {
        const client = new pg.Client({ connectionString: infra.env.DATABASE_URL });
        await client.connect();
        await client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
        await client.end();
      });
      const databaseUrl = Object.assign(new URL(infra.env.DATABASE_URL), { pathname: `/${database}` }).toString();
      const topics = {
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
        kafkaBrokers: infra.env.KAFKA_BROKERS,
        ports: { journey: await freePort(), subscriptions: await freePort(), delivery: await freePort() },
        secrets,
        allowedEndpointHosts: fleet.hosts,
        env: topics,
      };
      // Experiments: `--delivery-env=DATABASE_POOL_SIZE=30,DISPATCH_CONCURRENCY=128` (reported in the JSON).
      const deliveryEnv = Object.fromEntries((option('delivery-env') ?? '').split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
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
        ...receiverPids,
        bench: process.pid,
      };
      const rssAtStartMb = Object.fromEntries((['journey', 'subscriptions', 'delivery'] as const).map((s) => [s, round(readProc(services[s].child.pid ?? 0)?.rssMb ?? 0, 1)]));
      say(`bench: platform ready; RSS at start: journey ${rssAtStartMb.journey} MB, subscriptions ${rssAtStartMb.subscriptions} MB, delivery ${rssAtStartMb.delivery} MB (${elapsed()})`);
      platformInfo.rssAtStartMb = rssAtStartMb;

      const kafkaClient = new Kafka({ clientId: 'gancho-bench', brokers: infra.env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
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

      /** Publishes endpoints, then waits until delivery routes to one published after them all. */
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
      const runScenario = async (name: ScenarioName, description: string, offered: string, source: LoadSource, mode: DriveMode, durationMs: number) => {
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
        const cpuMicrosPerDelivery = Object.fromEntries(
          Object.entries(processes).map(([k, v]) => [k, stats.healthyVerified > 0 ? Math.round((v.cpuSeconds * 1e6) / stats.healthyVerified) : 0]),
        );
        cpuMicrosPerDelivery.total = Object.entries(cpuMicrosPerDelivery).reduce((sum, [, v]) => sum + v, 0);
        const deliveryCpu = (processes.delivery as ProcessFigures | undefined)?.cpuSeconds ?? 0;
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
          ...(ceiling ? { ratioToCeiling: round(driven.sustainedPerSecond / Math.max(1, results.find((r) => r.name === 'ceiling-http')?.deliveriesPerSecond ?? 1), 3) } : {}),
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
      const saturate: DriveMode = { kind: 'saturate', backlog: saturationBacklog };
      const statusSource = (partners: BenchPartner[], healthy = (p: BenchPartner) => p.endpoints.length) =>
        new StatusEventSource(producer, topics.PURCHASE_STATUS_TOPIC, partners.map((p) => ({ partnerId: p.partnerId, healthyEndpoints: healthy(p) })));

      // ---- delivery only: status events straight onto the status topic ------
      const fanouts: [ScenarioName, number, number][] = [
        ['delivery-fanout-1', 10, 1],
        ['delivery-fanout-10', 10, 10],
        ['delivery-fanout-100', 2, 100],
      ];
      const fanoutPartners = new Map<ScenarioName, BenchPartner[]>();
      const degradedPartners = publisher.partners('degraded', 10, 10);
      const toPublish: BenchPartner[] = [];
      for (const [name, partners, perPartner] of fanouts) {
        if (wants(name) || (name === 'delivery-fanout-1' && wants('delivery-table-10k'))) {
          const set = publisher.partners(name.replace('delivery-', ''), partners, perPartner);
          fanoutPartners.set(name, set);
          toPublish.push(...set);
        }
      }
      if (wants('degraded') || wants('degraded-clean')) toPublish.push(...degradedPartners);
      // Fan-out 10 again, every endpoint keeping each purchase in order (ordering: per_purchase).
      const orderedPartners = publisher.partners('ordered-10', 10, 10, 'per_purchase');
      if (wants('delivery-ordered-10')) toPublish.push(...orderedPartners);
      if (toPublish.length > 0) {
        await publishAndWait(toPublish);
        say(`bench: ${toPublish.reduce((n, p) => n + p.endpoints.length, 0)} endpoints published and routed (${elapsed()})`);
      }
      for (const [name, partners, perPartner] of fanouts) {
        if (!wants(name)) continue;
        await runScenario(
          name,
          `delivery only: status events produced onto the status topic; ${partners} partners × ${perPartner} endpoint${perPartner > 1 ? 's' : ''} (fan-out ${perPartner})`,
          `saturating (≤ ${saturationBacklog} deliveries outstanding)`,
          statusSource(fanoutPartners.get(name) as BenchPartner[]),
          saturate,
          durations.saturateMs,
        );
      }
      if (wants('delivery-ordered-10')) {
        await runScenario(
          'delivery-ordered-10',
          'delivery only, fan-out 10 (10 partners × 10 endpoints) with ordering per_purchase on every endpoint; 4 consecutive events per purchase, each sent only after the previous one of its purchase succeeded',
          `saturating (≤ ${saturationBacklog} deliveries outstanding)`,
          new StatusEventSource(
            producer,
            topics.PURCHASE_STATUS_TOPIC,
            orderedPartners.map((p) => ({ partnerId: p.partnerId, healthyEndpoints: p.endpoints.length })),
            { eventsPerPurchase: 4 },
          ),
          saturate,
          durations.saturateMs,
        );
      }
      if (wants('delivery-table-10k')) {
        const filler = publisher.partners('table', 100, 100);
        await publishAndWait(filler);
        say(`bench: routing table grown by 10,000 endpoints (${elapsed()})`);
        await runScenario(
          'delivery-table-10k',
          'delivery only, fan-out 1 (10 partners × 1 endpoint) with 10,000 more endpoints of 100 other partners in the routing table',
          `saturating (≤ ${saturationBacklog} deliveries outstanding)`,
          statusSource(fanoutPartners.get('delivery-fanout-1') as BenchPartner[]),
          saturate,
          durations.saturateMs,
        );
      }

      // ---- e2e: status changes through the journey API ----------------------
      if (wants('e2e-max') || wants('e2e-500')) {
        const partners = await seedThroughApis({
          subscriptionsUrl: services.subscriptions.url,
          deliveryUrl: services.delivery.url,
          adminToken: secrets.adminToken,
          fleet,
          partners: 5,
          endpointsPerPartner: 4,
          label: `e2e-${runId.slice(-6)}`,
        });
        say(`bench: 5 partners × 4 endpoints created through the subscriptions API and routed (${elapsed()})`);
        const journeyPartners = partners.map((p) => ({ partnerId: p.partnerId, healthyEndpoints: p.endpoints.length }));
        if (wants('e2e-max')) {
          const source = new JourneySource(services.journey.url, secrets.platformToken, journeyPartners, 64);
          await runScenario(
            'e2e-max',
            'e2e: purchases walked through the journey API (12 status changes each), each change to 4 endpoints of its partner (5 partners)',
            `saturating (≤ ${saturationBacklog} deliveries outstanding, ≤ 64 commands in flight)`,
            source,
            saturate,
            durations.saturateMs,
          );
          await source.close();
        }
        if (wants('e2e-500')) {
          const source = new JourneySource(services.journey.url, secrets.platformToken, journeyPartners, 256);
          await runScenario(
            'e2e-500',
            `e2e at a fixed rate: ${e2eOfferedDeliveriesPerSecond} deliveries/s offered (${e2eOfferedDeliveriesPerSecond / 4} status changes/s × 4 endpoints)`,
            `${e2eOfferedDeliveriesPerSecond} deliveries/s`,
            source,
            { kind: 'rate', unitsPerSecond: e2eOfferedDeliveriesPerSecond / 4 },
            durations.rateMs,
          );
          await source.close();
        }
      }

      // ---- degraded: 10 % answer 500, 1 % hang; healthy endpoints' latency --
      // Below capacity, or both runs measure only their queue: at most half of what fan-out 10 sustained.
      const fanout10 = results.find((r) => r.name === 'delivery-fanout-10')?.deliveriesPerSecond;
      const degradedRate = Math.max(50, Math.min(degradedOfferedDeliveriesPerSecond, fanout10 ? Math.round(fanout10 / 2 / 10) * 10 : degradedOfferedDeliveriesPerSecond));
      const eventsPerSecond = degradedRate / 10;
      if (wants('degraded-clean')) {
        await fleet.setRoutes(routesOf(degradedPartners));
        await runScenario(
          'degraded-clean',
          `the degraded scenario's 100 endpoints (10 partners × 10), all healthy: the baseline`,
          `${degradedRate} deliveries/s`,
          statusSource(degradedPartners),
          { kind: 'rate', unitsPerSecond: eventsPerSecond },
          durations.rateMs,
        );
      }
      if (wants('degraded')) {
        // Endpoint 0 of partner 0 hangs; endpoint 1 of every partner answers 500.
        const modeOf = (_e: unknown, i: number) => (i === 0 ? 'hang' : i % 10 === 1 ? 'fail' : 'ok');
        await fleet.setRoutes(routesOf(degradedPartners, modeOf));
        const healthy = new Map(degradedPartners.map((p, pi) => [p.partnerId, p.endpoints.filter((_, ei) => modeOf(null, pi * 10 + ei) === 'ok').length]));
        await runScenario(
          'degraded',
          '100 endpoints (10 partners × 10): 10 answer 500, 1 hangs until the request timeout (15 s); latency of the 89 healthy ones',
          `${degradedRate} deliveries/s`,
          statusSource(degradedPartners, (p) => healthy.get(p.partnerId) ?? 0),
          { kind: 'rate', unitsPerSecond: eventsPerSecond },
          durations.rateMs,
        );
        // Retries to the failing endpoints succeed from now on, so nothing is left hanging at the stop.
        await fleet.setRoutes(routesOf(degradedPartners));
      }
      say(`bench: lines logged per service: journey ${logged.journey}, subscriptions ${logged.subscriptions}, delivery ${logged.delivery}`);
      await stopServices();
      if (profiledService && existsSync(profileDir)) {
        const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
        if (file) {
          deliveryProfile = summarizeProfile(readProfile(path.join(profileDir, file)), 30);
          say(`bench: ${profiledService} CPU profile ${path.relative(repoRoot, path.join(profileDir, file))}`);
          say(formatProfileSummary(deliveryProfile, 15));
        }
      }
    }

    // ---- the API path: POST /purchases → webhook verified, baseline then current
    if (selectedApi.length > 0) {
      const apiInfra = await startBenchInfra(say);
      cleanups.push(() => apiInfra.stop());
      const builds = [
        ...(baseline ? [{ label: 'baseline' as const, root: baseline.root, commit: baseline.commit.slice(0, 7) }] : []),
        { label: 'current' as const, root: repoRoot, commit: `${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim()}${execFileSync('git', ['status', '--porcelain', '--', 'apps', 'libs'], { cwd: repoRoot, encoding: 'utf8' }).trim() ? '+changes' : ''}` },
      ];
      for (const build of builds) {
        apiResults.push(...(await runApiPath({ build, infra: apiInfra, fleet, receiverPids, scenarios: selectedApi, durations: apiDurations, runId, say })));
        say(`bench: API path on ${build.label} done (${elapsed()})`);
      }
    }
  } catch (error) {
    failure = error;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => say(`bench: cleanup: ${String(error)}`));
    if (infra.started.postgres || infra.started.kafka) await infraDown({ postgres: infra.started.postgres, kafka: infra.started.kafka });
  }
  if (failure) throw failure;

  const loadAfter = os.loadavg().map((l) => round(l, 2));
  const find = (name: string) => results.find((r) => r.name === name);
  const figure = (name: string, pick: (r: ScenarioResult) => number) => {
    const r = find(name);
    return r ? pick(r) : undefined;
  };
  const deliveryOnly = figure('delivery-fanout-1', (r) => r.deliveriesPerSecond);
  const ceilingPerS = figure('ceiling-http', (r) => r.deliveriesPerSecond);
  const summary = {
    e2e_per_s: figure('e2e-max', (r) => r.deliveriesPerSecond),
    delivery_only_per_s: deliveryOnly,
    ceiling_per_s: ceilingPerS,
    ratio: deliveryOnly !== undefined && ceilingPerS ? round(deliveryOnly / ceilingPerS, 3) : undefined,
    e2e_p99_ms: figure('e2e-500', (r) => r.latencyMs.p99),
    degraded_healthy_p99_ms: figure('degraded', (r) => r.latencyMs.p99),
    ...apiSummary(apiResults, 'current'),
    ...(baseline ? baselineSummary(apiSummary(apiResults, 'current'), apiSummary(apiResults, 'baseline')) : {}),
  };
  const report = {
    runId,
    profile: profileName,
    startedAt: new Date(began).toISOString(),
    seconds: Math.round((Date.now() - began) / 1000),
    machine: machine(),
    loadAverage: { before: loadBefore, after: loadAfter },
    settings: { dispatchConcurrency, saturationBacklog, receivers: receiverCount, durations, apiDurations, deliveryEnv: option('delivery-env') ?? '' },
    summary,
    targets: [...targetsOf(results, summary), ...(baseline ? baselineTargets(apiResults) : [])],
    platform: platformInfo,
    scenarios: results,
    apiScenarios: apiResults,
    ...(baseline ? { baseline } : {}),
    ...(deliveryProfile ? { deliveryProfile } : {}),
  };
  const out = option('out') ?? path.join(here, 'results', `${runId}-${profileName}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  say('');
  if (results.length > 0) say(table(results));
  if (apiResults.length > 0) {
    say('');
    say('API path: POST /purchases (one status event each) → webhook verified; latency from journey\'s 201 read by the bench; CPU µs per healthy delivery ("all": journey + subscriptions + delivery + PostgreSQL, + Kafka on Kafka); idle rows: cores');
    say(apiTable(apiResults));
  }
  if (baseline && apiResults.length > 0) {
    say('');
    say(`API path against the baseline ${baseline.commit.slice(0, 7)} (same run, same infrastructure; ratio = current ÷ baseline):`);
    say(comparisonTable(apiResults));
    // Both builds run one after the other: work of others on the machine meanwhile lands on one of them only.
    const busiest = Math.max(...apiResults.map((r) => r.machine.otherCores));
    if (busiest > 0.25) say(`bench: WARNING: other work on the machine used up to ${busiest.toFixed(2)} cores during the API path; the ratios between the builds carry that noise (see the "other cores" column); rerun on a quiet machine`);
  }
  say('');
  for (const t of report.targets) say(`target: ${t.met === undefined ? 'not measured' : t.met ? 'met   ' : 'MISSED'}  ${t.target} (measured: ${t.measured ?? 'n/a'})`);
  say(`bench: ${profileName} run took ${elapsed()}; load average before ${loadBefore.join(' ')}, after ${loadAfter.join(' ')}; figures in ${path.relative(process.cwd(), out)}`);
  say(
    Object.entries(summary)
      .map(([k, v]) => `${k}=${v ?? 'na'}`)
      .join(' '),
  );
}

function pickReceiverStats(stats: { received: number; verified: number; unverified: number; duplicates: number; failed: number; hung: number }) {
  const { received, verified, unverified, duplicates, failed, hung } = stats;
  return { received, verified, unverified, duplicates, failed, hung };
}

function targetsOf(results: ScenarioResult[], summary: Record<string, number | undefined>) {
  const clean = results.find((r) => r.name === 'degraded-clean')?.latencyMs.p99;
  const degraded = summary.degraded_healthy_p99_ms;
  const platform = results.filter((r) => r.processes.delivery);
  const peakRss = platform.length
    ? Math.max(...platform.flatMap((r) => (['journey', 'subscriptions', 'delivery'] as const).map((s) => (r.processes[s] as ProcessFigures | undefined)?.peakRssMb ?? 0)))
    : undefined;
  const check = (target: string, measured: number | undefined, met: (v: number) => boolean) => ({ target, measured, met: measured === undefined ? undefined : met(measured) });
  return [
    check('delivery only ≥ 5,000 deliveries/s', summary.delivery_only_per_s, (v) => v >= 5000),
    check('e2e ≥ 2,000 deliveries/s', summary.e2e_per_s, (v) => v >= 2000),
    check('e2e p99 ≤ 250 ms at 500/s offered', summary.e2e_p99_ms, (v) => v <= 250),
    check('degraded healthy p99 within 20 % of the clean run', degraded !== undefined && clean ? round(degraded / clean, 2) : undefined, (v) => v <= 1.2),
    check('each service RSS ≤ 250 MB under load (MB)', peakRss, (v) => v <= 250),
  ];
}

function table(results: ScenarioResult[]): string {
  const header = ['scenario', 'deliveries/s', 'p50', 'p95', 'p99', 'max ms', 'delivery CPU s', 'µs/deliv', 'RSS MB d/j/s', 'journey CPU s', 'subs CPU s', 'recv CPU s', 'pg CPU s', 'kafka CPU s', 'other cores', 'ratio'];
  const cpu = (r: ScenarioResult, name: string) => {
    const p = r.processes[name];
    return p ? p.cpuSeconds.toFixed(1) : '-';
  };
  const rss = (r: ScenarioResult, name: string) => {
    const p = r.processes[name] as ProcessFigures | undefined;
    return p?.peakRssMb ? String(Math.round(p.peakRssMb)) : '-';
  };
  const receiversCpu = (r: ScenarioResult) => {
    const sum = Object.entries(r.processes)
      .filter(([k]) => k.startsWith('receiver-'))
      .reduce((s, [, v]) => s + v.cpuSeconds, 0);
    return sum.toFixed(1);
  };
  const rows = results.map((r) => [
    r.name,
    String(r.deliveriesPerSecond),
    String(r.latencyMs.p50),
    String(r.latencyMs.p95),
    String(r.latencyMs.p99),
    String(r.latencyMs.max),
    cpu(r, 'delivery'),
    r.deliveryCpuMicrosPerDelivery ? String(r.deliveryCpuMicrosPerDelivery) : '-',
    r.processes.delivery ? `${rss(r, 'delivery')}/${rss(r, 'journey')}/${rss(r, 'subscriptions')}` : '-',
    cpu(r, 'journey'),
    cpu(r, 'subscriptions'),
    receiversCpu(r),
    cpu(r, 'postgres'),
    cpu(r, 'kafka'),
    r.machine ? r.machine.otherCores.toFixed(2) : '-',
    r.ratioToCeiling === undefined ? '-' : r.ratioToCeiling.toFixed(3),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  return [line(header), `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)].join('\n');
}

try {
  await main();
  process.exit(0);
} catch (error) {
  say(`bench: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
}
