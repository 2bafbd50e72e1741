import { InvalidDeliverySettingError, InvalidRetryScheduleError } from './errors';
import { defaultRetrySchedule, defaultRetryScheduleText, nextAttemptAt, parseDuration, parseRetrySchedule, retryWindowMs } from './retry-schedule';
import { seededRandom } from './testing/seeded-random';

// Scenarios:
// - The schedule is parsed from "0s,5s,5m,…" with s/m/h/d units; the default spans about three days.
// - Anything else (empty, unknown units, negative, fractional, not starting at 0s) is INVALID_RETRY_SCHEDULE.
// - The first attempt is immediate; attempt n is due its delay after now, moved by at most ± jitterRatio, never before now.
// - Past the last entry the message is exhausted (undefined).

const second = 1_000;
const minute = 60 * second;
const hour = 60 * minute;
const day = 24 * hour;
const now = new Date('2026-11-27T19:28:47.123Z');
const noJitter = () => 0.5;

describe('parseRetrySchedule', () => {
  it('given the default text, then it is ten delays in milliseconds', () => {
    expect(defaultRetryScheduleText).toBe('0s,5s,5m,30m,2h,5h,10h,14h,20h,24h');
    expect(defaultRetrySchedule).toEqual([0, 5 * second, 5 * minute, 30 * minute, 2 * hour, 5 * hour, 10 * hour, 14 * hour, 20 * hour, 24 * hour]);
  });

  it('the default spans about three days from the first attempt to the last', () => {
    expect(retryWindowMs(defaultRetrySchedule)).toBe(75 * hour + 35 * minute + 5 * second);
    expect(retryWindowMs(defaultRetrySchedule)).toBeGreaterThanOrEqual(3 * day);
    expect(retryWindowMs(defaultRetrySchedule)).toBeLessThan(3.5 * day);
  });

  it.each([
    ['0s', [0]],
    ['0s,90s', [0, 90 * second]],
    ['0s,1m,1h,1d', [0, minute, hour, day]],
    [' 0s , 5m ,2d ', [0, 5 * minute, 2 * day]],
    ['0m,0s', [0, 0]],
  ])('parses "%s"', (text, expected) => {
    expect(parseRetrySchedule(text)).toEqual(expected);
  });

  it.each([
    ['', 'empty'],
    ['   ', 'blank'],
    ['5s,1m', 'not starting with 0s'],
    ['0s,5x', 'an unknown unit'],
    ['0s,5', 'a number with no unit'],
    ['0s,-5s', 'a negative delay'],
    ['0s,1.5h', 'a fraction'],
    ['0s,,5s', 'an empty entry'],
    ['0s,5 s', 'a space inside a duration'],
    ['0s,5ms', 'milliseconds'],
  ])('refuses "%s" (%s) with INVALID_RETRY_SCHEDULE', (text) => {
    expect(() => parseRetrySchedule(text)).toThrow(InvalidRetryScheduleError);
    try {
      parseRetrySchedule(text);
    } catch (error) {
      expect((error as InvalidRetryScheduleError).code).toBe('INVALID_RETRY_SCHEDULE');
    }
  });

  it('gives a schedule nobody can change by accident', () => {
    expect(Object.isFrozen(parseRetrySchedule('0s,5s'))).toBe(true);
  });

  it.each([
    ['30s', 30 * second],
    ['5m', 5 * minute],
    ['2h', 2 * hour],
    ['3d', 3 * day],
  ])('reads the duration %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
});

describe('nextAttemptAt', () => {
  it.each([0, 0.25, 0.5, 0.999999])('sends the first attempt at once, whatever the draw (%s)', (draw) => {
    expect(nextAttemptAt({ attemptNumber: 1, schedule: defaultRetrySchedule, now, random: () => draw })).toEqual(now);
  });

  it.each(defaultRetrySchedule.map((delay, index) => [index + 1, delay] as const))('with a neutral draw, attempt %i is due %i ms after now', (attemptNumber, delay) => {
    expect(nextAttemptAt({ attemptNumber, schedule: defaultRetrySchedule, now, random: noJitter })).toEqual(new Date(now.getTime() + delay));
  });

  it('is undefined past the last entry: the message is exhausted', () => {
    expect(nextAttemptAt({ attemptNumber: 11, schedule: defaultRetrySchedule, now, random: noJitter })).toBeUndefined();
    expect(nextAttemptAt({ attemptNumber: 2, schedule: parseRetrySchedule('0s'), now, random: noJitter })).toBeUndefined();
  });

  it.each([
    ['the lowest draw', 0, 0.1, 2 * hour * 0.9],
    ['the highest draw', 1 - Number.EPSILON, 0.1, 2 * hour * 1.1],
    ['a quarter draw', 0.25, 0.2, 2 * hour * 0.9],
    ['no jitter', 0, 0, 2 * hour],
  ])('moves the delay by the jitter: %s', (_case, draw, jitterRatio, expectedDelay) => {
    const at = nextAttemptAt({ attemptNumber: 5, schedule: defaultRetrySchedule, now, random: () => draw, jitterRatio });
    expect(at?.getTime()).toBe(now.getTime() + Math.round(expectedDelay));
  });

  it('never schedules before now, even with the whole delay as jitter', () => {
    expect(nextAttemptAt({ attemptNumber: 2, schedule: defaultRetrySchedule, now, random: () => 0, jitterRatio: 1 })).toEqual(now);
  });

  it('given 1000 draws for every attempt, then each stays within ± jitterRatio of its delay and spreads across it', () => {
    const random = seededRandom(20261127);
    for (const jitterRatio of [0.1, 0.25]) {
      defaultRetrySchedule.forEach((delay, index) => {
        const delays = Array.from({ length: 1000 }, () => {
          const at = nextAttemptAt({ attemptNumber: index + 1, schedule: defaultRetrySchedule, now, random, jitterRatio });
          return (at as Date).getTime() - now.getTime();
        });
        const low = Math.floor(delay * (1 - jitterRatio));
        const high = Math.ceil(delay * (1 + jitterRatio));
        expect(delays.filter((actual) => actual < Math.max(0, low) || actual > high)).toEqual([]);
        // The draws use most of the band, so retries of many messages do not bunch up.
        expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThanOrEqual(delay * jitterRatio * 1.8);
      });
    }
  });

  it.each([
    ['attempt 0', { attemptNumber: 0 }, InvalidRetryScheduleError],
    ['a fractional attempt', { attemptNumber: 1.5 }, InvalidRetryScheduleError],
    ['a negative jitter', { jitterRatio: -0.1 }, InvalidDeliverySettingError],
    ['a jitter above 1', { jitterRatio: 1.5 }, InvalidDeliverySettingError],
    ['a draw of 1', { random: () => 1 }, InvalidDeliverySettingError],
    ['a negative draw', { random: () => -0.1 }, InvalidDeliverySettingError],
    ['a NaN draw', { random: () => Number.NaN }, InvalidDeliverySettingError],
  ])('refuses %s', (_case, override, errorClass) => {
    const input = { attemptNumber: 3, schedule: defaultRetrySchedule, now, random: noJitter, ...override };
    expect(() => nextAttemptAt(input)).toThrow(errorClass);
  });
});
