// The compatibility gate: today's topic contracts, webhook payload schemas and
// OpenAPI documents against the last release's snapshot. A change that breaks
// a consumer, producer or client of that release fails here, named; the way
// out is a new version (`….v2` beside `….v1` for a release), not an edit.
import { eventTypes, topicContracts, webhookPayloadSchema } from '@gancho/contracts';
import { applyAcknowledgements, formatBreak, releaseBreaks, topicSnapshotOf, type ContractSet, type Json } from './compatibility.mts';
import { lastRelease, openApiDocumentsOfBuild, readAcknowledgedBreaks, readReleases, readSnapshot } from './release-contracts.mts';
import { repoRoot } from '../infra/paths.mts';

async function currentContracts(): Promise<ContractSet> {
  const webhooks: Record<string, Json> = {};
  for (const type of eventTypes) {
    const schema = webhookPayloadSchema(type);
    webhooks[schema['$id'] as string] = schema as Json;
  }
  const topics = Object.fromEntries(topicContracts.map((contract) => [contract.topic, topicSnapshotOf(contract as unknown as { [key: string]: Json })]));
  return { topics, webhooks, openapi: await openApiDocumentsOfBuild(repoRoot) };
}

describe('compatibility gate', () => {
  const release = lastRelease();
  let released: ContractSet;
  let current: ContractSet;

  beforeAll(async () => {
    released = readSnapshot(release.version);
    current = await currentContracts();
  }, 120_000);

  it('records every release with the commit it was built from', () => {
    for (const entry of readReleases()) expect(entry.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(readReleases().map((r) => r.version)).toContain('0.1.0');
  });

  it('has a complete snapshot of the last release', () => {
    expect(Object.keys(released.webhooks)).toHaveLength(41);
    expect(Object.keys(released.openapi).sort()).toEqual(['delivery', 'journey', 'subscriptions']);
    expect(Object.keys(released.topics).sort()).toEqual(['delivery.attempts.v1', 'delivery.endpoint-health.v1', 'journey.purchase-status.v1', 'subscriptions.api-keys.v1', 'subscriptions.endpoints.v1']);
  });

  it(`today's contracts break no consumer, producer or client of the last release`, () => {
    const { breaks, stale } = applyAcknowledgements(release.version, releaseBreaks(released, current).breaks, readAcknowledgedBreaks());
    expect(breaks.map(formatBreak)).toEqual([]);
    // An acknowledgement that matches nothing any more goes, so none outlives its reason.
    expect(stale).toEqual([]);
  });

  it('bites on the real documents: a field dropped from a webhook and an operation dropped from journey fail, named', () => {
    const mutated = structuredClone(current) as ContractSet & { webhooks: Record<string, { properties: { data: { properties: Record<string, Json>; required: string[] } } }> };
    const logged = Object.keys(mutated.webhooks).find((id) => id.includes('/purchase.logged/')) as string;
    const data = (mutated.webhooks[logged] as (typeof mutated.webhooks)[string]).properties.data;
    delete data.properties['sequence'];
    data.required = data.required.filter((name) => name !== 'sequence');
    const journey = mutated.openapi['journey'] as { paths: Record<string, Record<string, Json>> };
    const route = Object.keys(journey.paths).find((p) => p.endsWith('/make-effective')) as string;
    delete (journey.paths[route] as Record<string, Json>)['post'];
    const rules = releaseBreaks(released, mutated).breaks.map((b) => `${b.rule} ${b.contract} ${b.at}`);
    expect(rules).toEqual(expect.arrayContaining([`field-removed ${logged} .data.sequence`, `operation-removed journey OpenAPI POST ${route}`]));
  });
});
