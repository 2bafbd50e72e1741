import { once } from 'node:events';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The subject CN of the client certificate the request came with (mutual TLS), if any. */
  clientCertificateCn?: string;
}

/** Answers a request whose body has been read in full. Leaving `res` alone makes a receiver that never answers. */
export type ReceiverHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

export interface Receiver {
  port: number;
  /** `127.0.0.1:<port>`, for `allowedHosts`. */
  authority: string;
  url(path?: string): string;
  requests: ReceivedRequest[];
  /** TCP connections accepted (TLS: before the handshake). */
  connections: number;
  /** TCP connections open now. */
  openConnections: number;
  close(): Promise<void>;
}

export interface ReceiverOptions {
  /** Default 127.0.0.1. `::` listens dual-stack (IPv6 and IPv4-mapped). */
  listenOn?: string;
  /** With `clientCa`, the receiver requires a client certificate issued by it (mutual TLS) and refuses the handshake otherwise. */
  tls?: { key: string; cert: string; clientCa?: string };
  /** How long the server keeps an idle connection open (Node's default is 5 000 ms). */
  keepAliveTimeoutMs?: number;
}

const ok: ReceiverHandler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');

/** A real HTTP(S) server on port 0 that records what it received: the `TestReceiver` of these tests. */
export async function startReceiver(handler: ReceiverHandler = ok, options: ReceiverOptions = {}): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const peer = 'getPeerCertificate' in req.socket ? (req.socket as import('node:tls').TLSSocket).getPeerCertificate() : undefined;
      const clientCertificateCn = typeof peer?.subject?.CN === 'string' ? peer.subject.CN : undefined;
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, ...(clientCertificateCn === undefined ? {} : { clientCertificateCn }) });
      handler(req, res, body);
    });
  };
  const clientAuth = options.tls?.clientCa === undefined ? {} : { ca: options.tls.clientCa, requestCert: true, rejectUnauthorized: true };
  const server = options.tls ? https.createServer({ key: options.tls.key, cert: options.tls.cert, ...clientAuth }, onRequest) : http.createServer(onRequest);
  const receiver: Receiver = {
    port: 0,
    authority: '',
    url: (path = '/') => `${options.tls ? 'https' : 'http'}://127.0.0.1:${receiver.port}${path}`,
    requests,
    connections: 0,
    openConnections: 0,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  if (options.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = options.keepAliveTimeoutMs;
  server.on('connection', (socket: Socket) => {
    receiver.connections += 1;
    receiver.openConnections += 1;
    socket.once('close', () => {
      receiver.openConnections -= 1;
    });
  });
  // A receiver that misbehaves on purpose sees its sockets destroyed by the sender; that is not a test failure.
  server.on('clientError', (_error, socket) => socket.destroy());
  server.listen(0, options.listenOn ?? '127.0.0.1');
  await once(server, 'listening');
  receiver.port = (server.address() as AddressInfo).port;
  receiver.authority = `127.0.0.1:${receiver.port}`;
  return receiver;
}
