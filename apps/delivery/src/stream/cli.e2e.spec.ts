import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, connect, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { messageIdFor } from '@gancho/delivery-domain';
import { createTestDatabase, eventually, uniqueName, type TestDatabase, type TestService } from '@gancho/testing';
import { SubscriptionsStandIn, TestReceiver, startDelivery, testTopics } from '../testing/delivery-test-kit';
import { StreamHub, streamWebhookIdScope } from './stream-hub';

// The `gancho` CLI end to end: the real CLI as its own process (run from its sources), against the delivery
// service started in-process on the real broker and PostgreSQL.
// Scenarios:
// - `listen` forwards a purchase's events, in order, to a local server, each signed with the session secret it printed
//   (verified with the public standardwebhooks package), with webhook-id stable per event;
// - the connection is cut (a proxy between the CLI and the service drops it and holds the reconnect); an event published
//   while the CLI has no connection is forwarded after it reconnects, exactly once, and live events follow;
// - `trigger <type>` makes a delivery of the example appear at the partner's endpoint (given, or found by listing the
//   endpoints that subscribe to the type), and `messages tail --once` shows it;
// - `trigger` reaches a running `listen` connected to another delivery instance (the test send's attempt, relayed to the
//   attempts topic, is offered to the partner's live stream), forwarded signed to the local server; another partner's
//   `listen` on the same instance sees nothing of it.

const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');
const cliMain = path.join(repoRoot, 'apps/cli/src/main.ts');
const fromSource = path.join(repoRoot, 'apps/cli/testing/run-from-source.cjs');

interface CliProcess {
  child: ChildProcess;
  records: Record<string, unknown>[];
  stderr: () => string;
  exited: Promise<number | null>;
}

