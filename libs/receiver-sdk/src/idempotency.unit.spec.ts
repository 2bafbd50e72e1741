import { MemoryIdempotencyStore, WebhookIdempotency } from './idempotency';

// Scenarios:
// - The in-memory store: claim / in progress / done; a lease or a done entry lapses after its time (injected clock);
//   past maxEntries the oldest ids are forgotten first.
// - WebhookIdempotency.run: runs once per id; a second call is a duplicate; a handler that throws releases the claim
//   so the redelivery runs it again; a concurrent call while the first runs is in_progress.

describe('MemoryIdempotencyStore', () => {
  it('claims once, reports in_progress until completed, then done until the TTL passes', () => {
    let now = 1_000;
    const store = new MemoryIdempotencyStore({ now: () => now });
    expect(store.claim('msg_1', 100)).toBe('claimed');
    expect(store.claim('msg_1', 100)).toBe('in_progress');
    store.complete('msg_1', 5_000);
    expect(store.claim('msg_1', 100)).toBe('done');
    now += 4_999;
    expect(store.claim('msg_1', 100)).toBe('done');
    now += 1;
    expect(store.claim('msg_1', 100)).toBe('claimed');
  });

  it('lets a lapsed lease be claimed again (a worker that crashed mid-handler)', () => {
    let now = 0;
    const store = new MemoryIdempotencyStore({ now: () => now });
    expect(store.claim('msg_1', 100)).toBe('claimed');
    now = 100;
    expect(store.claim('msg_1', 100)).toBe('claimed');
  });

  it('forgets the oldest ids first past maxEntries', () => {
    const store = new MemoryIdempotencyStore({ maxEntries: 3, now: () => 0 });
    for (const id of ['a', 'b', 'c', 'd']) store.complete(id, 1_000);
    expect(store.size).toBe(3);
    expect(store.claim('a', 10)).toBe('claimed');
    expect(store.claim('d', 10)).toBe('done');
  });
});

describe('WebhookIdempotency.run', () => {
  it('runs the handler once per webhook id', async () => {
    const idempotency = new WebhookIdempotency();
    const handled: string[] = [];
    const first = await idempotency.run('msg_1', () => handled.push('msg_1'));
    const again = await idempotency.run('msg_1', () => handled.push('msg_1 again'));
    const other = await idempotency.run('msg_2', async () => 'two');
    expect(first).toEqual({ status: 'processed', result: 1 });
    expect(again).toEqual({ status: 'duplicate' });
    expect(other).toEqual({ status: 'processed', result: 'two' });
    expect(handled).toEqual(['msg_1']);
  });

  it('runs it again after it threw, and answers in_progress while another call holds the claim', async () => {
    const idempotency = new WebhookIdempotency();
    await expect(idempotency.run('msg_1', () => Promise.reject(new Error('database down')))).rejects.toThrow('database down');
    let finish: () => void = () => undefined;
    const running = idempotency.run('msg_1', () => new Promise<void>((resolve) => (finish = resolve)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(await idempotency.run('msg_1', () => 'never')).toEqual({ status: 'in_progress' });
    finish();
    expect(await running).toEqual({ status: 'processed', result: undefined });
    expect(await idempotency.run('msg_1', () => 'never')).toEqual({ status: 'duplicate' });
  });
});
