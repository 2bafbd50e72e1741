import { requireInRange } from './errors';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long the circuit stays open the first time. */
  initialCooldownMs: number;
  /** Each failed probe multiplies the cool-down by this… */
  cooldownMultiplier: number;
  /** …up to this. */
  maxCooldownMs: number;
  /** A probe that never reports (its worker died) is given up after this, and another probe may go. */
  probeTimeoutMs: number;
}

export const defaultCircuitBreakerOptions: CircuitBreakerOptions = Object.freeze({
  failureThreshold: 5,
  initialCooldownMs: 30_000,
  cooldownMultiplier: 2,
  maxCooldownMs: 3_600_000,
  probeTimeoutMs: 60_000,
});

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitSnapshot {
  state: CircuitState;
  consecutiveFailures: number;
  /** While open: when a probe may go. */
  openUntil?: Date;
  /** The cool-down the circuit is on (or would start with). */
  cooldownMs: number;
}

type Circuit =
  | { state: 'closed'; consecutiveFailures: number }
  | { state: 'open'; openUntilMs: number; cooldownMs: number; consecutiveFailures: number }
  | { state: 'half_open'; probeSentAtMs: number; cooldownMs: number; consecutiveFailures: number };

/**
 * One endpoint's circuit breaker, so a dead endpoint stops taking worker time
 * and connections. Closed: everything goes. After `failureThreshold`
 * consecutive failures it opens: nothing goes for a cool-down. Then it is
 * half-open: exactly one probe goes; its success closes the circuit, its
 * failure opens it again for a longer cool-down (× `cooldownMultiplier`, up to
 * `maxCooldownMs`). Time comes in with each call.
 */
export class CircuitBreaker {
  private readonly options: CircuitBreakerOptions;
  private circuit: Circuit = { state: 'closed', consecutiveFailures: 0 };

  constructor(options: Partial<CircuitBreakerOptions> = {}) {
    const merged = { ...defaultCircuitBreakerOptions, ...options };
    requireInRange('failureThreshold', merged.failureThreshold, 1);
    requireInRange('initialCooldownMs', merged.initialCooldownMs, 0);
    requireInRange('cooldownMultiplier', merged.cooldownMultiplier, 1);
    requireInRange('maxCooldownMs', merged.maxCooldownMs, merged.initialCooldownMs);
    requireInRange('probeTimeoutMs', merged.probeTimeoutMs, 1);
    this.options = merged;
  }

  /**
   * Whether a request may go now. Ask right before sending: in the half-open
   * state a `true` is the one probe, and every other caller gets `false` until
   * the probe's result is recorded (or it times out).
   */
  canSend(now: Date): boolean {
    const nowMs = now.getTime();
    const circuit = this.circuit;
    switch (circuit.state) {
      case 'closed':
        return true;
      case 'open':
        if (nowMs < circuit.openUntilMs) return false;
        this.circuit = {
          state: 'half_open',
          probeSentAtMs: nowMs,
          cooldownMs: circuit.cooldownMs,
          consecutiveFailures: circuit.consecutiveFailures,
        };
        return true;
      case 'half_open':
        if (nowMs - circuit.probeSentAtMs < this.options.probeTimeoutMs) return false;
        this.circuit = { ...circuit, probeSentAtMs: nowMs };
        return true;
      default: {
        const _: never = circuit;
        return _;
      }
    }
  }

  /** A delivery succeeded: the endpoint works, whatever the state was. */
  recordSuccess(_now: Date): void {
    this.circuit = { state: 'closed', consecutiveFailures: 0 };
  }

  /** A delivery failed (any retryable outcome). */
  recordFailure(now: Date): void {
    const nowMs = now.getTime();
    const circuit = this.circuit;
    const consecutiveFailures = circuit.consecutiveFailures + 1;
    switch (circuit.state) {
      case 'closed':
        this.circuit = consecutiveFailures >= this.options.failureThreshold ? this.open(nowMs, this.options.initialCooldownMs, consecutiveFailures) : { state: 'closed', consecutiveFailures };
        return;
      case 'half_open': {
        const cooldownMs = Math.min(this.options.maxCooldownMs, circuit.cooldownMs * this.options.cooldownMultiplier);
        this.circuit = this.open(nowMs, cooldownMs, consecutiveFailures);
        return;
      }
      case 'open':
        // A request sent before the circuit opened reports late: count it, keep the cool-down.
        this.circuit = { ...circuit, consecutiveFailures };
        return;
      default: {
        const _: never = circuit;
        return _;
      }
    }
  }

  snapshot(): CircuitSnapshot {
    const circuit = this.circuit;
    switch (circuit.state) {
      case 'closed':
        return { state: 'closed', consecutiveFailures: circuit.consecutiveFailures, cooldownMs: this.options.initialCooldownMs };
      case 'open':
        return {
          state: 'open',
          consecutiveFailures: circuit.consecutiveFailures,
          openUntil: new Date(circuit.openUntilMs),
          cooldownMs: circuit.cooldownMs,
        };
      case 'half_open':
        return { state: 'half_open', consecutiveFailures: circuit.consecutiveFailures, cooldownMs: circuit.cooldownMs };
      default: {
        const _: never = circuit;
        return _;
      }
    }
  }

  private open(nowMs: number, cooldownMs: number, consecutiveFailures: number): Circuit {
    return { state: 'open', openUntilMs: nowMs + cooldownMs, cooldownMs, consecutiveFailures };
  }
}
