// How long `npm start` takes to a verified webhook, measured the way a
// newcomer meets it: start the platform (in its own data folder and ports),
// open a purchase with the printed token, and wait for the demo receiver's
// "✔ verified" line; then Ctrl-C (SIGINT) and time the stop. `--restarts=N`
// starts again N times on the same data (the restart figure).
//
//   node tools/platform/first-webhook.mts [--restarts=1] [--checkout=<dir>] [--keep-data]
//
// Prints one line per run and, last, `first_start_s=… first_webhook_ms=… restart_s=…`.
// tools/platform/clone-to-webhook.e2e.spec.ts runs the same steps on a fresh clone.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../infra/paths.mts';
import { freePort } from '../infra/ports.mts';

export interface StartedPlatform {
  child: ChildProcess;
  /** Milliseconds from spawn to each line that matched, by the line's first words. */
  marks: Map<string, number>;
  output: () => string;
  demo: () => { partnerId: string; apiKey: string; platformToken: string; urls: Record<string, string> };
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

interface RunFigures {
  readyMs: number;
  webhookMs: number;
  stopMs: number;
  buildLine: string | undefined;
  phases: string[];
}

async function oneRun(options: StartOptions): Promise<RunFigures> {
  const platform = npmStart(options);
  try {
    const readyMs = await platform.waitForLine(/^gancho is ready in/);
    const openedAt = Date.now();
    const purchaseId = await openPurchase(platform);
    const verified = new RegExp(`✔ verified\\s+purchase\\.shopping_cart_created\\s+${purchaseId}`);
    await platform.waitForLine(verified, 30_000);
    const webhookMs = Date.now() - openedAt;
    const stop = await stopStart(platform);
    // npm itself ends by the same SIGINT (code null); the script says whether it stopped cleanly.
    if (!/^gancho: stopped$/m.test(platform.output())) throw new Error(`npm start exited with ${stop.code} on SIGINT:\n${platform.output().slice(-3000)}`);
    const buildLine = platform.output().split('\n').find((line) => line.startsWith('gancho: built '));
    // npm start's own phase lines ("… ready (2.1 s)"): where the time went.
    const phases = platform.output().split('\n').filter((line) => /^gancho: .* \((\d+\.\d s)\)$/.test(line)).map((line) => line.replace(/^gancho: /, ''));
    return { readyMs, webhookMs, stopMs: stop.tookMs, buildLine, phases };
  } catch (error) {
    interrupt(platform);
    await platform.exited;
    throw error;
  }
}

if (import.meta.main) {
  const args = new Map(process.argv.slice(2).map((arg) => [arg.replace(/^--/, '').split('=')[0] ?? '', arg.split('=')[1] ?? 'true']));
  const checkout = path.resolve(args.get('checkout') ?? repoRoot);
  const restarts = Number(args.get('restarts') ?? 1);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `gancho-first-webhook-${randomUUID().slice(0, 8)}-`));
  // PostgreSQL runs as its own user when we are root: it must reach its folder under this one.
  chmodSync(dataDir, 0o755);
  const ports = await chooseStartPorts();
  const seconds = (ms: number) => (ms / 1000).toFixed(1);
  try {
    const first = await oneRun({ checkout, dataDir, ports });
    process.stdout.write(`first start (fresh data): ready ${seconds(first.readyMs)} s, webhook verified ${first.webhookMs} ms after the purchase, stopped in ${first.stopMs} ms; ${first.buildLine ?? 'nothing to build'}\n  ${first.phases.join(', ')}\n`);
    const restartFigures: number[] = [];
    for (let run = 0; run < restarts; run++) {
      const again = await oneRun({ checkout, dataDir, ports });
      restartFigures.push(again.readyMs);
      process.stdout.write(`restart ${run + 1}: ready ${seconds(again.readyMs)} s, webhook verified ${again.webhookMs} ms after the purchase, stopped in ${again.stopMs} ms; ${again.buildLine ?? 'nothing to build'}\n  ${again.phases.join(', ')}\n`);
    }
    process.stdout.write(
      `first_start_s=${seconds(first.readyMs + first.webhookMs)} first_webhook_ms=${first.webhookMs} restart_s=${restartFigures.map((ms) => seconds(ms)).join(',')} load=${os.loadavg().map((l) => l.toFixed(2)).join(',')}\n`,
    );
  } finally {
    if (args.get('keep-data') !== 'true') rmSync(dataDir, { recursive: true, force: true });
  }
}
