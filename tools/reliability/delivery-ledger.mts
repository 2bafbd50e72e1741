// Counts what a fault did to deliveries: for every (event, endpoint) that
// should have been delivered, was it received, how often, and did anything
// arrive where it should not have. Plain code, so the counting itself is tested.

/** One status change as the journey stored it. */
export interface StoredEvent {
  purchaseId: string;
  partnerId: string;
  sequence: number;
  type: string;
  /** When the journey recorded it (ms since the epoch). */
  recordedAt: number;
}

/** An endpoint as subscriptions holds it: whose it is and what it asked for. */
export interface EndpointSubscription {
  name: string;
  partnerId: string;
  /** `*`, a prefix such as `purchase.*`, or exact types. */
  eventTypes: string[];
}

/** One webhook as a receiver saw it. */
export interface ReceivedDelivery {
  endpoint: string;
  webhookId: string;
  purchaseId: string;
  partnerId: string;
  sequence: number;
  verified: boolean;
  receivedAt: number;
}

export interface LedgerReport {
  expected: number;
  /** Expected (event, endpoint) pairs received at least once. */
  delivered: number;
  /** Receptions beyond the first of the same webhook-id at the same endpoint. */
  duplicates: number;
  lost: number;
  /** Receptions of an event the endpoint should never have had (another partner's, or a type it did not ask for, or unknown). */
  wrongEndpoint: number;
  unverified: number;
  /** (event, endpoint) pairs seen under more than one webhook-id: a redelivery must keep its id. */
  unstableIds: number;
  /** The latest first arrival, minus `since`, over the events recorded before `since` (0 when all arrived before it). */
  backlogClearedAfterMs: (since: number) => number;
}

export function subscribes(endpoint: EndpointSubscription, type: string): boolean {
  return endpoint.eventTypes.some((pattern) => pattern === '*' || pattern === type || (pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1))));
}

const keyOf = (endpoint: string, purchaseId: string, sequence: number) => `${endpoint}|${purchaseId}|${sequence}`;

export function reconcile(events: StoredEvent[], endpoints: EndpointSubscription[], received: ReceivedDelivery[]): LedgerReport {
  const expected = new Map<string, StoredEvent>();
  for (const event of events) {
    for (const endpoint of endpoints) {
      if (endpoint.partnerId === event.partnerId && subscribes(endpoint, event.type)) expected.set(keyOf(endpoint.name, event.purchaseId, event.sequence), event);
    }
  }
  const idsByPair = new Map<string, Set<string>>();
  const firstArrival = new Map<string, number>();
  const seenIds = new Set<string>();
  let duplicates = 0;
  let wrongEndpoint = 0;
  let unverified = 0;
  for (const delivery of received) {
    const key = keyOf(delivery.endpoint, delivery.purchaseId, delivery.sequence);
    if (!delivery.verified) unverified++;
    if (!expected.has(key)) {
      wrongEndpoint++;
      continue;
    }
    const idKey = `${delivery.endpoint}|${delivery.webhookId}`;
    if (seenIds.has(idKey)) duplicates++;
    seenIds.add(idKey);
    idsByPair.set(key, (idsByPair.get(key) ?? new Set()).add(delivery.webhookId));
    firstArrival.set(key, Math.min(firstArrival.get(key) ?? Infinity, delivery.receivedAt));
  }
  const delivered = [...expected.keys()].filter((key) => firstArrival.has(key)).length;
  return {
    expected: expected.size,
    delivered,
    duplicates,
    lost: expected.size - delivered,
    wrongEndpoint,
    unverified,
    unstableIds: [...idsByPair.values()].filter((ids) => ids.size > 1).length,
    backlogClearedAfterMs: (since) => {
      let latest = since;
      for (const [key, event] of expected) if (event.recordedAt <= since) latest = Math.max(latest, firstArrival.get(key) ?? Infinity);
      return latest - since;
    },
  };
}
