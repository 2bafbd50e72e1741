/**
 * kafkajs 2.2.4 (the last release; unmaintained) re-arms its "check pending
 * requests" timer after every broker response, with a negative delay (run
 * after 1 ms) when nothing is throttled or pending: every broker connection
 * then spins a 1 ms timer loop for as long as it is open — about 800 wake-ups
 * a second each, the largest share of an idle service's CPU (kafkajs issues
 * #1556 and #1704; the fix proposed upstream, PR #1667, was never merged).
 * This replaces that one method with one that arms the timer only when a
 * request waits or a throttle will end; a response or a new request checks
 * the queue anyway. Written here rather than carried as a patch of
 * node_modules so that it applies wherever the adapter runs, and it is
 * checked against the broker by kafkajs-idle-fix.int.spec.ts.
 */
interface RequestQueueInternals {
  throttledUntil: number;
  pending: unknown[];
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs' own interval for a queue that waits behind in-flight requests. */
const checkPendingRequestsIntervalMs = 10;

let applied = false;

export function applyKafkajsIdleFix(): void {
  if (applied) return;
  applied = true;
  // The class is not exported by kafkajs' entry point; its module path has been stable since 1.x.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RequestQueue = require('kafkajs/src/network/requestQueue') as { prototype: RequestQueueInternals };
  RequestQueue.prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueueInternals): void {
    if (this.throttleCheckTimeoutId) return;
    const untilUnthrottledMs = this.throttledUntil - Date.now();
    // Nothing waits and nothing is throttled: the next response or request checks the queue.
    if (this.pending.length === 0 && untilUnthrottledMs <= 0) return;
    this.throttleCheckTimeoutId = setTimeout(
      () => {
        this.throttleCheckTimeoutId = null;
        this.checkPendingRequests();
      },
      untilUnthrottledMs > 0 ? untilUnthrottledMs : checkPendingRequestsIntervalMs,
    );
  };
}
