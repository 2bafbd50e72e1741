import { requireInRange } from './errors';

export interface TokenBucketOptions {
  /** The most requests that may go out at once after a quiet period (the burst). */
  capacity: number;
  /** The sustained rate: tokens added per second. */
  refillPerSecond: number;
}

export type TakeResult = { ok: true } | { ok: false; retryInMs: number };

// Tolerates the rounding of fractional refills, so a caller who waits exactly retryInMs gets its token.
const epsilon = 1e-9;

/**
 * A rate limit (delivery's per endpoint, partner-auth's per API key): holds up to `capacity` tokens, refilled
 * continuously at `refillPerSecond`; each request takes one. Starts full.
 * Time comes in with each call; a clock that steps back adds nothing.
 */
export class TokenBucket {
  readonly capacity: number;
  readonly refillPerSecond: number;
  private tokens: number;
  private refilledAtMs: number | undefined;

  constructor({ capacity, refillPerSecond }: TokenBucketOptions) {
    this.capacity = requireInRange('capacity', capacity, 1);
    this.refillPerSecond = requireInRange('refillPerSecond', refillPerSecond, Number.MIN_VALUE);
    this.tokens = capacity;
  }

  /** Takes a token if one is there; otherwise says how long until one will be. */
  tryTake(now: Date): TakeResult {
    this.refill(now.getTime());
    if (this.tokens + epsilon >= 1) {
      this.tokens = Math.max(0, this.tokens - 1);
      return { ok: true };
    }
    return { ok: false, retryInMs: Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.refillPerSecond)) };
  }

  /** Tokens available at `now` (for metrics and tests). */
  available(now: Date): number {
    this.refill(now.getTime());
    return this.tokens;
  }

  private refill(nowMs: number): void {
    const elapsedMs = this.refilledAtMs === undefined ? 0 : Math.max(0, nowMs - this.refilledAtMs);
    this.tokens = Math.min(this.capacity, this.tokens + (elapsedMs * this.refillPerSecond) / 1000);
    this.refilledAtMs = this.refilledAtMs === undefined ? nowMs : Math.max(this.refilledAtMs, nowMs);
  }
}
