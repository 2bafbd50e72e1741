import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { eventually } from '@gancho/testing';
import { startReceiver, type Receiver, type ReceiverHandler } from './testing/receiver';
import { WebhookSender, type SendResult, type WebhookSenderOptions } from './webhook-sender';

/*
 * Connection pools per endpoint, against real servers on loopback:
 * - endpoints of several partners on one host: those that hang hold only their own connections;
 * - the bound on connections across all endpoints, and what happens at it;
 * - pools of endpoints that stopped sending are closed, a busy endpoint keeps its connection.
 */

const receivers: Receiver[] = [];
const senders: WebhookSender[] = [];

async function receiver(handler: ReceiverHandler): Promise<Receiver> {
  // Idle connections stay open on the receiver's side: only the sender closes them in these tests.
  const started = await startReceiver(handler, { keepAliveTimeoutMs: 120_000 });
  receivers.push(started);
  return started;
}

function senderFor(targets: Receiver[], options: Partial<WebhookSenderOptions> = {}): WebhookSender {
  const created = new WebhookSender({ allowPrivateNetworks: false, allowHttp: true, allowedHosts: targets.map((target) => target.authority), ...options });
  senders.push(created);
  return created;
}

const post = (to: WebhookSender, endpointId: string, url: string) => to.send({ endpointId, url, headers: {}, body: '{"type":"purchase.status_changed"}' });

function report(line: string): void {
  process.stdout.write(`[webhook-sender] ${line}\n`);
}

/** A receiver that holds the requests to /hold/… until the test answers them, and answers everything else at once with 204. */
async function holdingReceiver() {
  const held: { path: string; res: ServerResponse }[] = [];
  let heldClosedEarly = 0;
  const socketsByPath = new Map<string, Set<Socket>>();
  const target = await receiver((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '';
    const sockets = socketsByPath.get(path) ?? new Set<Socket>();
    sockets.add(req.socket);
    socketsByPath.set(path, sockets);
    if (!path.startsWith('/hold/')) {
      res.writeHead(204).end();
      return;
    }
    held.push({ path, res });
    res.once('close', () => {
      if (!res.writableEnded) heldClosedEarly += 1;
    });
  });
  return {
    target,
    held,
    /** Held requests whose connection closed before the test answered them. */
    heldClosedEarly: () => heldClosedEarly,
    socketsServing: (path: string) => socketsByPath.get(path)?.size ?? 0,
    answer(pathPrefix: string) {
      for (const entry of held.filter((h) => h.path.startsWith(pathPrefix) && !h.res.writableEnded)) entry.res.writeHead(204).end();
    },
  };
}

function tracked(sends: Promise<SendResult>[]) {
  let settled = 0;
  for (const send of sends) void send.finally(() => (settled += 1));
  return { settled: () => settled, all: () => Promise.all(sends) };
}

const percentile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

/** `count` sends of one endpoint, `concurrency` at a time; each one's latency. */
async function sendBatches(to: WebhookSender, endpointId: string, url: string, count: number, concurrency: number): Promise<{ statuses: number[]; latenciesMs: number[] }> {
  const statuses: number[] = [];
  const latenciesMs: number[] = [];
  for (let sent = 0; sent < count; sent += concurrency) {
    const batch = Array.from({ length: Math.min(concurrency, count - sent) }, async () => {
      const at = performance.now();
      const result = await post(to, endpointId, url);
      latenciesMs.push(performance.now() - at);
      statuses.push(result.kind === 'response' ? result.status : -1);
    });
    await Promise.all(batch);
  }
  return { statuses, latenciesMs: latenciesMs.sort((a, b) => a - b) };
}

afterEach(async () => {
  // Receivers first: closing them ends any request a failed test left hanging, which the senders' close would wait for.
  await Promise.all(receivers.splice(0).map((r) => r.close()));
  await Promise.all(senders.splice(0).map((s) => s.close()));
});