function startCli(args: string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, ['--conditions=@gancho/source', '--disable-warning=ExperimentalWarning', '-r', fromSource, cliMain, ...args], {
    cwd: repoRoot,
    env: { ...process.env, GANCHO_CONFIG: path.join(repoRoot, '.nonexistent-gancho-config.json'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const records: Record<string, unknown>[] = [];
  let pending = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    let end: number;
    while ((end = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, end);
      pending = pending.slice(end + 1);
      if (line.trim()) records.push(JSON.parse(line) as Record<string, unknown>);
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, records, stderr: () => stderr, exited };
}

/** A TCP proxy that can drop every connection and hold new ones until restored: a network cut. */
class CuttableProxy {
  private server: TcpServer | undefined;
  private readonly sockets = new Set<Socket>();
  private held: Socket[] = [];
  private cutOff = false;

  constructor(private readonly upstreamPort: number) {}

  async start(): Promise<string> {
    this.server = createTcpServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      if (this.cutOff) this.held.push(socket);
      else this.pipe(socket);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  cut(): void {
    this.cutOff = true;
    for (const socket of this.sockets) socket.destroy();
  }

  restore(): void {
    this.cutOff = false;
    for (const socket of this.held.splice(0)) if (!socket.destroyed) this.pipe(socket);
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private pipe(socket: Socket): void {
    const upstream = connect(this.upstreamPort, '127.0.0.1');
    this.sockets.add(upstream);
    upstream.on('close', () => {
      this.sockets.delete(upstream);
      socket.destroy();
    });
    upstream.on('error', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
    socket.pipe(upstream).pipe(socket);
  }
}

/** The developer's local server that `listen` forwards to. */
class LocalServer {
  readonly received: { headers: Record<string, string>; body: string }[] = [];
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createHttpServer((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        this.received.push({ headers: request.headers as Record<string, string>, body });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/webhooks`;
  }

  stop(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((resolve) => this.server?.close(() => resolve()));
  }
}

describe('gancho CLI against the delivery service', () => {
  const topics = testTopics();
  const subscriptions = new SubscriptionsStandIn(topics);
  let database: TestDatabase;
  let service: TestService;
  let hub: StreamHub;
  let endpointReceiver: TestReceiver;
  const clis: CliProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('delivery_cli');
    await subscriptions.createTopics();
    endpointReceiver = await new TestReceiver().start();
    service = await startDelivery(database.url, topics, [endpointReceiver.host], { STREAM_HEARTBEAT_MS: '1000' });
    hub = service.app.get(StreamHub);
  });
  afterAll(async () => {
    for (const cli of clis) cli.child.kill('SIGKILL');
    await service?.close();
    await subscriptions.close();
    await endpointReceiver?.stop();
    await database?.drop();
  });

  async function keyFor(partner: string): Promise<string> {
    const key = await subscriptions.issueApiKey(partner);
    await eventually(async () => expect((await fetch(`${service.url}/messages?limit=1`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200));
    return key;
  }

  it('listen forwards a purchase’s events signed with the session secret, and loses none across a forced reconnect', async () => {
    const partner = uniqueName('ptn');
    const key = await keyFor(partner);
    const proxy = new CuttableProxy(Number(new URL(service.url).port));
    const local = new LocalServer();
    const forwardTo = await local.start();
    const proxyUrl = await proxy.start();
    const cli = startCli(['--json', '--api-key', key, '--delivery-url', proxyUrl, 'listen', '--forward-to', forwardTo, '--events', 'purchase.*', '--reconnect-delay-ms', '200']);
    clis.push(cli);
    try {
      await eventually(() => expect(cli.records.some((r) => r['event'] === 'connected')).toBe(true), { timeoutMs: 30_000 });
      const secret = cli.records.find((r) => r['event'] === 'session')!['secret'] as string;
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

      const purchase = { purchase_id: `pur_${uniqueName('cli').replace(/\W/g, '')}` };
      const published = [
        await subscriptions.publishStatus(partner, 'shopping_cart_created', { ...purchase, sequence: 1, previous_status: null }),
        await subscriptions.publishStatus(partner, 'basic_info_review', { ...purchase, sequence: 2, previous_status: 'shopping_cart_created' }),
      ];
      await subscriptions.publishStatus(uniqueName('ptn'), 'made_effective');
      await eventually(() => expect(local.received).toHaveLength(2));

      // The network drops; the CLI's reconnect is held at the proxy while an event is published.
      proxy.cut();
      await eventually(() => expect(cli.records.some((r) => r['event'] === 'disconnected')).toBe(true));
      await eventually(() => expect(hub.connections(partner)).toBe(0));
      published.push(await subscriptions.publishStatus(partner, 'document_info_incomplete', { ...purchase, sequence: 3, previous_status: 'basic_info_review' }));
      await eventually(() => expect(hub.hasEvent(partner, published[2]!.eventId)).toBe(true));
      expect(hub.connections(partner)).toBe(0);
      expect(local.received).toHaveLength(2);
      proxy.restore();

      await eventually(() => expect(local.received).toHaveLength(3));
      published.push(await subscriptions.publishStatus(partner, 'document_info_review', { ...purchase, sequence: 4, previous_status: 'document_info_incomplete' }));
      await eventually(() => expect(local.received).toHaveLength(4));
      // One more, so that anything forwarded twice would have come before it.
      published.push(await subscriptions.publishStatus(partner, 'guarantor_needed', { ...purchase, sequence: 5, previous_status: 'document_info_review' }));
      await eventually(() => expect(local.received.map((w) => w.headers['webhook-id'])).toContain(messageIdFor(published[4]!.eventId, streamWebhookIdScope)));
      // The CLI logs a forward once the answer is back, after the local server has it.
      await eventually(() => expect(cli.records.filter((r) => r['event'] === 'forwarded')).toHaveLength(5));

      expect(local.received).toHaveLength(5);
      const verifier = new Webhook(secret);
      for (const webhook of local.received) expect(() => verifier.verify(webhook.body, webhook.headers)).not.toThrow();
      expect(local.received.map((w) => JSON.parse(w.body).data.sequence)).toEqual([1, 2, 3, 4, 5]);
      expect(local.received.map((w) => w.headers['webhook-id'])).toEqual(published.map((p) => messageIdFor(p.eventId, streamWebhookIdScope)));
      expect(JSON.parse(local.received[2]!.body)).toMatchObject({ type: 'purchase.document_info_incomplete', data: { partner_id: partner, ...purchase } });
      expect(cli.records.filter((r) => r['event'] === 'connected').map((r) => [r['resumed'], r['replayed']])).toEqual([
        [false, 0],
        [true, 1],
      ]);
      const forwarded = cli.records.filter((r) => r['event'] === 'forwarded');
      expect(forwarded.map((r) => r['status'])).toEqual([204, 204, 204, 204, 204]);
      expect(forwarded.every((r) => typeof r['latency_ms'] === 'number')).toBe(true);
    } finally {
      cli.child.kill('SIGINT');
      expect(await cli.exited).toBe(0);
      await proxy.stop();
      await local.stop();
    }
  });

  it('trigger makes a delivery of the example appear at the endpoint, and messages tail shows it', async () => {
    const partner = uniqueName('ptn');
    const key = await keyFor(partner);
    const endpoint = await subscriptions.putEndpoint({ partnerId: partner, url: endpointReceiver.url('/hooks'), eventTypes: ['purchase.*'] });
    endpointReceiver.secrets = endpoint.secrets;
    // The subscriptions API's endpoint list, as trigger reads it to find who subscribes to the type.
    const listing = createHttpServer((request, response) => {
      const ok = request.headers.authorization === `Bearer ${key}` && request.url?.startsWith('/endpoints?');
      response.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          items: [
            { id: endpoint.endpointId, url: endpointReceiver.url('/hooks'), enabled: true, event_types: ['purchase.*'], description: '', disabled_reason: null },
            { id: 'ep_only_paid', url: 'https://example.com', enabled: true, event_types: ['purchase.paid'], description: '', disabled_reason: null },
          ],
          next_cursor: null,
        }),
      );
    });
    await new Promise<void>((resolve) => listing.listen(0, '127.0.0.1', resolve));
    const subscriptionsUrl = `http://127.0.0.1:${(listing.address() as AddressInfo).port}`;
    await eventually(async () => {
      const probe = await fetch(`${service.url}/endpoints/${endpoint.endpointId}/stats`, { headers: { authorization: `Bearer ${key}` } });
      expect(probe.status).toBe(200);
    });
    try {
      const cli = startCli(['--json', '--api-key', key, '--delivery-url', service.url, '--subscriptions-url', subscriptionsUrl, 'trigger', 'purchase.made_effective']);
      expect(await cli.exited).toBe(0);
      const result = cli.records.find((r) => r['event_type'] === 'purchase.made_effective') as { results: { endpoint_id: string; message_id: string }[] };
      expect(result.results).toHaveLength(1);
      expect(result.results[0]!.endpoint_id).toBe(endpoint.endpointId);
      const messageId = result.results[0]!.message_id;

      await eventually(() => expect(endpointReceiver.ids()).toContain(messageId));
      expect(endpointReceiver.verificationFailures).toEqual([]);
      const delivered = endpointReceiver.received.find((w) => w.headers['webhook-id'] === messageId)!;
      expect(JSON.parse(delivered.body)).toMatchObject({ type: 'purchase.made_effective', data: { partner_id: partner, status: 'made_effective' } });

      await eventually(async () => {
        const tail = startCli(['--json', '--api-key', key, '--delivery-url', service.url, 'messages', 'tail', '--once']);
        expect(await tail.exited).toBe(0);
        expect(tail.records).toEqual([expect.objectContaining({ message_id: messageId, endpoint_id: endpoint.endpointId, status: 'succeeded', event_type: 'purchase.made_effective' })]);
      });

      const unknown = startCli(['--json', '--api-key', key, '--delivery-url', service.url, 'trigger', 'purchase.nope', '--endpoint', endpoint.endpointId]);
      expect(await unknown.exited).toBe(1);
      expect(unknown.stderr()).toContain('UNKNOWN_EVENT_TYPE');
    } finally {
      listing.closeAllConnections();
      await new Promise((resolve) => listing.close(resolve));
    }
  });

  it('trigger reaches a running listen on another delivery instance, and no other partner’s listen', async () => {
    const partner = uniqueName('ptn');
    const other = uniqueName('ptn');
    const [key, otherKey] = [await keyFor(partner), await keyFor(other)];
    const endpoint = await subscriptions.putEndpoint({ partnerId: partner, url: endpointReceiver.url('/hooks'), eventTypes: ['purchase.*'] });
    endpointReceiver.secrets = endpoint.secrets;
    // A second instance on the same database and topics: `listen` connects to it, `trigger` to the first.
    const second = await startDelivery(database.url, topics, [endpointReceiver.host], { STREAM_HEARTBEAT_MS: '1000' });
    const local = new LocalServer();
    const otherLocal = new LocalServer();
    const listens: CliProcess[] = [];
    try {
      await eventually(async () => {
        const probe = await fetch(`${service.url}/endpoints/${endpoint.endpointId}/stats`, { headers: { authorization: `Bearer ${key}` } });
        expect(probe.status).toBe(200);
      });
      for (const apiKey of [key, otherKey]) {
        await eventually(async () => expect((await fetch(`${second.url}/messages?limit=1`, { headers: { authorization: `Bearer ${apiKey}` } })).status).toBe(200));
      }
      for (const [apiKey, server] of [
        [key, local],
        [otherKey, otherLocal],
      ] as const) {
        const cli = startCli(['--json', '--api-key', apiKey, '--delivery-url', second.url, 'listen', '--forward-to', await server.start()]);
        clis.push(cli);
        listens.push(cli);
      }
      const [listen, otherListen] = listens as [CliProcess, CliProcess];
      await eventually(() => expect(listens.every((cli) => cli.records.some((r) => r['event'] === 'connected'))).toBe(true), { timeoutMs: 30_000 });

      // The stream follows the attempts topic from its end, and a new consumer group may skip what comes before it
      // has joined: trigger again until one arrives.
      const triggered: string[] = [];
      await eventually(
        async () => {
          if (local.received.length === 0) {
            const trigger = startCli(['--json', '--api-key', key, '--delivery-url', service.url, 'trigger', 'purchase.made_effective', '--endpoint', endpoint.endpointId]);
            expect(await trigger.exited).toBe(0);
            triggered.push(...(trigger.records.find((r) => r['event_type'] === 'purchase.made_effective') as { results: { message_id: string }[] }).results.map((r) => r.message_id));
          }
          await eventually(() => expect(local.received.length).toBeGreaterThan(0), { timeoutMs: 5_000 });
        },
        { timeoutMs: 40_000 },
      );
      await eventually(() => expect(endpointReceiver.ids()).toEqual(expect.arrayContaining(triggered)));

      const secret = listen.records.find((r) => r['event'] === 'session')!['secret'] as string;
      const [forwarded] = local.received;
      expect(() => new Webhook(secret).verify(forwarded!.body, forwarded!.headers)).not.toThrow();
      // The very body the endpoint received for that test send.
      const sentToEndpoint = endpointReceiver.received.find((w) => triggered.includes(String(w.headers['webhook-id'])))!;
      expect(forwarded!.body).toBe(sentToEndpoint.body);
      expect(JSON.parse(forwarded!.body)).toMatchObject({ type: 'purchase.made_effective', data: { partner_id: partner, status: 'made_effective' } });
      expect(triggered.map((id) => messageIdFor(id, streamWebhookIdScope))).toContain(forwarded!.headers['webhook-id']);
      await eventually(() => expect(listen.records.filter((r) => r['event'] === 'forwarded').map((r) => r['event_id'])).toEqual(expect.arrayContaining([expect.stringMatching(/^msg_test_/)])));

      // Anything of the partner's that reached the other's stream was written before this event of its own.
      const own = await subscriptions.publishStatus(other, 'paid');
      await eventually(() => expect(otherLocal.received).toHaveLength(1));
      expect(otherLocal.received[0]!.headers['webhook-id']).toBe(messageIdFor(own.eventId, streamWebhookIdScope));
      expect(otherListen.records.filter((r) => r['event'] === 'forwarded')).toHaveLength(1);
    } finally {
      for (const cli of listens) cli.child.kill('SIGINT');
      const exitCodes = await Promise.all(listens.map((cli) => cli.exited));
      await local.stop();
      await otherLocal.stop();
      await second.close();
      expect(exitCodes).toEqual(listens.map(() => 0));
    }
  });
});
