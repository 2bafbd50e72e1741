import { DispatchSlots, lanes, type Lane } from './dispatch-slots';
import type { LeasedMessage, MessageStore } from './message-store';

export interface SchedulerOptions {
  /** Attempts in flight at once in this process, and per endpoint. */
  concurrency: number;
  endpointConcurrency: number;
  /** How long a claimed message stays leased to this process. */
  leaseSeconds: number;
  /** First look after work, and the step an idle lane's wait doubles from. */
  pollMs: number;
  /** Longest wait of an idle lane: how late another replica's messages or an expired lease can be noticed. */
  idlePollMaxMs: number;
  log: (message: string) => void;
}

/** What the scheduler needs of the message store. */
export type SchedulerStore = Pick<MessageStore, 'claimDue' | 'giveBack' | 'releaseUnsent'>;

/**
 * Decides when each leased message is attempted. New messages come two ways:
 * handed over by ingest (stored already leased, no claim) or claimed from the
 * table by a lane. A lane claims when woken (ingest stored messages it could
 * not hand over, an attempt freed a slot while more were due, an ordered
 * message settled and may release the next one of its purchase, a retry
 * this process scheduled is due) and otherwise waits, longer each time it
 * finds nothing, so an idle service costs almost nothing.
 */
export class DispatchScheduler {
  private readonly slots: DispatchSlots;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly wakers = new Map<Lane, () => void>();
  /** The lane's last claim was cut by its free slots or its limit: more may be due. */
  private readonly backlog: Record<Lane, boolean> = { first: false, retry: false };
  /** Earliest time this process knows something falls due in each lane (a retry it scheduled, a postponed message). */
  private readonly dueAt: Record<Lane, number> = { first: Number.POSITIVE_INFINITY, retry: Number.POSITIVE_INFINITY };
  private loops: Promise<void>[] = [];
  private running = false;

  constructor(
    private readonly store: SchedulerStore,
    private readonly attempt: (message: LeasedMessage, via: 'handoff' | 'claim') => Promise<void>,
    private readonly options: SchedulerOptions,
  ) {
    this.slots = new DispatchSlots(options.concurrency, options.endpointConcurrency);
  }

  get leaseSeconds(): number {
    return this.options.leaseSeconds;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loops = lanes.map((lane) => this.run(lane));
  }

  /** Stops claiming and waits for the attempts in flight. */
  async stop(): Promise<void> {
    this.running = false;
    for (const wake of [...this.wakers.values()]) wake();
    await Promise.all(this.loops);
    await Promise.allSettled([...this.inFlight]);
  }

  /** Messages are due now in a lane (ingest stored some it could not hand over). */
  wake(lane: Lane = 'first'): void {
    this.backlog[lane] = true;
    this.wakers.get(lane)?.();
  }

  /** Something of this process falls due at `at` (a retry, a postponed message): the lane looks then. */
  dueLater(lane: Lane, at: Date): void {
    const ms = at.getTime();
    if (ms < this.dueAt[lane]) {
      this.dueAt[lane] = ms;
      this.wakers.get(lane)?.();
    }
  }

  /**
   * Ingest offers new messages before storing them: those this process can
   * send at once are stored already leased and handed over by
   * `sendHandedOff`, which saves each of them a claim. Ordered messages always
   * go through the claim, which enforces their order. Returns the ids taken.
   */
  reserveFirstAttempts(candidates: readonly { messageId: string; endpointId: string; ordered: boolean }[]): Set<string> {
    if (!this.running) return new Set();
    return this.slots.reserveFirstAttempts(candidates);
  }

  /** Sends the reserved messages that were stored, and gives back the slots of the rest (already stored before: a redelivered event). */
  async sendHandedOff(reserved: ReadonlyMap<string, { endpointId: string }>, stored: readonly LeasedMessage[]): Promise<void> {
    this.slots.settleReservations(reserved.size);
    const storedIds = new Set(stored.map((m) => m.messageId));
    for (const [messageId, { endpointId }] of reserved) if (!storedIds.has(messageId)) this.slots.releaseEndpoint(endpointId);
    if (!this.running) {
      // Shutting down: put them back for whoever runs next, rather than wait for their leases.
      for (const message of stored) this.slots.releaseEndpoint(message.endpointId);
      await this.store.releaseUnsent(stored.map((m) => m.messageId));
      return;
    }
    for (const message of stored) this.launch('first', message, 'handoff');
  }

