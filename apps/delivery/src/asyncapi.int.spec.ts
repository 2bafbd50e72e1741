import { asyncApiDocument } from '@gancho/contracts';
import { createTestDatabase, type TestDatabase, type TestService } from '@gancho/testing';
import { startDelivery, testTopics } from './testing/delivery-test-kit';

interface Served {
  asyncapi: string;
  channels: Record<string, { address: string }>;
  operations: Record<string, { action: 'send' | 'receive'; channel: { $ref: string }; summary: string }>;
}

describe('delivery serves the AsyncAPI document of its own topics', () => {
  let database: TestDatabase;
  let service: TestService;

  beforeAll(async () => {
    database = await createTestDatabase('delivery-asyncapi');
    service = await startDelivery(database.url, testTopics(), []);
  });

  afterAll(async () => {
    await service?.close();
    await database?.drop();
  });

  it('at GET /asyncapi.json: the channels it produces or consumes, its operations only', async () => {
    const response = await fetch(`${service.url}/asyncapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const served = (await response.json()) as Served;
    expect(served).toEqual(asyncApiDocument({ service: 'delivery' }));
    expect(served.asyncapi).toBe('3.0.0');
    expect(
      Object.values(served.channels)
        .map((c) => c.address)
        .sort(),
    ).toEqual([
      'delivery.attempts.v1',
      'delivery.endpoint-health.v1',
      'journey.personal-data-erasures.v1',
      'journey.purchase-status.v1',
      'journey.purchase-status.v2',
      'journey.subject-keys.v1',
      'subscriptions.api-keys.v1',
      'subscriptions.endpoints.v1',
      'subscriptions.operational-events.v1',
    ]);
    const sent = Object.values(served.operations)
      .filter((o) => o.action === 'send')
      .map((o) => served.channels[o.channel.$ref.split('/').at(-1) as string]?.address);
    expect(sent.sort()).toEqual(['delivery.attempts.v1', 'delivery.endpoint-health.v1']);
    for (const operation of Object.values(served.operations)) expect(operation.summary).toMatch(/^delivery /);
  });

  it('keeps it out of the OpenAPI document (it describes Kafka, not HTTP)', async () => {
    const openApi = (await (await fetch(`${service.url}/docs-json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openApi.paths)).not.toContain('/asyncapi.json');
  });
});
