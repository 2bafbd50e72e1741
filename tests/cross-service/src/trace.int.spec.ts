import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { startTelemetry } from '@gancho/telemetry';
import { createTestDatabase, eventually, uniqueName, type TestDatabase, type TestService } from '@gancho/testing';
// The one place two services meet in a test: a status change traced from the journey's API to the partner.
import { journeyClient, startJourney } from '../../../apps/journey/src/testing/journey-test-app';
import { StatusEventConsumer } from '../../../apps/delivery/src/ingest/status-event.consumer';
import { SubscriptionsStandIn, TestReceiver, startDelivery, testTopics } from '../../../apps/delivery/src/testing/delivery-test-kit';

// Scenarios, with journey and delivery in-process on the real PostgreSQL and Kafka, spans in an in-memory exporter:
// - one trace per status change: journey HTTP server span → command.handle → eventStore.appendToStream, and
//   outbox.publish (from the traceparent stored with the event) → send <topic> (producer) → the delivery
//   consumer (batch span linked to the message; status-event.ingest its child) → the webhook POST (client),
//   whose request carries a traceparent naming that client span in the journey request's trace;
// - /metrics of both services after real deliveries: HTTP server durations, attempts by outcome and status
//   class, partner latency, end-to-end latency, retries, consumer lag per partition, outbox lag, endpoints.

