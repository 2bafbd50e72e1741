// A steady stream of status changes through the journey API: several lanes,
// each opening a purchase and walking it through the happy path. Every call
// carries an Idempotency-Key, so a lane may retry a call whose answer it never
// saw (the database was down, the connection dropped) without appending twice.
import { randomBytes } from 'node:crypto';
// The journey steps are a script of tools/, not a library; the boundary rule does not know it.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { journeySteps } from '../platform/journey-steps.mts';

export interface LoadStats {
  purchaseIds: string[];
  /** Calls answered 2xx. */
  accepted: number;
  /** Attempts that failed (no answer, or an answer other than 2xx) and were retried. */
  failedAttempts: number;
  /** Statuses of the failed attempts that had an answer, e.g. {"503": 12}. */
  failureStatuses: Record<string, number>;
  /** 503 and 429 answers that did not say when to come back (no Retry-After header). */
  withoutRetryAfter: number;
  /** The longest time during which no call succeeded (the API's outage as a client saw it). */
  longestGapMs: number;
}

export interface JourneyLoad {
  stats: LoadStats;
  /** Lets every lane finish the call it is on (retrying it for up to `drainMs`), then resolves. */
  stop(drainMs?: number): Promise<void>;
}

export function startJourneyLoad(options: { journeyUrl: string; token: string; partnerIds: string[]; lanes: number; pauseMs: number }): JourneyLoad {
  const stats: LoadStats = { purchaseIds: [], accepted: 0, failedAttempts: 0, failureStatuses: {}, withoutRetryAfter: 0, longestGapMs: 0 };
  let lastSuccess = Date.now();
  let stopping = false;
  let drainDeadline = Infinity;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  /** Sends one call until it is accepted; false when the drain deadline passed first. */
  const call = async (path: string, key: string, body: unknown): Promise<boolean> => {
    while (Date.now() < drainDeadline) {
      try {
        const response = await fetch(`${options.journeyUrl}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json', 'idempotency-key': key },
          body: JSON.stringify(body ?? {}),
          signal: AbortSignal.timeout(5000),
        });
        await response.arrayBuffer();
        if (response.ok) {
          stats.accepted++;
          stats.longestGapMs = Math.max(stats.longestGapMs, Date.now() - lastSuccess);
          lastSuccess = Date.now();
          return true;
        }
        stats.failureStatuses[response.status] = (stats.failureStatuses[response.status] ?? 0) + 1;
        if ((response.status === 503 || response.status === 429) && !response.headers.get('retry-after')) stats.withoutRetryAfter++;
      } catch {
        stats.failureStatuses['no answer'] = (stats.failureStatuses['no answer'] ?? 0) + 1;
      }
      stats.failedAttempts++;
      await sleep(200);
    }
    return false;
  };

  const lane = async (index: number) => {
    for (let n = 0; !stopping; n++) {
      const partnerId = options.partnerIds[(index + n) % options.partnerIds.length] as string;
      const purchaseId = `pur_${Date.now().toString(16).padStart(12, '0')}${randomBytes(10).toString('hex')}`;
      stats.purchaseIds.push(purchaseId);
      const opened = await call('/purchases', `${purchaseId}-open`, {
        purchase_id: purchaseId,
        partner_id: partnerId,
        course: { id: 'crs_reliability', name: 'Engenharia de Confiabilidade', price_cents: 990000, currency: 'BRL' },
        student: { name: 'Rita Lopes', email: 'rita@example.com' },
        student_logged_in: false,
      });
      if (!opened) return;
      for (const step of journeySteps) {
        if (stopping) return;
        await sleep(options.pauseMs);
        if (!(await call(`/purchases/${purchaseId}/${step.path}`, `${purchaseId}-${step.path}`, step.body))) return;
      }
    }
  };
  const lanes = Promise.all(Array.from({ length: options.lanes }, (_, i) => lane(i)));
  return {
    stats,
    stop: async (drainMs = 30_000) => {
      stopping = true;
      drainDeadline = Date.now() + drainMs;
      await lanes;
    },
  };
}
