// Small helpers for the daemons the infra scripts start and stop.
import { spawn, type SpawnOptions } from 'node:child_process';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { createServer } from 'node:net';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function readPid(file: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(file, 'utf8')).split('\n')[0]?.trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Runs a command to completion; rejects with its output when it fails. */
export function run(command: string, args: string[], options: SpawnOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${output}`))));
  });
}

export async function waitFor<T>(what: string, attempt: () => Promise<T>, { timeoutMs, intervalMs = 500 }: { timeoutMs: number; intervalMs?: number }): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      return await attempt();
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms: ${String(lastError)}`);
}

export async function stopPid(pid: number, { graceMs }: { graceMs: number }): Promise<void> {
  if (!isAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}

/** A process that holds a port, as /proc tells it (pid and command line), when this user may see it. */
export interface PortHolder {
  pid: number;
  command: string;
}

/** Inodes of the sockets listening on `port` (IPv4 and IPv6), from /proc/net; undefined where /proc is missing (not Linux). */
async function listeningInodes(port: number): Promise<Set<string> | undefined> {
  const inodes = new Set<string>();
  let read = false;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = await readFile(table, 'utf8');
    } catch {
      continue;
    }
    read = true;
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      // State 0A is LISTEN; the local address ends in the port, in hex.
      if (!local || fields[3] !== '0A') continue;
      if (Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port && fields[9]) inodes.add(fields[9]);
    }
  }
  return read ? inodes : undefined;
}

/**
 * Who listens on `port`: every process whose open files include one of its
 * listening sockets. Undefined when this cannot be told (no /proc); a holder
 * owned by another user may be missing (its file descriptors are not ours to read).
 */
export async function portHolders(port: number): Promise<PortHolder[] | undefined> {
  const inodes = await listeningInodes(port);
  if (!inodes) return undefined;
  if (inodes.size === 0) return [];
  const holders: PortHolder[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const fds = await readdir(`/proc/${entry}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const target = await readlink(`/proc/${entry}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode)) {
        const command = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0').filter(Boolean).join(' ');
        holders.push({ pid: Number(entry), command: command || '(command line not readable)' });
        break;
      }
    }
  }
  return holders;
}

/** Whether nothing listens on 127.0.0.1:`port` now: this process can bind it. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * The ports of `wanted` that are taken, each with who holds it, as lines to
 * print: `port 4001 (journey) is held by pid 123: node …/main.js`.
 */
export async function takenPorts(wanted: Record<string, number>): Promise<string[]> {
  const lines: string[] = [];
  for (const [name, port] of Object.entries(wanted)) {
    if (await isPortFree(port)) continue;
    const holders = await portHolders(port);
    const who = holders && holders.length > 0 ? holders.map((h) => `pid ${h.pid}: ${h.command}`).join('; ') : 'a process this user cannot see (try `ss -ltnp` or `lsof -i :' + port + '` as root)';
    lines.push(`port ${port} (${name}) is held by ${who}`);
  }
  return lines;
}
