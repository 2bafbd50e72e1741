import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { PurchaseStatus, PurchaseStatusEventV1 } from '@gancho/contracts';
import { PostgresEventStore, StreamVersionConflictError, WHEN_APPENDED, type NewEvent, type SqlPart, type StoredEvent } from '@gancho/event-store';
import {
  decide,
  evolve,
  foldPurchase,
  toPurchaseStatusEventV1,
  type Purchase,
  type PurchaseCommand,
  type PurchaseEvent,
  type PurchaseState,
} from '@gancho/purchase-domain';
import { currentTraceparent, withSpan } from '@gancho/telemetry';
import { projectionStatement, projectPurchase, purchaseView, type PurchaseView } from './purchase-projection';

export const purchaseStreamId = (purchaseId: string) => `purchase:${purchaseId}`;

/** The purchase a stream's events make, and the status before the last one. */
function folded(history: readonly { type: string; data: PurchaseEvent['data'] }[]): { state: PurchaseState; previousStatus: PurchaseStatus | null } {
  const events = history.map((e) => ({ type: e.type, data: e.data }) as PurchaseEvent);
  const previousStatus = events.length >= 2 ? (events.at(-2)?.data.status ?? null) : null;
  return { state: foldPurchase(events), previousStatus };
}

/** What travels with a command besides its data: where it came from, for tracing. */
export interface CommandOrigin {
  correlationId?: string;
  causationId?: string;
  traceparent?: string;
  tracestate?: string;
  /** The version the caller last saw (HTTP If-Match); a newer stream is a conflict. */
  expectedVersion?: number;
}

/** A command run in the caller's transaction (the scheduler's). */
export interface CommandContext extends CommandOrigin {
  manager: EntityManager;
}

/** What a command decided: the events to append after `version`, and the purchase after them. */
interface Decided {
  commandType: string;
  streamId: string;
  version: number;
  events: NewEvent<PurchaseEvent['data']>[];
  view: PurchaseView;
}

/** Stored with each event: the status event it becomes on Kafka, computed from the state before it. */
export interface PurchaseEventMetadata {
  correlationId?: string;
  causationId?: string;
  traceparent?: string;
  tracestate?: string;
  statusEvent: PurchaseStatusEventV1;
}

export interface HandledCommand {
  purchase: PurchaseView;
  appended: number;
}

/**
 * The one command handler every adapter calls (HTTP routes, the inactivity
 * scheduler): read the stream, fold, decide, append with the expected
 * version, and update the read model, all in the caller's transaction.
 */
