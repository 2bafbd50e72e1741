// What one journey command costs the journey process: CPU µs per command,
// latency, and PostgreSQL statements and round trips per command, at a fixed
// offered rate and at saturation. Journey runs from its build
// (apps/journey/dist/main.js) on a fresh database of the server in
// DATABASE_URL, behind a small proxy that counts the PostgreSQL protocol
// messages it sends (Query and Execute are statements; Query and Sync each
// wait for the server, so they are round trips).
//
// Each purchase is opened (POST /purchases) and walked to made_effective
// (POST /purchases/{id}/<command>), one command after another; many purchases
// run side by side. Every command carries an Idempotency-Key unless
// --idempotency=none.
//
//   set -a; . .infra/env; set +a; npx nx build @gancho/journey
//   node tools/bench/journey-command.mts [--rate=200] [--seconds=15] [--concurrency=32]
//        [--relay] [--idempotency=none] [--profile] [--floor] [--main=path/to/dist/main.js]
//
// --floor adds GET /health/live at the same rate: what any request costs the
// process (HTTP, Express, Nest, telemetry) before a command's own work.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Pool } from 'undici';
/* eslint-disable @nx/enforce-module-boundaries -- a script of tools/, not a library */
import { freePort } from '../infra/ports.mts';
import { journeySteps } from '../platform/journey-steps.mts';
/* eslint-enable @nx/enforce-module-boundaries */
import { readProc, round } from './proc-stats.mts';
import { formatProfileSummary, readProfile, summarizeProfile } from './profile-summary.mts';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const flag = (name: string) => args.includes(`--${name}`);

const rate = Number(option('rate') ?? 200);
const seconds = Number(option('seconds') ?? 15);
const warmupSeconds = Number(option('warmup') ?? 5);
const concurrency = Number(option('concurrency') ?? 32);
const withKeys = option('idempotency') !== 'none';
const mainFile = path.resolve(option('main') ?? path.join(here, '../../apps/journey/dist/main.js'));
const platformToken = `bench-platform-${randomBytes(8).toString('hex')}`;

/** Client → server message counts of the PostgreSQL protocol, over every connection through the proxy. */
class PgMessageCounter {
  readonly counts = new Map<string, number>();
  private server: Server | undefined;

  async listen(target: URL): Promise<number> {
    const port = await freePort();
    this.server = createServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname);
      client.setNoDelay(true);
      upstream.setNoDelay(true);
      const parse = this.parser();
      client.on('data', (chunk: Buffer) => {
        parse(chunk);
        upstream.write(chunk);
      });
      upstream.pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    return port;
  }

  snapshot(): { statements: number; roundTrips: number; connections: number } {
    const n = (type: string) => this.counts.get(type) ?? 0;
    return { statements: n('Q') + n('E'), roundTrips: n('Q') + n('S'), connections: n('startup') };
  }

  close(): void {
    this.server?.close();
  }

  /** The first message has no type byte (startup); every later one is type, int32 length, body. */
  private parser(): (chunk: Buffer) => void {
    let started = false;
    let header = Buffer.alloc(0);
    let skip = 0;
    return (chunk) => {
      let offset = 0;
      while (offset < chunk.length) {
        if (skip > 0) {
          const n = Math.min(skip, chunk.length - offset);
          skip -= n;
          offset += n;
          continue;
        }
        const need = started ? 5 : 4;
        const take = Math.min(need - header.length, chunk.length - offset);
        header = Buffer.concat([header, chunk.subarray(offset, offset + take)]);
        offset += take;
        if (header.length < need) continue;
        if (started) {
          const type = String.fromCharCode(header[0] as number);
          this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
          skip = header.readInt32BE(1) - 4;
        } else {
          skip = header.readInt32BE(0) - 4;
          started = true;
          this.counts.set('startup', (this.counts.get('startup') ?? 0) + 1);
        }
        header = Buffer.alloc(0);
      }
    };
  }
}

interface Phase {
  name: string;
  commands: number;
  failures: number;
  cpuMicrosPerCommand: number;
  /** of which in the kernel (sockets: the HTTP exchange and the PostgreSQL round trips) */
  systemMicrosPerCommand: number;
  commandsPerSecond: number;
  cores: number;
  p50Ms: number;
  p99Ms: number;
  statementsPerCommand: number;
  roundTripsPerCommand: number;
  /** PostgreSQL connections journey opened during the phase (each costs a SCRAM handshake). */
  connectionsOpened: number;
}

