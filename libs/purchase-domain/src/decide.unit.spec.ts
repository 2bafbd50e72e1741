import { purchaseStatuses, type PurchaseStatus } from '@gancho/contracts';
import { decide } from './decide';
import { IllegalTransitionError, InvalidPurchaseCommandError, isPurchaseDomainError, PurchaseAlreadyExistsError, PurchaseNotFoundError } from './errors';
import { eventTypeOfCommand, foldPurchase, type PurchaseEvent, type PurchaseOpened } from './purchase';
import type { OpenPurchase, PurchaseCommand, ReviewDecision, TransitionCommand, TransitionCommandType } from './purchase-commands';
import { allowedCommandsFrom, shortestPath, transitionCommandTypes, transitions } from './transitions';

// Scenarios:
// - OpenPurchase opens in not_logged or shopping_cart_created, and only once, with valid data.
// - Every row of the transition table: given a purchase in its status, the command yields one event with the next status.
// - Every command the table does not list for a status is refused with ILLEGAL_TRANSITION.
// - Commands on a purchase that does not exist, or with bad data, are refused.

const purchaseId = 'pur_01JDZ8Q6Y3M4';
const openedAt = new Date('2026-11-27T10:00:00.000Z');
const now = new Date('2026-11-27T19:28:47.123Z');

function openPurchase(overrides: Partial<OpenPurchase['data']> = {}): OpenPurchase {
  return {
    type: 'OpenPurchase',
    data: {
      purchaseId,
      partnerId: 'ptn_01JDZ7K2',
      course: { id: 'crs_fullstack', name: 'Full-stack Web Development', priceCents: 1234500, currency: 'BRL' },
      student: { name: 'Maria Silva', email: 'maria.silva@example.com' },
      studentLoggedIn: false,
      ...overrides,
    },
    metadata: { now: openedAt },
  };
}

const opened: PurchaseOpened = {
  type: 'PurchaseOpened',
  data: { ...openPurchase().data, status: 'not_logged', occurredAt: openedAt.toISOString() },
};

interface Step {
  command: TransitionCommandType;
  decision?: ReviewDecision;
}

function commandFor(step: Step, at: Date = now): TransitionCommand {
  const data = step.decision === undefined ? { purchaseId } : { purchaseId, decision: step.decision };
  return { type: step.command, data, metadata: { now: at } } as TransitionCommand;
}

/** The event a step records, built from the table, independently of `decide`. */
function eventFor(step: Step, status: PurchaseStatus, at: Date = now): PurchaseEvent {
  const data = step.decision === undefined ? { purchaseId } : { purchaseId, decision: step.decision };
  return { type: eventTypeOfCommand[step.command], data: { ...data, status, occurredAt: at.toISOString() } } as PurchaseEvent;
}

/** A history that brings a purchase from opening to `status` along a shortest legal path. */
function historyTo(status: PurchaseStatus): PurchaseEvent[] {
  const path = shortestPath('not_logged', status);
  if (!path) throw new Error(`${status} is unreachable`);
  return [opened, ...path.map((step, index) => eventFor(step, step.to, new Date(openedAt.getTime() + (index + 1) * 60_000)))];
}

const given = (...events: PurchaseEvent[]) => ({
  when: (command: PurchaseCommand) => {
    const run = () => decide(command, foldPurchase(events));
    return {
      then: (expected: PurchaseEvent[]) => expect(run()).toEqual(expected),
      thenRefuses: (): Error => {
        try {
          run();
        } catch (error) {
          expect(isPurchaseDomainError(error)).toBe(true);
          return error as Error;
        }
        throw new Error(`${command.type} was accepted`);
      },
    };
  },
});

describe('OpenPurchase', () => {
  it('opens a purchase whose student is not logged in as not_logged', () => {
    given().when(openPurchase()).then([opened]);
  });

  it('opens a purchase whose student is logged in as shopping_cart_created', () => {
    given()
      .when(openPurchase({ studentLoggedIn: true }))
      .then([{ type: 'PurchaseOpened', data: { ...opened.data, studentLoggedIn: true, status: 'shopping_cart_created' } }]);
  });

  it('copies only the fields it knows', () => {
    const command = openPurchase();
    (command.data.course as unknown as Record<string, unknown>)['costToProvi'] = 1;
    given().when(command).then([opened]);
  });

  it('refuses to open a purchase twice, in any status', () => {
    for (const status of ['not_logged', 'denied', 'fully_paid'] as const) {
      const error = given(...historyTo(status))
        .when(openPurchase())
        .thenRefuses();
      expect(error).toBeInstanceOf(PurchaseAlreadyExistsError);
      expect(error).toMatchObject({ code: 'PURCHASE_ALREADY_EXISTS', purchaseId, currentStatus: status });
    }
  });

  it.each([
    ['an empty purchase id', { purchaseId: '' }, 'purchaseId'],
    ['an empty partner id', { partnerId: ' ' }, 'partnerId'],
    ['a negative price', { course: { id: 'c', name: 'C', priceCents: -1, currency: 'BRL' } }, 'priceCents'],
    ['a price in reais', { course: { id: 'c', name: 'C', priceCents: 12345.67, currency: 'BRL' } }, 'priceCents'],
    ['a lower-case currency', { course: { id: 'c', name: 'C', priceCents: 1, currency: 'brl' } }, 'currency'],
    ['a course without a name', { course: { id: 'c', name: '', priceCents: 1, currency: 'BRL' } }, 'course.name'],
    ['an invalid e-mail', { student: { name: 'Maria', email: 'maria@' } }, 'email'],
    ['a student without a name', { student: { name: '', email: 'maria@example.com' } }, 'student.name'],
    ['no login flag', { studentLoggedIn: undefined as unknown as boolean }, 'studentLoggedIn'],
  ])('refuses %s with INVALID_COMMAND', (_name, overrides, field) => {
    const error = given().when(openPurchase(overrides)).thenRefuses();
    expect(error).toBeInstanceOf(InvalidPurchaseCommandError);
    expect(error).toMatchObject({ code: 'INVALID_COMMAND', command: 'OpenPurchase' });
    expect(error.message).toContain(field);
  });

  it('refuses a command without a valid time', () => {
    const command = { ...openPurchase(), metadata: { now: new Date(Number.NaN) } };
    expect(given().when(command).thenRefuses()).toMatchObject({ code: 'INVALID_COMMAND' });
  });
});