@Injectable()
export class PurchaseCommandHandler {
  private readonly store: PostgresEventStore;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.store = new PostgresEventStore(dataSource);
  }

  async load(purchaseId: string, manager?: EntityManager): Promise<{ state: PurchaseState; previousStatus: PurchaseStatus | null; history: StoredEvent<PurchaseEvent['data']>[] }> {
    const history = await this.store.readStream<PurchaseEvent['data']>(purchaseStreamId(purchaseId), manager ? { manager } : {});
    return { ...folded(history), history };
  }

  /**
   * Runs the command that `commandFor` derives from the current state (the
   * scheduler decides from the state; HTTP routes ignore it). Undefined means
   * nothing to do. Runs in a `command.handle` span; the append is its
   * `eventStore.appendToStream` child.
   */
  execute(purchaseId: string, commandFor: (state: PurchaseState) => PurchaseCommand | undefined, context: CommandContext): Promise<HandledCommand | undefined> {
    return withSpan('command.handle', { 'gancho.purchase.id': purchaseId }, async (span) => {
      const handled = await this.executeCommand(purchaseId, commandFor, context);
      if (handled) span.setAttribute('gancho.events.appended', handled.appended);
      return handled;
    });
  }

  private async executeCommand(purchaseId: string, commandFor: (state: PurchaseState) => PurchaseCommand | undefined, context: CommandContext): Promise<HandledCommand | undefined> {
    const decided = this.decide(purchaseId, await this.load(purchaseId, context.manager), commandFor, context);
    if (!decided) return undefined;
    await this.appendSpan(decided, () => this.store.appendToStream(decided.streamId, decided.events, { expectedVersion: decided.version, manager: context.manager }));
    await projectPurchase(context.manager, decided.view);
    return { purchase: decided.view, appended: decided.events.length };
  }

  /**
   * Runs a command built by an adapter with no transaction held open: read
   * and decide, then ONE statement appends the events, writes the read model
   * and, when given, the gate (an idempotency key's claim, with the answer
   * `gateFor` makes of the purchase). A writer that got there first is a
   * `StreamVersionConflictError`; undefined means the gate refused and
   * nothing was written.
   */
  handleInOneStatement(command: PurchaseCommand, origin: CommandOrigin, gateFor?: (purchase: PurchaseView) => SqlPart): Promise<HandledCommand | undefined> {
    const purchaseId = command.data.purchaseId;
    return withSpan('command.handle', { 'gancho.purchase.id': purchaseId }, async (span) => {
      const decided = this.decide(purchaseId, folded(await this.store.readStreamData<PurchaseEvent['data']>(purchaseStreamId(purchaseId))), () => command, origin);
      if (!decided) throw new Error('unreachable: a given command always runs');
      const result = await this.appendSpan(decided, () =>
        this.store.appendInOneStatement(decided.streamId, decided.events, {
          readVersion: decided.version,
          ...(gateFor ? { gate: gateFor(decided.view) } : {}),
          alongside: [projectionStatement(decided.view, WHEN_APPENDED)],
        }),
      );
      if (!result.appended) return undefined;
      span.setAttribute('gancho.events.appended', decided.events.length);
      return { purchase: decided.view, appended: decided.events.length };
    });
  }

  private appendSpan<T>(decided: Decided, append: () => Promise<T>): Promise<T> {
    return withSpan('eventStore.appendToStream', { 'gancho.stream.id': decided.streamId, 'gancho.command.type': decided.commandType, 'gancho.events.count': decided.events.length }, append);
  }

  /** Checks the expected version, decides, and builds the events (with their status events) and the purchase after them. */
  private decide(
    purchaseId: string,
    { state, previousStatus }: { state: PurchaseState; previousStatus: PurchaseStatus | null },
    commandFor: (state: PurchaseState) => PurchaseCommand | undefined,
    origin: CommandOrigin,
  ): Decided | undefined {
    const streamId = purchaseStreamId(purchaseId);
    const version = state.exists ? state.version : 0;
    if (origin.expectedVersion !== undefined && origin.expectedVersion !== version) {
      throw new StreamVersionConflictError(streamId, origin.expectedVersion, version);
    }
    const command = commandFor(state);
    if (!command) return undefined;
    const decided = decide(command, state);
    // Stored with the events: the relay continues this trace. With tracing off, the caller's traceparent passes through.
    const traceparent = currentTraceparent() ?? origin.traceparent;
    let current: PurchaseState = state;
    let lastPrevious = previousStatus;
    const events: NewEvent<PurchaseEvent['data']>[] = decided.map((event) => {
      const statusEvent = toPurchaseStatusEventV1(event, current);
      lastPrevious = current.exists ? current.status : null;
      current = evolve(current, event);
      const metadata: PurchaseEventMetadata = {
        ...(origin.correlationId ? { correlationId: origin.correlationId } : {}),
        ...(origin.causationId ? { causationId: origin.causationId } : {}),
        ...(traceparent ? { traceparent } : {}),
        ...(origin.tracestate ? { tracestate: origin.tracestate } : {}),
        statusEvent,
      };
      return { eventId: randomUUID(), type: event.type, data: event.data, metadata: { ...metadata } };
    });
    return { commandType: command.type, streamId, version, events, view: purchaseView(current as Purchase, lastPrevious) };
  }
}
