import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Pool, type buildConnector } from 'undici';

/** No connection came free within the connect timeout: every outbound connection of the sender is in use. */
export class ConnectionLimitError extends Error {
  readonly code = 'GANCHO_CONNECTION_LIMIT';

  constructor(maxConnections: number, waitedMs: number) {
    super(`No connection came free within ${waitedMs} ms: all ${maxConnections} outbound connections are in use.`);
    this.name = 'ConnectionLimitError';
  }
}

export interface EndpointPoolsOptions {
  /** Connections one pool (one endpoint, or one origin for callers that name no endpoint) may hold. */
  connectionsPerPool: number;
  /** Open sockets across all pools, idle ones included. */
  maxConnections: number;
  /** A pool none of whose requests ran for this long is closed and forgotten. */
  idlePoolTimeoutMs: number;
  keepAliveTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  /** How long a new connection may wait for room under `maxConnections`. */
  connectTimeoutMs: number;
  /** Makes the TCP (+TLS) connection; the SSRF guard. */
  connect: buildConnector.connector;
}

export interface PoolEntry {
  readonly pool: Pool;
  inFlight: number;
  lastUsedAt: number;
}

interface Waiter {
  grant(): void;
}

/**
 * Keep-alive connection pools keyed by endpoint, so one endpoint's
 * connections are never another's: a hanging endpoint holds at most its own
 * `connectionsPerPool` sockets, and an endpoint beside it on the same host
 * connects on its own. The sockets of all pools together stay within
 * `maxConnections`; at that bound a new connection first closes the pool
 * idle longest, and otherwise waits (up to the connect timeout) for a socket
 * to close. Pools idle for `idlePoolTimeoutMs` are closed, so endpoints that
 * stopped sending hold neither sockets nor memory.
 */
export class EndpointPools {
  private readonly pools = new Map<string, PoolEntry>();
  private readonly waiters: Waiter[] = [];
  private readonly closing = new Set<Promise<void>>();
  private readonly reaper: NodeJS.Timeout;
  private readonly connect: buildConnector.connector;
  private openConnections = 0;

  constructor(private readonly options: EndpointPoolsOptions) {
    this.connect = this.budgetedConnector(options.connect);
    this.reaper = setInterval(() => this.closeIdlePools(), Math.max(25, Math.floor(options.idlePoolTimeoutMs / 2)));
    this.reaper.unref();
  }

  /**
   * The pool for `key` (created on first use), counted as busy until `release`.
   * `connector` makes the connections of a new pool that need their own (a
   * client certificate); otherwise the shared one does.
   */
  acquire(key: string, origin: string, connector?: () => buildConnector.connector): PoolEntry {
    let entry = this.pools.get(key);
    if (entry === undefined) {
      const pool = new Pool(origin, {
        connections: this.options.connectionsPerPool,
        keepAliveTimeout: this.options.keepAliveTimeoutMs,
        // A receiver's Keep-Alive hint may shorten the idle time, never lengthen it.
        keepAliveMaxTimeout: this.options.keepAliveTimeoutMs,
        headersTimeout: this.options.headersTimeoutMs,
        bodyTimeout: this.options.bodyTimeoutMs,
        connect: connector === undefined ? this.connect : this.budgetedConnector(connector()),
      });
      entry = { pool, inFlight: 0, lastUsedAt: 0 };
      this.pools.set(key, entry);
    }
    entry.inFlight += 1;
    entry.lastUsedAt = performance.now();
    return entry;
  }

  release(entry: PoolEntry): void {
    entry.inFlight -= 1;
    entry.lastUsedAt = performance.now();
    if (entry.inFlight === 0 && this.waiters.length > 0) this.makeRoom();
  }

  /** Pools held, and connections open (or being opened) now. */
  stats(): { pools: number; connections: number } {
    return { pools: this.pools.size, connections: this.openConnections };
  }

  /** Closes every pool, after the requests in flight. */
  async close(): Promise<void> {
    clearInterval(this.reaper);
    for (const key of [...this.pools.keys()]) this.closePool(key);
    await Promise.all([...this.closing]);
  }

  /** Wraps the connector: a socket is opened only within the budget, and gives its place back when it closes. */
  private budgetedConnector(connect: buildConnector.connector): buildConnector.connector {
    return (connectOptions, callback) => {
      this.reserveSocket().then(
        (giveBack) =>
          connect(connectOptions, (error, socket) => {
            if (error !== null) {
              giveBack();
              return callback(error, null);
            }
            (socket as Socket).once('close', giveBack);
            callback(null, socket as Socket);
          }),
        (error: Error) => callback(error, null),
      );
    };
  }

  private reserveSocket(): Promise<() => void> {
    let given = false;
    const giveBack = () => {
      if (given) return;
      given = true;
      this.openConnections -= 1;
      this.waiters.shift()?.grant();
    };
    if (this.openConnections < this.options.maxConnections) {
      this.openConnections += 1;
      return Promise.resolve(giveBack);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          clearTimeout(timer);
          this.openConnections += 1;
          resolve(giveBack);
        },
      };
      const timer = setTimeout(() => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(new ConnectionLimitError(this.options.maxConnections, this.options.connectTimeoutMs));
      }, this.options.connectTimeoutMs);
      this.waiters.push(waiter);
      this.makeRoom();
    });
  }

  /** Closes the pools idle longest that hold sockets, until as many sockets are closing as connections wait. */
  private makeRoom(): void {
    const idle = [...this.pools.entries()].filter(([, entry]) => entry.inFlight === 0 && entry.pool.stats.connected > 0).sort(([, a], [, b]) => a.lastUsedAt - b.lastUsedAt);
    let freed = 0;
    for (const [key, entry] of idle) {
      if (freed >= this.waiters.length) break;
      freed += entry.pool.stats.connected;
      this.closePool(key);
    }
  }

  private closeIdlePools(): void {
    const idleSince = performance.now() - this.options.idlePoolTimeoutMs;
    for (const [key, entry] of this.pools) if (entry.inFlight === 0 && entry.lastUsedAt <= idleSince) this.closePool(key);
  }

  private closePool(key: string): void {
    const entry = this.pools.get(key);
    if (entry === undefined) return;
    this.pools.delete(key);
    const closed: Promise<void> = entry.pool.close().then(
      () => undefined,
      () => undefined,
    );
    this.closing.add(closed);
    void closed.finally(() => this.closing.delete(closed));
  }
}
