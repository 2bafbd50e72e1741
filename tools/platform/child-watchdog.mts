// Every process `npm start` starts dies with it, however it ends: a normal
// exit, a signal, a crash, or SIGKILL, which no handler of its own sees.
// Linux's PR_SET_PDEATHSIG is not reachable from Node, and PostgreSQL is
// daemonised by pg_ctl (it is not even our child), so a small watchdog
// process holds a pipe from us: when we die the kernel closes our end, the
// watchdog reads end-of-file and stops every pid we registered with it.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ChildWatchdog {
  /** Stop `pid` with `signal` (then SIGKILL after a grace period) if this process dies first. */
  watch(pid: number, signal?: NodeJS.Signals): void;
  /** `pid` ended, or was stopped in order: nothing to do for it any more. */
  forget(pid: number): void;
  /** The watchdog's own pid. */
  pid: number;
}

const processFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'child-watchdog-process.mts');

export function startChildWatchdog(): ChildWatchdog {
  const child: ChildProcess = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', processFile], {
    // Its own process group, so a Ctrl-C meant for us does not end it before it has done its work.
    detached: true,
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  // It must not keep this process alive: it is there for when this process is gone.
  child.unref();
  const stdin = child.stdin;
  if (!stdin || child.pid === undefined) throw new Error('could not start the child watchdog');
  (stdin as unknown as { unref?: () => void }).unref?.();
  stdin.on('error', () => undefined);
  const send = (line: string) => stdin.write(`${line}\n`);
  return {
    pid: child.pid,
    watch: (pid, signal = 'SIGTERM') => send(`watch ${pid} ${signal}`),
    forget: (pid) => send(`forget ${pid}`),
  };
}
