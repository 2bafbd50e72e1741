interface Pending<T> {
  item: T;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Writes items in batches, as a database's group commit does: whatever is
 * added while a batch is being written goes into the next one. Under load many
 * attempts share one transaction; a lone attempt is written at once, with no
 * timer adding latency. `add` resolves when the item's batch has committed.
 * A failed batch is retried item by item, so one bad record fails alone.
 */
export class GroupCommit<T> {
  private queue: Pending<T>[] = [];
  private writing: Promise<void> | undefined;

  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly maxBatch: number,
  ) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
  }

  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.writing ??= this.drain();
    });
  }

  /** Resolves once everything added so far has been written or has failed. */
  async flushed(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async drain(): Promise<void> {
    // Attempts that finish in the same turn of the event loop join the first batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        await this.write(batch.map((pending) => pending.item));
        for (const pending of batch) pending.resolve();
      } catch (error) {
        if (batch.length === 1) {
          for (const pending of batch) pending.reject(error);
          continue;
        }
        for (const pending of batch) {
          try {
            await this.write([pending.item]);
            pending.resolve();
          } catch (itemError) {
            pending.reject(itemError);
          }
        }
      }
    }
    this.writing = undefined;
  }
}
