import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { freePort } from '../infra/ports.mts';
import { waitUntilOwnProcessReady } from './service-processes.mts';

function startNode(script: string, env: Record<string, string> = {}): { child: ChildProcess; exitCode: () => number | null | undefined } {
  const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, ...env }, stdio: 'ignore' });
  let code: number | null | undefined;
  child.on('exit', (c) => (code = c));
  return { child, exitCode: () => code };
}

// Scenarios, with real processes and sockets:
// - a started process that answers on its port is ready;
// - a port answered by another process (a leftover) is not readiness: the start fails, naming the pid that answers,
//   and the process it started is killed.
describe('readiness is the started process’s own', () => {
  it('is ready when the process it started answers', async () => {
    const port = await freePort();
    const started = startNode(`require('node:http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1')`);
    try {
      await waitUntilOwnProcessReady({ what: 'probe', child: started.child, port, readyUrl: `http://127.0.0.1:${port}/`, exitCode: started.exitCode, output: () => '', timeoutMs: 30_000, intervalMs: 50 });
    } finally {
      started.child.kill('SIGKILL');
    }
  });

  it('refuses a port answered by another process, and kills the one it started', async () => {
    const port = await freePort();
    const leftover: Server = createServer((_request, response) => response.end('ok'));
    await new Promise<void>((resolve) => leftover.listen(port, '127.0.0.1', resolve));
    const started = startNode('setInterval(() => undefined, 1000)');
    const exited = new Promise((resolve) => started.child.on('exit', resolve));
    try {
      await expect(
        waitUntilOwnProcessReady({ what: 'probe', child: started.child, port, readyUrl: `http://127.0.0.1:${port}/`, exitCode: started.exitCode, output: () => '', timeoutMs: 30_000, intervalMs: 50 }),
      ).rejects.toThrow(`probe (pid ${started.child.pid}) is not the process answering on port ${port}: pid ${process.pid}:`);
      await exited;
    } finally {
      started.child.kill('SIGKILL');
      await new Promise((resolve) => leftover.close(resolve));
    }
  });
});
