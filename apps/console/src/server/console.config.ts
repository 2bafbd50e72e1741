import path from 'node:path';

export interface ConsoleConfig {
  port: number;
  host: string;
  /** The subscriptions service's partner API (endpoints, secrets, catalog). */
  subscriptionsUrl: string;
  /** The delivery service's partner API (messages, attempts, replay, stats). */
  deliveryUrl: string;
  /** CSP frame-ancestors: who may embed the console in an iframe ('none' unless the portal is used). */
  frameAncestors: string;
  /** The Vite build of the page. */
  staticDir: string;
  /** How long the proxy waits for a service. */
  upstreamTimeoutMs: number;
}

export class ConsoleConfigError extends Error {}

function urlOf(name: string, value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
    return url.toString().replace(/\/+$/, '');
  } catch {
    throw new ConsoleConfigError(`${name} must be an http(s) URL`);
  }
}

/** Each source of frame-ancestors: 'self', 'none', or an origin (scheme://host[:port], wildcards in the host allowed). */
const frameSource = /^('self'|'none'|https?:\/\/(\*\.)?[a-z0-9.-]+(:\d+)?)$/i;

/** The console server's configuration, from the environment; defaults suit one machine. */
export function consoleConfig(env: NodeJS.ProcessEnv = process.env): ConsoleConfig {
  const port = Number(env.PORT ?? 3004);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConsoleConfigError('PORT must be a port number');
  const frameAncestors = (env.CONSOLE_FRAME_ANCESTORS ?? "'none'")
    .trim()
    .split(/[\s,]+/)
    .filter(Boolean);
  const bad = frameAncestors.find((source) => !frameSource.test(source));
  if (bad !== undefined || frameAncestors.length === 0) {
    throw new ConsoleConfigError(`CONSOLE_FRAME_ANCESTORS must be 'none', 'self' or origins like https://dashboard.example.com (got ${JSON.stringify(bad ?? '')})`);
  }
  const timeout = Number(env.CONSOLE_UPSTREAM_TIMEOUT_MS ?? 15_000);
  if (!(timeout > 0)) throw new ConsoleConfigError('CONSOLE_UPSTREAM_TIMEOUT_MS must be a positive number');
  return {
    port,
    host: env.HOST ?? '0.0.0.0',
    subscriptionsUrl: urlOf('SUBSCRIPTIONS_URL', env.SUBSCRIPTIONS_URL ?? 'http://127.0.0.1:3002'),
    deliveryUrl: urlOf('DELIVERY_URL', env.DELIVERY_URL ?? 'http://127.0.0.1:3003'),
    frameAncestors: frameAncestors.join(' '),
    staticDir: path.resolve(env.CONSOLE_STATIC_DIR ?? path.join(__dirname, '..', 'public')),
    upstreamTimeoutMs: timeout,
  };
}
