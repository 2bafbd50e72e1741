import { statusEventsInsertParameters, type NewStatusEvent } from './status-event-log';

const event = (eventId: string, messageIds: string[]): NewStatusEvent => ({
  eventId,
  partnerId: 'ptn_1',
  eventType: 'purchase.logged',
  purchaseId: 'pur_1',
  sequence: 1,
  occurredAt: '2026-12-01T00:00:00.000Z',
  messageIds,
  payload: '{}',
});

describe('statusEventsInsertParameters', () => {
  it('sends one row per event id (a batch may carry an event twice: the relay publishes at least once), with every message id of it', () => {
    const [ids, , , , , , messageIds] = statusEventsInsertParameters([event('e1', ['msg_a']), event('e2', []), event('e1', ['msg_a', 'msg_b'])]);
    expect(ids).toEqual(['e1', 'e2']);
    expect(messageIds).toEqual(['msg_a,msg_b', '']);
  });
});
