// The API-path scenarios: the path partners pay for, from a purchase opened
// through journey's public `POST /purchases` to the webhook verified at the
// partner's endpoint, at fixed offered rates and saturating, with fan-out 1
// (10 partners × 1 endpoint) and 10 (10 partners × 10), on Kafka and on the
// PostgreSQL event log; and the platform idle. One build (the working tree,
// or a baseline commit's worktree) at a time, on the bench's own PostgreSQL
// and Kafka, in a fresh database with fresh topics per build and transport.
import os from 'node:os';
import pg from 'pg';
/* eslint-disable @nx/enforce-module-boundaries -- scripts of tools/, not a library */
import { freePort } from '../../infra/ports.mts';
import { newPlatformSecrets, serviceEnv, type PlatformOptions } from '../../platform/platform.mts';
import { startService, stopService, type RunningService, type ServiceName } from '../../platform/service-processes.mts';
/* eslint-enable @nx/enforce-module-boundaries */
import { Histogram, type LatencySummary } from '../histogram.mts';
import { drive, type DriveMode } from '../load.mts';
import { pgPerDelivery, pgSnapshot } from '../pg-stats.mts';
import { GroupCpuWatch, ProcessWatch, machineBusySeconds, round, type ProcessFigures } from '../proc-stats.mts';
import type { ReceiverFleet } from '../receivers.mts';
import { seedThroughApis, type BenchPartner } from '../seed.mts';
import type { BenchInfra } from './bench-infra.mts';
import { enableStatements, resetStatements, statementsOf } from './pg-statements.mts';
import { PurchaseSource } from './purchase-source.mts';

export type Transport = 'kafka' | 'pg';
export type Fanout = 1 | 10;

export interface ApiScenario {
  name: string;
  transport: Transport;
  kind: 'idle' | 'rate' | 'saturate';
  fanout: Fanout;
  /** Purchases per second offered (kind 'rate'). */
  purchasesPerSecond?: number;
}

export const apiRates = [10, 50, 200, 1000] as const;

/** Every API-path scenario, in the order they run on one platform: idle first, the rates from low to high, saturating last. */
export const apiScenarios: ApiScenario[] = (['kafka', 'pg'] as const).flatMap((transport) => {
  const suffix = transport === 'pg' ? '-pg' : '';
  return [
    { name: `api-idle${suffix}`, transport, kind: 'idle' as const, fanout: 1 as Fanout },
    ...([1, 10] as const).flatMap((fanout) => apiRates.map((rate) => ({ name: `api-${rate}-f${fanout}${suffix}`, transport, kind: 'rate' as const, fanout, purchasesPerSecond: rate }))),
    ...([1, 10] as const).map((fanout) => ({ name: `api-max-f${fanout}${suffix}`, transport, kind: 'saturate' as const, fanout })),
  ];
});

export interface ApiDurations {
  /** Load before the first scenario on a fresh platform (200 purchases/s, not measured): JIT, pools and caches warm. */
  warmupMs: number;
  idleMs: number;
  rateMs: number;
  saturateMs: number;
  saturateWarmupMs: number;
  drainMs: number;
}

/** A build whose services run: the working tree, or a baseline commit's worktree. */
export interface ApiBuild {
  label: 'current' | 'baseline';
  /** Checkout root (its apps/<service>/dist/main.js run). */
  root: string;
  commit: string;
}

export const platformProcesses = ['journey', 'subscriptions', 'delivery', 'postgres', 'kafka'] as const;

