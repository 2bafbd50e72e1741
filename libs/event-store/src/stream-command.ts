import { randomUUID } from 'node:crypto';
import type { Attributes } from '@opentelemetry/api';
import type { EntityManager } from 'typeorm';
import { currentTraceparent, withSpan } from '@gancho/telemetry';
import { StreamVersionConflictError } from './errors';
import type { PostgresEventStore } from './postgres-event-store';
import type { EventMetadata, NewEvent, SqlPart } from './types';

/** An event as a stream model folds it. */
export interface StreamEvent {
  type: string;
  data: object;
}

/** How a stream's events make its state: the state before any event, and what one event changes. */
export interface StreamModel<State, Event extends StreamEvent> {
  initialState: State;
  evolve(state: State, event: Event): State;
}

/**
 * Where a command comes from, stored with its events so the outbox can put
 * it on the Kafka headers, and the version the caller last saw.
 */
export interface CommandContext {
  correlationId?: string;
  causationId?: string;
  traceparent?: string;
  tracestate?: string;
  /** The stream version the caller last saw (HTTP If-Match): a stream at another one is a conflict. */
  expectedVersion?: number;
}

/** A command on one stream: the stream, the command's type (for the span), and its decision. */
export interface StreamCommand<State, Event extends StreamEvent> {
  streamId: string;
  /** Left out when the decision picks the command (a scheduler's timeout). */
  type?: string;
  /** The events the command makes of the state, none when there is nothing to do; throws the domain's refusals. */
  decide(state: State): Event[];
}

export interface StreamCommandOptions<State, Event extends StreamEvent> {
  /** What each event stores besides the context (an actor, a status event), from the state before it. */
  metadataOf?(event: Event, before: State): Record<string, unknown>;
  /** Writes that commit with the events, from the state after them (read models), each conditioned on `WHEN_APPENDED`. */
  alongside?(after: State): SqlPart[];
  /** A write whose row lets the append go ahead (an idempotency key's claim, with the answer made of the state after). */
  gate?(after: State): SqlPart;
  /**
   * A transaction the caller holds (a scheduler's, with the rows it works
   * on locked); without one, the read and the append are one statement each.
   */
  manager?: EntityManager;
  /** Attributes of the `command.handle` span besides the stream and the command type. */
  attributes?: Attributes;
}

/** What a command decided: the state it read at `version`, the events, and the state after them. */
export interface StreamDecision<State, Event extends StreamEvent> {
  version: number;
  before: State;
  events: Event[];
  after: State;
}

export interface StreamCommandResult<State, Event extends StreamEvent> extends StreamDecision<State, Event> {
  /** `unchanged`: the decision made no event; `gate_closed`: the gate returned no row, so nothing was written. */
  outcome: 'appended' | 'unchanged' | 'gate_closed';
}

/** The state a stream's events make, folded from the model's initial state. */
export function foldStream<State, Event extends StreamEvent>(model: StreamModel<State, Event>, history: readonly StreamEvent[]): State {
  return history.reduce((state, { type, data }) => model.evolve(state, { type, data } as Event), model.initialState);
}

/**
 * The pure part of a command: fold what was read (`history`, in version
 * order), check the version the caller expects, decide, and fold the
 * events decided. A caller that saw another version gets a conflict before
 * anything is decided.
 */
export function decideOnStream<State, Event extends StreamEvent>(
  model: StreamModel<State, Event>,
  history: readonly (StreamEvent & { streamVersion: number })[],
  command: StreamCommand<State, Event>,
  expectedVersion?: number,
): StreamDecision<State, Event> {
  const version = history.at(-1)?.streamVersion ?? 0;
  if (expectedVersion !== undefined && expectedVersion !== version) throw new StreamVersionConflictError(command.streamId, expectedVersion, version);
  const before = foldStream(model, history);
  const events = command.decide(before);
  return { version, before, events, after: events.reduce(model.evolve, before) };
}

/**
 * The events to append, each with the context's correlation and trace
 * context and its own metadata (made from the state before it).
 */
export function eventsToAppend<State, Event extends StreamEvent>(
  model: StreamModel<State, Event>,
  decision: Pick<StreamDecision<State, Event>, 'before' | 'events'>,
  context: CommandContext,
  metadataOf: (event: Event, before: State) => Record<string, unknown> = () => ({}),
  newEventId: () => string = randomUUID,
): NewEvent<Event['data']>[] {
  const shared: EventMetadata = {
    ...(context.correlationId ? { correlationId: context.correlationId } : {}),
    ...(context.causationId ? { causationId: context.causationId } : {}),
    ...(context.traceparent ? { traceparent: context.traceparent } : {}),
    ...(context.tracestate ? { tracestate: context.tracestate } : {}),
  };
  let state = decision.before;
  return decision.events.map((event) => {
    const metadata: EventMetadata = { ...shared, ...metadataOf(event, state) };
    state = model.evolve(state, event);
    return { eventId: newEventId(), type: event.type, data: event.data, metadata };
  });
}

/**
 * The one way a command changes a stream: read it, fold with `evolve` from
 * the initial state, decide, and append at the version read, with the
 * writes alongside and the gate in the append's one statement. Another
 * writer in between makes it a `StreamVersionConflictError` (HTTP 409,
 * retryable by the caller: nothing is retried here), never a lost write.
 * Runs in a `command.handle` span; the append is its
 * `eventStore.appendToStream` child.
 */
export function handleStreamCommand<State, Event extends StreamEvent>(
  store: PostgresEventStore,
  model: StreamModel<State, Event>,
  command: StreamCommand<State, Event>,
  context: CommandContext,
  options: StreamCommandOptions<State, Event> = {},
): Promise<StreamCommandResult<State, Event>> {
  const { manager } = options;
  const commandType = command.type ? { 'gancho.command.type': command.type } : {};
  return withSpan('command.handle', { 'gancho.stream.id': command.streamId, ...commandType, ...options.attributes }, async (span) => {
    const history = await store.readStreamData<Event['data']>(command.streamId, manager ? { manager } : {});
    const decision = decideOnStream(model, history, command, context.expectedVersion);
    if (decision.events.length === 0) return { ...decision, outcome: 'unchanged' };
    // Stored with the events: the relay continues this trace. With tracing off, the caller's traceparent passes through.
    const traceparent = currentTraceparent() ?? context.traceparent;
    const events = eventsToAppend(model, decision, { ...context, ...(traceparent ? { traceparent } : {}) }, options.metadataOf);
    const append = { expectedVersion: decision.version, alongside: options.alongside?.(decision.after) ?? [], ...(manager ? { manager } : {}) };
    const gate = options.gate?.(decision.after);
    const appended = await withSpan('eventStore.appendToStream', { 'gancho.stream.id': command.streamId, ...commandType, 'gancho.events.count': events.length }, async () =>
      gate ? store.appendToStream(command.streamId, events, { ...append, gate }) : { appended: true, ...(await store.appendToStream(command.streamId, events, append)) },
    );
    if (!appended.appended) return { ...decision, outcome: 'gate_closed' };
    span.setAttribute('gancho.events.appended', events.length);
    return { ...decision, outcome: 'appended' };
  });
}
