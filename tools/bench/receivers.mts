// The parent side of the receiver processes: starts them, spreads endpoints
// over them, and adds up their figures.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Histogram } from './histogram.mts';
import type { Arrivals, ReceiverReply, ReceiverRequest, ReceiverStats, RouteMode } from './receiver-protocol.mts';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface FleetStats extends Omit<ReceiverStats, 'latency'> {
  latency: Histogram;
}

/** A request as the caller writes it: the process numbers it. */
type WithoutSeq<T> = T extends unknown ? Omit<T, 'seq'> : never;

class ReceiverProcess {
  private seq = 0;
  private readonly pending = new Map<number, (reply: ReceiverReply) => void>();
  port = 0;

  readonly child: ChildProcess;

  constructor(child: ChildProcess) {
    this.child = child;
    child.on('message', (reply: ReceiverReply) => {
      const resolve = this.pending.get(reply.seq);
      this.pending.delete(reply.seq);
      resolve?.(reply);
    });
  }

  static async start(nodePath: string, nodeArgs: string[]): Promise<ReceiverProcess> {
    const child = spawn(nodePath, ['--disable-warning=ExperimentalWarning', ...nodeArgs, path.join(here, 'receiver-process.mts')], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // A receiver must not inherit a profiling flag meant for a service.
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    const receiver = new ReceiverProcess(child);
    const listening = await new Promise<ReceiverReply>((resolve, reject) => {
      receiver.pending.set(0, resolve);
      child.once('exit', (code) => reject(new Error(`a receiver exited with ${code} while starting`)));
    });
    receiver.port = listening.op === 'listening' ? (listening.port ?? 0) : 0;
    return receiver;
  }

  ask<R extends ReceiverReply>(request: WithoutSeq<ReceiverRequest>): Promise<R> {
    const seq = ++this.seq;
    return new Promise<R>((resolve) => {
      this.pending.set(seq, resolve as (reply: ReceiverReply) => void);
      this.child.send({ ...request, seq });
    });
  }
}

export interface EndpointTarget {
  /** A stable name for the endpoint (its path on the receiver). */
  key: string;
  url: string;
}

export interface ReceiverCount {
  received: number;
  verified: number;
  /** Verified and answered 2xx. */
  healthy: number;
}

export class ReceiverFleet {
  private readonly receivers: ReceiverProcess[];

  private constructor(receivers: ReceiverProcess[]) {
    this.receivers = receivers;
  }

  /** `nodeArgs`: extra flags for the receivers' Node (experiments: `--max-semi-space-size=…`, `--cpu-prof`). */
  static async start(count: number, nodePath = process.execPath, nodeArgs: string[] = []): Promise<ReceiverFleet> {
    return new ReceiverFleet(await Promise.all(Array.from({ length: count }, () => ReceiverProcess.start(nodePath, nodeArgs))));
  }

  get pids(): number[] {
    return this.receivers.map((r) => r.child.pid ?? 0);
  }

  /** host:port of every receiver (delivery's ALLOWED_ENDPOINT_HOSTS). */
  get hosts(): string[] {
    return this.receivers.map((r) => `127.0.0.1:${r.port}`);
  }

  /** Where the endpoint named `key` lives: endpoints are spread over the receivers by a hash of the key. */
  target(key: string): EndpointTarget {
    let hash = 0;
    for (let i = 0; i < key.length; i++) hash = (hash * 31 + key.charCodeAt(i)) >>> 0;
    const receiver = this.receivers[hash % this.receivers.length] as ReceiverProcess;
    return { key, url: `http://127.0.0.1:${receiver.port}/e/${key}` };
  }

  async setRoutes(routes: { key: string; secrets: string[]; mode?: RouteMode }[]): Promise<void> {
    const byReceiver = new Map<ReceiverProcess, Record<string, { secrets: string[]; mode: RouteMode }>>();
    for (const route of routes) {
      const url = new URL(this.target(route.key).url);
      const receiver = this.receivers.find((r) => r.port === Number(url.port)) as ReceiverProcess;
      const table = byReceiver.get(receiver) ?? {};
      table[url.pathname] = { secrets: route.secrets, mode: route.mode ?? 'ok' };
      byReceiver.set(receiver, table);
    }
    await Promise.all([...byReceiver].map(([receiver, table]) => receiver.ask({ op: 'routes', routes: table })));
  }

  /** Counts from zero; `trackArrivals` keeps each first healthy delivery's purchase and time for `arrivals()`. */
  async reset({ trackArrivals = false } = {}): Promise<void> {
    await Promise.all(this.receivers.map((r) => r.ask({ op: 'reset', trackArrivals })));
  }

  /** The healthy deliveries tracked since the last reset, all receivers together. */
  async arrivals(): Promise<Arrivals> {
    const replies = await Promise.all(this.receivers.map((r) => r.ask<Extract<ReceiverReply, { op: 'arrivals' }>>({ op: 'arrivals' })));
    return { purchaseIds: replies.flatMap((r) => r.arrivals.purchaseIds), verifiedAt: replies.flatMap((r) => r.arrivals.verifiedAt) };
  }

  async release(): Promise<void> {
    await Promise.all(this.receivers.map((r) => r.ask({ op: 'release' })));
  }

  /** Requests received and verified since the last reset, all receivers together. */
  async count(): Promise<ReceiverCount> {
    const replies = await Promise.all(this.receivers.map((r) => r.ask<Extract<ReceiverReply, { op: 'count' }>>({ op: 'count' })));
    return replies.reduce((sum, r) => ({ received: sum.received + r.received, verified: sum.verified + r.verified, healthy: sum.healthy + r.healthy }), { received: 0, verified: 0, healthy: 0 });
  }

  async stats(): Promise<FleetStats> {
    const replies = await Promise.all(this.receivers.map((r) => r.ask<Extract<ReceiverReply, { op: 'stats' }>>({ op: 'stats' })));
    const latency = new Histogram();
    const total: FleetStats = { received: 0, verified: 0, healthyVerified: 0, unverified: 0, unknownPath: 0, failed: 0, hung: 0, duplicates: 0, firstAt: 0, lastAt: 0, latency };
    for (const { stats } of replies) {
      total.received += stats.received;
      total.verified += stats.verified;
      total.healthyVerified += stats.healthyVerified;
      total.unverified += stats.unverified;
      total.unknownPath += stats.unknownPath;
      total.failed += stats.failed;
      total.hung += stats.hung;
      total.duplicates += stats.duplicates;
      if (stats.firstAt > 0 && (total.firstAt === 0 || stats.firstAt < total.firstAt)) total.firstAt = stats.firstAt;
      total.lastAt = Math.max(total.lastAt, stats.lastAt);
      latency.add(stats.latency);
    }
    return total;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.receivers.map(
        (r) =>
          new Promise<void>((resolve) => {
            if (r.child.exitCode !== null || r.child.signalCode !== null) return resolve();
            const timer = setTimeout(() => r.child.kill('SIGKILL'), 3000);
            r.child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            r.child.send({ op: 'close', seq: -1 });
          }),
      ),
    );
  }
}
