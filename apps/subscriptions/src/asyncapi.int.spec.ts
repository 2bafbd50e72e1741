import { asyncApiDocument } from '@gancho/contracts';
import { createTestDatabase, type TestDatabase, type TestService } from '@gancho/testing';
import { startSubscriptions } from './testing/subscriptions-test-app';

interface Served {
  asyncapi: string;
  channels: Record<string, { address: string }>;
  operations: Record<string, { action: 'send' | 'receive'; channel: { $ref: string }; summary: string }>;
}

describe('subscriptions serves the AsyncAPI document of its own topics', () => {
  let database: TestDatabase;
  let service: TestService;

  beforeAll(async () => {
    database = await createTestDatabase('subscriptions-asyncapi');
    service = await startSubscriptions(database.url);
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
    expect(served).toEqual(asyncApiDocument({ service: 'subscriptions' }));
    expect(served.asyncapi).toBe('3.0.0');
    expect(
      Object.values(served.channels)
        .map((c) => c.address)
        .sort(),
    ).toEqual(['delivery.endpoint-health.v1', 'subscriptions.api-keys.v1', 'subscriptions.endpoints.v1', 'subscriptions.operational-events.v1']);
    const sent = Object.values(served.operations)
      .filter((o) => o.action === 'send')
      .map((o) => served.channels[o.channel.$ref.split('/').at(-1) as string]?.address);
    expect(sent.sort()).toEqual(['subscriptions.api-keys.v1', 'subscriptions.endpoints.v1', 'subscriptions.operational-events.v1']);
    for (const operation of Object.values(served.operations)) expect(operation.summary).toMatch(/^subscriptions /);
  });

  it('keeps it out of the OpenAPI document (it describes Kafka, not HTTP)', async () => {
    const openApi = (await (await fetch(`${service.url}/docs-json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openApi.paths)).not.toContain('/asyncapi.json');
  });
});
