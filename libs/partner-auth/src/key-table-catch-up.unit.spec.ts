import { KeyTableCatchUp, type PartitionEnd } from './key-table-catch-up';

/** A read of the ends the test answers when it wants, counting how many were asked for. */
function controlledEnds() {
  const pending: { resolve: (ends: PartitionEnd[]) => void; reject: (error: Error) => void }[] = [];
  return {
    pending,
    readEnds: () => new Promise<PartitionEnd[]>((resolve, reject) => pending.push({ resolve, reject })),
    async answer(ends: PartitionEnd[]): Promise<void> {
      pending.shift()?.resolve(ends);
      // Let the round's continuations run.
      for (let i = 0; i < 10; i++) await Promise.resolve();
    },
  };
}

const end = (partition: number, endOffset: bigint, committedOffset: bigint | null = null): PartitionEnd => ({ partition, endOffset, committedOffset });

// Scenarios:
// - a waiter resolves "caught-up" only once every partition's records up to the end read for it were applied;
// - requests waiting together share one read of the ends; a request arriving during a read waits for the next read;
// - a partition the group has committed to its end needs nothing applied;
// - when the table does not reach the end in time, or the ends cannot be read, the outcome is "not-caught-up".
describe('KeyTableCatchUp', () => {
  it('resolves once the table applied every partition up to the end read after the request', async () => {
    const ends = controlledEnds();
    const catchUp = new KeyTableCatchUp({ readEnds: ends.readEnds, maxWaitMs: 60_000 });
    let outcome: string | undefined;
    void catchUp.waitForTopicEnd().then((o) => (outcome = o));
    await ends.answer([end(0, 3n), end(1, 1n)]);
    catchUp.recordApplied(0, 2n);
    await Promise.resolve();
    expect(outcome).toBeUndefined();
    catchUp.recordApplied(1, 0n);
    await new Promise((resolve) => setImmediate(resolve));
    expect(outcome).toBe('caught-up');
  });

  it('shares one read among the requests that arrive while another read is in flight, so there are never two at once', async () => {
    const ends = controlledEnds();
    const catchUp = new KeyTableCatchUp({ readEnds: ends.readEnds, maxWaitMs: 60_000 });
    catchUp.recordApplied(0, 4n);
    const first = catchUp.waitForTopicEnd();
    // These arrived after the first read began, so its answer proves nothing for them: they share the next read.
    const later = Array.from({ length: 100 }, () => catchUp.waitForTopicEnd());
    expect(ends.pending).toHaveLength(1);
    await ends.answer([end(0, 5n)]);
    expect(await first).toBe('caught-up');
    expect(ends.pending).toHaveLength(1);
    let laterDone = false;
    void Promise.all(later).then(() => (laterDone = true));
    await ends.answer([end(0, 6n)]);
    expect(laterDone).toBe(false);
    catchUp.recordApplied(0, 5n);
    expect(await Promise.all(later)).toEqual(Array(100).fill('caught-up'));
    // 101 requests, two reads of the ends.
    expect(ends.pending).toHaveLength(0);
  });

  it('counts a partition the group committed to its end as applied', async () => {
    const ends = controlledEnds();
    const catchUp = new KeyTableCatchUp({ readEnds: ends.readEnds, maxWaitMs: 60_000 });
    const waiting = catchUp.waitForTopicEnd();
    await ends.answer([end(0, 7n, 7n), end(1, 0n)]);
    expect(await waiting).toBe('caught-up');
  });

  it('gives up after maxWaitMs when the table does not reach the end, or the end cannot be read', async () => {
    const ends = controlledEnds();
    const catchUp = new KeyTableCatchUp({ readEnds: ends.readEnds, maxWaitMs: 50 });
    const behind = catchUp.waitForTopicEnd();
    await ends.answer([end(0, 9n)]);
    expect(await behind).toBe('not-caught-up');

    const unreadable = catchUp.waitForTopicEnd();
    ends.pending.shift()?.reject(new Error('broker unreachable'));
    expect(await unreadable).toBe('not-caught-up');
  });
});
