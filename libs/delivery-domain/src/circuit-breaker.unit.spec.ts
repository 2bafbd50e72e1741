import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker';
import { InvalidDeliverySettingError } from './errors';

// Scenarios:
// - Closed: everything goes; N-1 failures keep it closed and a success resets the count.
// - The Nth consecutive failure opens it: nothing goes until the cool-down has passed.
// - Half-open: exactly one probe goes; success closes, failure reopens with a longer cool-down (capped).
// - A probe that never reports is replaced after probeTimeoutMs; a late failure while open changes nothing.

const options: CircuitBreakerOptions = {
  failureThreshold: 3,
  initialCooldownMs: 10_000,
  cooldownMultiplier: 2,
  maxCooldownMs: 35_000,
  probeTimeoutMs: 60_000,
};

/** A clock the test moves by hand. */
class TestClock {
  private ms = Date.parse('2026-11-27T19:28:47.000Z');
  now(): Date {
    return new Date(this.ms);
  }
  advance(ms: number): Date {
    this.ms += ms;
    return this.now();
  }
}

describe('CircuitBreaker', () => {
  let clock: TestClock;
  let breaker: CircuitBreaker;
  const failTimes = (n: number) => {
    for (let i = 0; i < n; i += 1) breaker.recordFailure(clock.now());
  };
  beforeEach(() => {
    clock = new TestClock();
    breaker = new CircuitBreaker(options);
  });

  it('given a closed circuit with fewer failures than the threshold, then everything goes', () => {
    failTimes(2);
    expect([1, 2, 3].map(() => breaker.canSend(clock.now()))).toEqual([true, true, true]);
    expect(breaker.snapshot()).toEqual({ state: 'closed', consecutiveFailures: 2, cooldownMs: 10_000 });
  });

  it('needs the failures to be consecutive: a success resets the count', () => {
    failTimes(2);
    breaker.recordSuccess(clock.now());
    failTimes(2);
    expect(breaker.canSend(clock.now())).toBe(true);
    breaker.recordFailure(clock.now());
    expect(breaker.canSend(clock.now())).toBe(false);
  });

  it('when the threshold is reached, then it opens and nothing goes until the cool-down has passed', () => {
    failTimes(3);
    expect(breaker.snapshot()).toEqual({ state: 'open', consecutiveFailures: 3, openUntil: clock.advance(0 + 10_000), cooldownMs: 10_000 });
  });

  it('refuses during the cool-down and lets exactly one probe through after it', () => {
    failTimes(3);
    expect(breaker.canSend(clock.advance(9_999))).toBe(false);
    expect(breaker.canSend(clock.advance(1))).toBe(true);
    expect(breaker.snapshot().state).toBe('half_open');
    expect([1, 2, 3].map(() => breaker.canSend(clock.advance(1_000)))).toEqual([false, false, false]);
  });

  it('closes when the probe succeeds, letting everything through', () => {
    failTimes(3);
    breaker.canSend(clock.advance(10_000));
    breaker.recordSuccess(clock.advance(200));
    expect(breaker.snapshot()).toEqual({ state: 'closed', consecutiveFailures: 0, cooldownMs: 10_000 });
    expect([1, 2, 3].map(() => breaker.canSend(clock.now()))).toEqual([true, true, true]);
  });

  it('reopens with a longer cool-down each time the probe fails, up to the maximum', () => {
    failTimes(3);
    const cooldowns: number[] = [];
    for (let round = 0; round < 4; round += 1) {
      const { cooldownMs } = breaker.snapshot();
      cooldowns.push(cooldownMs);
      expect(breaker.canSend(clock.advance(cooldownMs - 1))).toBe(false);
      expect(breaker.canSend(clock.advance(1))).toBe(true);
      breaker.recordFailure(clock.now());
      expect(breaker.snapshot()).toMatchObject({ state: 'open', openUntil: new Date(clock.now().getTime() + breaker.snapshot().cooldownMs) });
    }
    expect(cooldowns).toEqual([10_000, 20_000, 35_000, 35_000]);
  });

  it('starts from the initial cool-down again after it has closed', () => {
    failTimes(3);
    breaker.canSend(clock.advance(10_000));
    breaker.recordFailure(clock.now());
    expect(breaker.snapshot().cooldownMs).toBe(20_000);
    breaker.canSend(clock.advance(20_000));
    breaker.recordSuccess(clock.now());
    failTimes(3);
    expect(breaker.snapshot()).toMatchObject({ state: 'open', cooldownMs: 10_000 });
  });

  it('lets another probe go when the first never reports within probeTimeoutMs', () => {
    failTimes(3);
    expect(breaker.canSend(clock.advance(10_000))).toBe(true);
    expect(breaker.canSend(clock.advance(59_999))).toBe(false);
    expect(breaker.canSend(clock.advance(1))).toBe(true);
    expect(breaker.canSend(clock.now())).toBe(false);
  });

  it('keeps the cool-down when a request sent before opening fails late', () => {
    failTimes(3);
    const { openUntil } = breaker.snapshot();
    breaker.recordFailure(clock.advance(5_000));
    expect(breaker.snapshot()).toMatchObject({ state: 'open', openUntil, consecutiveFailures: 4 });
  });

  it('closes on a late success while open: the endpoint has shown it works', () => {
    failTimes(3);
    breaker.recordSuccess(clock.advance(1_000));
    expect(breaker.canSend(clock.now())).toBe(true);
  });

  it('uses defaults of 5 failures and a 30 s first cool-down', () => {
    const defaults = new CircuitBreaker();
    for (let i = 0; i < 4; i += 1) defaults.recordFailure(clock.now());
    expect(defaults.canSend(clock.now())).toBe(true);
    defaults.recordFailure(clock.now());
    expect(defaults.snapshot()).toMatchObject({ state: 'open', cooldownMs: 30_000 });
  });

  it.each<[Partial<CircuitBreakerOptions>]>([[{ failureThreshold: 0 }], [{ initialCooldownMs: -1 }], [{ cooldownMultiplier: 0.5 }], [{ initialCooldownMs: 60_000, maxCooldownMs: 1_000 }], [{ probeTimeoutMs: 0 }]])(
    'refuses %j with INVALID_DELIVERY_SETTING',
    (bad) => {
      expect(() => new CircuitBreaker({ ...options, ...bad })).toThrow(InvalidDeliverySettingError);
    },
  );
});