  private launch(lane: Lane, message: LeasedMessage, via: 'handoff' | 'claim'): void {
    this.slots.begin(lane);
    const attempt = this.attempt(message, via).finally(() => {
      this.inFlight.delete(attempt);
      this.slots.end(lane, message.endpointId);
      this.afterAttempt(message);
    });
    this.inFlight.add(attempt);
  }

  /** A freed slot matters to a lane with a backlog; a settled ordered message may release the next of its purchase in either lane. */
  private afterAttempt(message: LeasedMessage): void {
    for (const lane of lanes) {
      if (message.ordered) this.backlog[lane] = true;
      if (this.backlog[lane]) this.wakers.get(lane)?.();
    }
  }

  private async run(lane: Lane): Promise<void> {
    // The wait before the next look, and the one after it if this one finds nothing too.
    let waitMs = this.options.pollMs;
    let nextWaitMs = this.options.pollMs;
    let lastLook = Number.NEGATIVE_INFINITY;
    // Look once at start: messages left by a previous run (or another replica) are due.
    this.backlog[lane] = true;
    while (this.running) {
      try {
        const now = Date.now();
        const dueNow = this.dueAt[lane] <= now;
        if (this.slots.free(lane) > 0 && (this.backlog[lane] || dueNow || now - lastLook >= waitMs)) {
          if (dueNow) this.dueAt[lane] = Number.POSITIVE_INFINITY;
          const claimed = await this.claim(lane, Math.min(this.slots.free(lane), 100));
          lastLook = now;
          this.backlog[lane] = claimed.full;
          for (const message of claimed.messages) this.launch(lane, message, 'claim');
          // Nothing found: wait longer each time (woken early by new work).
          if (claimed.messages.length > 0) waitMs = nextWaitMs = this.options.pollMs;
          else {
            waitMs = nextWaitMs;
            nextWaitMs = Math.min(nextWaitMs * 2, this.options.idlePollMaxMs);
          }
          if (claimed.full && this.slots.free(lane) > 0) continue;
        }
        // No free slot: a finishing attempt wakes the lane when it has a backlog.
        const sleepMs = this.slots.free(lane) > 0 ? Math.min(lastLook + waitMs - Date.now(), this.dueAt[lane] - Date.now()) : waitMs;
        await this.sleep(lane, Math.max(1, sleepMs));
      } catch (error) {
        this.options.log(`${lane} lane: ${error instanceof Error ? error.message : String(error)}`);
        this.backlog[lane] = true;
        await this.sleep(lane, 1000);
      }
    }
  }

  /** Leases up to `limit` due messages of a lane, skipping endpoints at their cap; `full` when the limit or a cap cut it short. */
  private async claim(lane: Lane, limit: number): Promise<{ messages: LeasedMessage[]; full: boolean }> {
    const claimed = await this.store.claimDue({ firstAttempts: lane === 'first', leaseSeconds: this.options.leaseSeconds, busyEndpoints: this.slots.busyEndpoints(), limit });
    // The per-endpoint cap can be exceeded within one claim; keep counts honest and give back the extras.
    const kept: LeasedMessage[] = [];
    const giveBack: string[] = [];
    for (const message of claimed) {
      if (this.slots.takeEndpoint(message.endpointId)) kept.push(message);
      else giveBack.push(message.messageId);
    }
    await this.store.giveBack(giveBack);
    return { messages: kept, full: claimed.length >= limit || giveBack.length > 0 };
  }

  private sleep(lane: Lane, ms: number): Promise<void> {
    // Stopped while the lane was claiming: its wake-up came before this sleep.
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const wakers = this.wakers;
      function done() {
        clearTimeout(timer);
        if (wakers.get(lane) === done) wakers.delete(lane);
        resolve();
      }
      this.wakers.set(lane, done);
    });
  }
}
