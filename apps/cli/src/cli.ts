import { randomUUID } from 'node:crypto';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { eventTypes, isKnownEventType } from '@gancho/webhooks';
import { ApiError, GanchoApi, type ApiTarget } from './api';
import { configPath, defaultDeliveryUrl, defaultSubscriptionsUrl, findDemoDefaults, loadConfig, saveConfig } from './config';
import { listen } from './listen';
import { Output, type Io } from './output';

interface GlobalOptions {
  json?: boolean;
  config?: string;
  apiKey?: string;
  deliveryUrl?: string;
  subscriptionsUrl?: string;
}

interface Endpoint {
  id: string;
  url: string;
  enabled: boolean;
  event_types: string[];
  description: string;
  disabled_reason: string | null;
}

interface Message {
  message_id: string;
  endpoint_id: string;
  event_type: string;
  status: string;
  attempt_count: number;
  last_status_code: number | null;
  created_at: string;
}

/** An endpoint filter entry matches a type as the platform matches it: `*`, a `prefix.*`, or the exact type. */
export function filterMatches(filter: readonly string[], type: string): boolean {
  return filter.some((entry) => entry === '*' || entry === type || (entry.endsWith('.*') && type.startsWith(entry.slice(0, -1))));
}

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
};
const httpUrl = (value: string): string => {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('');
    return url.toString();
  } catch {
    throw new InvalidArgumentError('must be an http(s) URL');
  }
};
const eventList = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  ...value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean),
];

async function readStdinLine(io: Io): Promise<string> {
  let text = '';
  for await (const chunk of io.stdin) {
    text += chunk.toString();
    if (text.includes('\n')) break;
  }
  return text.split('\n')[0]?.trim() ?? '';
}