/** The value of one sample of a Prometheus text exposition, found by name and (a subset of) its labels. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

const scrape = async (service: TestService): Promise<string> => {
  const response = await fetch(`${service.url}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
};

describe('observability from command to partner', () => {
  const exporter = new InMemorySpanExporter();
  const telemetry = startTelemetry({ serviceName: 'gancho-test', spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const topics = testTopics();
  const subscriptions = new SubscriptionsStandIn(topics);
  const healthy = new TestReceiver();
  const flaky = new TestReceiver();
  let database: TestDatabase;
  let delivery: TestService;
  let journey: TestService;

  beforeAll(async () => {
    database = await createTestDatabase('observability');
    await subscriptions.createTopics();
    await Promise.all([healthy.start(), flaky.start()]);
    delivery = await startDelivery(database.url, topics, [healthy.host, flaky.host], { RETRY_SCHEDULE: '0s,1s,1s', REQUEST_TIMEOUT_MS: '2000' });
    // Delivery reads journey.purchase-status.v1 until it reads v2 (issue 21).
    journey = await startJourney(database.url, { env: { PURCHASE_STATUS_TOPIC: topics.PURCHASE_STATUS_TOPIC, PUBLISH_STATUS_V1: 'true' } });
  });
  afterAll(async () => {
    await journey?.close();
    await delivery?.close();
    await subscriptions.close();
    await Promise.all([healthy.stop(), flaky.stop()]);
    await database?.drop();
    await telemetry.shutdown();
  });

  it('traces a status change from the journey command to the partner, and the metrics move', async () => {
    const partnerId = uniqueName('ptn');
    const healthyEndpoint = await subscriptions.putEndpoint({ partnerId, url: healthy.url() });
    healthy.secrets = healthyEndpoint.secrets;
    let flakyCalls = 0;
    flaky.respond = () => (++flakyCalls === 1 ? { status: 500 } : { status: 204 });
    const flakyEndpoint = await subscriptions.putEndpoint({ partnerId, url: flaky.url() });
    flaky.secrets = flakyEndpoint.secrets;
    const offEndpoint = await subscriptions.putEndpoint({ partnerId, url: healthy.url('/off'), enabled: false });
    await subscriptions.routedBy(delivery.url, partnerId, [healthyEndpoint.endpointId, flakyEndpoint.endpointId, offEndpoint.endpointId]);
    const [deliveryBefore, journeyBefore] = await Promise.all([scrape(delivery), scrape(journey)]);

    const opened = await journeyClient(journey.url).open({ partner_id: partnerId, student: { name: 'Ana Souza', email: 'ana.trace@example.com' } });
    expect(opened.status).toBe(201);
    await eventually(() => {
      expect(healthy.received).toHaveLength(1);
      expect(flaky.received).toHaveLength(2);
    });

    // The trace, from the journey's server span down to the POSTs.
    const server = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER && s.name === 'POST /purchases');
    expect(server).toBeDefined();
    const traceId = server!.spanContext().traceId;
    const inTrace = (): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    await eventually(() => expect(inTrace().filter((s) => s.kind === SpanKind.CLIENT)).toHaveLength(3));
    const spans = inTrace();
    const one = (name: string, kind?: SpanKind): ReadableSpan => {
      const found = spans.filter((s) => s.name === name && (kind === undefined || s.kind === kind));
      expect(found.map((s) => s.name)).toEqual([name]);
      return found[0]!;
    };
    const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
    const command = one('command.handle');
    const append = one('eventStore.appendToStream');
    const publish = one('outbox.publish');
    const producer = one(`send ${topics.PURCHASE_STATUS_TOPIC}`, SpanKind.PRODUCER);
    const ingest = one('status-event.ingest', SpanKind.CONSUMER);
    const posts = spans.filter((s) => s.kind === SpanKind.CLIENT);
    expect(parentOf(server!)).toBeUndefined();
    expect(parentOf(command)).toBe(server!.spanContext().spanId);
    expect(parentOf(append)).toBe(command.spanContext().spanId);
    expect(parentOf(publish)).toBe(command.spanContext().spanId);
    expect(parentOf(producer)).toBe(publish.spanContext().spanId);
    expect(parentOf(ingest)).toBe(producer.spanContext().spanId);
    for (const post of posts) expect(parentOf(post)).toBe(ingest.spanContext().spanId);
    expect(posts.map((p) => p.attributes['http.response.status_code']).sort()).toEqual([204, 204, 500]);
    // The transport's batch consumer span starts a trace of its own, linked to the message it consumed.
    const batch = exporter.getFinishedSpans().find((s) => s.name === `process ${topics.PURCHASE_STATUS_TOPIC}` && s.links.some((l) => l.context.spanId === producer.spanContext().spanId));
    expect(batch?.kind).toBe(SpanKind.CONSUMER);

    // The partner gets the trace: the journey request's trace id, the POST's span id.
    const received = healthy.received[0]!.headers['traceparent'];
    const healthyPost = posts.find((p) => p.attributes['server.port'] === Number(healthy.host.split(':')[1]));
    expect(received).toBe(`00-${traceId}-${healthyPost?.spanContext().spanId}-01`);
    expect(new Set(flaky.received.map((w) => String(w.headers['traceparent']).split('-')[1]))).toEqual(new Set([traceId]));

    // The metrics moved: delivery.
    const moved = (before: string, after: string, name: string, labels: Record<string, string>) => (sample(after, name, labels) ?? 0) - (sample(before, name, labels) ?? 0);
    await eventually(async () => {
      const after = await scrape(delivery);
      expect(moved(deliveryBefore, after, 'gancho_delivery_attempts_total', { outcome: 'succeeded', status_class: '2xx' })).toBe(2);
      expect(moved(deliveryBefore, after, 'gancho_delivery_attempts_total', { outcome: 'scheduled', status_class: '5xx' })).toBe(1);
      expect(moved(deliveryBefore, after, 'http_client_request_duration_seconds_count', { http_request_method: 'POST', http_response_status_code: '500' })).toBe(1);
      expect(moved(deliveryBefore, after, 'http_client_request_duration_seconds_count', { http_request_method: 'POST', http_response_status_code: '204' })).toBe(2);
      expect(moved(deliveryBefore, after, 'gancho_delivery_end_to_end_duration_seconds_count', { outcome: 'succeeded', attempt: 'first' })).toBe(1);
      expect(moved(deliveryBefore, after, 'gancho_delivery_end_to_end_duration_seconds_count', { outcome: 'succeeded', attempt: 'retry' })).toBe(1);
      // The first try succeeded well within a few seconds of the journey recording the event.
      expect(moved(deliveryBefore, after, 'gancho_delivery_end_to_end_duration_seconds_bucket', { outcome: 'succeeded', attempt: 'first', le: '5' })).toBe(1);
      for (const partition of ['0', '1', '2']) {
        expect(sample(after, 'gancho_messaging_consumer_lag_messages', { messaging_consumer_group_name: topics.STATUS_CONSUMER_GROUP, messaging_destination_partition_id: partition })).toBe(0);
      }
      expect(sample(after, 'gancho_delivery_retries', { state: 'due' })).toBe(0);
      expect(sample(after, 'gancho_delivery_retries', { state: 'overdue' })).toBe(0);
      expect(sample(after, 'gancho_endpoints', { state: 'enabled' })).toBe(2);
      expect(sample(after, 'gancho_endpoints', { state: 'disabled', reason: 'by_partner' })).toBe(1);
      expect(sample(after, 'gancho_outbox_lag_seconds', { relay: 'delivery.attempts' })).toBe(0);
    });
    // …and the journey.
    await eventually(async () => {
      const after = await scrape(journey);
      expect(moved(journeyBefore, after, 'http_server_request_duration_seconds_count', { http_request_method: 'POST', http_route: '/purchases', http_response_status_code: '201' })).toBe(1);
      expect(sample(after, 'gancho_outbox_lag_events', { relay: 'journey.purchase-status' })).toBe(0);
      expect(sample(after, 'gancho_outbox_lag_seconds', { relay: 'journey.purchase-status' })).toBe(0);
    });
  });

  it('reports consumer lag per partition while the status consumer is stopped, and 0 once it caught up', async () => {
    const consumer = delivery.app.get(StatusEventConsumer);
    const lagOf = async () => {
      const text = await scrape(delivery);
      return ['0', '1', '2'].map((p) => sample(text, 'gancho_messaging_consumer_lag_messages', { messaging_consumer_group_name: topics.STATUS_CONSUMER_GROUP, messaging_destination_partition_id: p }));
    };
    await consumer.onApplicationShutdown();
    await subscriptions.publishStatus(uniqueName('ptn'), 'analysis', { purchase_id: `pur_${'a'.repeat(32)}` });
    await subscriptions.publishStatus(uniqueName('ptn'), 'approved', { purchase_id: `pur_${'b'.repeat(32)}` });
    await subscriptions.publishStatus(uniqueName('ptn'), 'denied', { purchase_id: `pur_${'c'.repeat(32)}` });
    const stopped = await lagOf();
    expect(stopped.reduce((sum, lag) => (sum ?? NaN) + (lag ?? NaN), 0)).toBe(3);
    await consumer.start();
    await eventually(async () => expect(await lagOf()).toEqual([0, 0, 0]));
  });
});
