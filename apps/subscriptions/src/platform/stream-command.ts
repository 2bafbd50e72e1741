import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { EventMetadata, PostgresEventStore } from '@gancho/event-store';

/** Who asked for a change: shown in the audit trail. */
export type Actor = { type: 'partner'; partner_id: string; api_key_id: string } | { type: 'admin' } | { type: 'delivery' };

/** Stored with every event. */
export interface SubscriptionsEventMetadata extends EventMetadata {
  actor: Actor;
}

export interface CommandContext {
  manager: EntityManager;
  actor: Actor;
  correlationId?: string;
  traceparent?: string;
  tracestate?: string;
}

export function metadataOf(context: CommandContext): SubscriptionsEventMetadata {
  return {
    actor: context.actor,
    ...(context.correlationId ? { correlationId: context.correlationId } : {}),
    ...(context.traceparent ? { traceparent: context.traceparent } : {}),
    ...(context.tracestate ? { tracestate: context.tracestate } : {}),
  };
}

export interface Aggregate<State extends { version: number }, Event extends { type: string; data: object }> {
  initial: State;
  evolve(state: State, event: Event): State;
}

/**
 * The one way a command changes a stream: read it in the caller's
 * transaction, fold, decide, append at the version read (a concurrent writer
 * makes it a 409 conflict, never a lost write). `decide` sees the state and
 * returns the events; the state after them is returned for the read model.
 */
export async function runStreamCommand<State extends { version: number }, Event extends { type: string; data: object }>(
  store: PostgresEventStore,
  aggregate: Aggregate<State, Event>,
  streamId: string,
  decide: (state: State) => Event[],
  context: CommandContext,
): Promise<{ before: State; after: State; events: Event[] }> {
  const history = await store.readStream<Event['data']>(streamId, { manager: context.manager });
  const before = history.reduce((state, stored) => aggregate.evolve(state, { type: stored.type, data: stored.data } as Event), aggregate.initial);
  const events = decide(before);
  if (events.length === 0) return { before, after: before, events };
  const metadata = metadataOf(context);
  await store.appendToStream(
    streamId,
    events.map((event) => ({ eventId: randomUUID(), type: event.type, data: event.data, metadata: { ...metadata } })),
    { expectedVersion: before.version, manager: context.manager },
  );
  return { before, after: events.reduce(aggregate.evolve, before), events };
}
