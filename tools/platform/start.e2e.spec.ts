import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { eventually } from '@gancho/testing';
import { repoRoot } from '../infra/paths.mts';
import { freePort } from '../infra/ports.mts';

const startScript = path.join(repoRoot, 'tools', 'platform', 'start.mts');

/** Every process whose environment carries `GANCHO_E2E_MARK=<mark>`: what one `npm start` started, wherever it was reparented. */
async function processesMarked(mark: string): Promise<{ pid: number; command: string }[]> {
  const found: { pid: number; command: string }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    if (!environ.split('\0').includes(`GANCHO_E2E_MARK=${mark}`)) continue;
    const command = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0').join(' ').trim();
    // A zombie has no command line: it is gone, its parent just has not reaped it.
    if (command) found.push({ pid: Number(entry), command });
  }
  return found;
}

interface StartRun {
  child: ChildProcess;
  mark: string;
  ports: Record<string, number>;
  output: () => string;
  exited: Promise<number | null>;
}

async function npmStart(dataDir: string, env: Record<string, string> = {}, ports?: Record<string, number>): Promise<StartRun> {
  const mark = randomUUID();
  const chosen = ports ?? {
    JOURNEY_PORT: await freePort(),
    SUBSCRIPTIONS_PORT: await freePort(),
    DELIVERY_PORT: await freePort(),
    CONSOLE_PORT: await freePort(),
    DEMO_RECEIVER_PORT: await freePort(),
    GANCHO_PG_PORT: await freePort(),
  };
  // No DATABASE_URL or KAFKA_BROKERS: npm start's own embedded PostgreSQL and event log, as on a laptop.
  const { DATABASE_URL: _database, KAFKA_BROKERS: _kafka, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', startScript], {
    cwd: repoRoot,
    env: {
      ...inherited,
      ...Object.fromEntries(Object.entries(chosen).map(([name, port]) => [name, String(port)])),
      GANCHO_DATA_DIR: dataDir,
      // The tools project's tests build the services first (nx dependsOn); the console was built with them.
      GANCHO_SKIP_BUILD: '1',
      GANCHO_E2E_MARK: mark,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, mark, ports: chosen, output: () => output, exited };
}

function holdPort(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

// Scenarios, with `npm start` as a real process tree (three services, the console, embedded PostgreSQL):
// - kill -9 of the npm start process: every process it started exits, PostgreSQL included;
// - a port it needs is taken: it refuses, names the port and the pid and command line holding it,
//   exits non-zero, and starts nothing;
// - the demo seed fails (here the partner API's rate limit refuses the seed's second call): it says so,
//   exits non-zero, and nothing it started is left running.
describe('npm start owns its processes', () => {
  let dataDir: string;
  const runs: StartRun[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'gancho-start-'));
    // As root, PostgreSQL runs as the postgres user, who must reach its data directory.
    await chmod(dataDir, 0o755);
  });
  afterAll(async () => {
    // Should a test fail, leave nothing behind.
    for (const run of runs) for (const { pid } of await processesMarked(run.mark)) process.kill(pid, 'SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('takes every child, PostgreSQL included, down with it when it is SIGKILLed', async () => {
    const run = await npmStart(dataDir);
    runs.push(run);
    await eventually(() => expect(run.output()).toContain('gancho is ready'), { timeoutMs: 180_000, intervalMs: 250 });
    const started = await processesMarked(run.mark);
    const commands = started.map((p) => p.command).join('\n');
    for (const part of ['journey/dist/main.js', 'subscriptions/dist/main.js', 'delivery/dist/main.js', 'console/dist/server/main.js', 'bin/postgres']) {
      expect(commands).toContain(part);
    }

    run.child.kill('SIGKILL');
    await run.exited;
    await eventually(async () => expect(await processesMarked(run.mark)).toEqual([]), { timeoutMs: 60_000, intervalMs: 250 });
  }, 300_000);

  it('refuses to start on a taken port, naming who holds it, and leaves nothing running', async () => {
    const ports = {
      JOURNEY_PORT: await freePort(),
      SUBSCRIPTIONS_PORT: await freePort(),
      DELIVERY_PORT: await freePort(),
      CONSOLE_PORT: await freePort(),
      DEMO_RECEIVER_PORT: await freePort(),
      GANCHO_PG_PORT: await freePort(),
    };
    const squatter = await holdPort(ports.DELIVERY_PORT);
    try {
      const run = await npmStart(dataDir, {}, ports);
      runs.push(run);
      expect(await run.exited).toBe(1);
      const ownCommand = (await readFile(`/proc/${process.pid}/cmdline`, 'utf8')).split('\0').join(' ').trim();
      expect(run.output()).toContain(`port ${ports.DELIVERY_PORT} (delivery) is held by pid ${process.pid}: ${ownCommand}`);
      expect(run.output()).not.toContain('gancho is ready');
      await eventually(async () => expect(await processesMarked(run.mark)).toEqual([]), { timeoutMs: 30_000, intervalMs: 250 });
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  }, 120_000);

  it('leaves nothing running when the demo seed fails', async () => {
    const run = await npmStart(dataDir, { PARTNER_API_RATE_LIMIT_PER_SECOND: '0.001', PARTNER_API_RATE_LIMIT_BURST: '1' });
    runs.push(run);
    expect(await run.exited).toBe(1);
    await eventually(async () => expect(await processesMarked(run.mark)).toEqual([]), { timeoutMs: 60_000, intervalMs: 250 });
    expect(run.output()).toMatch(/gancho: start failed: .*HTTP 429/);
    expect(run.output()).not.toContain('gancho is ready');
  }, 300_000);
});
