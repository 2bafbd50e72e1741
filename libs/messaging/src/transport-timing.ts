/** Bounds of an exponential backoff, in milliseconds. */
export interface BackoffMs {
  initial?: number;
  max?: number;
}

/** Defaults of both transports' redelivery backoff: 200 ms doubling up to 30 s per consecutive failure. */
export const redeliveryBackoffDefaults = { initial: 200, max: 30_000 } as const;

/** The wait before retry number `attempt` (1 for the first): `initial`, doubled per attempt, at most `max` (each from `defaults` when not given). */
export function backoffDelayMs(attempt: number, bounds: BackoffMs | undefined, defaults: Required<BackoffMs> = redeliveryBackoffDefaults): number {
  const initial = bounds?.initial ?? defaults.initial;
  const max = bounds?.max ?? defaults.max;
  return Math.min(max, initial * 2 ** Math.min(attempt - 1, 30));
}

/**
 * A readiness check bounded in time: rejects with "`what` did not answer
 * within `timeoutMs` ms" if `check` has not settled by then.
 */
export async function answerWithin<T>(what: string, timeoutMs: number, check: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([check, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
