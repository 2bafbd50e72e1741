import type { EventTransport } from '@gancho/messaging';
import { outboxRelayOptions, type NotifyingOutboxSource, type OutboxEventStore } from './service-outbox';

// The wiring of a service's relays, without I/O: the sources and their
// wake-ups, the shared transport, connection and log, and the names.
describe('outboxRelayOptions', () => {
  const emptyPage = async () => ({ events: [], heldBack: false });
  const store: OutboxEventStore = {
    readPage: emptyPage,
    readCheckpoint: async () => undefined,
    storeCheckpoint: async () => undefined,
    headPosition: async () => 0n,
    notifications: { channel: 'gancho_events', payload: 'journey' },
  };
  const attemptRows: NotifyingOutboxSource = { ...store, notifications: { channel: 'gancho_events', payload: 'delivery.attempts' } };
  const transport = { name: 'the service transport' } as unknown as EventTransport;
  const log = { log: () => undefined, warn: () => undefined, error: () => undefined };
  const common = { store, transport, databaseUrl: 'postgres://db/gancho', log };
  const toMessage = () => undefined;

  it('reads the store by default and wakes on its notifications', () => {
    const [relay] = outboxRelayOptions({ ...common, relays: [{ name: 'journey.purchase-status', topic: 'journey.purchase-status.v1', toMessage }] });
    expect(relay).toMatchObject({ name: 'journey.purchase-status', topic: 'journey.purchase-status.v1', toMessage, databaseUrl: 'postgres://db/gancho', log });
    expect(relay?.source).toBe(store);
    expect(relay?.transport).toBe(transport);
    expect(relay?.wakeOn).toEqual({ channel: 'gancho_events', payload: 'journey' });
  });

  it('wakes a relay of another source on that source’s own notifications, not the store’s', () => {
    const relays = outboxRelayOptions({
      ...common,
      relays: [
        { name: 'delivery.attempts-log', topic: 'delivery.attempts.v1', source: attemptRows, toMessage },
        { name: 'delivery.attempts', topic: 'delivery.endpoint-health.v1', toMessage },
      ],
    });
    expect(relays.map((r) => [r.name, r.source === attemptRows ? 'attempt rows' : 'store', r.wakeOn?.payload])).toEqual([
      ['delivery.attempts-log', 'attempt rows', 'delivery.attempts'],
      ['delivery.attempts', 'store', 'journey'],
    ]);
  });

  it('gives every relay a wake-up', () => {
    const relays = outboxRelayOptions({
      ...common,
      relays: [
        { name: 'a', topic: 't', toMessage },
        { name: 'b', topic: 't', source: attemptRows, toMessage, checkpointIntervalMs: 0 },
      ],
    });
    expect(relays.every((r) => r.wakeOn !== undefined && r.wakeOn.payload.length > 0)).toBe(true);
    expect(relays[1]?.checkpointIntervalMs).toBe(0);
  });

  it('refuses two relays of one name (one checkpoint and lock: one would never publish)', () => {
    expect(() =>
      outboxRelayOptions({
        ...common,
        relays: [
          { name: 'subscriptions.api-keys', topic: 'x', toMessage },
          { name: 'subscriptions.api-keys', topic: 'y', toMessage },
        ],
      }),
    ).toThrow('two relays are named subscriptions.api-keys');
  });
});
