import { defaultDisableAfterMs, shouldDisableEndpoint } from './endpoint-health';
import { InvalidDeliverySettingError } from './errors';

// Scenarios:
// - An endpoint is disabled once it has failed, without a single success, for disableAfterMs (default 5 days).
// - Never one with no attempts, none failing since its last success, or failing for less than that.

const hour = 3_600_000;
const day = 24 * hour;
const now = new Date('2026-11-27T19:28:47.000Z');
const ago = (ms: number) => new Date(now.getTime() - ms);

describe('shouldDisableEndpoint', () => {
  it('has a default of five days', () => {
    expect(defaultDisableAfterMs).toBe(5 * day);
  });

  it.each([
    ['no attempts at all', undefined, undefined],
    ['no attempts at all (nulls from the database)', null, null],
    ['successes only', ago(hour), null],
    ['failing for one millisecond less than 5 days', ago(30 * day), ago(5 * day - 1)],
    ['failing for a day, never a success', undefined, ago(day)],
    ['a success newer than the recorded failure', ago(hour), ago(10 * day)],
  ])('given %s, then it stays enabled', (_case, lastSuccessAt, firstFailureSinceSuccessAt) => {
    expect(shouldDisableEndpoint({ lastSuccessAt, firstFailureSinceSuccessAt, now })).toEqual({ disable: false });
  });

  it('given an endpoint failing for exactly 5 days since its last success, then it is disabled, with why', () => {
    const lastSuccessAt = ago(6 * day);
    const firstFailureSinceSuccessAt = ago(5 * day);
    expect(shouldDisableEndpoint({ lastSuccessAt, firstFailureSinceSuccessAt, now })).toEqual({
      disable: true,
      reason: 'failing',
      failingSince: firstFailureSinceSuccessAt,
      detail: 'failing since 2026-11-22T19:28:47.000Z (5 days 0 h), last success at 2026-11-21T19:28:47.000Z',
    });
  });

  it('given an endpoint that never succeeded and has failed for a week, then it is disabled', () => {
    const decision = shouldDisableEndpoint({ lastSuccessAt: null, firstFailureSinceSuccessAt: ago(7 * day + 3 * hour), now });
    expect(decision).toMatchObject({ disable: true, reason: 'failing' });
    expect(decision.disable && decision.detail).toBe('failing since 2026-11-20T16:28:47.000Z (7 days 3 h), never delivered successfully');
  });

  it.each([
    [hour, ago(hour - 1), false],
    [hour, ago(hour), true],
    [0, now, true],
  ])('with disableAfterMs %i, failing since %s, disables: %s', (disableAfterMs, firstFailureSinceSuccessAt, disable) => {
    expect(shouldDisableEndpoint({ lastSuccessAt: undefined, firstFailureSinceSuccessAt, now, disableAfterMs }).disable).toBe(disable);
  });

  it('refuses a negative disableAfterMs', () => {
    expect(() => shouldDisableEndpoint({ lastSuccessAt: null, firstFailureSinceSuccessAt: null, now, disableAfterMs: -1 })).toThrow(InvalidDeliverySettingError);
  });
});
