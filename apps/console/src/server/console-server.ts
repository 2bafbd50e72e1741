import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { ConsoleConfig } from './console.config';

/**
 * The partner API routes the page may reach, per service. Everything else
 * (the admin API above all) is refused here, so the console can never be used
 * as a way into routes a partner has no business with.
 */
export const proxiedRoutes: Record<'subscriptions' | 'delivery', RegExp> = {
  subscriptions: /^\/(me|(operational-)?event-types(\/[^/]+(\/example)?)?|endpoints(\/[^/]+(\/secret(\/rotate)?|\/audit)?)?)$/,
  delivery: /^\/(messages(\/[^/]+(\/resend|\/skip)?)?|events(\/[^/]+)?|endpoints\/[^/]+\/(recover|test|stats(\/timeseries)?))$/,
};

/** The paths the page routes itself (App.tsx's Routes); the server answers them with the page. */
export const pageRoutes = /^\/(|endpoints|endpoints\/new|endpoints\/[^/]+(\/edit)?|messages|messages\/[^/]+|events)$/;

/** Request headers passed on to a service; cookies and the rest stay behind. */
const forwardedRequestHeaders = ['authorization', 'content-type', 'accept', 'idempotency-key', 'if-match', 'x-correlation-id', 'traceparent', 'tracestate'];
const forwardedResponseHeaders = ['content-type', 'cache-control', 'retry-after', 'etag', 'location'];
const maxBodyBytes = 1024 * 1024;

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Headers on every answer: the page loads only its own scripts and styles, talks only to this origin, and is framed only where allowed. */
export function securityHeaders(frameAncestors: string): Record<string, string> {
  return {
    'Content-Security-Policy': [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      "font-src 'self'",
      "connect-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'self'",
      `frame-ancestors ${frameAncestors}`,
    ].join('; '),
    ...(frameAncestors === "'none'" ? { 'X-Frame-Options': 'DENY' } : {}),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}

function problem(response: ServerResponse, status: number, code: string, detail: string): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response.writeHead(status, { 'content-type': 'application/problem+json', 'cache-control': 'no-store' });
  response.end(JSON.stringify({ type: `https://docs.gancho.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`, title: code, status, code, detail }));
}

export interface ConsoleServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** The console's HTTP server: the built page, and a same-origin proxy to the partner APIs (so the browser needs no CORS). */
export async function startConsoleServer(config: ConsoleConfig): Promise<ConsoleServer> {
  const headers = securityHeaders(config.frameAncestors);
  const upstreams = { subscriptions: new URL(config.subscriptionsUrl), delivery: new URL(config.deliveryUrl) };
  const staticRoot = path.resolve(config.staticDir);

  function proxy(service: 'subscriptions' | 'delivery', rest: string, search: string, request: IncomingMessage, response: ServerResponse): void {
    const upstream = upstreams[service];
    const outgoing: Record<string, string> = {};
    for (const name of forwardedRequestHeaders) {
      const value = request.headers[name];
      if (typeof value === 'string') outgoing[name] = value;
    }
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > maxBodyBytes) return problem(response, 413, 'PAYLOAD_TOO_LARGE', 'The request body is larger than 1 MiB.');
    const send = upstream.protocol === 'https:' ? httpsRequest : httpRequest;
    const basePath = upstream.pathname.replace(/\/+$/, '');
    const forward = send(
      { protocol: upstream.protocol, hostname: upstream.hostname, port: upstream.port, method: request.method, path: `${basePath}${rest}${search}`, headers: outgoing, timeout: config.upstreamTimeoutMs },
      (answer) => {
        const back: Record<string, string> = {};
        for (const name of forwardedResponseHeaders) {
          const value = answer.headers[name];
          if (typeof value === 'string') back[name] = value;
        }
        // Partner data (and secrets) must not sit in any cache.
        back['cache-control'] = 'no-store';
        response.writeHead(answer.statusCode ?? 502, back);
        answer.pipe(response);
      },
    );
    forward.on('timeout', () => forward.destroy(new Error('timeout')));
    forward.on('error', (error) => problem(response, error.message === 'timeout' ? 504 : 502, 'SERVICE_UNAVAILABLE', `The ${service} service did not answer; try again in a moment.`));
    let received = 0;
    request.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBodyBytes) {
        forward.destroy();
        problem(response, 413, 'PAYLOAD_TOO_LARGE', 'The request body is larger than 1 MiB.');
      }
    });
    request.pipe(forward);
  }

  async function serveStatic(pathname: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') return problem(response, 405, 'METHOD_NOT_ALLOWED', 'Only GET and HEAD serve the page.');
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return problem(response, 400, 'VALIDATION_FAILED', 'The path is not valid.');
    }
    const file = path.resolve(staticRoot, `.${path.posix.normalize(decoded)}`);
    const inside = file === staticRoot || file.startsWith(`${staticRoot}${path.sep}`);
    const asset = inside
      ? await stat(file).then(
          (s) => (s.isFile() ? file : undefined),
          () => undefined,
        )
      : undefined;
    // The page's own routes (/endpoints/…, see App.tsx) get the page; anything else — a missing asset, /metrics, a
    // probe's guess — is a real 404, never the page with 200.
    const target = asset ?? (pageRoutes.test(pathname) ? path.join(staticRoot, 'index.html') : undefined);
    if (!target) return problem(response, 404, 'NOT_FOUND', 'No such page or file.');
    const size = await stat(target).then(
      (s) => s.size,
      () => -1,
    );
    if (size < 0) return problem(response, 503, 'SERVICE_UNAVAILABLE', 'The console is not built: run the build first.');
    const immutable = target.startsWith(path.join(staticRoot, 'assets') + path.sep);
    response.writeHead(200, {
      'content-type': contentTypes[path.extname(target)] ?? 'application/octet-stream',
      'content-length': String(size),
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    if (request.method === 'HEAD') return void response.end();
    createReadStream(target).pipe(response);
  }

  const server = createServer((request, response) => {
    for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
    const url = new URL(request.url ?? '/', 'http://console.invalid');
    const pathname = url.pathname;
    if (pathname === '/health/live' || pathname === '/health/ready') {
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      return void response.end(JSON.stringify({ status: 'ok' }));
    }
    const api = /^\/api\/(subscriptions|delivery)(\/.*)$/.exec(pathname);
    if (api) {
      const service = api[1] as 'subscriptions' | 'delivery';
      const rest = api[2] as string;
      if (!proxiedRoutes[service].test(rest)) return problem(response, 404, 'ROUTE_NOT_FOUND', `The console does not offer ${service} ${rest}.`);
      return proxy(service, rest, url.search, request, response);
    }
    if (pathname.startsWith('/api/')) return problem(response, 404, 'ROUTE_NOT_FOUND', 'No such API.');
    serveStatic(pathname, request, response).catch(() => problem(response, 500, 'INTERNAL_ERROR', 'The file could not be read.'));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return {
    url: `http://${host}:${address.port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
