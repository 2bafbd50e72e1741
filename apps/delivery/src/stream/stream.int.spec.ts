import { webhookBodyFor, messageIdFor } from '@gancho/delivery-domain';
import { createTestDatabase, eventually, uniqueName, type TestDatabase, type TestService } from '@gancho/testing';
import { SubscriptionsStandIn, startDelivery, testTopics } from '../testing/delivery-test-kit';
import { StreamHub, streamWebhookIdScope } from './stream-hub';

// Scenarios, with the real delivery service, PostgreSQL, the broker and HTTP:
// - GET /stream needs a partner API key (401), and refuses an unknown event filter (400);
// - a partner gets its own events that match its filter, live, each with the exact webhook body and a stable webhook id;
//   other partners' events and other types never reach it;
// - a client that disconnects and reconnects with Last-Event-ID gets the events published while it was away, once,
//   then live ones; a Last-Event-ID we never wrote is a 400.

interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
}

/** A minimal SSE reader over fetch. */
function openStream(url: string, key: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const events: SseEvent[] = [];
  const opened = (async () => {
    const response = await fetch(url, { headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream', ...headers }, signal: controller.signal });
    if (response.status !== 200 || !response.body) return response.status;
    void (async () => {
      const decoder = new TextDecoder();
      let text = '';
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          text += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = text.indexOf('\n\n')) >= 0) {
            const block = text.slice(0, end);
            text = text.slice(end + 2);
            const fields = block.split('\n').filter((line) => !line.startsWith(':'));
            if (fields.length === 0) continue;
            const get = (name: string) =>
              fields
                .find((line) => line.startsWith(`${name}:`))
                ?.slice(name.length + 1)
                .trimStart();
            events.push({ id: get('id'), event: get('event') ?? 'message', data: get('data') ?? '' });
          }
        }
      } catch {
        // aborted
      }
    })();
    return 200;
  })();
  return { events, opened, close: () => controller.abort(), webhooks: () => events.filter((e) => e.event === 'webhook').map((e) => ({ id: e.id, ...JSON.parse(e.data) })) };
}

describe('GET /stream', () => {
  const topics = testTopics();
  const subscriptions = new SubscriptionsStandIn(topics);
  let database: TestDatabase;
  let service: TestService;
  let hub: StreamHub;

  beforeAll(async () => {
    database = await createTestDatabase('delivery_stream');
    await subscriptions.createTopics();
    service = await startDelivery(database.url, topics, [], { STREAM_HEARTBEAT_MS: '500' });
    hub = service.app.get(StreamHub);
  });
  afterAll(async () => {
    await service?.close();
    await subscriptions.close();
    await database?.drop();
  });

  it('needs an API key, and a known event filter', async () => {
    const key = await subscriptions.issueApiKey(uniqueName('ptn'));
    // The key is known once the service has read it from the api-keys topic.
    await eventually(async () => expect((await fetch(`${service.url}/messages?limit=1`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200));
    expect((await fetch(`${service.url}/stream`)).status).toBe(401);
    const bad = await fetch(`${service.url}/stream?events=purchase.nope`, { headers: { authorization: `Bearer ${key}` } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'VALIDATION_FAILED', detail: expect.stringContaining('purchase.nope') });
    const badId = await fetch(`${service.url}/stream`, { headers: { authorization: `Bearer ${key}`, 'last-event-id': 'not-ours' } });
    expect(badId.status).toBe(400);
  });

  it("streams a partner's own matching events live, with the exact webhook body", async () => {
    const partner = uniqueName('ptn');
    const key = await subscriptions.issueApiKey(partner);
    await eventually(async () => {
      const probe = openStream(`${service.url}/stream?events=purchase.made_effective,purchase.paid`, key);
      const status = await probe.opened;
      probe.close();
      expect(status).toBe(200);
    });
    const client = openStream(`${service.url}/stream?events=purchase.made_effective,purchase.paid`, key);
    expect(await client.opened).toBe(200);
    await eventually(() => expect(client.events[0]).toMatchObject({ event: 'ready' }));

    const effective = await subscriptions.publishStatus(partner, 'made_effective');
    await subscriptions.publishStatus(partner, 'analysis');
    const paid = await subscriptions.publishStatus(partner, 'paid');
    await subscriptions.publishStatus(uniqueName('ptn'), 'made_effective');
    // A later matching event of the partner (same purchase, same partition): once it is streamed, everything before it was handled.
    const sentinel = await subscriptions.publishStatus(partner, 'paid');

    await eventually(() => expect(client.webhooks().map((w) => w.event_id)).toContain(sentinel.eventId));
    client.close();
    const [first, second] = client.webhooks();
    expect(client.webhooks().map((w) => w.event_id)).toEqual([effective.eventId, paid.eventId, sentinel.eventId]);
    expect(first).toMatchObject({ event_id: effective.eventId, type: 'purchase.made_effective', webhook_id: messageIdFor(effective.eventId, streamWebhookIdScope) });
    expect(first.body).toBe(webhookBodyFor(effective.data, 'purchase.made_effective'));
    expect(second).toMatchObject({ event_id: paid.eventId, type: 'purchase.paid' });
    expect(second.id).not.toBe(first.id);
  });

  it('replays what was published while the client was away, once, after a reconnect with Last-Event-ID', async () => {
    const partner = uniqueName('ptn');
    const key = await subscriptions.issueApiKey(partner);
    await eventually(async () => {
      const probe = openStream(`${service.url}/stream`, key);
      const status = await probe.opened;
      probe.close();
      expect(status).toBe(200);
    });
    const before = openStream(`${service.url}/stream`, key);
    await before.opened;
    await eventually(() => expect(before.events[0]?.event).toBe('ready'));
    const seen = await subscriptions.publishStatus(partner, 'logged');
    await eventually(() => expect(before.webhooks()).toHaveLength(1));
    const lastId = before.webhooks()[0]!.id as string;
    before.close();
    await eventually(() => expect(hub.connections(partner)).toBe(0));

    // Published while no connection of the partner is open.
    const missed = [await subscriptions.publishStatus(partner, 'shopping_cart_created'), await subscriptions.publishStatus(partner, 'basic_info_review')];
    await eventually(() => expect(missed.every((m) => hub.hasEvent(partner, m.eventId))).toBe(true));
    expect(hub.connections(partner)).toBe(0);

    const after = openStream(`${service.url}/stream`, key, { 'last-event-id': lastId });
    expect(await after.opened).toBe(200);
    await eventually(() => expect(after.webhooks()).toHaveLength(2));
    const live = await subscriptions.publishStatus(partner, 'document_info_incomplete');
    await eventually(() => expect(after.webhooks()).toHaveLength(3));
    after.close();
    expect(JSON.parse(after.events[0]!.data)).toMatchObject({ resumed: true, replayed: 2 });
    expect(after.webhooks().map((w) => w.event_id)).toEqual([...missed.map((m) => m.eventId), live.eventId]);
    expect(after.webhooks().map((w) => w.event_id)).not.toContain(seen.eventId);
  });
});