/** A purchase being walked through the journey: the next step, or -1 before it is opened. */
interface Walk {
  purchaseId: string;
  step: number;
}

class CommandDriver {
  latencies: number[] = [];
  completed = 0;
  failures = 0;
  firstFailure: string | undefined;
  inFlight = 0;
  private readonly ready: Walk[] = [];
  private readonly pool: Pool;

  constructor(pool: Pool) {
    this.pool = pool;
  }

  /** The floor under every command: a request that reaches the service and does nothing (GET /health/live). */
  probeOnly = false;

  /** Runs the next command of a ready purchase, or opens a new one. */
  async next(): Promise<void> {
    if (this.probeOnly) return this.probe();
    const walk = this.ready.pop() ?? { purchaseId: `pur_${Date.now().toString(16).padStart(12, '0')}${randomBytes(10).toString('hex')}`, step: -1 };
    const step = walk.step >= 0 ? journeySteps[walk.step] : undefined;
    const body =
      walk.step < 0
        ? {
            purchase_id: walk.purchaseId,
            partner_id: 'ptn_bench',
            course: { id: 'crs_bench', name: 'Ciência de Dados', price_cents: 1_234_500, currency: 'BRL' },
            student: { name: 'Ana Souza', email: 'ana.souza@example.com' },
            student_logged_in: false,
          }
        : (step?.body ?? {});
    const started = performance.now();
    this.inFlight++;
    try {
      const response = await this.pool.request({
        method: 'POST',
        path: walk.step < 0 ? '/purchases' : `/purchases/${walk.purchaseId}/${step?.path}`,
        headers: {
          authorization: `Bearer ${platformToken}`,
          'content-type': 'application/json',
          ...(withKeys ? { 'idempotency-key': randomUUID() } : {}),
        },
        body: JSON.stringify(body),
      });
      const text = await response.body.text();
      if (response.statusCode >= 300) {
        this.failures++;
        this.firstFailure ??= `${response.statusCode} ${text}`;
        return;
      }
      this.latencies.push(performance.now() - started);
      this.completed++;
      if (++walk.step < journeySteps.length) this.ready.push(walk);
    } catch (error) {
      this.failures++;
      this.firstFailure ??= String(error);
    } finally {
      this.inFlight--;
    }
  }

  private async probe(): Promise<void> {
    const started = performance.now();
    const response = await this.pool.request({ method: 'GET', path: '/health/live' });
    await response.body.text();
    if (response.statusCode !== 200) this.failures++;
    else {
      this.latencies.push(performance.now() - started);
      this.completed++;
    }
  }

  /** Offers `perSecond` commands a second for `durationMs` (open loop: a slow answer does not slow the offer). */
  async fixedRate(perSecond: number, durationMs: number): Promise<void> {
    const started = performance.now();
    let issued = 0;
    const pending = new Set<Promise<void>>();
    while (performance.now() - started < durationMs) {
      const due = Math.floor(((performance.now() - started) / 1000) * perSecond);
      for (; issued < due; issued++) {
        const p = this.next();
        pending.add(p);
        void p.finally(() => pending.delete(p));
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all(pending);
  }

  /** As fast as `workers` callers each waiting for their answer go. */
  async saturate(workers: number, durationMs: number): Promise<void> {
    const until = performance.now() + durationMs;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (performance.now() < until) await this.next();
      }),
    );
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number) : 0;
}

