import { classifyAttempt, parseHttpDate, parseRetryAfter, planNextAttempt, type AttemptDecision, type AttemptErrorClass, type AttemptResult, type ResponseHeaders } from './attempt-outcome';
import { InvalidDeliverySettingError } from './errors';
import { defaultRetrySchedule, parseRetrySchedule, retryWindowMs } from './retry-schedule';

// Scenarios:
// - Each status class and each network error class leads to one decision (table).
// - 429 and 503 honour Retry-After in seconds or as an HTTP date, clamped to the (configurable) bounds;
//   Retry-After on other statuses, or unreadable, is ignored.
// - planNextAttempt turns a decision and the schedule into the message's next state:
//   Retry-After replaces the schedule's delay, and the schedule's length still caps the attempts.

const now = new Date('2026-11-27T19:28:47.000Z');
const response = (status: number, headers: ResponseHeaders = {}): AttemptResult => ({ kind: 'response', status, headers, elapsedMs: 120 });
const failure = (errorClass: AttemptErrorClass): AttemptResult => ({ kind: 'error', errorClass, message: `simulated ${errorClass}` });
const classify = (result: AttemptResult) => classifyAttempt(result, { now });

describe('classifyAttempt', () => {
  it.each<[number, AttemptDecision]>([
    [200, { outcome: 'succeeded' }],
    [201, { outcome: 'succeeded' }],
    [202, { outcome: 'succeeded' }],
    [204, { outcome: 'succeeded' }],
    [299, { outcome: 'succeeded' }],
    [300, { outcome: 'retry', reason: 'redirect' }],
    [301, { outcome: 'retry', reason: 'redirect' }],
    [302, { outcome: 'retry', reason: 'redirect' }],
    [304, { outcome: 'retry', reason: 'redirect' }],
    [307, { outcome: 'retry', reason: 'redirect' }],
    [308, { outcome: 'retry', reason: 'redirect' }],
    [400, { outcome: 'retry', reason: 'client_error' }],
    [401, { outcome: 'retry', reason: 'client_error' }],
    [403, { outcome: 'retry', reason: 'client_error' }],
    [404, { outcome: 'retry', reason: 'client_error' }],
    [409, { outcome: 'retry', reason: 'client_error' }],
    [410, { outcome: 'disable_endpoint', reason: 'gone' }],
    [413, { outcome: 'retry', reason: 'client_error' }],
    [422, { outcome: 'retry', reason: 'client_error' }],
    [429, { outcome: 'retry', reason: 'rate_limited' }],
    [499, { outcome: 'retry', reason: 'client_error' }],
    [500, { outcome: 'retry', reason: 'server_error' }],
    [502, { outcome: 'retry', reason: 'server_error' }],
    [503, { outcome: 'retry', reason: 'service_unavailable' }],
    [504, { outcome: 'retry', reason: 'server_error' }],
    [599, { outcome: 'retry', reason: 'server_error' }],
    [100, { outcome: 'retry', reason: 'unexpected_status' }],
    [199, { outcome: 'retry', reason: 'unexpected_status' }],
    [600, { outcome: 'retry', reason: 'unexpected_status' }],
  ])('given a response with status %i, then %j', (status, decision) => {
    expect(classify(response(status))).toEqual(decision);
  });

  it.each<[AttemptErrorClass, AttemptDecision]>([
    ['timeout', { outcome: 'retry', reason: 'timeout' }],
    ['connect_refused', { outcome: 'retry', reason: 'connect_refused' }],
    ['dns', { outcome: 'retry', reason: 'dns' }],
    ['tls', { outcome: 'retry', reason: 'tls' }],
    ['reset', { outcome: 'retry', reason: 'reset' }],
    ['body_too_large', { outcome: 'retry', reason: 'body_too_large' }],
    ['other', { outcome: 'retry', reason: 'other' }],
    ['ssrf_blocked', { outcome: 'failed_permanently', reason: 'ssrf_blocked' }],
    ['invalid_url', { outcome: 'failed_permanently', reason: 'invalid_url' }],
  ])('given no response because of %s, then %j', (errorClass, decision) => {
    expect(classify(failure(errorClass))).toEqual(decision);
  });

  describe.each([429, 503])('Retry-After on %i', (status) => {
    it.each([
      ['delay-seconds', '120', 120_000],
      ['delay-seconds with spaces', ' 30 ', 30_000],
      ['zero, raised to the 1 s minimum', '0', 1_000],
      ['two hours, clamped to the 1 h maximum', '7200', 3_600_000],
      ['an IMF-fixdate 90 s ahead', 'Fri, 27 Nov 2026 19:30:17 GMT', 90_000],
      ['an IMF-fixdate in the past, raised to the minimum', 'Fri, 27 Nov 2026 19:00:00 GMT', 1_000],
      ['an IMF-fixdate next week, clamped to the maximum', 'Fri, 04 Dec 2026 19:28:47 GMT', 3_600_000],
      ['an RFC 850 date 10 min ahead', 'Friday, 27-Nov-26 19:38:47 GMT', 600_000],
      ['an asctime date 5 min ahead', 'Fri Nov 27 19:33:47 2026', 300_000],
    ])('honours %s', (_case, value, retryAfterMs) => {
      expect(classify(response(status, { 'retry-after': value }))).toMatchObject({ outcome: 'retry', retryAfterMs });
    });

    it.each([
      ['absent', {}],
      ['empty', { 'retry-after': '' }],
      ['a word', { 'retry-after': 'soon' }],
      ['negative', { 'retry-after': '-5' }],
      ['fractional', { 'retry-after': '1.5' }],
      ['an ISO date', { 'retry-after': '2026-11-27T19:30:17Z' }],
      ['an impossible date', { 'retry-after': 'Fri, 45 Nov 2026 19:30:17 GMT' }],
    ])('follows the schedule when Retry-After is %s', (_case, headers) => {
      const decision = classify(response(status, headers));
      expect(decision.outcome).toBe('retry');
      expect(decision).not.toHaveProperty('retryAfterMs');
    });

    it('reads the header in any case, and the first of repeated values', () => {
      expect(classify(response(status, { 'Retry-After': '42' }))).toMatchObject({ retryAfterMs: 42_000 });
      expect(classify(response(status, { 'RETRY-AFTER': ['17', '99'] }))).toMatchObject({ retryAfterMs: 17_000 });
    });

    it.each([
      ['1', 5_000],
      ['30', 30_000],
      ['600', 60_000],
    ])('clamps %ss to configured bounds of [5 s, 60 s]', (value, retryAfterMs) => {
      const decision = classifyAttempt(response(status, { 'retry-after': value }), { now, retryAfterBounds: { minMs: 5_000, maxMs: 60_000 } });
      expect(decision).toMatchObject({ retryAfterMs });
    });
  });

  it.each([500, 502, 301, 404])('ignores Retry-After on %i', (status) => {
    expect(classify(response(status, { 'retry-after': '120' }))).not.toHaveProperty('retryAfterMs');
  });

  it.each([
    ['IMF-fixdate', 'Fri, 27 Nov 2026 19:33:47 GMT', '2026-11-27T19:33:47Z'],
    ['RFC 850', 'Friday, 27-Nov-26 19:33:47 GMT', '2026-11-27T19:33:47Z'],
    ['asctime', 'Fri Nov 27 19:33:47 2026', '2026-11-27T19:33:47Z'],
    ['asctime with a one-digit day', 'Fri Nov  6 09:03:07 2026', '2026-11-06T09:03:07Z'],
    ['IMF-fixdate at the year end', 'Thu, 31 Dec 2026 23:59:59 GMT', '2026-12-31T23:59:59Z'],
  ])('reads an HTTP date in %s form as GMT', (_form, text, iso) => {
    expect(parseHttpDate(text)).toBe(Date.parse(iso));
  });

  it.each([
    ['31 November', 'Mon, 31 Nov 2026 19:33:47 GMT'],
    ['an unknown month', 'Fri, 27 Nox 2026 19:33:47 GMT'],
    ['hour 24', 'Fri, 27 Nov 2026 24:00:00 GMT'],
    ['another zone', 'Fri, 27 Nov 2026 19:33:47 BRT'],
    ['an ISO date', '2026-11-27T19:33:47Z'],
  ])('is not an HTTP date: %s', (_case, text) => {
    expect(parseHttpDate(text)).toBeUndefined();
  });

  it.each([[{ minMs: -1, maxMs: 1_000 }], [{ minMs: 5_000, maxMs: 1_000 }], [{ minMs: 0, maxMs: Number.NaN }]])('refuses Retry-After bounds %j', (retryAfterBounds) => {
    expect(() => classifyAttempt(response(200), { now, retryAfterBounds })).toThrow(InvalidDeliverySettingError);
    expect(() => parseRetryAfter('5', now, retryAfterBounds)).toThrow(InvalidDeliverySettingError);
  });
});

