// Runs the two ceilings as child processes and reads their JSON lines.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HttpCeilingInput, HttpCeilingResult } from './http-ceiling.mts';
import type { KafkaCeilingInput, KafkaCeilingResult } from './kafka-ceiling.mts';

const here = path.dirname(fileURLToPath(import.meta.url));

interface Child {
  pid: number;
  /** Each JSON line the child printed, as it prints it. */
  lines: AsyncGenerator<unknown>;
  exited: Promise<number | null>;
}

function runChild(nodePath: string, script: string, args: string[], nodeArgs: string[] = []): Child {
  const child = spawn(nodePath, ['--disable-warning=ExperimentalWarning', '--disable-warning=TimeoutNegativeWarning', ...nodeArgs, path.join(here, script), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  async function* lines(): AsyncGenerator<unknown> {
    let buffer = '';
    for await (const chunk of child.stdout) {
      buffer += String(chunk);
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line.startsWith('{')) yield JSON.parse(line);
      }
    }
  }
  return { pid: child.pid ?? 0, lines: lines(), exited };
}

async function lastLine<T>(child: Child, script: string): Promise<T> {
  let last: unknown;
  for await (const line of child.lines) last = line;
  const code = await child.exited;
  if (code !== 0 || last === undefined) throw new Error(`${script} exited with ${code}`);
  return last as T;
}

export async function httpCeiling(nodePath: string, input: HttpCeilingInput, nodeArgs: string[] = []): Promise<HttpCeilingResult> {
  return lastLine<HttpCeilingResult>(runChild(nodePath, 'http-ceiling.mts', [JSON.stringify(input)], nodeArgs), 'http-ceiling.mts');
}

export async function kafkaCeiling(nodePath: string, input: KafkaCeilingInput): Promise<KafkaCeilingResult & { producerCpuSeconds: number }> {
  const consumer = runChild(nodePath, 'kafka-ceiling.mts', ['consume', JSON.stringify(input)]);
  const ready = await consumer.lines.next();
  if (ready.done) throw new Error(`kafka-ceiling.mts consume exited with ${await consumer.exited}`);
  const producer = runChild(nodePath, 'kafka-ceiling.mts', ['produce', JSON.stringify(input)]);
  const [produced, consumed] = await Promise.all([lastLine<{ producerCpuSeconds: number }>(producer, 'kafka-ceiling.mts produce'), lastLine<KafkaCeilingResult>(consumer, 'kafka-ceiling.mts consume')]);
  return { ...consumed, producerCpuSeconds: Math.round(produced.producerCpuSeconds * 100) / 100 };
}