async function measure(name: string, pid: number, counter: PgMessageCounter, driver: CommandDriver, run: () => Promise<void>): Promise<Phase> {
  const cpuBefore = readProc(pid)?.cpuSeconds ?? 0;
  const systemBefore = readProc(pid)?.systemSeconds ?? 0;
  const pgBefore = counter.snapshot();
  const doneBefore = driver.completed;
  const failedBefore = driver.failures;
  driver.latencies = [];
  const started = performance.now();
  await run();
  const elapsed = (performance.now() - started) / 1000;
  const cpu = (readProc(pid)?.cpuSeconds ?? 0) - cpuBefore;
  const system = (readProc(pid)?.systemSeconds ?? 0) - systemBefore;
  const pgAfter = counter.snapshot();
  const commands = driver.completed - doneBefore;
  const sorted = [...driver.latencies].sort((a, b) => a - b);
  const per = (n: number) => round(n / Math.max(1, commands), 2);
  return {
    name,
    commands,
    failures: driver.failures - failedBefore,
    cpuMicrosPerCommand: Math.round((cpu * 1e6) / Math.max(1, commands)),
    systemMicrosPerCommand: Math.round((system * 1e6) / Math.max(1, commands)),
    commandsPerSecond: Math.round(commands / elapsed),
    cores: round(cpu / elapsed, 2),
    p50Ms: round(percentile(sorted, 0.5), 2),
    p99Ms: round(percentile(sorted, 0.99), 2),
    statementsPerCommand: per(pgAfter.statements - pgBefore.statements),
    roundTripsPerCommand: per(pgAfter.roundTrips - pgBefore.roundTrips),
    connectionsOpened: pgAfter.connections - pgBefore.connections,
  };
}

function startJourney(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const { KAFKA_BROKERS: _kafka, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--enable-source-maps', mainFile], { env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const listening = /listening on (http:\/\/[\w.:[\]-]+)/.exec(output);
      if (listening?.[1]) resolve({ child, url: listening[1].replace('[::1]', '127.0.0.1') });
    });
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`journey exited with ${code}:\n${output}`)));
  });
}

async function main(): Promise<void> {
  const adminUrl = process.env['DATABASE_URL'];
  if (!adminUrl) throw new Error('set DATABASE_URL (. .infra/env)');
  const database = `journey_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${database}"`);
  const counter = new PgMessageCounter();
  const target = new URL(adminUrl);
  const proxyPort = await counter.listen(target);
  const journeyDatabaseUrl = new URL(adminUrl);
  journeyDatabaseUrl.hostname = '127.0.0.1';
  journeyDatabaseUrl.port = String(proxyPort);
  journeyDatabaseUrl.pathname = `/${database}`;
  const profileDir = path.join(here, 'profiles', `journey-command-${Date.now()}`);
  if (flag('profile')) mkdirSync(profileDir, { recursive: true });
  const journey = await startJourney({
    DATABASE_URL: journeyDatabaseUrl.toString(),
    JOURNEY_PLATFORM_TOKENS: platformToken,
    PERSONAL_DATA_MASTER_KEYS: `m1:${Buffer.alloc(32, 1).toString('base64')}`,
    PERSONAL_DATA_INDEX_KEY: Buffer.alloc(32, 2).toString('base64'),
    SECRETS_ENCRYPTION_KEY: `k1:${Buffer.alloc(32, 3).toString('base64')}`,
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    TIMEOUT_SCAN_INTERVAL_MS: '0',
    OUTBOX_RELAY_ENABLED: flag('relay') ? 'true' : 'false',
    LOG_LEVEL: 'info',
    ...(flag('profile') ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } : {}),
  });
  const pid = journey.child.pid as number;
  const pool = new Pool(journey.url, { connections: Math.max(concurrency, 64), pipelining: 1 });
  const driver = new CommandDriver(pool);
  const phases: Phase[] = [];
  try {
    await driver.fixedRate(rate, warmupSeconds * 1000);
    phases.push(await measure(`${rate}/s`, pid, counter, driver, () => driver.fixedRate(rate, seconds * 1000)));
    phases.push(await measure(`saturated×${concurrency}`, pid, counter, driver, () => driver.saturate(concurrency, seconds * 1000)));
    if (flag('floor')) {
      driver.probeOnly = true;
      phases.push(await measure(`GET /health/live ${rate}/s`, pid, counter, driver, () => driver.fixedRate(rate, seconds * 1000)));
    }
  } finally {
    await pool.close();
    journey.child.kill('SIGTERM');
    await new Promise((resolve) => journey.child.once('exit', resolve));
    counter.close();
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.end();
  }
  console.log(`journey-command: ${path.relative(process.cwd(), mainFile)}, idempotency keys ${withKeys ? 'on' : 'off'}, relay ${flag('relay') ? 'on' : 'off'}`);
  console.table(phases);
  if (driver.firstFailure) console.log(`first failure: ${driver.firstFailure}`);
  if (flag('profile')) {
    const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
    if (file) {
      console.log(`profile ${path.join(profileDir, file)}`);
      console.log(formatProfileSummary(summarizeProfile(readProfile(path.join(profileDir, file)), 30)));
    }
  }
}

await main();
