import { spawn, type ChildProcess } from 'node:child_process';

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, then waits for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash, not a shutdown. */
  kill(): Promise<void>;
}

/**
 * Runs a built service as its own process (`node dist/main.js`), on a free
 * port, and resolves once it says where it listens. Its database and broker
 * come only from `env`: the test runner's own DATABASE_URL and KAFKA_BROKERS
 * are not inherited (a service left without KAFKA_BROKERS runs on the
 * PostgreSQL event log).
 */
export function startServiceProcess(mainFile: string, env: Record<string, string>, { timeoutMs = 30_000 } = {}): Promise<ServiceProcess> {
  const { KAFKA_BROKERS: _kafka, DATABASE_URL: _database, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--enable-source-maps', '--disable-warning=TimeoutNegativeWarning', mainFile], {
    env: { ...inherited, PORT: '0', HOST: '127.0.0.1', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${mainFile} did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const listening = output.match(/listening on (http:\/\/[\w.:[\]-]+)/);
      if (listening?.[1]) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.on('data', (more: Buffer) => (output += more.toString()));
        resolve({
          child,
          url: listening[1].replace('[::1]', '127.0.0.1'),
          output: () => output,
          stop: () => {
            child.kill('SIGTERM');
            return exited;
          },
          kill: async () => {
            child.kill('SIGKILL');
            await exited;
          },
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${mainFile} exited with ${code} before listening:\n${output}`));
    });
  });
}

/** Asserts a service's probes: live, and ready with its database and event transport up. */
export async function expectLiveAndReady(url: string): Promise<void> {
  expect((await fetch(`${url}/health/live`)).status).toBe(200);
  const ready = await fetch(`${url}/health/ready`);
  expect(await ready.json()).toMatchObject({ status: 'ok', info: { database: { status: 'up' }, transport: { status: 'up' } } });
  expect(ready.status).toBe(200);
}
