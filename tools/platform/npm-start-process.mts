// `npm start` as a process a test or a measurement drives: in a checkout of
// its own choosing (a fresh clone), with its own data folder and ports,
// reading its output line by line, opening a purchase with the printed token,
// and stopping it with what Ctrl-C sends. Used by first-webhook.mts (the
// measurement) and clone-to-webhook.e2e.spec.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../infra/ports.mts';

export interface StartedPlatform {
  child: ChildProcess;
  /** Milliseconds from spawn to each line that matched, by the line's first words. */
  marks: Map<string, number>;
  output: () => string;
  demo: () => { partnerId: string; apiKey: string; platformToken: string; urls: Record<'journey' | 'subscriptions' | 'delivery' | 'console' | 'receiver', string> };
  /** Resolves with the milliseconds from spawn when a line matching `pattern` appears (or has appeared since `from`). */
  waitForLine: (pattern: RegExp, timeoutMs?: number, from?: number) => Promise<number>;
  exited: Promise<number | null>;
  spawnedAt: number;
}

export interface StartOptions {
  checkout: string;
  dataDir: string;
  ports: Record<string, number>;
  env?: Record<string, string>;
}

export async function chooseStartPorts(): Promise<Record<string, number>> {
  return {
    JOURNEY_PORT: await freePort(),
    SUBSCRIPTIONS_PORT: await freePort(),
    DELIVERY_PORT: await freePort(),
    CONSOLE_PORT: await freePort(),
    DEMO_RECEIVER_PORT: await freePort(),
    GANCHO_PG_PORT: await freePort(),
  };
}

/** `npm start` in `checkout` (through npm, as the README says), on its own PostgreSQL, data folder and ports. */
export function npmStart(options: StartOptions): StartedPlatform {
  const { DATABASE_URL: _database, KAFKA_BROKERS: _kafka, npm_config_prefix: _prefix, ...inherited } = process.env;
  const spawnedAt = Date.now();
  // The npm on PATH, as a newcomer types it, in a process group of its own: Ctrl-C is SIGINT to the group (stopStart).
  const child = spawn('npm', ['start', '--silent'], {
    detached: true,
    cwd: options.checkout,
    env: {
      ...inherited,
      ...Object.fromEntries(Object.entries(options.ports).map(([name, port]) => [name, String(port)])),
      GANCHO_DATA_DIR: options.dataDir,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const lines: { at: number; line: string }[] = [];
  const marks = new Map<string, number>();
  const waiters = new Set<() => void>();
  let partial = '';
  const take = (chunk: Buffer) => {
    output += chunk.toString();
    partial += chunk.toString();
    const complete = partial.split('\n');
    partial = complete.pop() ?? '';
    for (const line of complete) {
      const at = Date.now() - spawnedAt;
      lines.push({ at, line });
      const key = line.trim().split(/\s+/).slice(0, 3).join(' ');
      if (key && !marks.has(key)) marks.set(key, at);
    }
    for (const wake of waiters) wake();
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitForLine = (pattern: RegExp, timeoutMs = 180_000, from = 0) =>
    new Promise<number>((resolve, reject) => {
      const check = () => {
        const found = lines.find((entry) => entry.at >= from && pattern.test(entry.line));
        if (found) {
          finish();
          resolve(found.at);
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${output.slice(-4000)}`));
      }, timeoutMs);
      const onExit = (code: number | null) => {
        finish();
        reject(new Error(`npm start exited with ${code} before a line matching ${pattern}:\n${output.slice(-4000)}`));
      };
      const finish = () => {
        clearTimeout(timer);
        waiters.delete(check);
        child.off('exit', onExit);
      };
      waiters.add(check);
      child.once('exit', onExit);
      check();
    });
  const demo = () => JSON.parse(readFileSync(path.join(options.dataDir, 'demo.json'), 'utf8'));
  return { child, marks, output: () => output, demo, waitForLine, exited, spawnedAt };
}

/** Opens a purchase for the demo partner through the journey API, as the printed curl does. */
export async function openPurchase(platform: StartedPlatform): Promise<string> {
  const demo = platform.demo();
  const response = await fetch(`${demo.urls.journey}/purchases`, {
    method: 'POST',
    headers: { authorization: `Bearer ${demo.platformToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      partner_id: demo.partnerId,
      course: { id: 'crs_1', name: 'Ciência de Dados', price_cents: 1234500, currency: 'BRL' },
      student: { name: 'Ana Souza', email: 'ana@example.com' },
    }),
  });
  if (response.status !== 201) throw new Error(`POST /purchases: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { purchase_id: string }).purchase_id;
}

/** What Ctrl-C in the terminal does: SIGINT to the foreground process group (npm and the script it runs). */
export function interrupt(platform: StartedPlatform): void {
  if (platform.child.pid === undefined || platform.child.exitCode !== null) return;
  try {
    process.kill(-platform.child.pid, 'SIGINT');
  } catch {
    // the group has exited already
  }
}

export async function stopStart(platform: StartedPlatform): Promise<{ code: number | null; tookMs: number }> {
  const from = Date.now();
  interrupt(platform);
  const code = await platform.exited;
  return { code, tookMs: Date.now() - from };
}
