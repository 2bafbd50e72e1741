/**
 * A portal session: a partner credential that expires, issued by Gancho's
 * operators so a company's own partner dashboard can embed the console. It is
 * an API key with an expiry, kept on a stream of its own
 * (`portal-session:{keyId}`) so the partner's stream does not grow with every
 * embed, and published on the api-keys topic like any key, so every service
 * accepts it until it expires. Only its hash is stored.
 */
export type PortalSessionIssued = {
  type: 'PortalSessionIssued';
  data: { partnerId: string; keyId: string; keyHash: string; displayPrefix: string; expiresAt: string; occurredAt: string };
};

export const portalSessionStreamId = (keyId: string) => `portal-session:${keyId}`;

/** The shortest session worth embedding, and the answer's bounds in seconds. */
export const minPortalSessionSeconds = 60;

/** The session's expiry: `requestedSeconds` (or the default) from `now`, refused past the maximum. */
export function portalSessionExpiry(now: Date, requestedSeconds: number | undefined, defaultMs: number, maxMs: number): Date {
  const ttlMs = requestedSeconds === undefined ? Math.min(defaultMs, maxMs) : requestedSeconds * 1000;
  if (ttlMs > maxMs) throw new PortalSessionTooLongError(maxMs / 1000);
  return new Date(now.getTime() + ttlMs);
}

export class PortalSessionTooLongError extends Error {
  readonly code = 'VALIDATION_FAILED' as const;
  constructor(readonly maxSeconds: number) {
    super(`A portal session lasts at most ${maxSeconds} seconds.`);
    this.name = 'PortalSessionTooLongError';
  }
}
