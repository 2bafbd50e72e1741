import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { signWebhook } from '@gancho/webhooks';
import { ApiError, userAgent, type ApiTarget } from './api';
import type { Output } from './output';
import { SseParser } from './sse';

export interface ListenOptions {
  forwardTo: string;
  events: string[];
  /** A fixed secret (`whsec_…`) instead of a new one per session. */
  secret?: string;
  reconnectDelayMs: number;
  /** No byte (the server pings every 15 s) for this long: the connection is dead, reconnect. */
  idleTimeoutMs: number;
  forwardTimeoutMs: number;
}

/** What the stream sends for each event. */
interface StreamedWebhook {
  event_id: string;
  webhook_id: string;
  type: string;
  purchase_id: string;
  occurred_at: string;
  body: string;
}

export function newSessionSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * Follows GET /stream and forwards each webhook, signed with the session
 * secret, to a local URL, one at a time in the order received. Reconnects
 * with Last-Event-ID after any drop, so nothing published meanwhile is lost
 * (within the server's resume window). Resolves when `signal` aborts.
 */
export async function listen(target: ApiTarget, options: ListenOptions, out: Output, signal: AbortSignal): Promise<void> {
  const secret = options.secret ?? newSessionSecret();
  const filter = options.events.join(',');
  out.emit(
    { event: 'session', secret, forward_to: options.forwardTo, events: options.events },
    [
      `${out.paint('bold', 'Ready.')} Forwarding ${out.paint('cyan', options.events.join(', '))} to ${out.paint('cyan', options.forwardTo)}`,
      `Webhook signing secret for this session: ${out.paint('yellow', secret)}`,
      out.paint('gray', '(verify with @gancho/webhooks or standardwebhooks; Ctrl-C to stop)'),
    ].join('\n'),
  );

  let lastEventId: string | undefined;
  let failures = 0;
  while (!signal.aborted) {
    const connection = new AbortController();
    const abort = () => connection.abort();
    signal.addEventListener('abort', abort, { once: true });
    let idle: NodeJS.Timeout | undefined;
    const touch = () => {
      clearTimeout(idle);
      idle = setTimeout(() => connection.abort(), options.idleTimeoutMs);
    };
    let connected = false;
    try {
      const url = new URL('/stream', target.deliveryUrl);
      url.searchParams.set('events', filter);
      touch();
      const response = await fetch(url, {
        headers: {
          authorization: `Bearer ${target.apiKey}`,
          accept: 'text/event-stream',
          'user-agent': userAgent,
          ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
        },
        signal: connection.signal,
      });
      if (response.status === 401 || response.status === 400) {
        const problem = (await response.json().catch(() => ({}))) as { code?: string; detail?: string };
        throw new ApiError(response.status, problem.code, problem.detail ?? response.statusText);
      }
      if (response.status !== 200 || !response.body) throw new Error(`the stream answered ${response.status}`);
      const parser = new SseParser();
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        touch();
        for (const event of parser.push(chunk)) {
          if (event.event === 'ready') {
            connected = true;
            failures = 0;
            const ready = JSON.parse(event.data) as { resumed: boolean; replayed: number };
            lastEventId ??= event.id;
            out.emit(
              { event: 'connected', resumed: ready.resumed, replayed: ready.replayed },
              ready.resumed ? out.paint('green', `Reconnected; ${ready.replayed} missed event(s) follow.`) : out.paint('green', 'Connected; waiting for events…'),
            );
          } else if (event.event === 'gap') {
            out.emit({ event: 'gap', detail: JSON.parse(event.data).detail }, out.paint('yellow', `Some events could not be replayed: ${JSON.parse(event.data).detail}`));
          } else if (event.event === 'webhook') {
            await forward(JSON.parse(event.data) as StreamedWebhook, secret, options, out);
            // Only after the forward: a drop mid-forward replays this event, rather than losing it.
            if (event.id !== undefined) lastEventId = event.id;
          }
        }
      }
      throw new Error('the stream ended');
    } catch (error) {
      if (signal.aborted) break;
      if (error instanceof ApiError) throw error;
      failures = connected ? 1 : failures + 1;
      const delay = Math.min(30_000, options.reconnectDelayMs * 2 ** Math.min(failures - 1, 5));
      const reason = connection.signal.aborted ? 'no data for a while' : error instanceof Error ? ((error.cause as { code?: string } | undefined)?.code ?? error.message) : String(error);
      out.emit({ event: 'disconnected', reason, retry_in_ms: delay }, out.paint('yellow', `Disconnected (${reason}); reconnecting in ${(delay / 1000).toFixed(1)} s…`));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    } finally {
      clearTimeout(idle);
      signal.removeEventListener('abort', abort);
      connection.abort();
    }
  }
}

async function forward(webhook: StreamedWebhook, secret: string, options: ListenOptions, out: Output): Promise<void> {
  const headers = signWebhook({ id: webhook.webhook_id, timestamp: new Date(), body: webhook.body, secret });
  const started = performance.now();
  const base = { type: webhook.type, webhook_id: webhook.webhook_id, event_id: webhook.event_id, purchase_id: webhook.purchase_id };
  const when = new Date().toISOString().slice(11, 19);
  try {
    const response = await fetch(options.forwardTo, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': userAgent, ...headers },
      body: webhook.body,
      signal: AbortSignal.timeout(options.forwardTimeoutMs),
    });
    await response.arrayBuffer().catch(() => undefined);
    const latency = Math.round(performance.now() - started);
    const ok = response.status >= 200 && response.status < 300;
    const status = out.paint(ok ? 'green' : 'red', String(response.status));
    out.emit(
      { event: 'forwarded', ...base, status: response.status, latency_ms: latency },
      `${out.paint('gray', when)}  ${webhook.type.padEnd(36)} → ${status} ${out.paint('gray', `${latency} ms  ${webhook.webhook_id}`)}`,
    );
  } catch (error) {
    const latency = Math.round(performance.now() - started);
    const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error instanceof Error ? error.name : String(error));
    out.emit(
      { event: 'forward_failed', ...base, error: reason, latency_ms: latency },
      `${out.paint('gray', when)}  ${webhook.type.padEnd(36)} → ${out.paint('red', reason)} ${out.paint('gray', `${latency} ms  ${webhook.webhook_id}`)}`,
    );
  }
}
