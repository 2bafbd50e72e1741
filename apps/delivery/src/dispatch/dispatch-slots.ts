/** First attempts and retries are sent from separate lanes, so new messages never queue behind retries. */
export type Lane = 'first' | 'retry';

export const lanes: readonly Lane[] = ['first', 'retry'];

/**
 * The dispatcher's bookkeeping of attempts in flight, with no I/O: a global
 * cap (`concurrency`), a cap per endpoint (an endpoint that hangs until the
 * timeout holds at most its own share), lane shares (each lane may use three
 * quarters of the slots, so neither starves the other), and first-attempt
 * slots promised to ingest's hand-off before the messages are stored.
 */
export class DispatchSlots {
  private readonly byEndpoint = new Map<string, number>();
  private readonly byLane: Record<Lane, number> = { first: 0, retry: 0 };
  /** First attempts promised to ingest and not yet launched or given back. */
  private reservedFirst = 0;

  constructor(
    readonly concurrency: number,
    readonly endpointConcurrency: number,
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a whole number ≥ 1, not ${concurrency}`);
    if (!Number.isInteger(endpointConcurrency) || endpointConcurrency < 1) throw new RangeError(`endpointConcurrency must be a whole number ≥ 1, not ${endpointConcurrency}`);
  }

  get inFlight(): number {
    return this.byLane.first + this.byLane.retry;
  }

  /** Slots a lane may fill now. */
  free(lane: Lane): number {
    const laneShare = Math.max(1, Math.floor((this.concurrency * 3) / 4));
    const reserved = lane === 'first' ? this.reservedFirst : 0;
    return Math.max(0, Math.min(laneShare - this.byLane[lane] - reserved, this.concurrency - this.inFlight - this.reservedFirst));
  }

  /** Endpoints at their cap: a claim skips their messages. */
  busyEndpoints(): string[] {
    return [...this.byEndpoint.entries()].filter(([, n]) => n >= this.endpointConcurrency).map(([id]) => id);
  }

  /** Takes one of the endpoint's slots if it has one left (a claimed message); false when it is at its cap. */
  takeEndpoint(endpointId: string): boolean {
    const n = this.byEndpoint.get(endpointId) ?? 0;
    if (n >= this.endpointConcurrency) return false;
    this.byEndpoint.set(endpointId, n + 1);
    return true;
  }

  releaseEndpoint(endpointId: string): void {
    const left = (this.byEndpoint.get(endpointId) ?? 1) - 1;
    if (left <= 0) this.byEndpoint.delete(endpointId);
    else this.byEndpoint.set(endpointId, left);
  }

  /**
   * Promises first-attempt slots to new messages that can go at once
   * (unordered, endpoint under its cap), in order, while slots last; takes
   * their endpoint slots. Returns the ids promised.
   */
  reserveFirstAttempts(candidates: readonly { messageId: string; endpointId: string; ordered: boolean }[]): Set<string> {
    const taken = new Set<string>();
    let free = this.free('first');
    for (const candidate of candidates) {
      if (free <= 0) break;
      if (candidate.ordered || taken.has(candidate.messageId)) continue;
      if (!this.takeEndpoint(candidate.endpointId)) continue;
      taken.add(candidate.messageId);
      free--;
    }
    this.reservedFirst += taken.size;
    return taken;
  }

  /** Ends `count` promises (each launched or given back; a given-back one also releases its endpoint slot separately). */
  settleReservations(count: number): void {
    this.reservedFirst = Math.max(0, this.reservedFirst - count);
  }

  /** An attempt starts in a lane (its endpoint slot is already taken). */
  begin(lane: Lane): void {
    this.byLane[lane]++;
  }

  /** An attempt ended: its lane and endpoint slots are free again. */
  end(lane: Lane, endpointId: string): void {
    this.byLane[lane] = Math.max(0, this.byLane[lane] - 1);
    this.releaseEndpoint(endpointId);
  }
}
