/** Where one partition of the key topic ends, read at one moment. */
export interface PartitionEnd {
  partition: number;
  /** The offset the next record of the partition gets (Kafka's high watermark, the PostgreSQL log's counter). */
  endOffset: bigint;
  /** The next offset this process's consumer group reads, as committed; null before its first commit. */
  committedOffset: bigint | null;
}

export interface KeyTableCatchUpOptions {
  /** Reads every partition's end now: one call per round, never two at once. */
  readEnds(): Promise<PartitionEnd[]>;
  /** How long a request waits for the table to reach the topic's end before it gets 503. */
  maxWaitMs: number;
}

/** What a request learned by waiting: the table reached the topic's end as of its arrival, or not in time. */
export type CatchUpOutcome = 'caught-up' | 'not-caught-up';

interface Round {
  /** The topic's end, read after every request of the round arrived. */
  target: Promise<Map<number, bigint>>;
  begin(): void;
  reached?: Promise<void>;
}

/**
 * Read-your-writes for the key table: a key the caller holds was on the
 * topic before its request arrived (subscriptions answers 201 only once it
 * is), so once the table has applied every record up to the topic's end read
 * after the request arrived, an unknown key is truly unknown.
 *
 * Waiting is cheap for everyone else: every request waiting at the same time shares
 * one read of the ends (one read in flight; requests arriving during it share
 * the next one, since an end read before they arrived proves nothing), and
 * all requests of a round resolve together when the table reaches it.
 */
export class KeyTableCatchUp {
  /** Per partition, the offset after the last record applied. */
  private readonly applied = new Map<number, bigint>();
  private inFlight: Round | undefined;
  private queued: Round | undefined;
  private readonly waiters = new Set<{ target: Map<number, bigint>; resolve: () => void }>();

  constructor(private readonly options: KeyTableCatchUpOptions) {}

  /** Records that the table applied the record at `offset` of `partition`. */
  recordApplied(partition: number, offset: bigint): void {
    const next = offset + 1n;
    if ((this.applied.get(partition) ?? 0n) < next) this.applied.set(partition, next);
    for (const waiter of this.waiters) {
      if (this.reaches(waiter.target)) {
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  /** Waits (at most `maxWaitMs`) until the table holds every record published before this call. */
  async waitForTopicEnd(): Promise<CatchUpOutcome> {
    const round = this.roundStartingNow();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<CatchUpOutcome>((resolve) => {
      timer = setTimeout(() => resolve('not-caught-up'), this.options.maxWaitMs);
    });
    try {
      return await Promise.race([this.reachedOf(round).then((): CatchUpOutcome => 'caught-up'), timeout]);
    } catch {
      // The ends could not be read (broker or database unreachable): nothing is known.
      return 'not-caught-up';
    } finally {
      clearTimeout(timer);
    }
  }

  /** A round whose read of the ends starts at or after now. */
  private roundStartingNow(): Round {
    if (!this.inFlight) {
      this.inFlight = this.newRound();
      this.inFlight.begin();
      return this.inFlight;
    }
    // A read already in flight began before this request: the request joins the next one.
    this.queued ??= this.newRound();
    return this.queued;
  }

  private newRound(): Round {
    let begin!: () => void;
    const target = new Promise<Map<number, bigint>>((resolve, reject) => {
      begin = () => {
        this.readTarget()
          .then(resolve, reject)
          .finally(() => this.roundEnded());
      };
    });
    // A round nobody waits for any more (every request timed out) must not be an unhandled rejection.
    target.catch(() => undefined);
    return { target, begin };
  }

  private roundEnded(): void {
    this.inFlight = this.queued;
    this.queued = undefined;
    this.inFlight?.begin();
  }

  private async readTarget(): Promise<Map<number, bigint>> {
    const target = new Map<number, bigint>();
    let timer: NodeJS.Timeout | undefined;
    // A read that hangs would hold every later round; it fails like an unreachable broker instead.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the key topic's end was not read within ${this.options.maxWaitMs} ms`)), this.options.maxWaitMs);
    });
    let ends: PartitionEnd[];
    try {
      ends = await Promise.race([this.options.readEnds(), timeout]);
    } finally {
      clearTimeout(timer);
    }
    for (const end of ends) {
      // What the group already committed was applied (a record the table skipped, such as one without a key, still counts).
      if (end.committedOffset !== null && end.committedOffset >= end.endOffset) continue;
      target.set(end.partition, end.endOffset);
    }
    return target;
  }

  private reachedOf(round: Round): Promise<void> {
    round.reached ??= round.target.then(
      (target) =>
        new Promise<void>((resolve) => {
          if (this.reaches(target)) return resolve();
          const waiter = { target, resolve };
          this.waiters.add(waiter);
          // Every request of the round gave up by then (each waits at most maxWaitMs from before the read began).
          setTimeout(() => this.waiters.delete(waiter), this.options.maxWaitMs).unref();
        }),
    );
    return round.reached;
  }

  private reaches(target: Map<number, bigint>): boolean {
    for (const [partition, end] of target) if ((this.applied.get(partition) ?? 0n) < end) return false;
    return true;
  }
}
