import pg from 'pg';
import { createTestDatabase, eventually, uniqueName, type TestDatabase, type TestService } from '@gancho/testing';
import { routesVersion, SubscriptionsStandIn, TestReceiver, startDelivery, testTopics } from '../testing/delivery-test-kit';
import { EndpointDirectory } from './endpoint-directory';

// Must-understand, on the real broker, PostgreSQL and a real HTTP receiver: an
// endpoint whose state comes from a "future" subscriptions (a destination type
// or a field this delivery does not know) gets nothing — no fallback to a
// webhook, not its older state either — and delivery says so (its health, a
// metric); a state it can read, published later, resumes it.
describe('endpoints delivery cannot fully read', () => {
  const topics = testTopics();
  const subscriptions = new SubscriptionsStandIn(topics);
  let database: TestDatabase;
  let service: TestService;
  let receiver: TestReceiver;
  let client: pg.Client;

  beforeAll(async () => {
    database = await createTestDatabase('must_understand');
    await subscriptions.createTopics();
    receiver = await new TestReceiver().start();
    service = await startDelivery(database.url, topics, [receiver.host]);
    client = new pg.Client({ connectionString: database.url, options: '-c search_path=delivery' });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await service?.close();
    await subscriptions.close();
    await receiver?.stop();
    await database?.drop();
  });

  const directory = () => service.app.get(EndpointDirectory);
  /** The purchase of each request the receiver got (both endpoints of a test share it). */
  const purchasesReceived = () => receiver.received.map((w) => JSON.parse(w.body).data.purchase_id as string);
  const messagesOf = async (endpointId: string) => Number((await client.query('SELECT count(*) AS n FROM messages WHERE endpoint_id = $1', [endpointId])).rows[0].n);

  it('sends nothing to an endpoint of an unknown destination type, shows it held back, and resumes on a state it reads', async () => {
    const partnerId = uniqueName('ptn');
    const known = await subscriptions.putEndpoint({ partnerId, url: receiver.url('/known') });
    const future = await subscriptions.putEndpoint({
      partnerId,
      url: receiver.url('/future'),
      future: { destination: { type: 'sms', phone_sealed: 'v1.test1.c2VhbGVk' } },
    });
    receiver.secrets = [...known.secrets, ...future.secrets];
    await subscriptions.routedBy(service.url, partnerId, [known.endpointId]);
    await eventually(() => expect(directory().heldBackState(future.endpointId)).toEqual({ partnerId, problems: ['value/destination/type sms is not a destination this release knows'] }));

    const first = await subscriptions.publishStatus(partnerId, 'waiting_payment', { purchase_id: 'pur_future_1' });
    await eventually(() => expect(purchasesReceived()).toContain(first.data.purchase_id));
    // The event was routed (the known endpoint got it) and nothing went to the held-back one.
    expect(purchasesReceived()).toEqual([first.data.purchase_id]);
    expect(await messagesOf(future.endpointId)).toBe(0);
    expect(await messagesOf(known.endpointId)).toBe(1);

    const key = await subscriptions.issueApiKey(partnerId);
    const stats = await eventually(async () => {
      const response = await fetch(`${service.url}/endpoints/${future.endpointId}/stats`, { headers: { authorization: `Bearer ${key}` } });
      expect(response.status).toBe(200);
      return (await response.json()) as { enabled: boolean; held_back: { reason: string } | null };
    });
    expect(stats).toMatchObject({ enabled: false, held_back: { reason: 'not_understood' } });
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/gancho_endpoints\{[^}]*state="held_back"[^}]*\} 1/);

    // A state this release reads (the partner switched it back to a webhook) resumes it.
    await subscriptions.putEndpoint({ partnerId, url: receiver.url('/future'), endpointId: future.endpointId, secrets: future.secrets });
    await routesVersion(service, future.endpointId, 2);
    expect(directory().heldBackState(future.endpointId)).toBeUndefined();
    const second = await subscriptions.publishStatus(partnerId, 'approved', { purchase_id: 'pur_future_2' });
    await eventually(() => expect(purchasesReceived().filter((p) => p === second.data.purchase_id)).toHaveLength(2));
    expect(await messagesOf(future.endpointId)).toBe(1);
    expect(receiver.verificationFailures).toEqual([]);
  });

  it('stops sending to an endpoint whose newer state has a field it does not know, rather than act on its older state', async () => {
    const partnerId = uniqueName('ptn');
    const endpoint = await subscriptions.putEndpoint({ partnerId, url: receiver.url('/later') });
    receiver.secrets = endpoint.secrets;
    await subscriptions.routedBy(service.url, partnerId, [endpoint.endpointId]);
    await subscriptions.putEndpoint({ partnerId, url: receiver.url('/later'), endpointId: endpoint.endpointId, secrets: endpoint.secrets, future: { priority: 'high' } });
    await eventually(() => expect(directory().heldBackState(endpoint.endpointId)?.problems).toEqual(['value must NOT have additional properties']));
    expect(directory().get(endpoint.endpointId)).toBeUndefined();
    const before = receiver.received.length;
    const marker = await subscriptions.putEndpoint({ partnerId, url: receiver.url('/marker') });
    receiver.secrets = [...endpoint.secrets, ...marker.secrets];
    await subscriptions.routedBy(service.url, partnerId, [marker.endpointId]);
    const event = await subscriptions.publishStatus(partnerId, 'waiting_payment', { purchase_id: 'pur_future_3' });
    await eventually(() => expect(purchasesReceived()).toContain(event.data.purchase_id));
    expect(purchasesReceived().filter((p) => p === event.data.purchase_id)).toHaveLength(1);
    expect(receiver.received.length - before).toBe(1);
    expect(await messagesOf(endpoint.endpointId)).toBe(0);
  });

  it('holds back an endpoint whose payload filter uses an operator it does not know, rather than deliver everything to it', async () => {
    const partnerId = uniqueName('ptn');
    const filtered = await subscriptions.putEndpoint({ partnerId, url: receiver.url('/regex'), future: { payload_filter: { 'course.id': { $regex: '^crs_' } } } });
    await eventually(() => expect(directory().heldBackState(filtered.endpointId)?.problems).toEqual(['value/payload_filter/course.id.$regex unknown_operator']));
    const marker = await subscriptions.putEndpoint({ partnerId, url: receiver.url('/marker') });
    receiver.secrets = [...filtered.secrets, ...marker.secrets];
    await subscriptions.routedBy(service.url, partnerId, [marker.endpointId]);
    const event = await subscriptions.publishStatus(partnerId, 'waiting_payment', { purchase_id: 'pur_future_4' });
    await eventually(() => expect(purchasesReceived()).toContain(event.data.purchase_id));
    expect(purchasesReceived().filter((p) => p === event.data.purchase_id)).toHaveLength(1);
    expect(await messagesOf(filtered.endpointId)).toBe(0);
  });
});
