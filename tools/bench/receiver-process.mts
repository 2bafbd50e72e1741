// A partner's endpoints on loopback, in a process of its own so the service
// under test is measured alone: node:http with keep-alive; every request's
// Standard Webhooks signature is verified with @gancho/webhook-signing
// against the secrets of the endpoint its path names; the latency from the
// event being recorded (`data.occurred_at` in the body) to receipt goes into a
// histogram. The parent configures it and reads its figures over IPC.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook } from '@gancho/webhook-signing';
import { Histogram } from './histogram.mts';
import { useKeyObjects, verifyWithKeyObject } from './keyobject-hmac.mts';
import type { Arrivals, ReceiverReply, ReceiverRequest, ReceiverStats, RouteMode } from './receiver-protocol.mts';

interface Route {
  secrets: string[];
  mode: RouteMode;
}

const routes = new Map<string, Route>();
let stats = freshStats();
let latency = new Histogram();
let seenIds = new Set<string>();
const hanging = new Set<ServerResponse>();
let trackArrivals = false;
let arrivals: Arrivals = { purchaseIds: [], verifiedAt: [] };

function freshStats(): Omit<ReceiverStats, 'latency'> {
  return { received: 0, verified: 0, healthyVerified: 0, unverified: 0, unknownPath: 0, failed: 0, hung: 0, duplicates: 0, firstAt: 0, lastAt: 0 };
}

const occurredAtKey = '"occurred_at":"';
const purchaseIdKey = '"purchase_id":"';

function purchaseIdOf(body: string): string {
  const at = body.indexOf(purchaseIdKey);
  if (at < 0) return '';
  const from = at + purchaseIdKey.length;
  return body.slice(from, body.indexOf('"', from));
}

function occurredAt(body: string): number {
  const at = body.indexOf(occurredAtKey);
  if (at < 0) return Number.NaN;
  const from = at + occurredAtKey.length;
  return Date.parse(body.slice(from, body.indexOf('"', from)));
}

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const now = Date.now();
    const body = chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8');
    stats.received++;
    if (stats.firstAt === 0) stats.firstAt = now;
    stats.lastAt = now;
    const route = routes.get(request.url ?? '');
    if (!route) {
      stats.unknownPath++;
      response.writeHead(404).end();
      return;
    }
    let id: string;
    try {
      id = useKeyObjects ? verifyWithKeyObject(request.headers, body, route.secrets, now) : verifyWebhook({ headers: request.headers, body, secrets: route.secrets, now: new Date(now) }).id;
    } catch {
      stats.unverified++;
      response.writeHead(401).end();
      return;
    }
    stats.verified++;
    const firstTime = !seenIds.has(id);
    if (firstTime) seenIds.add(id);
    else stats.duplicates++;
    if (route.mode === 'hang') {
      stats.hung++;
      hanging.add(response);
      response.on('close', () => hanging.delete(response));
      return;
    }
    if (route.mode === 'fail') {
      stats.failed++;
      response.writeHead(500, { 'content-type': 'text/plain' }).end('bench: failing on purpose');
      return;
    }
    stats.healthyVerified++;
    latency.record(now - occurredAt(body));
    if (trackArrivals && firstTime) {
      arrivals.purchaseIds.push(purchaseIdOf(body));
      arrivals.verifiedAt.push(Date.now());
    }
    response.writeHead(204).end();
  });
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.requestTimeout = 0;

function reply(message: ReceiverReply): void {
  process.send?.(message);
}

process.on('message', (message: ReceiverRequest) => {
  switch (message.op) {
    case 'routes':
      for (const [path, route] of Object.entries(message.routes)) routes.set(path, route);
      reply({ op: 'ok', seq: message.seq });
      break;
    case 'reset':
      stats = freshStats();
      latency = new Histogram();
      seenIds = new Set();
      trackArrivals = message.trackArrivals ?? false;
      arrivals = { purchaseIds: [], verifiedAt: [] };
      reply({ op: 'ok', seq: message.seq });
      break;
    case 'count':
      reply({ op: 'count', seq: message.seq, received: stats.received, verified: stats.verified, healthy: stats.healthyVerified });
      break;
    case 'stats':
      reply({ op: 'stats', seq: message.seq, stats: { ...stats, latency: latency.serialize() } });
      break;
    case 'arrivals':
      reply({ op: 'arrivals', seq: message.seq, arrivals });
      break;
    case 'release':
      // Hanging endpoints answer at last (the scenario is over).
      for (const response of hanging) response.writeHead(503).end();
      hanging.clear();
      reply({ op: 'ok', seq: message.seq });
      break;
    case 'close':
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      server.close(() => process.exit(0));
      break;
  }
});
process.on('disconnect', () => process.exit(0));

server.listen(Number(process.env.RECEIVER_PORT ?? 0), '127.0.0.1', () => {
  reply({ op: 'listening', seq: 0, port: (server.address() as AddressInfo).port });
});
