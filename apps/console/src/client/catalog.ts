import { useEffect, useState } from 'react';
import { api, type EventTypeInfo } from './api';

/** The phases in journey order (the catalog's order); types that are not statuses (phase null) come last, as `personal_data`. */
export const phaseOrder = ['open', 'waiting_for_conclusion', 'won', 'lost', 'churn', 'after_sale', 'personal_data'];

let cached: Promise<EventTypeInfo[]> | null = null;

/** The event-type catalog, fetched once per page load (it is public and the same for everyone). */
export function useCatalog(): { types: EventTypeInfo[] | undefined; error: unknown } {
  const [state, setState] = useState<{ types: EventTypeInfo[] | undefined; error: unknown }>({ types: undefined, error: undefined });
  useEffect(() => {
    cached ??= api<{ items: EventTypeInfo[] }>('subscriptions', '/event-types').then((r) => r.items);
    let current = true;
    cached.then(
      (types) => current && setState({ types, error: undefined }),
      (error: unknown) => {
        cached = null;
        if (current) setState({ types: undefined, error });
      },
    );
    return () => {
      current = false;
    };
  }, []);
  return state;
}

export function groupByPhase(types: EventTypeInfo[]): [string, EventTypeInfo[]][] {
  const groups = new Map<string, EventTypeInfo[]>(phaseOrder.map((p) => [p, []]));
  for (const type of types) {
    const group = type.phase ?? 'personal_data';
    const list = groups.get(group) ?? [];
    list.push(type);
    groups.set(group, list);
  }
  return [...groups.entries()].filter(([, list]) => list.length > 0);
}

/** Whether an endpoint's filter means "every event" (`*` or `purchase.*`). */
export function isAllEvents(filter: string[]): boolean {
  return filter.includes('*') || filter.includes('purchase.*');
}
