import { reconcile, subscribes, type EndpointSubscription, type ReceivedDelivery, type StoredEvent } from './delivery-ledger.mts';

const [aAll, aWon, bAll]: EndpointSubscription[] = [
  { name: 'a-all', partnerId: 'ptn_a', eventTypes: ['purchase.*'] },
  { name: 'a-won', partnerId: 'ptn_a', eventTypes: ['purchase.made_effective'] },
  { name: 'b-all', partnerId: 'ptn_b', eventTypes: ['*'] },
] as const;
const endpoints = [aAll, aWon, bAll];
const event = (purchaseId: string, partnerId: string, sequence: number, status: string, recordedAt = 1000): StoredEvent => ({ purchaseId, partnerId, sequence, type: `purchase.${status}`, recordedAt });
const got = (endpoint: string, webhookId: string, purchaseId: string, partnerId: string, sequence: number, receivedAt = 2000, verified = true): ReceivedDelivery => ({
  endpoint,
  webhookId,
  purchaseId,
  partnerId,
  sequence,
  receivedAt,
  verified,
});

describe('delivery ledger', () => {
  it('matches event types as endpoints subscribe to them', () => {
    expect(subscribes(aAll, 'purchase.logged')).toBe(true);
    expect(subscribes(aWon, 'purchase.logged')).toBe(false);
    expect(subscribes(aWon, 'purchase.made_effective')).toBe(true);
    expect(subscribes(bAll, 'anything.at_all')).toBe(true);
    expect(subscribes({ name: 'x', partnerId: 'p', eventTypes: ['purchase.*'] }, 'purchases.logged')).toBe(false);
  });

  it('counts expected, delivered, duplicated, lost and misdirected deliveries', () => {
    const events = [event('pur_1', 'ptn_a', 1, 'logged'), event('pur_1', 'ptn_a', 2, 'made_effective'), event('pur_2', 'ptn_b', 1, 'logged')];
    const report = reconcile(events, endpoints, [
      got('a-all', 'msg_1', 'pur_1', 'ptn_a', 1),
      got('a-all', 'msg_1', 'pur_1', 'ptn_a', 1), // a redelivery, same id
      got('a-won', 'msg_2', 'pur_1', 'ptn_a', 2),
      got('b-all', 'msg_3', 'pur_2', 'ptn_b', 1),
      got('b-all', 'msg_4', 'pur_1', 'ptn_a', 1), // another partner's event
      got('a-won', 'msg_5', 'pur_1', 'ptn_a', 1, 2000, false), // a type it did not ask for, unsigned
    ]);
    // a-all expects pur_1#1 and #2, a-won expects pur_1#2, b-all expects pur_2#1.
    expect({ ...report, backlogClearedAfterMs: undefined }).toEqual({
      expected: 4,
      delivered: 3,
      duplicates: 1,
      lost: 1,
      wrongEndpoint: 2,
      unverified: 1,
      unstableIds: 0,
      backlogClearedAfterMs: undefined,
    });
  });

  it('flags a redelivery that changed its webhook-id', () => {
    const report = reconcile([event('pur_1', 'ptn_b', 1, 'logged')], endpoints, [got('b-all', 'msg_1', 'pur_1', 'ptn_b', 1), got('b-all', 'msg_9', 'pur_1', 'ptn_b', 1)]);
    expect(report.unstableIds).toBe(1);
    expect(report.delivered).toBe(1);
  });

  it('measures how long after a moment the events recorded before it took to arrive', () => {
    const events = [event('pur_1', 'ptn_b', 1, 'logged', 1000), event('pur_1', 'ptn_b', 2, 'analysis', 1500), event('pur_1', 'ptn_b', 3, 'approved', 9000)];
    const report = reconcile(events, endpoints, [got('b-all', 'm1', 'pur_1', 'ptn_b', 1, 1200), got('b-all', 'm2', 'pur_1', 'ptn_b', 2, 4700), got('b-all', 'm3', 'pur_1', 'ptn_b', 3, 9100)]);
    expect(report.backlogClearedAfterMs(2000)).toBe(2700);
    expect(report.backlogClearedAfterMs(5000)).toBe(0);
    expect(reconcile(events, endpoints, []).backlogClearedAfterMs(2000)).toBe(Infinity);
  });
});
