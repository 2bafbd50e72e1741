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
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// The bench reuses the start scripts of tools/ (infra, platform) rather than
// copies of them; they are scripts, not a library, so the boundary rule does
// not know them.
/* eslint-disable @nx/enforce-module-boundaries */
import { infraDown } from '../infra/down.mts';
import { repoRoot } from '../infra/paths.mts';
import { infraUp } from '../infra/up.mts';
/* eslint-enable @nx/enforce-module-boundaries */
import type { ApiDurations } from './api/api-path.mts';
import { apiSummary, apiTable, baselineSummary, baselineTargets, comparisonTable } from './api/api-report.mts';
import { prepareBaseline } from './api/baseline.mts';
import { round } from './proc-stats.mts';
import { ReceiverFleet } from './receivers.mts';
import { table, targetsOf } from './report.mts';
import { startPlatform } from './scenarios/platform.mts';
import { scenarioModules, scenarioNames, smokeScenarios } from './scenarios/registry.mts';
import { dispatchConcurrency, saturationBacklog, type BenchRun, type Durations, type ScenarioResult } from './scenarios/scenario.mts';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
/** The service run with --cpu-prof, if any (`--profile=journey`, or `--profile-delivery`). */
const profiledService = option('profile') ?? (args.includes('--profile-delivery') ? 'delivery' : undefined);
const profileName = args.includes('--smoke') ? 'smoke' : args.includes('--long') ? 'long' : 'quick';

const profiles: Record<string, Durations> = {
  smoke: { httpCeilingMs: 1000, kafkaMessages: 2000, saturateMs: 3000, warmupMs: 1000, rateMs: 3000, drainMs: 30_000 },
  quick: { httpCeilingMs: 5000, kafkaMessages: 50_000, saturateMs: 12_000, warmupMs: 3000, rateMs: 10_000, drainMs: 30_000 },
  long: { httpCeilingMs: 30_000, kafkaMessages: 300_000, saturateMs: 60_000, warmupMs: 10_000, rateMs: 60_000, drainMs: 120_000 },
};
const durations = profiles[profileName] as Durations;
/** The API path's windows: fixed rates count every delivery of the window; the idle platform is watched for 30 s. */
const apiProfiles: Record<string, ApiDurations> = {
  smoke: { warmupMs: 1000, idleMs: 2000, rateMs: 3000, saturateMs: 3000, saturateWarmupMs: 1000, drainMs: 30_000 },
  quick: { warmupMs: 20_000, idleMs: 30_000, rateMs: 10_000, saturateMs: 10_000, saturateWarmupMs: 3000, drainMs: 60_000 },
  long: { warmupMs: 30_000, idleMs: 30_000, rateMs: 30_000, saturateMs: 30_000, saturateWarmupMs: 10_000, drainMs: 120_000 },
};
const apiWarmupOverride = option('api-warmup-ms');
const apiDurations: ApiDurations = { ...(apiProfiles[profileName] as ApiDurations), ...(apiWarmupOverride === undefined ? {} : { warmupMs: Number(apiWarmupOverride) }) };
const baselineCommit = option('baseline');

const known = scenarioNames();
const apiNames = scenarioNames('api');
const selected = new Set<string>(option('only')?.split(',') ?? (args.includes('--api') ? apiNames : profileName === 'smoke' ? smokeScenarios : known));
for (const name of selected) if (!known.includes(name)) throw new Error(`unknown scenario ${name} (known: ${known.join(', ')})`);
const wants = (name: string) => selected.has(name);
if (baselineCommit && !apiNames.some(wants)) throw new Error('--baseline compares the API-path scenarios: select some (--api, or --only=api-…)');

