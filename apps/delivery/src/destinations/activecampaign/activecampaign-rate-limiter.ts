import { queryRows } from '@gancho/persistence';
import type { DataSource } from 'typeorm';

/**
 * ActiveCampaign's limit is "5 requests per second per account"; over it the
 * API answers 429 with `Retry-After` in seconds
 * (https://developers.activecampaign.com/reference/rate-limits). Every
 * endpoint with the same API URL is the same account, and delivery may run
 * several replicas, so the schedule lives in PostgreSQL: one row per account
 * holds the next free slot. A caller reserves a slot under the row's lock (one
 * statement) and waits for it locally. Slots are `1250 / rate` ms apart (4
 * requests per second for AC's 5): a request that leaves late — a busy event
 * loop, a slow network — would otherwise land close to the next one, and six
 * could arrive within one second; the fifth of the limit kept free absorbs a
 * lateness of up to 250 ms. A caller that wakes more than half a slot late
 * (a stalled event loop fires every timer due meanwhile at once) takes a new
 * slot instead of sending (see ActiveCampaignClient). Measured in the tests: 5
 * at most in any second.
 * The database knows the slot as a wait from the moment the statement ran,
 * which lies somewhere between asking and hearing back — late when the
 * statement queued on the row lock behind other reservations, or the answer
 * sat in a busy event loop. So a reservation answers a window on the caller's
 * clock that holds under either: not before the answer came plus the wait
 * (never ahead of the slot), and not after the question went plus the wait
 * plus half a slot (never near the next slot). Anchoring the wait at the
 * question alone sent requests early by the time they queued, and on a busy
 * machine 7 landed within one second.
 * A 429 pushes the account's next slot past its `Retry-After`, for every
 * endpoint and replica at once.
 */
export class ActiveCampaignRateLimiter {
  readonly intervalMs: number;
  /** The caller's clock (ms, monotonic), on which reserved windows are given. */
  readonly now: () => number;

  constructor(
    private readonly dataSource: DataSource,
    { requestsPerSecond = 5, now = () => performance.now() }: { requestsPerSecond?: number; now?: () => number } = {},
  ) {
    if (!(requestsPerSecond > 0)) throw new RangeError(`requestsPerSecond must be positive, not ${requestsPerSecond}`);
    this.intervalMs = Math.ceil((1000 / requestsPerSecond) * 1.25);
    this.now = now;
  }

  /**
   * Reserves the account's next slot if it is at most `maxWaitMs` away, and
   * answers when to send, on `now`'s clock: from `sendAt` (never before the
   * slot) to `sendBy` (never more than half a slot after it); when the answer
   * took longer than half a slot, `sendBy` comes before `sendAt` and the slot
   * is lost. Otherwise reserves nothing and answers how far away the next
   * free slot is.
   */
  async reserve(account: string, maxWaitMs: number): Promise<{ reserved: true; sendAt: number; sendBy: number } | { reserved: false; nextInMs: number }> {
    const interval = this.intervalMs / 1000;
    const asked = this.now();
    const [row] = await queryRows<{ wait_ms: number }>(
      this.dataSource,
      `INSERT INTO activecampaign_rate_slots AS s (account, next_slot_at) VALUES ($1, clock_timestamp() + make_interval(secs => $2))
       ON CONFLICT (account) DO UPDATE SET next_slot_at = GREATEST(s.next_slot_at, clock_timestamp()) + make_interval(secs => $2)
        WHERE GREATEST(s.next_slot_at, clock_timestamp()) <= clock_timestamp() + make_interval(secs => $3)
       RETURNING GREATEST(0, EXTRACT(EPOCH FROM (next_slot_at - clock_timestamp())) * 1000 - $2 * 1000)::float8 AS wait_ms`,
      [account, interval, maxWaitMs / 1000],
    );
    const answered = this.now();
    if (row) return { reserved: true, sendAt: answered + row.wait_ms, sendBy: asked + row.wait_ms + this.intervalMs / 2 };
    const [next] = await queryRows<{ next_in_ms: number }>(
      this.dataSource,
      'SELECT GREATEST(0, EXTRACT(EPOCH FROM (next_slot_at - clock_timestamp())) * 1000)::float8 AS next_in_ms FROM activecampaign_rate_slots WHERE account = $1',
      [account],
    );
    return { reserved: false, nextInMs: Math.ceil(next?.next_in_ms ?? 0) };
  }

  /** ActiveCampaign said 429: no request to this account before `retryAfterMs` from now. */
  async pause(account: string, retryAfterMs: number): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO activecampaign_rate_slots AS s (account, next_slot_at) VALUES ($1, clock_timestamp() + make_interval(secs => $2))
       ON CONFLICT (account) DO UPDATE SET next_slot_at = GREATEST(s.next_slot_at, EXCLUDED.next_slot_at)`,
      [account, retryAfterMs / 1000],
    );
  }
}
