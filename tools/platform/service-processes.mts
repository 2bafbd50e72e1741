// Runs the three services as separate OS processes from their builds, the
// same way in `npm start`, in the cross-process e2e tests and in the bench.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../infra/paths.mts';
import { portHolders } from '../infra/process.mts';

export type ServiceName = 'journey' | 'subscriptions' | 'delivery';
export const serviceNames: ServiceName[] = ['journey', 'subscriptions', 'delivery'];

/**
 * How the services' Node runs, here and in the container image (Dockerfile
 * CMD). A young generation of 3 × 8 MB instead of V8's default keeps a
 * service's RSS near 200 MB under full load at no measured cost in
 * throughput (docs/benchmarks.md); the old-space cap is 3–4 × the live heap
 * we measured (about 70 MB). No --enable-source-maps: it keeps every
 * dependency's source map and sources in memory (≈20 MB per process).
 */
export const serviceNodeFlags = ['--max-semi-space-size=8', '--max-old-space-size=256', '--disable-warning=TimeoutNegativeWarning'];

/**
 * glibc keeps a malloc arena per thread that has allocated, and freed memory
 * stays in them: two arenas took another ~12 MB off delivery's peak RSS with
 * no CPU difference the bench could see. Also set in the container image.
 */
export const serviceProcessEnv = { MALLOC_ARENA_MAX: '2' };

export interface RunningService {
  name: ServiceName;
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

export interface StartServiceOptions {
  name: ServiceName;
  port: number;
  env: Record<string, string>;
  /** Receives every line the service writes (JSON logs or Nest's text). */
  onOutput?: (service: ServiceName, line: string) => void;
  /** Called with the child's pid as soon as it is spawned (npm start hands it to its watchdog). */
  onSpawn?: (pid: number) => void;
  readyTimeoutMs?: number;
  /** The checkout whose build runs (default: this one); the bench runs another commit's build beside this one's. */
  root?: string;
}

/**
 * Ready means: the process we started is alive, answers 200 on `readyUrl`,
 * and is the one listening on the port (where /proc tells), not a leftover
 * that happened to hold it while ours died on EADDRINUSE. Throws on
 * anything else; `exitCode()` is undefined while the child runs.
 */
export async function waitUntilOwnProcessReady(options: {
  what: string;
  child: ChildProcess;
  port: number;
  readyUrl: string;
  exitCode: () => number | null | undefined;
  output: () => string;
  timeoutMs: number;
  intervalMs: number;
}): Promise<void> {
  const { what, child, port } = options;
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline) {
    const exitCode = options.exitCode();
    if (exitCode !== undefined) throw new Error(`${what} exited with ${exitCode} while starting:\n${options.output()}`);
    let answered = false;
    try {
      answered = (await fetch(options.readyUrl)).status === 200;
    } catch {
      // not listening yet
    }
    if (answered) {
      const holders = await portHolders(port);
      if (holders === undefined || holders.some((h) => h.pid === child.pid)) return;
      if (holders.length > 0) {
        child.kill('SIGKILL');
        throw new Error(`${what} (pid ${child.pid}) is not the process answering on port ${port}: ${holders.map((h) => `pid ${h.pid}: ${h.command}`).join('; ')}`);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
  }
  child.kill('SIGKILL');
  throw new Error(`${what} was not ready within ${options.timeoutMs} ms:\n${options.output()}`);
}

export function mainFileOf(name: ServiceName, root = repoRoot): string {
  return path.join(root, 'apps', name, 'dist', 'main.js');
}

/**
 * This process's environment without what the platform decides for each
 * service: without it, a service asked to run on the PostgreSQL event log
 * would still find KAFKA_BROKERS (set by the test runner, say) and use Kafka.
 */
function inheritedEnv(): NodeJS.ProcessEnv {
  const { KAFKA_BROKERS: _kafka, DATABASE_URL: _database, ...rest } = process.env;
  return rest;
}

/** Starts one service and resolves when its /health/ready answers 200. */
export async function startService(options: StartServiceOptions): Promise<RunningService> {
  const { name, port } = options;
  const child = spawn(process.execPath, [...serviceNodeFlags, mainFileOf(name, options.root)], {
    ...(options.root ? { cwd: options.root } : {}),
    env: { ...inheritedEnv(), ...serviceProcessEnv, NO_COLOR: '1', HOST: '127.0.0.1', PORT: String(port), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let tail = '';
  const forward = (chunk: Buffer) => {
    const text = chunk.toString();
    tail = (tail + text).slice(-4000);
    if (options.onOutput) for (const line of text.split('\n')) if (line.trim()) options.onOutput(name, line);
  };
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  const url = `http://127.0.0.1:${port}`;
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  await waitUntilOwnProcessReady({
    what: name,
    child,
    port,
    readyUrl: `${url}/health/ready`,
    exitCode: () => exitCode,
    output: () => tail,
    timeoutMs: options.readyTimeoutMs ?? 60_000,
    // A poll is one local request; half an interval on average is added to every start.
    intervalMs: 50,
  });
  return { name, url, child, exited };
}

/** SIGTERM, and SIGKILL if it has not exited within the grace period. */
export async function stopService(service: RunningService, graceMs = 15_000): Promise<void> {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return;
  service.child.kill('SIGTERM');
  const timer = setTimeout(() => service.child.kill('SIGKILL'), graceMs);
  await service.exited;
  clearTimeout(timer);
}