describe('planNextAttempt', () => {
  const neutral = () => 0.5;
  const plan = (decision: AttemptDecision, attemptsMade: number, random = neutral) => planNextAttempt({ decision, attemptsMade, schedule: defaultRetrySchedule, now, random });
  const after = (ms: number) => new Date(now.getTime() + ms);

  it.each<[AttemptDecision, ReturnType<typeof plan>]>([
    [{ outcome: 'succeeded' }, { state: 'succeeded' }],
    [
      { outcome: 'failed_permanently', reason: 'ssrf_blocked' },
      { state: 'failed', reason: 'ssrf_blocked' },
    ],
    [
      { outcome: 'disable_endpoint', reason: 'gone' },
      { state: 'endpoint_disabled', reason: 'gone' },
    ],
  ])('given %j, then %j, with no next attempt', (decision, expected) => {
    expect(plan(decision, 1)).toEqual(expected);
    expect(plan(decision, 10)).toEqual(expected);
  });

  it.each([
    [1, 5_000],
    [2, 300_000],
    [4, 7_200_000],
    [9, 86_400_000],
  ])('schedules a retry after attempt %i at the next delay of the schedule', (attemptsMade, delay) => {
    expect(plan({ outcome: 'retry', reason: 'server_error' }, attemptsMade)).toEqual({
      state: 'scheduled',
      nextAttemptAt: after(delay),
      reason: 'server_error',
    });
  });

  it('applies jitter to the schedule', () => {
    const low = plan({ outcome: 'retry', reason: 'timeout' }, 4, () => 0);
    expect(low).toEqual({ state: 'scheduled', nextAttemptAt: after(7_200_000 * 0.9), reason: 'timeout' });
  });

  it('schedules at Retry-After instead of the schedule, without jitter', () => {
    const decision: AttemptDecision = { outcome: 'retry', reason: 'rate_limited', retryAfterMs: 42_000 };
    expect(plan(decision, 4, () => 0)).toEqual({ state: 'scheduled', nextAttemptAt: after(42_000), reason: 'rate_limited' });
    expect(plan(decision, 1, () => 0.99)).toEqual({ state: 'scheduled', nextAttemptAt: after(42_000), reason: 'rate_limited' });
  });

  it('is exhausted after the last attempt of the schedule, Retry-After or not', () => {
    expect(plan({ outcome: 'retry', reason: 'server_error' }, 10)).toEqual({ state: 'exhausted', reason: 'server_error' });
    expect(plan({ outcome: 'retry', reason: 'rate_limited', retryAfterMs: 1_000 }, 10)).toEqual({ state: 'exhausted', reason: 'rate_limited' });
  });

  it('given an endpoint that always answers 500, then a message gets one attempt per entry over about three days', () => {
    let clock = now.getTime();
    let attemptsMade = 0;
    let state: ReturnType<typeof plan>;
    do {
      attemptsMade += 1;
      const decision = classifyAttempt(response(500), { now: new Date(clock) });
      state = planNextAttempt({ decision, attemptsMade, schedule: defaultRetrySchedule, now: new Date(clock), random: neutral });
      if (state.state === 'scheduled') clock = state.nextAttemptAt.getTime();
    } while (state.state === 'scheduled');
    expect(state).toEqual({ state: 'exhausted', reason: 'server_error' });
    expect(attemptsMade).toBe(defaultRetrySchedule.length);
    expect(clock - now.getTime()).toBe(retryWindowMs(defaultRetrySchedule));
  });

  it('with a one-entry schedule, a failed first attempt is exhausted at once', () => {
    const decision: AttemptDecision = { outcome: 'retry', reason: 'dns' };
    expect(planNextAttempt({ decision, attemptsMade: 1, schedule: parseRetrySchedule('0s'), now, random: neutral })).toEqual({
      state: 'exhausted',
      reason: 'dns',
    });
  });
});
