import { GroupCommit } from './group-commit';

/** A writer whose batches finish when the test says so. */
function controlledWriter(fail: (items: number[]) => boolean = () => false) {
  const batches: number[][] = [];
  const releases: (() => void)[] = [];
  const write = (items: number[]) =>
    new Promise<void>((resolve, reject) => {
      batches.push(items);
      releases.push(() => (fail(items) ? reject(new Error(`bad batch ${items.join(',')}`)) : resolve()));
    });
  const releaseNext = async () => {
    await new Promise((r) => setImmediate(r));
    releases.shift()?.();
    await new Promise((r) => setImmediate(r));
  };
  return { batches, write, releaseNext };
}

describe('GroupCommit', () => {
  it('writes items added in the same turn as one batch, and resolves them when it commits', async () => {
    const writer = controlledWriter();
    const group = new GroupCommit(writer.write, 100);
    let settled = 0;
    const adds = [1, 2, 3].map((n) => group.add(n).then(() => settled++));
    await writer.releaseNext();
    await Promise.all(adds);
    expect(writer.batches).toEqual([[1, 2, 3]]);
    expect(settled).toBe(3);
  });

  it('collects what arrives during a write into the next batch', async () => {
    const writer = controlledWriter();
    const group = new GroupCommit(writer.write, 100);
    const first = group.add(1);
    await new Promise((r) => setImmediate(r));
    const later = [2, 3, 4].map((n) => group.add(n));
    let laterDone = false;
    void Promise.all(later).then(() => (laterDone = true));
    await writer.releaseNext();
    await first;
    expect(laterDone).toBe(false);
    await writer.releaseNext();
    await Promise.all(later);
    expect(writer.batches).toEqual([[1], [2, 3, 4]]);
  });

  it('caps a batch at maxBatch items', async () => {
    const writes: number[][] = [];
    const group = new GroupCommit(async (items: number[]) => void writes.push(items), 2);
    await Promise.all([1, 2, 3, 4, 5].map((n) => group.add(n)));
    expect(writes).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('retries a failed batch item by item, so only the bad item fails', async () => {
    const writes: number[][] = [];
    const group = new GroupCommit(async (items: number[]) => {
      writes.push(items);
      if (items.includes(2)) throw new Error('constraint violated by 2');
    }, 10);
    const results = await Promise.allSettled([1, 2, 3].map((n) => group.add(n)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(writes).toEqual([[1, 2, 3], [1], [2], [3]]);
  });

  it('flushed() waits for every pending write', async () => {
    const written: number[] = [];
    const group = new GroupCommit(async (items: number[]) => {
      await new Promise((r) => setTimeout(r, 5));
      written.push(...items);
    }, 10);
    void group.add(1);
    void group.add(2);
    await group.flushed();
    expect(written).toEqual([1, 2]);
  });

  it('refuses a batch size that is not a positive integer', () => {
    expect(() => new GroupCommit(async () => undefined, 0)).toThrow(RangeError);
  });
});