export interface ApiResult {
  name: string;
  build: ApiBuild['label'];
  commit: string;
  transport: Transport;
  kind: ApiScenario['kind'];
  fanout: Fanout;
  offered: string;
  seconds: number;
  /** Purchases journey accepted (201) per second of the window. */
  acceptedPerSecond: number;
  /** Healthy deliveries per second received after the warm-up (saturating) or over the window (fixed rates). */
  deliveriesPerSecond: number;
  /** Purchases journey accepted (201), and the healthy deliveries they owe; `deliveries`: those received, each counted once. */
  purchasesAccepted: number;
  deliveriesOwed: number;
  deliveries: number;
  /** From journey's 201 read by the bench to the webhook verified at the receiver. */
  latencyMs: LatencySummary;
  /** From just before the bench sent POST /purchases to the webhook verified. */
  latencyFromSendMs: LatencySummary;
  /** POST /purchases round trip as the bench saw it. */
  commandMs: LatencySummary;
  commandErrors: number;
  lastCommandError?: string;
  /** Webhooks verified before the bench had read journey's answer (counted at 0 ms from accepted). */
  beforeAccepted: number;
  /** CPU µs per healthy delivery, by process; `platform` is the sum over the processes the transport uses. */
  cpuMicrosPerDelivery: Record<string, number>;
  /** Cores used over the window, by process; `platform` as above. */
  cores: Record<string, number>;
  processes: Record<string, ProcessFigures | { cpuSeconds: number; cores: number; processes: number }>;
  /** Per healthy delivery: statements (pg_stat_statements), commits and rows written (the server's counters); the most frequent statements with their calls. */
  database: { statements: number; statementsPerSecond: number; commits: number; rowsWritten: Record<string, number>; topStatements: { query: string; calls: number }[] };
  /** Owed deliveries not received when the window ended (queued), and whether every one arrived within the drain timeout. */
  queuedAtEnd: number;
  drained: boolean;
  drainSeconds: number;
  /** Owed (for purchases journey accepted) and never received: known once drained. */
  lost: number;
  duplicates: number;
  unverified: number;
  machine: { cores: number; busyCores: number; benchCores: number; otherCores: number };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The warm-up offers 200 purchases/s: enough that the JVM broker and V8 compile their hot paths before anything is measured. */
const warmupRate = 200;

/** Waits until the receivers stop counting (the previous scenario's stragglers have landed). */
async function waitQuiet(fleet: ReceiverFleet): Promise<void> {
  let last = -1;
  for (let i = 0; i < 100; i++) {
    const now = (await fleet.count()).received;
    if (now === last) return;
    last = now;
    await sleep(300);
  }
}

export async function runApiPath(options: {
  build: ApiBuild;
  infra: BenchInfra;
  fleet: ReceiverFleet;
  receiverPids: Record<string, number>;
  scenarios: ApiScenario[];
  durations: ApiDurations;
  runId: string;
  say: (line: string) => void;
}): Promise<ApiResult[]> {
  const { build, infra, fleet, say } = options;
  const results: ApiResult[] = [];
  await enableStatements(infra.adminUrl);
  for (const transport of ['kafka', 'pg'] as const) {
    const scenarios = options.scenarios.filter((s) => s.transport === transport);
    if (scenarios.length === 0) continue;
    const tag = `${options.runId}_${build.label}_${transport}`.replace(/[^a-z0-9]/gi, '_').toLowerCase();
    const database = `bench_api_${tag}`;
    const admin = new pg.Client({ connectionString: infra.adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${database}"`);
    await admin.end();
    const databaseUrl = Object.assign(new URL(infra.adminUrl), { pathname: `/${database}` }).toString();
    const topics: Record<string, string> =
      transport === 'kafka'
        ? {
            PURCHASE_STATUS_TOPIC: `bench.${tag}.status`,
            ENDPOINTS_TOPIC: `bench.${tag}.endpoints`,
            API_KEYS_TOPIC: `bench.${tag}.api-keys`,
            DELIVERY_ATTEMPTS_TOPIC: `bench.${tag}.attempts`,
            ENDPOINT_HEALTH_TOPIC: `bench.${tag}.health`,
            STATUS_CONSUMER_GROUP: `bench.${tag}.delivery`,
            ENDPOINT_HEALTH_CONSUMER_GROUP: `bench.${tag}.subscriptions-health`,
          }
        : {};
    const secrets = newPlatformSecrets();
    const platform: PlatformOptions = {
      databaseUrl,
      ...(transport === 'kafka' ? { kafkaBrokers: infra.kafkaBrokers } : {}),
      ports: { journey: await freePort(), subscriptions: await freePort(), delivery: await freePort() },
      secrets,
      allowedEndpointHosts: fleet.hosts,
      env: topics,
    };
    const services = {} as Record<ServiceName, RunningService>;
    let errorsShown = 0;
    try {
      say(`bench: ${build.label} (${build.commit}) on ${transport === 'kafka' ? 'Kafka' : 'the PostgreSQL event log'}: starting subscriptions, journey and delivery…`);
      for (const name of ['subscriptions', 'journey', 'delivery'] as const) {
        services[name] = await startService({
          name,
          port: platform.ports[name],
          root: build.root,
          env: serviceEnv(name, platform),
          onOutput: (service, line) => {
            if (/"level":(50|60)|\bERROR\b/.test(line) && errorsShown++ < 20) say(`  ${build.label} ${service}: ${line.slice(0, 400)}`);
          },
        });
      }
      const partnersOf = new Map<Fanout, BenchPartner[]>();
      for (const fanout of new Set(scenarios.filter((s) => s.kind !== 'idle').map((s) => s.fanout))) {
        partnersOf.set(
          fanout,
          await seedThroughApis({
            subscriptionsUrl: services.subscriptions.url,
            deliveryUrl: services.delivery.url,
            adminToken: secrets.adminToken,
            fleet,
            partners: 10,
            endpointsPerPartner: fanout,
            label: `api-${tag}-f${fanout}`,
          }),
        );
      }
      const warmupPartners = partnersOf.get(1) ?? partnersOf.get(10);
      if (warmupPartners && options.durations.warmupMs > 0) {
        await fleet.reset();
        const warmup = new PurchaseSource(
          services.journey.url,
          secrets.platformToken,
          warmupPartners.map((p) => ({ partnerId: p.partnerId, healthyEndpoints: p.endpoints.length })),
          128,
        );
        await drive({ fleet, source: warmup, mode: { kind: 'rate', unitsPerSecond: warmupRate }, durationMs: options.durations.warmupMs, warmupMs: 0, drainTimeoutMs: options.durations.drainMs });
        await warmup.close();
      }
      say(`bench: ${build.label} on ${transport}: platform ready, partners and endpoints created through the subscriptions API and routed, warmed up`);
      const pids = {
        journey: services.journey.child.pid ?? 0,
        subscriptions: services.subscriptions.child.pid ?? 0,
        delivery: services.delivery.child.pid ?? 0,
        ...options.receiverPids,
        bench: process.pid,
      };
      const platformNames: string[] = transport === 'kafka' ? [...platformProcesses] : platformProcesses.filter((p) => p !== 'kafka');
      for (const scenario of scenarios) {
        await waitQuiet(fleet);
        await fleet.reset({ trackArrivals: true });
        const partners = partnersOf.get(scenario.fanout) ?? [];
        const source = new PurchaseSource(
          services.journey.url,
          secrets.platformToken,
          partners.map((p) => ({ partnerId: p.partnerId, healthyEndpoints: p.endpoints.length })),
          scenario.kind === 'saturate' ? 64 : 128,
        );
        await resetStatements(infra.adminUrl);
        const pgBefore = await pgSnapshot(databaseUrl);
        const watch = new ProcessWatch(pids);
        const postgres = new GroupCpuWatch(infra.postgresPids);
        const kafka = new GroupCpuWatch(infra.kafkaPids);
        watch.start();
        postgres.start();
        kafka.start();
        const machineBefore = { busy: machineBusySeconds(), at: performance.now() };
        const mode: DriveMode | undefined = scenario.kind === 'rate' ? { kind: 'rate', unitsPerSecond: scenario.purchasesPerSecond ?? 0 } : scenario.kind === 'saturate' ? { kind: 'saturate', backlog: 1000 } : undefined;
        const driven = mode
          ? await drive({
              fleet,
              source,
              mode,
              durationMs: scenario.kind === 'rate' ? options.durations.rateMs : options.durations.saturateMs,
              // Fixed rates: every delivery of the window counts (there is no queue to fill first).
              warmupMs: scenario.kind === 'rate' ? 0 : options.durations.saturateWarmupMs,
              drainTimeoutMs: options.durations.drainMs,
            })
          : undefined;
        if (!mode) await sleep(options.durations.idleMs);
        const processes: ApiResult['processes'] = { ...watch.stop(), postgres: postgres.stop(), kafka: kafka.stop() };
        const windowSeconds = (performance.now() - machineBefore.at) / 1000;
        const machineBusy = machineBusySeconds() - machineBefore.busy;
        const ours = Object.values(processes).reduce((sum, p) => sum + p.cpuSeconds, 0);
        const machine = { cores: os.cpus().length, busyCores: round(machineBusy / windowSeconds, 2), benchCores: round(ours / windowSeconds, 2), otherCores: round(Math.max(0, machineBusy - ours) / windowSeconds, 2) };
        await source.close();
        const stats = await fleet.stats();
        const arrivals = await fleet.arrivals();
        const statements = await statementsOf(infra.adminUrl, database);
        await sleep(1200); // PostgreSQL flushes its cumulative statistics about once a second
        const pgAfter = await pgSnapshot(databaseUrl);

        const fromAccepted = new Histogram();
        const fromSend = new Histogram();
        let beforeAccepted = 0;
        arrivals.purchaseIds.forEach((purchaseId, i) => {
          const times = source.accepted.get(purchaseId);
          const at = arrivals.verifiedAt[i] as number;
          if (!times) return;
          if (at < times.acceptedAt) beforeAccepted++;
          fromAccepted.record(at - times.acceptedAt);
          fromSend.record(at - times.sentAt);
        });
        const unique = stats.healthyVerified - stats.duplicates;
        const deliveries = Math.max(1, unique);
        const perDelivery = (cpuSeconds: number) => Math.round((cpuSeconds * 1e6) / deliveries);
        const cpuMicrosPerDelivery: Record<string, number> = {};
        const cores: Record<string, number> = {};
        for (const [name, figures] of Object.entries(processes)) {
          cpuMicrosPerDelivery[name] = perDelivery(figures.cpuSeconds);
          cores[name] = round(figures.cpuSeconds / windowSeconds, 3);
        }
        const platformCpu = platformNames.reduce((sum, name) => sum + (processes[name]?.cpuSeconds ?? 0), 0);
        cpuMicrosPerDelivery.platform = perDelivery(platformCpu);
        cores.platform = round(platformCpu / windowSeconds, 3);
        const database_ = pgPerDelivery(pgBefore, pgAfter, deliveries);
        const result: ApiResult = {
          name: scenario.name,
          build: build.label,
          commit: build.commit,
          transport,
          kind: scenario.kind,
          fanout: scenario.fanout,
          offered: scenario.kind === 'rate' ? `${scenario.purchasesPerSecond} purchases/s` : scenario.kind === 'saturate' ? 'saturating (≤ 1,000 deliveries owed, ≤ 64 commands in flight)' : 'nothing',
          seconds: round(windowSeconds, 1),
          acceptedPerSecond: driven ? round(source.accepted.size / driven.loadSeconds, 1) : 0,
          deliveriesPerSecond: driven ? (scenario.kind === 'rate' ? Math.round(unique / driven.loadSeconds) : driven.sustainedPerSecond) : 0,
          purchasesAccepted: source.accepted.size,
          deliveriesOwed: source.expected,
          deliveries: unique,
          latencyMs: fromAccepted.summary(),
          latencyFromSendMs: fromSend.summary(),
          commandMs: source.commandLatency.summary(),
          commandErrors: source.errors,
          ...(source.lastError ? { lastCommandError: source.lastError } : {}),
          beforeAccepted,
          cpuMicrosPerDelivery,
          cores,
          processes,
          database: {
            statements: unique > 0 ? round(statements.calls / unique, 2) : 0,
            statementsPerSecond: round(statements.calls / windowSeconds, 1),
            commits: database_.commits,
            rowsWritten: database_.rowsWritten,
            topStatements: statements.top,
          },
          queuedAtEnd: driven?.outstandingAtEnd ?? 0,
          drained: driven?.drained ?? true,
          drainSeconds: driven?.drainSeconds ?? 0,
          lost: driven ? Math.max(0, source.expected - unique) : 0,
          duplicates: stats.duplicates,
          unverified: stats.unverified,
          machine,
        };
        results.push(result);
        say(
          scenario.kind === 'idle'
            ? `bench: ${build.label} ${scenario.name}: platform ${cores.platform} cores idle (journey ${cores.journey}, subscriptions ${cores.subscriptions}, delivery ${cores.delivery}, postgres ${cores.postgres}, kafka ${cores.kafka}); ${result.database.statementsPerSecond} statements/s; others ${machine.otherCores} cores`
            : `bench: ${build.label} ${scenario.name}: ${result.acceptedPerSecond} purchases/s accepted, ${result.deliveriesPerSecond} deliveries/s; accepted→verified p50 ${result.latencyMs.p50} p99 ${result.latencyMs.p99} ms; CPU µs/delivery ${cpuMicrosPerDelivery.platform} (journey ${cpuMicrosPerDelivery.journey}, subscriptions ${cpuMicrosPerDelivery.subscriptions}, delivery ${cpuMicrosPerDelivery.delivery}, postgres ${cpuMicrosPerDelivery.postgres}, kafka ${cpuMicrosPerDelivery.kafka}); ${result.database.statements} statements, ${result.database.commits} commits/delivery; queued at end ${result.queuedAtEnd}${result.drained ? '' : `, ${driven?.missing} NOT DRAINED in ${driven?.drainSeconds} s`}; lost ${result.lost}, duplicates ${result.duplicates}${source.errors ? `; ${source.errors} command errors (${source.lastError.slice(0, 120)})` : ''}; others ${machine.otherCores} cores`,
        );
      }
    } finally {
      for (const name of ['delivery', 'journey', 'subscriptions'] as const) if (services[name]) await stopService(services[name]);
      const client = new pg.Client({ connectionString: infra.adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await client.end();
    }
  }
  return results;
}
