import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker';
import { TokenBucket } from './token-bucket';

/** Whether an endpoint may be sent to now, or when to look again (nothing is counted as an attempt). */
export type GateDecision = { kind: 'send' } | { kind: 'postpone'; delayMs: number; reason: 'circuit_open' | 'rate_limited' };

/**
 * What stands between a due message and its endpoint in this process: the
 * endpoint's circuit (failing endpoints get a probe now and then, not every
 * message) and its rate limit (the partner's `rate_limit_per_second`, as a
 * token bucket). Time comes in; no I/O.
 */
export class EndpointGate {
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly breakerOptions: Partial<CircuitBreakerOptions> = {}) {}

  /**
   * Decides for one message of `endpointId` (rate limit per second, if any):
   * an open circuit postpones until it half-opens (at least 1 s); a spent
   * bucket until a token is back. A send takes a token.
   */
  admit(endpointId: string, rateLimitPerSecond: number | null | undefined, now: Date): GateDecision {
    const breaker = this.breakerOf(endpointId);
    if (!breaker.canSend(now)) {
      const openUntil = breaker.snapshot().openUntil;
      return { kind: 'postpone', reason: 'circuit_open', delayMs: Math.max(1000, (openUntil?.getTime() ?? now.getTime() + 1000) - now.getTime()) };
    }
    const taken = this.bucketOf(endpointId, rateLimitPerSecond)?.tryTake(now);
    if (taken && !taken.ok) return { kind: 'postpone', reason: 'rate_limited', delayMs: taken.retryInMs };
    return { kind: 'send' };
  }

  /** Moves the endpoint's circuit by an attempt's outcome. */
  recordOutcome(endpointId: string, succeeded: boolean, at: Date): void {
    const breaker = this.breakerOf(endpointId);
    if (succeeded) breaker.recordSuccess(at);
    else breaker.recordFailure(at);
  }

  private breakerOf(endpointId: string): CircuitBreaker {
    let breaker = this.breakers.get(endpointId);
    if (!breaker) this.breakers.set(endpointId, (breaker = new CircuitBreaker(this.breakerOptions)));
    return breaker;
  }

  private bucketOf(endpointId: string, rate: number | null | undefined): TokenBucket | undefined {
    if (!rate) {
      this.buckets.delete(endpointId);
      return undefined;
    }
    let bucket = this.buckets.get(endpointId);
    // A changed limit starts a new bucket at the new size.
    if (!bucket || bucket.refillPerSecond !== rate) this.buckets.set(endpointId, (bucket = new TokenBucket({ capacity: rate, refillPerSecond: rate })));
    return bucket;
  }
}
