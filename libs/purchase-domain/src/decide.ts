import { isCurrencyCode, isEmailAddress, type PurchaseStatus } from '@gancho/contracts';
import { IllegalTransitionError, InvalidPurchaseCommandError, PurchaseAlreadyExistsError, PurchaseNotFoundError } from './errors';
import { eventTypeOfCommand, type PurchaseEvent, type PurchaseState, type PurchaseStatusChanged } from './purchase';
import { isReviewCommandType, reviewDecisions, type OpenPurchase, type PurchaseCommand, type TransitionCommand } from './purchase-commands';
import { allowedCommandsFrom, nextStatus, openingStatusOf } from './transitions';

const nonEmpty = (value: unknown): boolean => typeof value === 'string' && value.trim().length > 0;

function metadataProblems(command: PurchaseCommand): string[] {
  const now: unknown = command.metadata?.now;
  const problems = now instanceof Date && !Number.isNaN(now.getTime()) ? [] : ['metadata.now must be a valid Date'];
  if (!nonEmpty(command.data?.purchaseId)) problems.push('purchaseId must be a non-empty string');
  return problems;
}

// The same rules as the webhook schema, so every purchase we accept can be told to partners.
function openingProblems({ data }: OpenPurchase): string[] {
  const problems: string[] = [];
  if (!nonEmpty(data.partnerId)) problems.push('partnerId must be a non-empty string');
  if (!nonEmpty(data.course?.id)) problems.push('course.id must be a non-empty string');
  if (!nonEmpty(data.course?.name)) problems.push('course.name must be a non-empty string');
  const price = data.course?.priceCents;
  if (!Number.isSafeInteger(price) || price < 0) problems.push('course.priceCents must be an integer ≥ 0');
  if (!isCurrencyCode(data.course?.currency)) problems.push('course.currency must be an ISO 4217 code (upper case)');
  if (!nonEmpty(data.student?.name)) problems.push('student.name must be a non-empty string');
  if (!isEmailAddress(data.student?.email)) problems.push('student.email must be an e-mail address');
  if (typeof data.studentLoggedIn !== 'boolean') problems.push('studentLoggedIn must be a boolean');
  return problems;
}

function transitionProblems(command: TransitionCommand): string[] {
  const data: Readonly<Record<string, unknown>> = { ...command.data };
  const problems: string[] = [];
  if (isReviewCommandType(command.type) && !reviewDecisions.includes(data['decision'] as never)) {
    problems.push(`decision must be one of ${reviewDecisions.join(', ')}`);
  }
  if (data['reason'] !== undefined && typeof data['reason'] !== 'string') problems.push('reason must be a string');
  return problems;
}

function statusChanged(command: TransitionCommand, status: PurchaseStatus, occurredAt: string): PurchaseStatusChanged {
  // Only the fields the command type declares go into the event, whatever else the caller sent.
  const data: Record<string, unknown> = { purchaseId: command.data.purchaseId };
  if ('decision' in command.data) data['decision'] = command.data.decision;
  if ('reason' in command.data && command.data.reason !== undefined) data['reason'] = command.data.reason;
  // The event type and data follow from command.type through eventTypeOfCommand; TypeScript cannot correlate them.
  return { type: eventTypeOfCommand[command.type], data: { ...data, status, occurredAt } } as PurchaseStatusChanged;
}

/**
 * Decides what a command does to a purchase: the events to append, or a
 * typed refusal (ILLEGAL_TRANSITION, PURCHASE_NOT_FOUND,
 * PURCHASE_ALREADY_EXISTS, INVALID_COMMAND). Pure: time is `metadata.now`.
 */
export function decide(command: PurchaseCommand, state: PurchaseState): PurchaseEvent[] {
  const problems = metadataProblems(command);
  if (command.type === 'OpenPurchase') {
    if (state.exists) throw new PurchaseAlreadyExistsError(state.purchaseId, state.status);
    problems.push(...openingProblems(command));
    if (problems.length > 0) throw new InvalidPurchaseCommandError(command.type, problems);
    const { purchaseId, partnerId, course, student, studentLoggedIn } = command.data;
    return [
      {
        type: 'PurchaseOpened',
        data: {
          purchaseId,
          partnerId,
          course: { id: course.id, name: course.name, priceCents: course.priceCents, currency: course.currency },
          student: { name: student.name, email: student.email },
          studentLoggedIn,
          status: openingStatusOf(studentLoggedIn),
          occurredAt: command.metadata.now.toISOString(),
        },
      },
    ];
  }

  problems.push(...transitionProblems(command));
  if (problems.length > 0) throw new InvalidPurchaseCommandError(command.type, problems);
  if (!state.exists) throw new PurchaseNotFoundError(command.data.purchaseId, command.type);
  if (command.data.purchaseId !== state.purchaseId) {
    // A handler bug (it loaded one stream and sent another purchase's command); never apply it.
    throw new InvalidPurchaseCommandError(command.type, [`purchaseId ${command.data.purchaseId} is not the purchase ${state.purchaseId}`]);
  }
  const to = nextStatus(state.status, command);
  if (to === undefined) throw new IllegalTransitionError(state.status, command.type, allowedCommandsFrom(state.status));
  return [statusChanged(command, to, command.metadata.now.toISOString())];
}
