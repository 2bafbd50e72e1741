import { isPurchaseStatus, purchaseStatuses, type PurchaseStatus } from './status-catalog';

/**
 * Every status is a webhook event type `purchase.<status>` (Standard Webhooks
 * style: dot-separated segments of `[a-z0-9_]`).
 */
export const eventTypePrefix = 'purchase';
export type EventType = `purchase.${PurchaseStatus}`;
export type StatusOfEventType<T extends EventType> = T extends `purchase.${infer S extends PurchaseStatus}` ? S : never;

export function eventTypeOf<S extends PurchaseStatus>(status: S): `purchase.${S}` {
  return `${eventTypePrefix}.${status}`;
}

/** Every event type, in status-catalog order. */
export const eventTypes: readonly EventType[] = purchaseStatuses.map((status) => eventTypeOf(status));

/**
 * Not a status: sent when a student's personal data was erased (LGPD art. 18
 * §6: those the data was shared with are told, so they erase their copies).
 */
export const personalDataErasedEventType = 'purchase.personal_data_erased';
export type PersonalDataErasedEventType = typeof personalDataErasedEventType;
/** Every type a webhook can have: the statuses', then the others. */
export type WebhookEventType = EventType | PersonalDataErasedEventType;
export const webhookEventTypes: readonly WebhookEventType[] = [...eventTypes, personalDataErasedEventType];

export function isWebhookEventType(value: unknown): value is WebhookEventType {
  return value === personalDataErasedEventType || isEventType(value);
}

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && value.startsWith(`${eventTypePrefix}.`) && isPurchaseStatus(value.slice(eventTypePrefix.length + 1));
}

/** The status of an event type; throws on a string that is not one (check with `isEventType` first). */
export function statusOfEventType<T extends EventType>(type: T): StatusOfEventType<T> {
  if (!isEventType(type)) throw new TypeError(`Not a purchase event type: ${String(type)}`);
  return type.slice(eventTypePrefix.length + 1) as StatusOfEventType<T>;
}

/**
 * What an endpoint subscribes to: exact event types, prefixes ending in `.*`
 * (`purchase.*`), or `*` for everything. An empty filter matches nothing.
 */
export type EventTypeFilter = readonly string[];
export const allEventTypes = '*';

const segments = /^[a-z0-9_]+(?:\.[a-z0-9_]+)*$/;

function isValidFilterEntry(entry: unknown): boolean {
  if (typeof entry !== 'string') return false;
  if (entry === allEventTypes) return true;
  if (entry.endsWith('.*')) {
    const prefix = entry.slice(0, -1);
    // A prefix that no event type has is a typo, not a subscription to the future.
    return segments.test(prefix.slice(0, -1)) && webhookEventTypes.some((type) => type.startsWith(prefix));
  }
  return isWebhookEventType(entry);
}

/** The entries of `filter` that are neither a known event type, a known prefix `x.*`, nor `*`. */
export function validateEventTypeFilter(filter: EventTypeFilter): string[] {
  return filter.filter((entry) => !isValidFilterEntry(entry));
}

/** Whether an endpoint with `filter` receives events of `type`; invalid entries match nothing. */
export function matchesEventTypeFilter(filter: EventTypeFilter, type: string): boolean {
  return filter.some((entry) => {
    if (!isValidFilterEntry(entry)) return false;
    if (entry === allEventTypes) return true;
    if (entry.endsWith('.*')) return type.startsWith(entry.slice(0, -1));
    return entry === type;
  });
}
