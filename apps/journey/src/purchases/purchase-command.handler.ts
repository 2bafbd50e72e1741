import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { PurchaseStatus, PurchaseStatusEventV1, PurchaseStatusEventV2, SealedStudentV2 } from '@gancho/contracts';
import { foldStream, handleStreamCommand, PostgresEventStore, WHEN_APPENDED, type CommandContext, type SqlPart, type StoredEvent, type StreamModel } from '@gancho/event-store';
import { decide, evolve, initialState, toPurchaseStatusEventV1, type Purchase, type PurchaseCommand, type PurchaseEvent, type PurchaseState } from '@gancho/purchase-domain';
import { erasedStudent, isSealedStudent, openStudent, sealStudent, type SubjectKey } from '../personal-data/student-codec';
import { SubjectKeyring } from '../personal-data/subject-keyring';
import { projectionStatement, purchaseView, studentView, type PurchaseView } from './purchase-projection';

export const purchaseStreamId = (purchaseId: string) => `purchase:${purchaseId}`;

/** A purchase stream folded: the purchase, and its status before the last event (the read model shows both). */
export interface PurchaseStream {
  state: PurchaseState;
  previousStatus: PurchaseStatus | null;
}

/**
 * A purchase event as stored: PurchaseOpened's student is `{ subject_id,
 * sealed }` (the domain's plaintext sealed under the subject key); events
 * stored before the LGPD release and not sealed yet hold it in clear.
 */
export type StoredPurchaseEvent = PurchaseEvent | { type: 'PurchaseOpened'; data: Omit<Extract<PurchaseEvent, { type: 'PurchaseOpened' }>['data'], 'student'> & { student: SealedStudentV2 } };

/** The domain event of a stored one: the student opened with the subject key, or the erased placeholder once the key is gone. */
export function decodedEvent(event: StoredPurchaseEvent, subject: SubjectKey | undefined): PurchaseEvent {
  if (event.type !== 'PurchaseOpened' || !isSealedStudent(event.data.student)) return event as PurchaseEvent;
  return { ...event, data: { ...event.data, student: openStudent(subject, event.data.student) ?? erasedStudent } };
}

/** The stored form of a domain event: the student sealed under the subject key. */
export function encodedEvent(event: PurchaseEvent, subject: SubjectKey): StoredPurchaseEvent {
  if (event.type !== 'PurchaseOpened') return event;
  return { ...event, data: { ...event.data, student: sealStudent(subject, event.data.student) } };
}

/** The v2 status event of a v1 one: the student sealed under the subject key. */
export function sealedStatusEvent(statusEvent: PurchaseStatusEventV1, subject: SubjectKey): PurchaseStatusEventV2 {
  return { ...statusEvent, student: sealStudent(subject, statusEvent.student) };
}

/** How a purchase's stored events make its state, the student opened with `subject`'s key. */
export function purchaseStreamOf(subject: SubjectKey | undefined): StreamModel<PurchaseStream, StoredPurchaseEvent> {
  return {
    initialState: { state: initialState(), previousStatus: null },
    evolve: ({ state }, event) => ({ state: evolve(state, decodedEvent(event, subject)), previousStatus: state.exists ? state.status : null }),
  };
}

/**
 * Stored with each event: the status event it becomes on Kafka, computed
 * from the state before it, the student sealed (`PurchaseStatusEventV2`;
 * `PurchaseStatusEventV1`, in clear, on events from before the LGPD release
 * not sealed yet).
 */
export interface PurchaseEventMetadata {
  correlationId?: string;
  causationId?: string;
  traceparent?: string;
  tracestate?: string;
  statusEvent: PurchaseStatusEventV2 | PurchaseStatusEventV1;
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

const viewOf = ({ state, previousStatus }: PurchaseStream, subject: SubjectKey | undefined): PurchaseView => purchaseView(state as Purchase, previousStatus, studentView((state as Purchase).student, subject));

/**
 * A command's answer: the purchase with its student as the subject id only.
 * The platform sent the name and e-mail itself; leaving them out keeps them
 * out of the stored idempotent answers too (GET /purchases/{id} shows them).
 */
const answerOf = (after: PurchaseStream, subject: SubjectKey | undefined): PurchaseView => ({
  ...viewOf(after, subject),
  ...(subject ? { student: { subject_id: subject.subjectId } } : {}),
});

/**
 * The one command handler every adapter calls (HTTP routes, the inactivity
 * scheduler): the stream-command helper with the purchase's model, its
 * status events as metadata, and its read-model row written in the append's
 * statement. Undefined: `commandFor` found nothing to do, or the gate was
 * closed (nothing written).
 */
@Injectable()
export class PurchaseCommandHandler {
  constructor(
    private readonly store: PostgresEventStore,
    private readonly keyring: SubjectKeyring,
  ) {}

