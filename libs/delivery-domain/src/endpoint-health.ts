import { requireInRange } from './errors';

export const defaultDisableAfterMs = 5 * 24 * 3_600_000;

export interface EndpointHealthInput {
  /** The last successful delivery to the endpoint, if any. */
  lastSuccessAt: Date | null | undefined;
  /** The first failed attempt after `lastSuccessAt` (or ever, with no success); none while healthy. */
  firstFailureSinceSuccessAt: Date | null | undefined;
  now: Date;
  /** How long an endpoint may fail without a single success before it is disabled. */
  disableAfterMs?: number;
}

export type EndpointHealthDecision = { disable: true; reason: 'failing'; detail: string; failingSince: Date } | { disable: false };

/**
 * Called after a failed attempt. Returns whether to disable the endpoint:
 * only when it has failed without a single success for `disableAfterMs`.
 * An endpoint with no attempts, or no failure since its last success, is
 * left alone; so is one whose recorded success is newer than the failure
 * (the failure is stale).
 */
export function shouldDisableEndpoint({ lastSuccessAt, firstFailureSinceSuccessAt, now, disableAfterMs = defaultDisableAfterMs }: EndpointHealthInput): EndpointHealthDecision {
  requireInRange('disableAfterMs', disableAfterMs, 0);
  if (firstFailureSinceSuccessAt == null) return { disable: false };
  if (lastSuccessAt != null && lastSuccessAt.getTime() >= firstFailureSinceSuccessAt.getTime()) return { disable: false };
  const failingForMs = now.getTime() - firstFailureSinceSuccessAt.getTime();
  if (failingForMs < disableAfterMs) return { disable: false };
  const since = lastSuccessAt == null ? 'never delivered successfully' : `last success at ${lastSuccessAt.toISOString()}`;
  return {
    disable: true,
    reason: 'failing',
    failingSince: firstFailureSinceSuccessAt,
    detail: `failing since ${firstFailureSinceSuccessAt.toISOString()} (${formatDuration(failingForMs)}), ${since}`,
  };
}

function formatDuration(ms: number): string {
  const hours = Math.floor(ms / 3_600_000);
  return hours >= 48 ? `${Math.floor(hours / 24)} days ${hours % 24} h` : `${hours} h ${Math.floor((ms % 3_600_000) / 60_000)} min`;
}
