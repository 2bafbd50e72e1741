import type { LeasedMessage } from './message-store';
import { DispatchScheduler, type SchedulerStore } from './scheduler';

// Scenarios (the store is the scheduler's port, kept in memory; the real one is covered by the int specs):
// - An idle scheduler looks less and less often, up to the idle maximum, and not at all between looks.
// - wake() makes the first-attempt lane claim at once; a claim that fills the lane's free slots is followed by another as slots free up.
// - A retry this process scheduled is claimed when it falls due, not at the next idle poll.
// - Handed-off messages are attempted without a claim; stopping waits for attempts in flight.

class MemoryStore implements SchedulerStore {
  readonly claims: { firstAttempts: boolean; limit: number; at: number }[] = [];
  readonly due: { first: LeasedMessage[]; retry: LeasedMessage[] } = { first: [], retry: [] };
  readonly released: string[] = [];

  async claimDue(options: { firstAttempts: boolean; leaseSeconds: number; busyEndpoints: readonly string[]; limit: number }): Promise<LeasedMessage[]> {
    this.claims.push({ firstAttempts: options.firstAttempts, limit: options.limit, at: Date.now() });
    const queue = options.firstAttempts ? this.due.first : this.due.retry;
    return queue.splice(0, options.limit);
  }

  readonly givenBack: string[] = [];

  async giveBack(ids: readonly string[]): Promise<void> {
    this.givenBack.push(...ids);
  }

  async releaseUnsent(ids: readonly string[]): Promise<void> {
    this.released.push(...ids);
  }
}

const message = (id: string, overrides: Partial<LeasedMessage> = {}): LeasedMessage => ({
  messageId: id,
  endpointId: `ep_${id}`,
  partnerId: 'ptn_1',
  eventType: 'purchase.logged',
  payload: '{}',
  attempts: 1,
  eventRecordedAt: new Date(0),
  traceContext: null,
  ordered: false,
  ...overrides,
});

describe('DispatchScheduler', () => {
  beforeEach(() => jest.useFakeTimers({ now: Date.parse('2026-12-01T12:00:00Z') }));
  afterEach(() => jest.useRealTimers());

  const options = { concurrency: 8, endpointConcurrency: 8, leaseSeconds: 20, pollMs: 500, idlePollMaxMs: 5_000, log: () => undefined };

  it('looks less often while idle, up to the idle maximum', async () => {
    const store = new MemoryStore();
    const scheduler = new DispatchScheduler(store, async () => undefined, options);
    scheduler.start();
    await jest.advanceTimersByTimeAsync(60_000);
    const firstLane = store.claims.filter((c) => c.firstAttempts).map((c) => c.at - Date.parse('2026-12-01T12:00:00Z'));
    // 0, 0.5, 1.5, 3.5, 7.5, then every 5 s: 15 looks a minute instead of 120 at a fixed 500 ms.
    expect(firstLane.slice(0, 6)).toEqual([0, 500, 1_500, 3_500, 7_500, 12_500]);
    expect(firstLane.length).toBe(15);
    await jest.advanceTimersByTimeAsync(0);
    const stopped = scheduler.stop();
    await jest.advanceTimersByTimeAsync(0);
    await stopped;
  });

  it('claims at once when woken, and again as slots free while the lane has a backlog', async () => {
    const store = new MemoryStore();
    const finish: (() => void)[] = [];
    const attempted: string[] = [];
    const scheduler = new DispatchScheduler(
      store,
      (m) => {
        attempted.push(m.messageId);
        return new Promise<void>((resolve) => finish.push(resolve));
      },
      options,
    );
    scheduler.start();
    await jest.advanceTimersByTimeAsync(1);
    const looks = store.claims.length;
    store.due.first.push(...Array.from({ length: 10 }, (_, i) => message(`m${i}`)));
    scheduler.wake();
    await jest.advanceTimersByTimeAsync(1);
    // Six first-attempt slots of eight: six go, the claim was full, so the lane has a backlog.
    expect(attempted).toHaveLength(6);
    expect(store.claims.length).toBe(looks + 1);
    finish.splice(0, 2).forEach((resolve) => resolve());
    await jest.advanceTimersByTimeAsync(1);
    expect(attempted).toHaveLength(8);
    finish.splice(0).forEach((resolve) => resolve());
    await jest.advanceTimersByTimeAsync(1);
    expect(attempted).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
    finish.splice(0).forEach((resolve) => resolve());
    const stopped = scheduler.stop();
    await jest.advanceTimersByTimeAsync(0);
    await stopped;
  });

  it('claims a retry this process scheduled when it falls due, well before the next idle look', async () => {
    const store = new MemoryStore();
    const attempted: string[] = [];
    const scheduler = new DispatchScheduler(store, async (m) => void attempted.push(m.messageId), { ...options, idlePollMaxMs: 60_000 });
    scheduler.start();
    await jest.advanceTimersByTimeAsync(20_000);
    const retryLooks = store.claims.filter((c) => !c.firstAttempts).length;
    store.due.retry.push(message('retry-1', { attempts: 2 }));
    scheduler.dueLater('retry', new Date(Date.now() + 1_000));
    await jest.advanceTimersByTimeAsync(999);
    expect(attempted).toEqual([]);
    await jest.advanceTimersByTimeAsync(2);
    expect(attempted).toEqual(['retry-1']);
    expect(store.claims.filter((c) => !c.firstAttempts).length).toBe(retryLooks + 1);
    const stopped = scheduler.stop();
    await jest.advanceTimersByTimeAsync(0);
    await stopped;
  });

  it('attempts handed-off messages without a claim, and gives them back when stopping', async () => {
    const store = new MemoryStore();
    const attempted: { id: string; via: string }[] = [];
    const scheduler = new DispatchScheduler(store, async (m, via) => void attempted.push({ id: m.messageId, via }), options);
    scheduler.start();
    await jest.advanceTimersByTimeAsync(1);
    const looks = store.claims.length;
    const reserved = scheduler.reserveFirstAttempts([{ messageId: 'h1', endpointId: 'ep_h1', ordered: false }]);
    expect([...reserved]).toEqual(['h1']);
    await scheduler.sendHandedOff(new Map([['h1', { endpointId: 'ep_h1' }]]), [message('h1')]);
    await jest.advanceTimersByTimeAsync(1);
    expect(attempted).toEqual([{ id: 'h1', via: 'handoff' }]);
    expect(store.claims.length).toBe(looks);

    const stopped = scheduler.stop();
    await jest.advanceTimersByTimeAsync(0);
    await stopped;
    expect(scheduler.reserveFirstAttempts([{ messageId: 'h2', endpointId: 'ep_h2', ordered: false }]).size).toBe(0);
    await scheduler.sendHandedOff(new Map(), [message('h3')]);
    expect(store.released).toEqual(['h3']);
  });
});
