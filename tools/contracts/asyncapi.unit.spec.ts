import { readFileSync } from 'node:fs';
import { Parser } from '@asyncapi/parser';
import { asyncApiDocument, topicContracts } from '@gancho/contracts';
import { asyncApiFile, asyncApiYaml } from './asyncapi-yaml.mts';

const parser = new Parser();

async function problemsOf(document: string): Promise<string[]> {
  const { diagnostics } = await parser.parse(document);
  // Severity 0 is an error; warnings (1) and hints are style advice.
  return diagnostics.filter((d) => d.severity === 0).map((d) => `${d.code}: ${d.message} at ${d.path.join('.')}`);
}

describe('docs/asyncapi.yaml', () => {
  it('is what the registry generates (run node tools/contracts/write-asyncapi.mts after changing a topic contract)', () => {
    expect(readFileSync(asyncApiFile, 'utf8')).toBe(asyncApiYaml());
  });

  it('is a valid AsyncAPI 3.0 document', async () => {
    expect(await problemsOf(readFileSync(asyncApiFile, 'utf8'))).toEqual([]);
  }, 60_000);

  it('the validation bites: a document without info, or with a payload of an unknown type, has errors', async () => {
    const { info: _info, ...withoutInfo } = asyncApiDocument();
    expect(await problemsOf(JSON.stringify(withoutInfo))).not.toEqual([]);
    const broken = asyncApiDocument() as { components: { messages: Record<string, { payload: unknown }> } };
    const first = Object.keys(broken.components.messages)[0] as string;
    (broken.components.messages[first] as { payload: unknown }).payload = { type: 'strng' };
    expect((await problemsOf(JSON.stringify(broken))).join('\n')).toMatch(/payload|schema/i);
  }, 60_000);

  it('has every topic with its Kafka binding, CloudEvents headers, key and examples', async () => {
    const { document } = await parser.parse(readFileSync(asyncApiFile, 'utf8'));
    if (!document) throw new Error('not parsed');
    expect(document.version()).toBe('3.0.0');
    for (const contract of topicContracts) {
      const channel = document
        .channels()
        .all()
        .find((c) => c.address() === contract.topic);
      if (!channel) throw new Error(`no channel for ${contract.topic}`);
      const kafka = channel.bindings().get('kafka')?.value() as { topicConfiguration: Record<string, unknown> };
      expect(kafka.topicConfiguration['cleanup.policy']).toEqual([contract.compaction.cleanupPolicy]);
      if (contract.retention.retentionMs !== null) expect(kafka.topicConfiguration['retention.ms']).toBe(contract.retention.retentionMs);
      const message = channel.messages().all()[0];
      if (!message) throw new Error(`no message on ${contract.topic}`);
      expect(message.headers()?.required()).toEqual(expect.arrayContaining(['ce_specversion', 'ce_id', 'ce_type', 'ce_source', 'ce_time', 'ce_subject']));
      expect((message.bindings().get('kafka')?.value() as { key: unknown }).key).toEqual(expect.objectContaining({ type: 'string' }));
      expect(
        message
          .examples()
          .all()
          .map((e) => e.name()),
      ).toEqual(contract.examples.map((e) => e.name));
    }
    const purchaseStatus = document
      .channels()
      .all()
      .find((c) => c.address() === 'journey.purchase-status.v1');
    expect((purchaseStatus?.bindings().get('kafka')?.value() as { partitions?: number }).partitions).toBe(6);
  }, 60_000);

  it.each(['journey', 'subscriptions', 'delivery'])(
    "%s's own part is valid and holds only the channels it produces or consumes",
    async (service) => {
      const document = asyncApiDocument({ service });
      expect(await problemsOf(JSON.stringify(document))).toEqual([]);
      const expected = topicContracts.filter((c) => c.producer.service === service || c.consumers.some((consumer) => consumer.service === service)).map((c) => c.topic);
      expect(
        Object.values(document['channels'] as Record<string, { address: string }>)
          .map((c) => c.address)
          .sort(),
      ).toEqual(expected.sort());
      for (const operation of Object.values(document['operations'] as Record<string, { summary: string }>)) expect(operation.summary.startsWith(`${service} `)).toBe(true);
    },
    60_000,
  );
});