describe('WebhookSender: endpoints that share a host', () => {
  it('answers a healthy endpoint while hanging endpoints of several partners on the same origin hold all their connections', async () => {
    const perEndpoint = 8;
    const { target, held, heldClosedEarly, socketsServing, answer } = await holdingReceiver();
    // Timeouts far beyond the test: the hanging sends stay open until the test answers them.
    const to = senderFor([target], { timeoutMs: 300_000, connectionsPerEndpoint: perEndpoint });
    const healthyCount = 80;

    // Connections made first, so both runs measure keep-alive sends.
    await sendBatches(to, 'partner-c/healthy', target.url('/ok'), perEndpoint, perEndpoint);
    const clean = await sendBatches(to, 'partner-c/healthy', target.url('/ok'), healthyCount, perEndpoint);
    expect(clean.statuses).toEqual(Array(healthyCount).fill(204));

    // Three hanging endpoints of two partners, each with as many sends in flight as its concurrency allows.
    const hangingEndpoints = ['partner-a/first', 'partner-a/second', 'partner-b/only'];
    const hanging = tracked(hangingEndpoints.flatMap((endpointId) => Array.from({ length: perEndpoint }, (_, i) => post(to, endpointId, target.url(`/hold/${endpointId}/${i}`)))));
    await eventually(() => expect(held).toHaveLength(hangingEndpoints.length * perEndpoint));

    const beside = await sendBatches(to, 'partner-c/healthy', target.url('/ok'), healthyCount, perEndpoint);
    expect(beside.statuses).toEqual(Array(healthyCount).fill(204));
    // The healthy endpoint got every answer while every hanging request was still open.
    expect(hanging.settled()).toBe(0);
    expect(heldClosedEarly()).toBe(0);
    // Keep-alive: the healthy endpoint's sends used no more connections than its concurrency.
    expect(socketsServing('/ok')).toBeLessThanOrEqual(perEndpoint);
    report(
      `shared host: healthy endpoint p50 ${percentile(clean.latenciesMs, 0.5).toFixed(2)} ms, p99 ${percentile(clean.latenciesMs, 0.99).toFixed(2)} ms alone; ` +
        `p50 ${percentile(beside.latenciesMs, 0.5).toFixed(2)} ms, p99 ${percentile(beside.latenciesMs, 0.99).toFixed(2)} ms beside ${held.length} hanging requests of ${hangingEndpoints.length} endpoints on its origin`,
    );

    answer('/hold/');
    expect((await hanging.all()).every((result) => result.kind === 'response' && result.status === 204)).toBe(true);
  });
});

describe('WebhookSender: connections across all endpoints', () => {
  it('stays within maxConnections: a new endpoint at the bound gets the connections of the endpoint idle longest', async () => {
    const { target, held, answer } = await holdingReceiver();
    const to = senderFor([target], { maxConnections: 4, connectionsPerEndpoint: 2, timeoutMs: 60_000, connectTimeoutMs: 30_000, keepAliveTimeoutMs: 60_000 });

    const first = tracked([post(to, 'first', target.url('/hold/first/1')), post(to, 'first', target.url('/hold/first/2'))]);
    const second = tracked([post(to, 'second', target.url('/hold/second/1')), post(to, 'second', target.url('/hold/second/2'))]);
    await eventually(() => expect(held).toHaveLength(4));
    expect(to.connectionStats()).toEqual({ pools: 2, connections: 4 });

    // All four connections are busy: the third endpoint's request waits for one.
    const third = tracked([post(to, 'third', target.url('/hold/third/1'))]);
    // The first endpoint's answers leave its pool idle with two open connections; the waiting request closes that pool and connects.
    answer('/hold/first/');
    expect((await first.all()).map((r) => r.kind === 'response' && r.status)).toEqual([204, 204]);
    await eventually(() => expect(held).toHaveLength(5));
    // The first endpoint's two connections closed; the second's two and the third's one are open.
    expect(to.connectionStats()).toEqual({ pools: 2, connections: 3 });
    await eventually(() => expect(target.openConnections).toBe(3));
    answer('/hold/');
    expect((await third.all()).map((r) => r.kind === 'response' && r.status)).toEqual([204]);
    await second.all();
  });

  it('reports a timeout when no connection comes free within the connect timeout, and sends nothing', async () => {
    const { target, held, answer } = await holdingReceiver();
    const to = senderFor([target], { maxConnections: 1, timeoutMs: 60_000, connectTimeoutMs: 200 });
    const busy = tracked([post(to, 'busy', target.url('/hold/busy'))]);
    await eventually(() => expect(held).toHaveLength(1));

    const waiting = await post(to, 'waiting', target.url('/ok'));
    expect(waiting).toMatchObject({ kind: 'error', errorClass: 'timeout' });
    expect(waiting.kind === 'error' && waiting.message).toContain('all 1 outbound connections are in use');
    expect(target.requests.map((r) => r.path)).toEqual(['/hold/busy']);
    answer('/hold/');
    await busy.all();
  });

  it('closes the connections of endpoints that stopped sending, while a busy endpoint keeps its one connection', async () => {
    const quiet = await receiver((_req, res) => res.writeHead(204).end());
    const busy = await receiver((_req, res) => res.writeHead(204).end());
    // Idle connections would live for a minute on both sides: only the pool reaper closes them within the test.
    const to = senderFor([quiet, busy], { idlePoolTimeoutMs: 200, keepAliveTimeoutMs: 60_000 });

    for (const endpointId of ['quiet-1', 'quiet-2']) expect(await post(to, endpointId, quiet.url())).toMatchObject({ kind: 'response', status: 204 });
    expect(quiet.openConnections).toBe(2);

    let busySends = 0;
    await eventually(
      async () => {
        expect(await post(to, 'busy', busy.url())).toMatchObject({ kind: 'response', status: 204 });
        busySends += 1;
        expect(quiet.openConnections).toBe(0);
      },
      { intervalMs: 0 },
    );
    expect(busySends).toBeGreaterThan(1);
    await eventually(() => expect(to.connectionStats()).toEqual({ pools: 1, connections: 1 }));
    expect(busy.connections).toBe(1);

    await eventually(() => expect(to.connectionStats()).toEqual({ pools: 0, connections: 0 }));
    await eventually(() => expect(busy.openConnections).toBe(0));
  });
});
