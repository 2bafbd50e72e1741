import { asyncApiDocument } from '@gancho/contracts';
import { createTestDatabase, type TestDatabase, type TestService } from '@gancho/testing';
import { startJourney } from './testing/journey-test-app';

interface Served {
  asyncapi: string;
  channels: Record<string, { address: string }>;
  operations: Record<string, { action: 'send' | 'receive'; channel: { $ref: string }; summary: string }>;
}

describe('journey serves the AsyncAPI document of its own topics', () => {
  let database: TestDatabase;
  let service: TestService;

  beforeAll(async () => {
    database = await createTestDatabase('journey-asyncapi');
    service = await startJourney(database.url);
  });

  afterAll(async () => {
    await service?.close();
    await database?.drop();
  });

  const journeyTopics = ['journey.personal-data-erasures.v1', 'journey.purchase-status.v1', 'journey.purchase-status.v2', 'journey.subject-keys.v1'];

  it('at GET /asyncapi.json: the channels it produces or consumes, its operations only', async () => {
    const response = await fetch(`${service.url}/asyncapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const served = (await response.json()) as Served;
    expect(served).toEqual(asyncApiDocument({ service: 'journey' }));
    expect(served.asyncapi).toBe('3.0.0');
    expect(
      Object.values(served.channels)
        .map((c) => c.address)
        .sort(),
    ).toEqual(journeyTopics); // journey authenticates with platform tokens: it reads no partner keys
    const sent = Object.values(served.operations)
      .filter((o) => o.action === 'send')
      .map((o) => served.channels[o.channel.$ref.split('/').at(-1) as string]?.address);
    expect(sent.sort()).toEqual(journeyTopics);
    for (const operation of Object.values(served.operations)) expect(operation.summary).toMatch(/^journey /);
  });

  it('keeps it out of the OpenAPI document (it describes Kafka, not HTTP)', async () => {
    const openApi = (await (await fetch(`${service.url}/docs-json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openApi.paths)).not.toContain('/asyncapi.json');
  });
});