describe('every transition of the table', () => {
  it.each(transitions.map((t) => [`${t.from} + ${t.command}${t.decision ? ` (${t.decision})` : ''} → ${t.to}`, t] as const))('%s', (_name, transition) => {
    given(...historyTo(transition.from))
      .when(commandFor(transition))
      .then([eventFor(transition, transition.to)]);
  });
});

describe('illegal transitions', () => {
  it.each(purchaseStatuses)('refuses in %s every command the table does not allow there', (status) => {
    const history = historyTo(status);
    const allowed = allowedCommandsFrom(status);
    const refused = transitionCommandTypes.filter((type) => !allowed.includes(type));
    expect(refused.length).toBeGreaterThan(0);
    for (const type of refused) {
      const step: Step = ['ReviewBasicInfo', 'ReviewDocuments', 'ReviewGuarantor'].includes(type) ? { command: type, decision: 'approved' } : { command: type };
      const error = given(...history)
        .when(commandFor(step))
        .thenRefuses();
      expect(error).toBeInstanceOf(IllegalTransitionError);
      expect(error).toMatchObject({ code: 'ILLEGAL_TRANSITION', currentStatus: status, command: type });
      expect(error.message).toContain(status);
      expect(error.message).toContain(type);
    }
  });

  it('says what is allowed instead', () => {
    const error = given(...historyTo('waiting_signature'))
      .when(commandFor({ command: 'ConfirmPayment' }))
      .thenRefuses();
    expect(error.message).toBe('ConfirmPayment is not allowed for a purchase in status waiting_signature (allowed: SignContract, AbandonBeforeSignature)');
  });

  it('refuses everything on a purchase that is fully paid, lost or churned', () => {
    for (const status of ['fully_paid', 'expired', 'denied', 'abandonment_before_signed', 'isa_default'] as const) {
      for (const command of transitionCommandTypes) {
        const error = given(...historyTo(status))
          .when(commandFor({ command, decision: 'approved' }))
          .thenRefuses();
        expect(error).toMatchObject({ code: 'ILLEGAL_TRANSITION', currentStatus: status });
      }
    }
  });
});

describe('other refusals', () => {
  it.each(transitionCommandTypes)('refuses %s on a purchase that does not exist', (command) => {
    const error = given()
      .when(commandFor({ command, decision: 'approved' }))
      .thenRefuses();
    expect(error).toBeInstanceOf(PurchaseNotFoundError);
    expect(error).toMatchObject({ code: 'PURCHASE_NOT_FOUND', purchaseId, command });
  });

  it('refuses a review without a decision', () => {
    const error = given(...historyTo('basic_info_review'))
      .when(commandFor({ command: 'ReviewBasicInfo' }))
      .thenRefuses();
    expect(error).toMatchObject({ code: 'INVALID_COMMAND', command: 'ReviewBasicInfo' });
    expect(error.message).toContain('decision');
  });

  it('refuses a command addressed to another purchase', () => {
    const command: TransitionCommand = { type: 'LogIn', data: { purchaseId: 'pur_other' }, metadata: { now } };
    expect(given(opened).when(command).thenRefuses()).toMatchObject({ code: 'INVALID_COMMAND' });
  });

  it('refuses a reason that is not text', () => {
    const command = { type: 'Deny', data: { purchaseId, reason: 42 }, metadata: { now } } as unknown as TransitionCommand;
    expect(
      given(...historyTo('analysis'))
        .when(command)
        .thenRefuses(),
    ).toMatchObject({ code: 'INVALID_COMMAND' });
  });
});

describe('event data', () => {
  it('keeps the decision and reason of a review', () => {
    given(...historyTo('document_info_review'))
      .when({
        type: 'ReviewDocuments',
        data: { purchaseId, decision: 'rejected', reason: 'The ID photo is blurred' },
        metadata: { now },
      })
      .then([
        {
          type: 'DocumentsReviewed',
          data: {
            purchaseId,
            decision: 'rejected',
            reason: 'The ID photo is blurred',
            status: 'document_info_incomplete',
            occurredAt: now.toISOString(),
          },
        },
      ]);
  });

  it('drops what the command type does not declare', () => {
    const command = { type: 'SignContract', data: { purchaseId, ip: '10.0.0.1' }, metadata: { now } } as TransitionCommand;
    given(...historyTo('waiting_signature'))
      .when(command)
      .then([{ type: 'ContractSigned', data: { purchaseId, status: 'waiting_payment', occurredAt: now.toISOString() } }]);
  });
});