/** Builds the `gancho` program; `run` parses and runs it. */
export function buildProgram(io: Io, signal: AbortSignal): Command {
  const program = new Command('gancho')
    .description('Gancho from your terminal: stream your webhooks to localhost, trigger examples, look at endpoints and messages.')
    .version('0.1.0')
    .option('--json', 'print JSON (one document per line) instead of text')
    .option('--config <file>', 'config file (default: $GANCHO_CONFIG or your config dir)')
    .option('--api-key <key>', 'API key for this command (default: the one saved by login, or $GANCHO_API_KEY)')
    .option('--delivery-url <url>', 'delivery API base URL', httpUrl)
    .option('--subscriptions-url <url>', 'subscriptions API base URL', httpUrl)
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  const output = () => new Output(io, globals().json === true);
  const fileOf = () => globals().config ?? configPath(io.env);
  const target = async (): Promise<ApiTarget> => {
    const options = globals();
    const saved = await loadConfig(fileOf());
    // Inside a checkout where `npm start` ran: its demo key and ports, unless login saved others.
    const demo = saved.api_key ? undefined : await findDemoDefaults(io.cwd ?? process.cwd());
    const apiKey = options.apiKey ?? io.env['GANCHO_API_KEY'] ?? saved.api_key ?? demo?.api_key;
    if (!apiKey) throw new ApiError(401, 'NOT_LOGGED_IN', 'No API key: run `gancho login` (or pass --api-key / set GANCHO_API_KEY, or run inside a checkout where `npm start` runs).');
    return {
      apiKey,
      deliveryUrl: options.deliveryUrl ?? io.env['GANCHO_DELIVERY_URL'] ?? saved.delivery_url ?? demo?.delivery_url ?? defaultDeliveryUrl,
      subscriptionsUrl: options.subscriptionsUrl ?? io.env['GANCHO_SUBSCRIPTIONS_URL'] ?? saved.subscriptions_url ?? demo?.subscriptions_url ?? defaultSubscriptionsUrl,
    };
  };

  program
    .command('login')
    .description('save your API key (read from stdin when --api-key is not given) and the API URLs')
    .option('--no-verify', 'save without checking the key against the API')
    .action(async (options: { verify: boolean }) => {
      const out = output();
      const global = globals();
      const apiKey = global.apiKey ?? (await readStdinLine(io));
      if (!apiKey) throw new ApiError(400, 'NO_API_KEY', 'Give the API key with --api-key or on standard input.');
      const file = fileOf();
      const saved = await loadConfig(file);
      const config = {
        api_key: apiKey,
        delivery_url: global.deliveryUrl ?? saved.delivery_url ?? defaultDeliveryUrl,
        subscriptions_url: global.subscriptionsUrl ?? saved.subscriptions_url ?? defaultSubscriptionsUrl,
      };
      if (options.verify) {
        await new GanchoApi({ apiKey, deliveryUrl: config.delivery_url, subscriptionsUrl: config.subscriptions_url }).delivery('GET', '/messages?limit=1');
      }
      await saveConfig(file, config);
      out.emit(
        { logged_in: true, config_file: file, delivery_url: config.delivery_url, subscriptions_url: config.subscriptions_url, key_prefix: apiKey.slice(0, 14) },
        `${out.paint('green', 'Logged in')} as ${apiKey.slice(0, 14)}… (saved to ${file})`,
      );
    });

  program
    .command('listen')
    .description('stream your events live and forward each one, signed with a per-session secret, to a local URL')
    .requiredOption('--forward-to <url>', 'where to POST each webhook, e.g. http://localhost:3000/webhooks', httpUrl)
    .option('--events <types>', 'event types, prefixes (purchase.*) or * — comma-separated or repeated', eventList)
    .option('--secret <whsec>', 'sign with this secret instead of a new one for the session')
    .addOption(new Option('--reconnect-delay-ms <ms>', 'first delay before reconnecting').argParser(positiveInt).default(1000))
    .addOption(new Option('--idle-timeout-ms <ms>', 'reconnect when the stream is silent this long').argParser(positiveInt).default(45_000))
    .addOption(new Option('--forward-timeout-ms <ms>', 'give up on a local forward after').argParser(positiveInt).default(10_000))
    .action(async (options: { forwardTo: string; events?: string[]; secret?: string; reconnectDelayMs: number; idleTimeoutMs: number; forwardTimeoutMs: number }) => {
      await listen(
        await target(),
        {
          forwardTo: options.forwardTo,
          events: options.events?.length ? options.events : ['*'],
          ...(options.secret ? { secret: options.secret } : {}),
          reconnectDelayMs: options.reconnectDelayMs,
          idleTimeoutMs: options.idleTimeoutMs,
          forwardTimeoutMs: options.forwardTimeoutMs,
        },
        output(),
        signal,
      );
    });

  program
    .command('trigger')
    .description('send the example of an event type to your endpoints that subscribe to it (or to --endpoint)')
    .argument('<event-type>', `an event type, e.g. ${eventTypes[16] ?? 'purchase.made_effective'}`)
    .option('--endpoint <id>', 'this endpoint only (repeatable)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .action(async (type: string, options: { endpoint?: string[] }) => {
      const out = output();
      if (!isKnownEventType(type)) throw new ApiError(400, 'UNKNOWN_EVENT_TYPE', `Unknown event type ${type}. Known: ${eventTypes.join(', ')}`);
      const api = new GanchoApi(await target());
      const endpointIds = options.endpoint ?? (await api.all<Endpoint>('subscriptions', '/endpoints')).filter((e) => e.enabled && filterMatches(e.event_types, type)).map((e) => e.id);
      if (endpointIds.length === 0) throw new ApiError(404, 'NO_ENDPOINT', `None of your enabled endpoints subscribes to ${type}; create one with \`gancho endpoints create\`.`);
      const results: { endpoint_id: string; message_id: string }[] = [];
      for (const endpointId of endpointIds) {
        const sent = await api.delivery<{ message_id: string }>('POST', `/endpoints/${encodeURIComponent(endpointId)}/test`, { event_type: type });
        results.push({ endpoint_id: endpointId, message_id: sent.message_id });
        out.line(`${out.paint('green', '✓')} ${type} queued for ${endpointId}: ${sent.message_id}`);
      }
      out.record({ event_type: type, results });
      out.line(out.paint('gray', 'Follow it with `gancho messages tail`.'));
    });

  const endpoints = program.command('endpoints').description('your webhook endpoints');
  endpoints
    .command('list')
    .description('list your endpoints')
    .action(async () => {
      const out = output();
      const items = await new GanchoApi(await target()).all<Endpoint>('subscriptions', '/endpoints');
      out.record({ items });
      if (items.length === 0) return out.line('No endpoints yet: `gancho endpoints create --url https://… --events purchase.*`.');
      out.table([['ID', 'STATE', 'EVENTS', 'URL'], ...items.map((e) => [e.id, e.enabled ? 'enabled' : `disabled (${e.disabled_reason ?? '?'})`, e.event_types.join(','), e.url])]);
    });
  endpoints
    .command('create')
    .description('create an endpoint and show its signing secret')
    .requiredOption('--url <url>', 'https URL that receives the webhooks', httpUrl)
    .option('--events <types>', 'event types, prefixes or * (default *)', eventList)
    .option('--description <text>', 'what it is for', '')
    .action(async (options: { url: string; events?: string[]; description: string }) => {
      const out = output();
      const api = new GanchoApi(await target());
      const endpoint = await api.subscriptions<Endpoint>(
        'POST',
        '/endpoints',
        { url: options.url, description: options.description, event_types: options.events?.length ? options.events : ['*'] },
        { 'idempotency-key': randomUUID() },
      );
      const secret = await api.subscriptions<{ current: { secret: string } }>('GET', `/endpoints/${encodeURIComponent(endpoint.id)}/secret`);
      out.record({ ...endpoint, signing_secret: secret.current.secret });
      out.line(`${out.paint('green', 'Created')} ${endpoint.id} → ${endpoint.url} (${endpoint.event_types.join(', ')})`);
      out.line(`Signing secret: ${out.paint('yellow', secret.current.secret)}`);
    });

  endpoints
    .command('delete')
    .description('delete an endpoint: nothing is delivered to it any more')
    .argument('<endpoint-id>', 'the endpoint, e.g. ep_…')
    .action(async (endpointId: string) => {
      const out = output();
      await new GanchoApi(await target()).subscriptions('DELETE', `/endpoints/${encodeURIComponent(endpointId)}`);
      out.emit({ deleted: true, endpoint_id: endpointId }, `${out.paint('green', 'Deleted')} ${endpointId}`);
    });

  program
    .command('messages')
    .description('the message log')
    .command('tail')
    .description('show the latest messages, then new ones and status changes as they happen')
    .addOption(new Option('--limit <n>', 'messages shown at first').argParser(positiveInt).default(20))
    .option('--endpoint <id>', 'only this endpoint')
    .addOption(new Option('--interval-ms <ms>', 'how often to look').argParser(positiveInt).default(2000))
    .option('--once', 'show the latest and stop')
    .action(async (options: { limit: number; endpoint?: string; intervalMs: number; once?: boolean }) => {
      const out = output();
      const api = new GanchoApi(await target());
      const shown = new Map<string, string>();
      const query = `/messages?limit=${Math.min(options.limit, 200)}${options.endpoint ? `&endpoint_id=${encodeURIComponent(options.endpoint)}` : ''}`;
      for (;;) {
        const page = await api.delivery<{ items: Message[] }>('GET', query);
        for (const message of [...page.items].reverse()) {
          const state = `${message.status}/${message.attempt_count}`;
          if (shown.get(message.message_id) === state) continue;
          shown.set(message.message_id, state);
          const colour = message.status === 'succeeded' ? 'green' : message.status === 'pending' || message.status === 'sending' ? 'yellow' : 'red';
          out.emit(
            message,
            `${out.paint('gray', message.created_at.slice(0, 19).replace('T', ' '))}  ${message.event_type.padEnd(36)} ${out.paint(colour, message.status.padEnd(9))} ${String(message.last_status_code ?? '-').padEnd(4)} ${out.paint('gray', `${message.attempt_count} attempt(s)  ${message.message_id} → ${message.endpoint_id}`)}`,
          );
        }
        if (options.once || signal.aborted) return;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, options.intervalMs);
          signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
        });
        if (signal.aborted) return;
      }
    });

  return program;
}

/** Runs the CLI with `args` (without node and the script); resolves with the exit code. */
export async function run(args: string[], io: Io, signal: AbortSignal = new AbortController().signal): Promise<number> {
  const program = buildProgram(io, signal);
  try {
    await program.parseAsync(args, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    const out = new Output(io, program.opts<GlobalOptions>().json === true);
    if (error instanceof ApiError) out.error(`${error.code ? `${error.code}: ` : ''}${error.message}`);
    else out.error(error instanceof Error ? error.message : String(error));
    return 1;
  }
}
