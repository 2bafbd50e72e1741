// The partner console (apps/console) as its own process: its server serves
// the built page and proxies the partner APIs of subscriptions and delivery.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../infra/paths.mts';
import { waitUntilOwnProcessReady } from './service-processes.mts';

export interface RunningConsole {
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

export interface StartConsoleOptions {
  port: number;
  subscriptionsUrl: string;
  deliveryUrl: string;
  /** Who may embed the console (CSP frame-ancestors); 'self' unless told. */
  frameAncestors?: string;
  /** Called with the child's pid as soon as it is spawned (npm start hands it to its watchdog). */
  onSpawn?: (pid: number) => void;
  readyTimeoutMs?: number;
}

/** Starts the console's server and resolves when it (the process started here) answers /health/live. */
export async function startConsole(options: StartConsoleOptions): Promise<RunningConsole> {
  const child = spawn(process.execPath, ['--enable-source-maps', path.join(repoRoot, 'apps', 'console', 'dist', 'server', 'main.js')], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(options.port),
      SUBSCRIPTIONS_URL: options.subscriptionsUrl,
      DELIVERY_URL: options.deliveryUrl,
      CONSOLE_FRAME_ANCESTORS: options.frameAncestors ?? process.env.CONSOLE_FRAME_ANCESTORS ?? "'self'",
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let tail = '';
  const keep = (chunk: Buffer) => (tail = (tail + chunk.toString()).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${options.port}`;
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  await waitUntilOwnProcessReady({
    what: 'the console',
    child,
    port: options.port,
    readyUrl: `${url}/health/live`,
    exitCode: () => exitCode,
    output: () => tail,
    timeoutMs: options.readyTimeoutMs ?? 20_000,
    intervalMs: 50,
  });
  return { url, child, exited };
}

export async function stopConsole(running: RunningConsole): Promise<void> {
  if (running.child.exitCode !== null || running.child.signalCode !== null) return;
  running.child.kill('SIGTERM');
  const timer = setTimeout(() => running.child.kill('SIGKILL'), 5000);
  await running.exited;
  clearTimeout(timer);
}