  async load(purchaseId: string): Promise<PurchaseStream & { subject: SubjectKey | undefined; history: StoredEvent<PurchaseEvent['data']>[] }> {
    const stored = await this.store.readStream<StoredPurchaseEvent['data']>(purchaseStreamId(purchaseId));
    const subject = await this.subjectOfStream(stored as { type: string; data: unknown }[]);
    const history = stored.map((event) => ({ ...event, ...decodedEvent(event as StoredPurchaseEvent, subject) }));
    return { ...foldStream(purchaseStreamOf(undefined), history), subject, history };
  }

  /** The subject of a stored stream: the one its PurchaseOpened names, or for a stream from before the LGPD release, the subject of its e-mail. */
  private async subjectOfStream(history: readonly { type: string; data: unknown }[], manager?: EntityManager): Promise<SubjectKey | undefined> {
    const opened = history.find((event) => event.type === 'PurchaseOpened')?.data as { student?: unknown; occurredAt?: string } | undefined;
    if (!opened) return undefined;
    if (isSealedStudent(opened.student)) return (await this.keyring.keysOf([opened.student.subject_id], manager)).get(opened.student.subject_id);
    const student = opened.student as { email: string };
    return this.keyring.ensureSubject(student.email, new Date(opened.occurredAt ?? Date.now()));
  }

  /**
   * Runs `command` on its purchase, or the command `command` derives from
   * the current state (the scheduler decides from the state); a derived
   * undefined means nothing to do. The student is stored sealed under the
   * subject's key (found, or registered, by the e-mail on OpenPurchase).
   */
  async execute(
    purchaseId: string,
    command: PurchaseCommand | ((state: PurchaseState) => PurchaseCommand | undefined),
    context: CommandContext,
    { manager, gateFor }: PurchaseCommandOptions = {},
  ): Promise<HandledCommand | undefined> {
    const subject =
      typeof command !== 'function' && command.type === 'OpenPurchase'
        ? await this.keyring.ensureSubject(command.data.student.email, command.metadata.now)
        : ((await this.keyring.keyOfPurchase(purchaseId, manager)) ?? (await this.subjectOfStream(await this.store.readStreamData(purchaseStreamId(purchaseId), manager ? { manager } : {}), manager)));
    const commandFor = typeof command === 'function' ? command : () => command;
    const model = purchaseStreamOf(subject);
    const decideFor = ({ state }: PurchaseStream): StoredPurchaseEvent[] => {
      const next = commandFor(state);
      if (!next) return [];
      const events = decide(next, state);
      if (events.length > 0 && !subject) throw new Error(`purchase ${purchaseId} has no data subject`);
      return events.map((event) => encodedEvent(event, subject as SubjectKey));
    };
    const stream = { streamId: purchaseStreamId(purchaseId), decide: decideFor, ...(typeof command === 'function' ? {} : { type: command.type }) };
    const result = await handleStreamCommand(this.store, model, stream, context, {
      metadataOf: (event, before) => ({ statusEvent: sealedStatusEvent(toPurchaseStatusEventV1(decodedEvent(event, subject), before.state), subject as SubjectKey) }),
      alongside: (after) => [projectionStatement(viewOf(after, subject), sealStudent(subject as SubjectKey, (after.state as Purchase).student), WHEN_APPENDED)],
      ...(gateFor ? { gate: (after: PurchaseStream) => gateFor(answerOf(after, subject)) } : {}),
      ...(manager ? { manager } : {}),
      attributes: { 'gancho.purchase.id': purchaseId },
    });
    return result.outcome === 'appended' ? { purchase: answerOf(result.after, subject), appended: result.events.length } : undefined;
  }
}
