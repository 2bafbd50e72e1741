import { InvalidDeliverySettingError, InvalidRetryScheduleError, requireInRange } from './errors';

/**
 * Delays before each attempt, in milliseconds: entry n is the wait between
 * attempt n and attempt n + 1 being due (entry 0, always 0, is the first
 * attempt, sent at once). Its length is the most attempts a message gets.
 */
export type RetrySchedule = readonly number[];

/** Immediately, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h: ten attempts over about 3 days 3 hours. */
export const defaultRetryScheduleText = '0s,5s,5m,30m,2h,5h,10h,14h,20h,24h';
export const defaultJitterRatio = 0.1;

const unitMs = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const durationPattern = /^(\d+)([smhd])$/;

/** `"90s"`, `"5m"`, `"2h"`, `"1d"` in milliseconds. */
export function parseDuration(text: string): number {
  const match = durationPattern.exec(text.trim());
  if (!match) throw new InvalidRetryScheduleError(`"${text}" is not a duration like 30s, 5m, 2h or 1d`);
  const [, amount, unit] = match as unknown as [string, string, keyof typeof unitMs];
  return Number(amount) * unitMs[unit];
}

/**
 * A schedule from its configuration text: comma-separated durations in s, m,
 * h or d. The first must be 0 (the first attempt is immediate; waiting is for
 * retries). Throws INVALID_RETRY_SCHEDULE.
 */
export function parseRetrySchedule(text: string): RetrySchedule {
  if (text.trim() === '') throw new InvalidRetryScheduleError('is empty');
  const delays = text.split(',').map(parseDuration);
  if (delays[0] !== 0) throw new InvalidRetryScheduleError('must start with 0s: the first attempt is sent immediately');
  return Object.freeze(delays);
}

export const defaultRetrySchedule: RetrySchedule = parseRetrySchedule(defaultRetryScheduleText);

/** The time from the first attempt to the last, without jitter. */
export function retryWindowMs(schedule: RetrySchedule): number {
  return schedule.reduce((sum, delay) => sum + delay, 0);
}

export interface NextAttemptInput {
  /** The attempt to schedule, from 1 (the first delivery). */
  attemptNumber: number;
  schedule: RetrySchedule;
  /** When the previous attempt ended (or the message was created, for attempt 1). */
  now: Date;
  /** Uniform in [0, 1). */
  random: () => number;
  /** The delay moves by up to ± this fraction, so retries of many messages do not arrive together. */
  jitterRatio?: number;
}

/**
 * When attempt `attemptNumber` is due: `now` plus its delay in the schedule,
 * moved by a uniform jitter of ± `jitterRatio` of that delay (never before
 * `now`). The first attempt is due at `now`. Undefined when the schedule has
 * no such attempt: the message is exhausted.
 */
export function nextAttemptAt({ attemptNumber, schedule, now, random, jitterRatio = defaultJitterRatio }: NextAttemptInput): Date | undefined {
  if (!Number.isInteger(attemptNumber) || attemptNumber < 1) {
    throw new InvalidRetryScheduleError(`attempt numbers start at 1, got ${attemptNumber}`);
  }
  requireInRange('jitterRatio', jitterRatio, 0, 1);
  const delay = schedule[attemptNumber - 1];
  if (delay === undefined) return undefined;
  const draw = random();
  if (!(draw >= 0 && draw < 1)) throw new InvalidDeliverySettingError('random()', `must return a number in [0, 1), returned ${draw}`);
  const jitter = delay * jitterRatio * (2 * draw - 1);
  return new Date(now.getTime() + Math.max(0, Math.round(delay + jitter)));
}