const receiverCount = Number(option('receivers') ?? 2);
const runId = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(3).toString('hex')}`;
const began = Date.now();

const say = (line: string) => process.stdout.write(`${line}\n`);
const elapsed = () => `${((Date.now() - began) / 1000).toFixed(0)} s`;

function build(): void {
  say(`bench: building journey, subscriptions and delivery for production…`);
  const result = spawnSync(
    process.execPath,
    [path.join(repoRoot, 'node_modules/nx/dist/bin/nx.js'), 'run-many', '-t', 'build', '-p', '@gancho/journey', '@gancho/subscriptions', '@gancho/delivery', '--output-style=static'],
    {
      cwd: repoRoot,
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  if (result.status !== 0) throw new Error('the build failed (see above)');
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

/** Runs the selected scenarios of every module in the registry, stage by stage (scenarios/scenario.mts). */
async function runScenarios(bench: BenchRun): Promise<void> {
  const selectedIn = (stage: string) => scenarioModules.filter((m) => m.stage === stage && m.names.some(wants));
  for (const module of selectedIn('machine')) if (module.stage === 'machine') await module.run(bench);
  const onPlatform = selectedIn('platform');
  if (onPlatform.length > 0) {
    const platform = await startPlatform(bench);
    const prepared = onPlatform.flatMap((module) => (module.stage === 'platform' ? [module.prepare(platform)] : []));
    const endpoints = prepared.flatMap((p) => p.endpoints);
    if (endpoints.length > 0) {
      await platform.publishAndWait(endpoints);
      say(`bench: ${endpoints.reduce((n, p) => n + p.endpoints.length, 0)} endpoints published and routed (${elapsed()})`);
    }
    for (const scenarios of prepared) await scenarios.run();
    await platform.stop();
  }
  for (const module of selectedIn('api')) if (module.stage === 'api') await module.run(bench);
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg().map((l) => round(l, 2));
  say(`bench: ${profileName} profile, run ${runId}; load average before: ${loadBefore.join(' ')} on ${os.cpus().length} cores`);
  if (!args.includes('--no-build')) build();
  const baseline = baselineCommit ? await prepareBaseline(baselineCommit, say) : undefined;
  // The API path runs on infrastructure of its own (tools/bench/api/bench-infra.mts); the other scenarios on the shared one.
  const needsSharedInfra = scenarioModules.some((m) => m.stage !== 'api' && (m.stage === 'platform' || m.sharedInfra) && m.names.some(wants));
  const infra = needsSharedInfra ? await infraUp() : { env: { DATABASE_URL: '', KAFKA_BROKERS: '' }, started: { postgres: false, kafka: false } };
  if (needsSharedInfra) say(`bench: PostgreSQL ${infra.started.postgres ? 'started' : 'already running'}, Kafka ${infra.started.kafka ? 'started' : 'already running'} (${elapsed()})`);
  const cleanups: (() => Promise<unknown>)[] = [];
  const results: ScenarioResult[] = [];
  let bench: BenchRun | undefined;
  let failure: unknown;
  try {
    // Experiments on the runtime: flags for the ceiling's client and the receivers, e.g. --ceiling-node-options=--max-semi-space-size=16
    const ceilingNodeArgs = (option('ceiling-node-options') ?? '').split(' ').filter(Boolean);
    const fleet = await ReceiverFleet.start(receiverCount, process.execPath, ceilingNodeArgs);
    cleanups.push(() => fleet.close());
    bench = {
      option,
      wants,
      profileName,
      durations,
      apiDurations,
      runId,
      say,
      elapsed,
      infraEnv: infra.env,
      fleet,
      receiverCount,
      receiverPids: Object.fromEntries(fleet.pids.map((pid, i) => [`receiver-${i}`, pid])),
      ceilingNodeArgs,
      profiledService,
      profileDir: path.join(here, 'profiles', runId),
      baseline,
      cleanups,
      results,
      apiResults: [],
      platformInfo: {},
    };
    await runScenarios(bench);
  } catch (error) {
    failure = error;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => say(`bench: cleanup: ${String(error)}`));
    if (infra.started.postgres || infra.started.kafka) await infraDown({ postgres: infra.started.postgres, kafka: infra.started.kafka });
  }
  if (failure || !bench) throw failure;
  const { apiResults } = bench;

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
    platform: bench.platformInfo,
    scenarios: results,
    apiScenarios: apiResults,
    ...(baseline ? { baseline } : {}),
    ...(bench.serviceProfile ? { deliveryProfile: bench.serviceProfile } : {}),
  };
  const out = option('out') ?? path.join(here, 'results', `${runId}-${profileName}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  say('');
  if (results.length > 0) say(table(results));
  if (apiResults.length > 0) {
    say('');
    say(
      'API path: POST /purchases (one status event each) → webhook verified; latency from journey\'s 201 read by the bench; CPU µs per healthy delivery ("all": journey + subscriptions + delivery + PostgreSQL, + Kafka on Kafka); idle rows: cores',
    );
    say(apiTable(apiResults));
  }
  if (baseline && apiResults.length > 0) {
    say('');
    say(`API path against the baseline ${baseline.commit.slice(0, 7)} (same run, same infrastructure; ratio = current ÷ baseline):`);
    say(comparisonTable(apiResults));
    // Both builds run one after the other: work of others on the machine meanwhile lands on one of them only.
    const busiest = Math.max(...apiResults.map((r) => r.machine.otherCores));
    if (busiest > 0.25)
      say(`bench: WARNING: other work on the machine used up to ${busiest.toFixed(2)} cores during the API path; the ratios between the builds carry that noise (see the "other cores" column); rerun on a quiet machine`);
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

try {
  await main();
  process.exit(0);
} catch (error) {
  say(`bench: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
}
