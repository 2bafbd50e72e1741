// The whole platform on one machine: the three services as processes, wired
// by configuration only — Kafka when KAFKA_BROKERS is set, else the
// PostgreSQL event log in the same database.
import { randomBytes } from 'node:crypto';
import { serviceNames, startService, stopService, type RunningService, type ServiceName } from './service-processes.mts';

export interface PlatformSecrets {
  adminToken: string;
  platformToken: string;
  /** `<keyId>:<base64 of 32 bytes>` */
  encryptionKey: string;
  /** Journey's master keys of students' subject keys, `<keyId>:<base64 of 32 bytes>`. */
  personalDataMasterKeys: string;
  /** Journey's e-mail blind-index pepper, base64 of 32 bytes. */
  personalDataIndexKey: string;
}

export function newPlatformSecrets(): PlatformSecrets {
  return {
    adminToken: `adm_${randomBytes(24).toString('base64url')}`,
    platformToken: `plt_${randomBytes(24).toString('base64url')}`,
    encryptionKey: `k1:${randomBytes(32).toString('base64')}`,
    personalDataMasterKeys: `m1:${randomBytes(32).toString('base64')}`,
    personalDataIndexKey: randomBytes(32).toString('base64'),
  };
}

export interface PlatformOptions {
  databaseUrl: string;
  kafkaBrokers?: string;
  ports: Record<ServiceName, number>;
  secrets: PlatformSecrets;
  /** Endpoint hosts subscriptions accepts and delivery reaches although they are private (the demo receiver, test receivers). */
  allowedEndpointHosts: string[];
  /**
   * Whether partners' endpoints may be on loopback or private networks: one
   * machine, so by default yes (plain http is always accepted here). Given to subscriptions
   * (save time) and delivery (send time) alike, so both accept and refuse
   * the same URLs.
   */
  privateEndpoints?: boolean;
  /** Extra environment for every service (topic names in tests, timeouts…). */
  env?: Record<string, string>;
  /** A service built elsewhere (another release's worktree, in the version-skew test): its checkout's root. */
  roots?: Partial<Record<ServiceName, string>>;
  onOutput?: (service: ServiceName, line: string) => void;
  /** Called with each service's pid as soon as it is spawned. */
  onSpawn?: (service: ServiceName, pid: number) => void;
  onStopped?: (service: ServiceName, tookMs: number) => void;
  /**
   * Start the three at once (npm start) instead of one after the other. Each
   * service creates the topics it reads and writes (ensureTopics is
   * idempotent, and the PostgreSQL log's schema is created under an advisory
   * lock), so no order is needed for correctness; the one-by-one order keeps
   * the tests' logs easy to read.
   */
  startTogether?: boolean;
  /** Called as each service answers /health/ready. */
  onReady?: (service: ServiceName) => void;
}

export interface Platform {
  urls: Record<ServiceName, string>;
  services: Record<ServiceName, RunningService>;
  options: PlatformOptions;
  /** Restarts one service (after a crash test's SIGKILL, for example). */
  restart(name: ServiceName): Promise<void>;
  stop(): Promise<void>;
}

export function serviceEnv(name: ServiceName, options: PlatformOptions): Record<string, string> {
  const common: Record<string, string> = {
    DATABASE_URL: options.databaseUrl,
    ...(options.kafkaBrokers ? { KAFKA_BROKERS: options.kafkaBrokers } : {}),
    ...options.env,
  };
  // One endpoint network policy for save time (subscriptions) and send time (delivery).
  const privateEndpoints = options.privateEndpoints ?? true;
  const endpointNetwork: Record<string, string> = {
    // Local receivers speak plain http.
    ALLOW_HTTP_ENDPOINTS: 'true',
    ALLOW_PRIVATE_NETWORK_ENDPOINTS: String(privateEndpoints),
    ALLOWED_ENDPOINT_HOSTS: options.allowedEndpointHosts.join(','),
  };
  switch (name) {
    case 'journey':
      return {
        ...common,
        JOURNEY_PLATFORM_TOKENS: options.secrets.platformToken,
        PERSONAL_DATA_MASTER_KEYS: options.secrets.personalDataMasterKeys,
        PERSONAL_DATA_INDEX_KEY: options.secrets.personalDataIndexKey,
        SECRETS_ENCRYPTION_KEY: options.secrets.encryptionKey,
      };
    case 'subscriptions':
      return {
        ...common,
        SUBSCRIPTIONS_ADMIN_TOKENS: options.secrets.adminToken,
        SECRETS_ENCRYPTION_KEY: options.secrets.encryptionKey,
        ...endpointNetwork,
      };
    case 'delivery':
      return {
        ...common,
        SECRETS_ENCRYPTION_KEY: options.secrets.encryptionKey,
        ...endpointNetwork,
        ENDPOINTS_WARMUP_MS: options.env?.ENDPOINTS_WARMUP_MS ?? '1500',
      };
    default: {
      const _exhaustive: never = name;
      throw new Error(`unknown service ${String(_exhaustive)}`);
    }
  }
}

/** Starts journey, subscriptions and delivery (in that order) and waits until each is ready. */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const services = {} as Record<ServiceName, RunningService>;
  const start = async (name: ServiceName) => {
    services[name] = await startService({
      name,
      port: options.ports[name],
      env: serviceEnv(name, options),
      ...(options.roots?.[name] ? { root: options.roots[name] } : {}),
      ...(options.onOutput ? { onOutput: options.onOutput } : {}),
      ...(options.onSpawn ? { onSpawn: (pid: number) => options.onSpawn?.(name, pid) } : {}),
    });
    options.onReady?.(name);
  };
  try {
    const order = ['subscriptions', 'journey', 'delivery'] as const;
    if (options.startTogether) {
      const results = await Promise.allSettled(order.map((name) => start(name)));
      const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed) throw failed.reason;
    } else {
      // Subscriptions first: it creates the topics delivery and partner auth read.
      for (const name of order) await start(name);
    }
  } catch (error) {
    await Promise.all(Object.values(services).map((s) => stopService(s)));
    throw error;
  }
  const urls = Object.fromEntries(serviceNames.map((n) => [n, services[n].url])) as Record<ServiceName, string>;
  return {
    urls,
    services,
    options,
    restart: async (name) => {
      await stopService(services[name]);
      await start(name);
    },
    stop: async () => {
      // Delivery first, so it does not find its routing sources gone.
      for (const name of ['delivery', 'journey', 'subscriptions'] as const) {
        const stoppedAt = Date.now();
        await stopService(services[name]);
        options.onStopped?.(name, Date.now() - stoppedAt);
      }
    },
  };
}
