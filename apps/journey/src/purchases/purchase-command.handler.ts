import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { PurchaseStatus, PurchaseStatusEventV1 } from '@gancho/contracts';
import { foldStream, handleStreamCommand, PostgresEventStore, WHEN_APPENDED, type CommandContext, type SqlPart, type StoredEvent, type StreamModel } from '@gancho/event-store';
import { decide, evolve, initialState, toPurchaseStatusEventV1, type Purchase, type PurchaseCommand, type PurchaseEvent, type PurchaseState } from '@gancho/purchase-domain';
import { projectionStatement, purchaseView, type PurchaseView } from './purchase-projection';

export const purchaseStreamId = (purchaseId: string) => `purchase:${purchaseId}`;

/** A purchase stream folded: the purchase, and its status before the last event (the read model shows both). */
export interface PurchaseStream {
  state: PurchaseState;
  previousStatus: PurchaseStatus | null;
}

export const purchaseStream: StreamModel<PurchaseStream, PurchaseEvent> = {
  initialState: { state: initialState(), previousStatus: null },
  evolve: ({ state }, event) => ({ state: evolve(state, event), previousStatus: state.exists ? state.status : null }),
};

/** Stored with each event: the status event it becomes on Kafka, computed from the state before it. */
export interface PurchaseEventMetadata {
  correlationId?: string;
  causationId?: string;
  traceparent?: string;
  tracestate?: string;
  statusEvent: PurchaseStatusEventV1;
}

/** What a command needs besides its context: the caller's transaction (the scheduler's), the gate of an idempotent request. */
export interface PurchaseCommandOptions {
  manager?: EntityManager;
  /** An idempotency key's claim with the answer made of the purchase after the command. */
  gateFor?: (purchase: PurchaseView) => SqlPart;
}

export interface HandledCommand {
  purchase: PurchaseView;
  appended: number;
}

const viewOf = ({ state, previousStatus }: PurchaseStream): PurchaseView => purchaseView(state as Purchase, previousStatus);

/**
 * The one command handler every adapter calls (HTTP routes, the inactivity
 * scheduler): the stream-command helper with the purchase's model, its
 * status events as metadata, and its read-model row written in the append's
 * statement. Undefined: `commandFor` found nothing to do, or the gate was
 * closed (nothing written).
 */
@Injectable()
export class PurchaseCommandHandler {
  constructor(private readonly store: PostgresEventStore) {}

  async load(purchaseId: string): Promise<PurchaseStream & { history: StoredEvent<PurchaseEvent['data']>[] }> {
    const history = await this.store.readStream<PurchaseEvent['data']>(purchaseStreamId(purchaseId));
    return { ...foldStream(purchaseStream, history), history };
  }

  /**
   * Runs `command` on its purchase, or the command `command` derives from
   * the current state (the scheduler decides from the state); a derived
   * undefined means nothing to do.
   */
  async execute(
    purchaseId: string,
    command: PurchaseCommand | ((state: PurchaseState) => PurchaseCommand | undefined),
    context: CommandContext,
    { manager, gateFor }: PurchaseCommandOptions = {},
  ): Promise<HandledCommand | undefined> {
    const commandFor = typeof command === 'function' ? command : () => command;
    const decideFor = ({ state }: PurchaseStream) => {
      const next = commandFor(state);
      return next ? decide(next, state) : [];
    };
    const stream = { streamId: purchaseStreamId(purchaseId), decide: decideFor, ...(typeof command === 'function' ? {} : { type: command.type }) };
    const result = await handleStreamCommand(this.store, purchaseStream, stream, context, {
      metadataOf: (event, before) => ({ statusEvent: toPurchaseStatusEventV1(event, before.state) }),
      alongside: (after) => [projectionStatement(viewOf(after), WHEN_APPENDED)],
      ...(gateFor ? { gate: (after: PurchaseStream) => gateFor(viewOf(after)) } : {}),
      ...(manager ? { manager } : {}),
      attributes: { 'gancho.purchase.id': purchaseId },
    });
    return result.outcome === 'appended' ? { purchase: viewOf(result.after), appended: result.events.length } : undefined;
  }
}
