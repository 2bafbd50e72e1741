import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { PurchaseStatus, PurchaseStatusEventV1 } from '@gancho/contracts';
import { PostgresEventStore, StreamVersionConflictError, type NewEvent, type StoredEvent } from '@gancho/event-store';
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
import { projectPurchase, purchaseView, type PurchaseView } from './purchase-projection';

export const purchaseStreamId = (purchaseId: string) => `purchase:${purchaseId}`;

/** What travels with a command besides its data: where it came from, for tracing. */
export interface CommandContext {
  manager: EntityManager;
  correlationId?: string;
  causationId?: string;
  traceparent?: string;
  tracestate?: string;
  /** The version the caller last saw (HTTP If-Match); a newer stream is a conflict. */
  expectedVersion?: number;
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
    const events = history.map((e) => ({ type: e.type, data: e.data }) as PurchaseEvent);
    const state = foldPurchase(events);
    const previousStatus = events.length >= 2 ? (events.at(-2)?.data.status ?? null) : null;
    return { state, previousStatus, history };
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
    const { state, previousStatus } = await this.load(purchaseId, context.manager);
    const version = state.exists ? state.version : 0;
    if (context.expectedVersion !== undefined && context.expectedVersion !== version) {
      throw new StreamVersionConflictError(purchaseStreamId(purchaseId), context.expectedVersion, version);
    }
    const command = commandFor(state);
    if (!command) return undefined;

    const decided = decide(command, state);
    // Stored with the events: the relay continues this trace. With tracing off, the caller's traceparent passes through.
    const traceparent = currentTraceparent() ?? context.traceparent;
    let current: PurchaseState = state;
    let lastPrevious = previousStatus;
    const toAppend: NewEvent<PurchaseEvent['data']>[] = decided.map((event) => {
      const statusEvent = toPurchaseStatusEventV1(event, current);
      lastPrevious = current.exists ? current.status : null;
      current = evolve(current, event);
      const metadata: PurchaseEventMetadata = {
        ...(context.correlationId ? { correlationId: context.correlationId } : {}),
        ...(context.causationId ? { causationId: context.causationId } : {}),
        ...(traceparent ? { traceparent } : {}),
        ...(context.tracestate ? { tracestate: context.tracestate } : {}),
        statusEvent,
      };
      return { eventId: randomUUID(), type: event.type, data: event.data, metadata: { ...metadata } };
    });
    const streamId = purchaseStreamId(purchaseId);
    await withSpan('eventStore.appendToStream', { 'gancho.stream.id': streamId, 'gancho.command.type': command.type, 'gancho.events.count': toAppend.length }, () =>
      this.store.appendToStream(streamId, toAppend, { expectedVersion: version, manager: context.manager }),
    );
    const view = purchaseView(current as Purchase, lastPrevious);
    await projectPurchase(context.manager, view);
    return { purchase: view, appended: toAppend.length };
  }

  /** Runs a command built by an adapter. */
  async handle(command: PurchaseCommand, context: CommandContext): Promise<HandledCommand> {
    const handled = await this.execute(command.data.purchaseId, () => command, context);
    if (!handled) throw new Error('unreachable: a given command always runs');
    return handled;
  }
}

