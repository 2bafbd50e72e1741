// The watchdog `npm start` runs beside its children (see child-watchdog.mts).
// It reads `watch <pid> <signal>` and `forget <pid>` lines on stdin; when
// stdin ends — the parent exited, however it exited, SIGKILL included, since
// the kernel closes the parent's end of the pipe — it sends each pid still
// alive its stop signal, waits for them, SIGKILLs what is left, and exits.
import { createInterface } from 'node:readline';

const graceMs = Number(process.env.GANCHO_WATCHDOG_GRACE_MS ?? 10_000);
const watched = new Map<number, NodeJS.Signals>();

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const send = (pid: number, signal: NodeJS.Signals): void => {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
};

// Its own process group (spawned detached): Ctrl-C in the terminal reaches the parent, not this.
for (const signal of ['SIGINT', 'SIGHUP'] as const) process.on(signal, () => undefined);

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const [verb, pidText, signal] = line.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return;
  if (verb === 'watch') watched.set(pid, (signal as NodeJS.Signals | undefined) ?? 'SIGTERM');
  if (verb === 'forget') watched.delete(pid);
});
lines.on('close', async () => {
  const left = [...watched].filter(([pid]) => alive(pid));
  for (const [pid, signal] of left) send(pid, signal);
  const deadline = Date.now() + graceMs;
  while (left.some(([pid]) => alive(pid)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  for (const [pid] of left) if (alive(pid)) send(pid, 'SIGKILL');
  process.exit(0);
});
