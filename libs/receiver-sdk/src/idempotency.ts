/**
 * Gancho delivers at least once: a message can arrive again (a retry after a
 * timeout, a resend) with the same `webhook-id`. These helpers run your
 * handler once per id.
 */

/** `claimed`: yours to process; `in_progress`: another worker has it now; `done`: processed before. */
export type ClaimResult = 'claimed' | 'in_progress' | 'done';

/**
 * Where processed ids are remembered. The in-memory store suits one process;
 * for several, implement this over Redis (`SET key processing NX PX lease`,
 * then `GET`), a SQL table with a unique key, etc.
 */
export interface IdempotencyStore {
  /** Claims `key` for `leaseMs` unless it is claimed or done; says which. */
  claim(key: string, leaseMs: number): ClaimResult | Promise<ClaimResult>;
  /** Marks a claimed key done, remembered for `ttlMs`. */
  complete(key: string, ttlMs: number): void | Promise<void>;
  /** Drops a claim (the handler failed), so a redelivery is processed again. */
  release(key: string): void | Promise<void>;
}

interface Entry {
  state: 'in_progress' | 'done';
  expiresAt: number;
}

export interface MemoryIdempotencyStoreOptions {
  /** Most ids remembered; past it the oldest are forgotten first. Default 100 000. */
  maxEntries?: number;
  /** Milliseconds since the epoch; injected for tests. */
  now?: () => number;
}

/** Ids in a Map, each forgotten after its time to live. One process only. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor({ maxEntries = 100_000, now = Date.now }: MemoryIdempotencyStoreOptions = {}) {
    if (!(maxEntries >= 1)) throw new RangeError('maxEntries must be ≥ 1');
    this.maxEntries = maxEntries;
    this.now = now;
  }

  get size(): number {
    return this.entries.size;
  }

  claim(key: string, leaseMs: number): ClaimResult {
    const entry = this.live(key);
    if (entry) return entry.state;
    this.set(key, { state: 'in_progress', expiresAt: this.now() + leaseMs });
    return 'claimed';
  }

  complete(key: string, ttlMs: number): void {
    this.set(key, { state: 'done', expiresAt: this.now() + ttlMs });
  }

  release(key: string): void {
    this.entries.delete(key);
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private set(key: string, entry: Entry): void {
    // Re-inserting moves the key to the end, so insertion order stays oldest-first.
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size <= this.maxEntries) return;
    const now = this.now();
    for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k);
    for (const k of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(k);
    }
  }
}

export interface WebhookIdempotencyOptions {
  store?: IdempotencyStore;
  /** How long a processed id is remembered. Default 4 days: longer than Gancho's retries (about 3 days). */
  ttlMs?: number;
  /** How long a claim holds while a handler runs (a crashed worker's claim lapses after it). Default 5 minutes. */
  leaseMs?: number;
}

export type IdempotentResult<T> = { status: 'processed'; result: T } | { status: 'duplicate' } | { status: 'in_progress' };

const day = 24 * 60 * 60 * 1000;

/** Runs a handler once per `webhook-id`. A handler that throws releases its claim: the redelivery runs it again. */
export class WebhookIdempotency {
  readonly store: IdempotencyStore;
  private readonly ttlMs: number;
  private readonly leaseMs: number;

  constructor({ store = new MemoryIdempotencyStore(), ttlMs = 4 * day, leaseMs = 5 * 60 * 1000 }: WebhookIdempotencyOptions = {}) {
    this.store = store;
    this.ttlMs = ttlMs;
    this.leaseMs = leaseMs;
  }

  async run<T>(webhookId: string, handler: () => T | Promise<T>): Promise<IdempotentResult<T>> {
    const claim = await this.claim(webhookId);
    if (claim === 'done') return { status: 'duplicate' };
    if (claim === 'in_progress') return { status: 'in_progress' };
    let result: T;
    try {
      result = await handler();
    } catch (error) {
      await this.release(webhookId);
      throw error;
    }
    await this.complete(webhookId);
    return { status: 'processed', result };
  }

  claim(webhookId: string): Promise<ClaimResult> {
    return Promise.resolve(this.store.claim(webhookId, this.leaseMs));
  }

  async complete(webhookId: string): Promise<void> {
    await this.store.complete(webhookId, this.ttlMs);
  }

  async release(webhookId: string): Promise<void> {
    await this.store.release(webhookId);
  }
}
